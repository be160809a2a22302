//! The versioned result model every writer renders.
//!
//! The model is plain data: the runner builds it, [`RunReport::finish`]
//! computes the [`Summary`], and the writers only read it. Enums are
//! `#[non_exhaustive]` so that new outcomes, severities or surfaces can be
//! added without breaking the runner's `match`es; the structs have public
//! fields and small constructors so tests and the runner can build them
//! directly.
//!
//! # Severity scheme
//!
//! Checks use the RFC 2119 requirement levels that the cited specifications
//! themselves use ([`Severity::Shall`], [`Severity::Should`], [`Severity::May`]).
//! A failed `SHALL` check is a *failure* and fails the run; a failed `SHOULD`
//! or `MAY` check is a *warning*: it is reported everywhere (including as a
//! JUnit `<failure>` whose `type` names the level) but on its own leaves the
//! run at [`RunStatus::PassedWithWarnings`].

use serde::{Deserialize, Deserializer, Serialize};

/// The version of the JSON report format; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One conformance run: what ran, against what, and every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunReport {
    /// Always [`SCHEMA_VERSION`] for reports this crate writes.
    pub schema_version: u32,
    /// The tool that produced the report.
    pub tool: ToolInfo,
    /// When the run started, RFC 3339 (e.g. `2026-11-23T01:00:00Z`).
    pub started_at: String,
    /// Wall-clock duration of the whole run.
    pub duration_ms: u64,
    /// The profiles that were run (e.g. `hl7v2-ack`, `smart-client`).
    pub profiles: Vec<String>,
    /// The system under test.
    pub sut: SutInfo,
    /// Every scenario, in run order.
    pub scenarios: Vec<ScenarioResult>,
    /// Performance results, when a perf scenario ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perf: Option<PerfReport>,
    /// Counts and the overall classification; see [`RunReport::finish`].
    pub summary: Summary,
}

impl RunReport {
    /// Starts an empty report; add scenarios (and perf), then call
    /// [`finish`](Self::finish).
    pub fn new(tool: ToolInfo, sut: SutInfo, started_at: impl Into<String>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            tool,
            started_at: started_at.into(),
            duration_ms: 0,
            profiles: Vec::new(),
            sut,
            scenarios: Vec::new(),
            perf: None,
            summary: Summary::default(),
        }
    }

    /// Recomputes [`summary`](Self::summary) from the scenarios and perf
    /// section, and adds any scenario profile missing from `profiles`.
    pub fn finish(mut self) -> Self {
        for s in &self.scenarios {
            if !self.profiles.contains(&s.profile) {
                self.profiles.push(s.profile.clone());
            }
        }
        self.summary = Summary::compute(&self.scenarios, self.perf.as_ref());
        self
    }

    /// Every check of every scenario, with the scenario it belongs to.
    pub fn checks(&self) -> impl Iterator<Item = (&ScenarioResult, &CheckResult)> {
        self.scenarios
            .iter()
            .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
    }
}

/// The tool's name and version, e.g. `ngsim 0.1.0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}

/// The customer's integration being graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SutInfo {
    /// A display name for the system under test.
    pub name: String,
    /// Its version, when the user gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The simulator version profile it ran against (e.g. `enterprise-8.4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehr_profile: Option<String>,
}

impl SutInfo {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: None,
            ehr_profile: None,
        }
    }
}

/// One scenario: a scripted interaction and the checks graded on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Stable id, e.g. `ack-semantics`.
    pub id: String,
    pub title: String,
    /// The profile the scenario belongs to.
    pub profile: String,
    pub checks: Vec<CheckResult>,
    /// The simulator journal events the runner attached, in `seq` order.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
}

impl ScenarioResult {
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        profile: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            profile: profile.into(),
            checks: Vec::new(),
            timeline: Vec::new(),
        }
    }

    /// The timeline events that name `check_id`.
    pub fn events_for<'a>(
        &'a self,
        check_id: &'a str,
    ) -> impl Iterator<Item = &'a TimelineEvent> + Clone {
        self.timeline
            .iter()
            .filter(move |e| e.check_ids.iter().any(|c| c == check_id))
    }
}

/// One graded requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id, `<scenario>.<check>`, e.g. `ack-semantics.msa2-echoes-msh10`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The citation, e.g. `HL7 v2.5.1 ch.2 §2.9.2` or `42 CFR §2.32`.
    pub requirement: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    pub duration_ms: u64,
}

