//! The ngsim result model and its report writers.
//!
//! The conformance runner grades a system under test (SUT) and records what
//! it found as a [`RunReport`]: scenarios, their checks with requirement
//! citations, outcomes and evidence, a journal timeline per scenario, and
//! optionally a performance section with a baseline comparison. This crate
//! turns that report into the artefacts CI users look at:
//!
//! | writer | for |
//! | --- | --- |
//! | [`write_junit`] | CI test-result ingestion (JUnit XML) |
//! | [`write_json`] | machines: the versioned model, see [`JSON_SCHEMA`] |
//! | [`write_html`] | people: one self-contained page with timelines and charts |
//! | [`write_markdown`] | PR comments |
//!
//! Every writer takes a [`Redactor`] and applies it to every string of the
//! report before rendering, so tokens, client secrets and the like never
//! reach an artefact. The crate does no I/O of its own beyond the
//! `std::io::Write` it is given: no network, no async runtime.
//!
//! # Layout
//!
//! * [`model`]: [`RunReport`] and everything in it; [`Summary`] and
//!   [`RunStatus`] classify a run (the severity scheme is documented there).
//! * [`redact`]: [`Redactor`], the secret scrubber.
//! * [`junit`], [`json`], [`html`], [`markdown`]: one writer each, all
//!   generic over `W: std::io::Write`. [`Format`] picks one by name.
//! * `schema/report.schema.json`: the JSON Schema of the JSON format.
//!
//! # Example
//!
//! ```
//! use reports::{
//!     CheckResult, Outcome, Redactor, RunReport, ScenarioResult, Severity, SutInfo, ToolInfo,
//! };
//!
//! let mut scenario = ScenarioResult::new("ack-semantics", "HL7 ACK semantics", "hl7v2");
//! scenario.checks.push(
//!     CheckResult::new(
//!         "ack-semantics.msa2-echoes-msh10",
//!         "MSA-2 echoes the MSH-10 control id",
//!         Severity::Shall,
//!         "HL7 v2.5.1 ch.2 §2.9.2",
//!         Outcome::failed_with("MSA-2 did not echo MSH-10", "MSG00001", "MSG00002"),
//!     )
//!     .with_evidence(Some(42), "mllp-in ACK MSA|AA|MSG00002"),
//! );
//! let mut report = RunReport::new(
//!     ToolInfo::new("ngsim", "0.1.0"),
//!     SutInfo::new("acme-interface-engine"),
//!     "2026-11-23T01:00:00Z",
//! );
//! report.scenarios.push(scenario);
//! let report = report.finish();
//! assert_eq!(report.summary.failed, 1);
//! assert!(!report.summary.status.is_success());
//!
//! let mut xml = Vec::new();
//! reports::write_junit(&report, &Redactor::new(), &mut xml)?;
//! let xml = String::from_utf8(xml)?;
//! assert!(xml.contains(r#"<testcase name="ack-semantics.msa2-echoes-msh10""#));
//! assert!(xml.contains("<failure"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod criterion;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod redact;

pub use html::write_html;
pub use json::{JSON_SCHEMA, read_json, write_json};
pub use junit::write_junit;
pub use markdown::write_markdown;
pub use model::{
    BaselineComparison, BaselineRow, CheckResult, Evidence, HistogramBucket, Metric, Outcome,
    PerfReport, RunReport, RunStatus, SCHEMA_VERSION, ScenarioResult, SeriesPoint, Severity,
    Summary, Surface, SutInfo, TimelineEvent, ToolInfo, Verdict,
};
pub use redact::{REDACTED, Redactor};

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    #[error("unsupported report schema_version {0} (this build reads {SCHEMA_VERSION})")]
    SchemaVersion(u32),
}

/// The output formats, for a runner's `--format` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    Junit,
    Json,
    Html,
    Markdown,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Junit, Format::Json, Format::Html, Format::Markdown];

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Junit => "xml",
            Format::Json => "json",
            Format::Html => "html",
            Format::Markdown => "md",
        }
    }

    /// Parses `junit`, `json`, `html` or `markdown`/`md`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "junit" | "xml" => Some(Format::Junit),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            "markdown" | "md" => Some(Format::Markdown),
            _ => None,
        }
    }

    /// Writes `report` in this format.
    pub fn write<W: std::io::Write>(
        self,
        report: &RunReport,
        redactor: &Redactor,
        out: W,
    ) -> Result<(), ReportError> {
        match self {
            Format::Junit => write_junit(report, redactor, out),
            Format::Json => write_json(report, redactor, out),
            Format::Html => write_html(report, redactor, out),
            Format::Markdown => write_markdown(report, redactor, out),
        }
    }
}