impl CheckResult {
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        severity: Severity,
        requirement: impl Into<String>,
        outcome: Outcome,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            severity,
            requirement: requirement.into(),
            outcome,
            evidence: Vec::new(),
            duration_ms: 0,
        }
    }

    /// Adds one piece of evidence.
    pub fn with_evidence(mut self, journal_seq: Option<u64>, summary: impl Into<String>) -> Self {
        self.evidence.push(Evidence {
            journal_seq,
            summary: summary.into(),
        });
        self
    }

    pub fn with_duration_ms(mut self, duration_ms: u64) -> Self {
        self.duration_ms = duration_ms;
        self
    }

    /// Whether this check counts as a failure (a failed `SHALL`).
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. }) && self.severity == Severity::Shall
    }

    /// Whether this check counts as a warning (a failed `SHOULD`/`MAY`).
    pub fn is_warning(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. }) && self.severity != Severity::Shall
    }
}

/// RFC 2119 requirement level of a check; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    Shall,
    Should,
    May,
}

impl Severity {
    /// The keyword as specifications spell it: `SHALL`, `SHOULD`, `MAY`.
    pub fn keyword(self) -> &'static str {
        match self {
            Severity::Shall => "SHALL",
            Severity::Should => "SHOULD",
            Severity::May => "MAY",
        }
    }
}

/// What happened when the check was graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The SUT met the requirement.
    Passed,
    /// The SUT violated the requirement.
    Failed {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actual: Option<String>,
    },
    /// The check could not be graded (timeout, simulator fault, bad config).
    Errored { message: String },
    /// The check did not apply (profile option off, prerequisite failed).
    Skipped { reason: String },
}

impl Outcome {
    /// A failed outcome with just a message.
    pub fn failed(message: impl Into<String>) -> Self {
        Outcome::Failed {
            message: message.into(),
            expected: None,
            actual: None,
        }
    }

    /// A failed outcome with expected and actual values.
    pub fn failed_with(
        message: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Outcome::Failed {
            message: message.into(),
            expected: Some(expected.into()),
            actual: Some(actual.into()),
        }
    }

    pub fn errored(message: impl Into<String>) -> Self {
        Outcome::Errored {
            message: message.into(),
        }
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome::Skipped {
            reason: reason.into(),
        }
    }

    /// Lower-case label: `passed`, `failed`, `errored`, `skipped`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Errored { .. } => "errored",
            Outcome::Skipped { .. } => "skipped",
        }
    }

    /// The message, error or skip reason, if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed { message, .. } | Outcome::Errored { message } => Some(message),
            Outcome::Skipped { reason } => Some(reason),
        }
    }
}

/// A pointer into the simulator journal that backs a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_seq: Option<u64>,
    pub summary: String,
}

/// One simulator journal event, as the runner attached it to a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Journal sequence number.
    pub seq: u64,
    /// Milliseconds since the scenario started.
    pub at_ms: u64,
    pub surface: Surface,
    pub summary: String,
    /// The checks this event is evidence for.
    #[serde(default)]
    pub check_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// The simulator surface a journal event came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Surface {
    Fhir,
    Oauth,
    Enterprise,
    MllpIn,
    MllpOut,
    Bulk,
    Sink,
    Control,
}

impl Surface {
    /// Every surface, in swim-lane order.
    pub const ALL: [Surface; 8] = [
        Surface::Control,
        Surface::Oauth,
        Surface::Fhir,
        Surface::Enterprise,
        Surface::Bulk,
        Surface::MllpIn,
        Surface::MllpOut,
        Surface::Sink,
    ];

    /// The wire name, as in the JSON (`mllp-in`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Fhir => "fhir",
            Surface::Oauth => "oauth",
            Surface::Enterprise => "enterprise",
            Surface::MllpIn => "mllp-in",
            Surface::MllpOut => "mllp-out",
            Surface::Bulk => "bulk",
            Surface::Sink => "sink",
            Surface::Control => "control",
        }
    }
}

/// How the grader judged one timeline event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Verdict {
    Pass,
    Fail,
    Error,
    Info,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Info => "info",
        }
    }
}

/// Latency/throughput results of a perf scenario.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PerfReport {
    pub metrics: Vec<Metric>,
    /// Unit of `throughput_series` values, e.g. `msg/s`.
    pub throughput_unit: String,
    pub throughput_series: Vec<SeriesPoint>,
    /// Buckets in ascending `upper_us` order.
    pub latency_histogram: Vec<HistogramBucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineComparison>,
}

impl PerfReport {
    /// The baseline rows that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &BaselineRow> {
        self.baseline
            .iter()
            .flat_map(|b| b.rows.iter())
            .filter(|r| r.regressed)
    }
}

/// Reads a float that may be `null`. JSON has no NaN or infinity, so
/// serde_json writes them as `null`; reading `null` back as NaN keeps such a
/// report readable (and redactable, which round-trips through JSON values).
fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A distribution summary of one metric. Floats that are not finite are
/// written to JSON as `null` and read back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// e.g. `mllp.ack_latency`.
    pub name: String,
    /// e.g. `ms`, `us`.
    pub unit: String,
    pub count: u64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p90: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p99: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p999: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub max: f64,
}

/// One point of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Milliseconds since the perf scenario started.
    pub t_ms: u64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub value: f64,
}

/// One latency histogram bucket: `count` samples at or below `upper_us`
/// (and above the previous bucket's bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    pub upper_us: u64,
    pub count: u64,
}

/// The current run compared with a stored baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// Baseline name, e.g. `main@4f2c1d0`.
    pub name: String,
    /// The worsening, in percent, above which a row regressed.
    #[serde(deserialize_with = "f64_or_nan")]
    pub max_regression_pct: f64,
    pub rows: Vec<BaselineRow>,
}

/// One compared value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRow {
    /// e.g. `mllp.ack_latency.p99`.
    pub metric: String,
    #[serde(deserialize_with = "f64_or_nan")]
    pub baseline: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub current: f64,
    /// `(current - baseline) / baseline * 100`; positive means larger.
    #[serde(deserialize_with = "f64_or_nan")]
    pub change_pct: f64,
    pub regressed: bool,
}

impl BaselineRow {
    /// Compares `current` with `baseline`. `higher_is_worse` is true for
    /// latencies and false for throughput. A zero baseline gives
    /// `change_pct = 0` unless `current` differs, then ±100.
    pub fn compare(
        metric: impl Into<String>,
        baseline: f64,
        current: f64,
        max_regression_pct: f64,
        higher_is_worse: bool,
    ) -> Self {
        let change_pct = if baseline == 0.0 {
            if current == 0.0 {
                0.0
            } else {
                100.0_f64.copysign(current)
            }
        } else {
            (current - baseline) / baseline.abs() * 100.0
        };
        let worsening = if higher_is_worse {
            change_pct
        } else {
            -change_pct
        };
        Self {
            metric: metric.into(),
            baseline,
            current,
            change_pct,
            regressed: worsening > max_regression_pct,
        }
    }
}

/// Counts over all checks, and the run's classification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    pub total: u64,
    pub passed: u64,
    /// Failed `SHALL` checks.
    pub failed: u64,
    /// Failed `SHOULD`/`MAY` checks.
    pub warnings: u64,
    pub errored: u64,
    pub skipped: u64,
    /// Baseline rows that regressed.
    pub perf_regressions: u64,
    pub status: RunStatus,
}

impl Summary {
    /// Counts the checks and classifies the run; see [`RunStatus`].
    pub fn compute(scenarios: &[ScenarioResult], perf: Option<&PerfReport>) -> Self {
        let mut s = Summary::default();
        for c in scenarios.iter().flat_map(|s| &s.checks) {
            s.total += 1;
            match &c.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed { .. } if c.severity == Severity::Shall => s.failed += 1,
                Outcome::Failed { .. } => s.warnings += 1,
                Outcome::Errored { .. } => s.errored += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
            }
        }
        s.perf_regressions = perf.map_or(0, |p| p.regressions().count() as u64);
        s.status = if s.errored > 0 {
            RunStatus::Errored
        } else if s.failed > 0 || s.perf_regressions > 0 {
            RunStatus::Failed
        } else if s.warnings > 0 {
            RunStatus::PassedWithWarnings
        } else {
            RunStatus::Passed
        };
        s
    }
}

/// The run's overall classification, for the runner's exit code.
///
/// Precedence: any errored check makes the run [`Errored`](Self::Errored)
/// (its verdicts can't be trusted); otherwise a failed `SHALL` check or a
/// perf regression makes it [`Failed`](Self::Failed); otherwise failed
/// `SHOULD`/`MAY` checks make it [`PassedWithWarnings`](Self::PassedWithWarnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunStatus {
    #[default]
    Passed,
    PassedWithWarnings,
    Failed,
    Errored,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Passed => "passed",
            RunStatus::PassedWithWarnings => "passed_with_warnings",
            RunStatus::Failed => "failed",
            RunStatus::Errored => "errored",
        }
    }

    /// Whether CI should treat the run as green.
    pub fn is_success(self) -> bool {
        matches!(self, RunStatus::Passed | RunStatus::PassedWithWarnings)
    }
}
