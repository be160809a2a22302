//! Load baselines: the figures of K repetitions saved as versioned JSON, and
//! the comparison of a new run against them.
//!
//! # Statistics
//! Each compared figure is the **median over the K repetitions** of a run
//! (K = `--repeat`, default 3), in the baseline and in the current run. The
//! median ignores one wild repetition out of three (a noisy neighbour, a GC
//! pause in the SUT) where a mean would not.
//!
//! A figure regresses when its median worsens by more than
//! `--max-regression` percent (default 10%): latencies when they grow,
//! throughput when it falls, errors when they grow. Two guards keep noise out:
//! - a latency change smaller than the **noise floor** (`--noise-floor-ms`,
//!   default 0.05 ms) never regresses, since sub-50 µs jitter on a loopback
//!   ACK path is scheduling noise, not the SUT;
//! - the maximum latency is reported but never compared: it is a single
//!   sample.
//!
//! Runs are only compared when they did the same work: the same connection
//! count, pacing, stop condition and message mix. Anything else is bad input.

use std::path::{Path, PathBuf};

use super::error::{Result, infra, invalid};
use reports::{BaselineComparison, BaselineRow};
use serde::{Deserialize, Serialize};

use super::recorder::Figures;
use super::spec::LoadSpec;

/// The `format` field of every baseline file.
pub const FORMAT: &str = "ngsim-load-baseline";
/// The schema version this build writes and reads.
pub const VERSION: u32 = 1;

/// The fields every baseline file starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// What kind of baseline: [`FORMAT`] or `ngsim-sync-baseline`.
    pub format: String,
    /// Schema version, [`VERSION`].
    pub version: u32,
    pub name: String,
    pub created_at: String,
    pub ngsim_version: String,
}

impl Header {
    /// A header of this build, created now.
    pub fn new(format: &str, name: &str) -> Self {
        Self {
            format: format.to_owned(),
            version: VERSION,
            name: name.to_owned(),
            created_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            ngsim_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A saved load baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(flatten)]
    pub header: Header,
    pub spec: LoadSpec,
    /// One entry per repetition.
    pub repetitions: Vec<Figures>,
}

impl Baseline {
    /// A baseline of this build from a finished run.
    pub fn new(name: &str, spec: &LoadSpec, repetitions: &[Figures]) -> Self {
        Self {
            header: Header::new(FORMAT, name),
            spec: spec.clone(),
            repetitions: repetitions.to_vec(),
        }
    }

    /// `DIR/NAME.json`.
    pub fn path(dir: &Path, name: &str) -> Result<PathBuf> {
        baseline_path(dir, name)
    }

    /// Writes the baseline to `DIR/NAME.json`.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        save_json(dir, &self.header.name, self)
    }

    /// Reads `DIR/NAME.json`, naming the saved baselines when it is missing.
    pub fn load(dir: &Path, name: &str) -> Result<Self> {
        load_json(dir, name, FORMAT)
    }

    /// Whether `spec` did the same work as this baseline's; the difference if not.
    pub fn comparable_with(&self, spec: &LoadSpec) -> std::result::Result<(), String> {
        let b = &self.spec;
        let mut diffs = Vec::new();
        if b.connections != spec.connections {
            diffs.push(format!(
                "connections {} vs {}",
                b.connections, spec.connections
            ));
        }
        if b.pacing != spec.pacing {
            diffs.push(format!("pacing {:?} vs {:?}", b.pacing, spec.pacing));
        }
        if b.stop != spec.stop {
            diffs.push(format!("stop {:?} vs {:?}", b.stop, spec.stop));
        }
        if b.mix != spec.mix {
            diffs.push(format!("mix {:?} vs {:?}", b.mix, spec.mix));
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }
}

/// `DIR/NAME.json`, refusing names that would leave `DIR`.
pub fn baseline_path(dir: &Path, name: &str) -> Result<PathBuf> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        || name.starts_with('.')
    {
        return Err(invalid(format!(
            "baseline name `{name}` must be letters, digits, `-`, `_`, `.` or `@`"
        )));
    }
    Ok(dir.join(format!("{name}.json")))
}

/// Writes any baseline as pretty JSON to `DIR/NAME.json`.
pub fn save_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<PathBuf> {
    let path = baseline_path(dir, name)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| infra(format!("cannot create {}: {e}", dir.display())))?;
    let json = serde_json::to_vec_pretty(value)
        .map_err(|e| infra(format!("cannot serialise baseline `{name}`: {e}")))?;
    std::fs::write(&path, json)
        .map_err(|e| infra(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// Reads a baseline of `format` (and this build's [`VERSION`]) from
/// `DIR/NAME.json`, naming the saved baselines when it is missing.
pub fn load_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    format: &str,
) -> Result<T> {
    let path = baseline_path(dir, name)?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut saved: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_suffix(".json")
                        .map(str::to_owned)
                })
                .collect();
            saved.sort();
            return Err(invalid(format!(
                "no baseline `{name}` in {} (saved: {})",
                dir.display(),
                if saved.is_empty() {
                    "none; record one with --save-baseline".to_owned()
                } else {
                    saved.join(", ")
                }
            )));
        }
        Err(e) => return Err(infra(format!("cannot read {}: {e}", path.display()))),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("{} is not JSON: {e}", path.display())))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(format) {
        return Err(invalid(format!(
            "{} is not an {format} file",
            path.display()
        )));
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(u64::from(VERSION)) {
        return Err(invalid(format!(
            "{} is baseline format version {}, this ngsim reads version {VERSION}; record it again",
            path.display(),
            version.map_or_else(|| "?".to_owned(), |v| v.to_string())
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| invalid(format!("{} is malformed: {e}", path.display())))
}

/// The comparison thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A worsening beyond this many percent is a regression.
    pub max_regression_pct: f64,
    /// Latency changes smaller than this (ms) are noise.
    pub latency_floor_ms: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_regression_pct: 10.0,
            latency_floor_ms: 0.05,
        }
    }
}

/// Parses `10%` or `10` into percent.
pub fn parse_percent(s: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| invalid(format!("`{s}` is not a percentage (e.g. `10%`)")))?;
    if !(v >= 0.0 && v.is_finite()) {
        return Err(invalid(format!(
            "a percentage must be zero or more, got `{s}`"
        )));
    }
    Ok(v)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The compared figures: (metric name, extractor, higher is worse, is latency).
type Extract = fn(&Figures) -> f64;
const COMPARED: &[(&str, Extract, bool, bool)] = &[
    ("mllp.ack_latency.p50", |f| f.latency_ms.p50, true, true),
    ("mllp.ack_latency.p90", |f| f.latency_ms.p90, true, true),
    ("mllp.ack_latency.p99", |f| f.latency_ms.p99, true, true),
    ("mllp.ack_latency.p999", |f| f.latency_ms.p999, true, true),
    ("mllp.throughput", |f| f.throughput, false, false),
    ("mllp.errors", |f| f.errors.total() as f64, true, false),
];

/// Compares the medians of `current` with the baseline's.
pub fn compare(baseline: &Baseline, current: &[Figures], th: Thresholds) -> BaselineComparison {
    let rows = COMPARED
        .iter()
        .map(|(name, get, higher_is_worse, latency)| {
            let b = median(&mut baseline.repetitions.iter().map(get).collect::<Vec<_>>());
            let c = median(&mut current.iter().map(get).collect::<Vec<_>>());
            let mut row =
                BaselineRow::compare(*name, b, c, th.max_regression_pct, *higher_is_worse);
            if *latency && (c - b).abs() < th.latency_floor_ms {
                row.regressed = false;
            }
            row
        })
        .collect();
    BaselineComparison {
        name: baseline.header.name.clone(),
        max_regression_pct: th.max_regression_pct,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::recorder::{ErrorCounts, LatencyMs};
    use super::super::spec::{Pacing, StopAfter};
    use super::*;

    fn spec() -> LoadSpec {
        LoadSpec {
            target: "127.0.0.1:2575".parse().unwrap(),
            connections: 4,
            pacing: Pacing::Fixed { rate: 500.0 },
            stop: StopAfter::Messages(1000),
            mix: LoadSpec::default_mix(),
            ack_timeout: Duration::from_secs(5),
            seed: 42,
        }
    }

    fn figures(p50: f64, p99: f64, throughput: f64, errors: u64) -> Figures {
        Figures {
            sent: 1000,
            acked: 1000 - errors,
            errors: ErrorCounts {
                nak: errors,
                ..ErrorCounts::default()
            },
            elapsed_ms: 2000,
            throughput,
            latency_ms: LatencyMs {
                mean: p50,
                p50,
                p90: p50,
                p99,
                p999: p99,
                max: p99 * 2.0,
            },
            histogram: Vec::new(),
            series: Vec::new(),
        }
    }

    fn regressed(c: &BaselineComparison) -> Vec<&str> {
        c.rows
            .iter()
            .filter(|r| r.regressed)
            .map(|r| r.metric.as_str())
            .collect()
    }

    #[test]
    fn above_the_threshold_regresses_and_below_passes() {
        let base = Baseline::new("main", &spec(), &vec![figures(2.0, 8.0, 500.0, 0); 3]);
        let th = Thresholds::default();
        // 9% slower: within 10%.
        let ok = compare(&base, &vec![figures(2.18, 8.72, 500.0, 0); 3], th);
        assert!(regressed(&ok).is_empty(), "{ok:?}");
        // 20% slower p99 and 15% less throughput: both regress.
        let bad = compare(&base, &vec![figures(2.0, 9.6, 425.0, 0); 3], th);
        assert_eq!(
            regressed(&bad),
            [
                "mllp.ack_latency.p99",
                "mllp.ack_latency.p999",
                "mllp.throughput"
            ]
        );
        // Any new error against an error-free baseline regresses.
        let errs = compare(&base, &vec![figures(2.0, 8.0, 500.0, 3); 3], th);
        assert_eq!(regressed(&errs), ["mllp.errors"]);
    }

    #[test]
    fn the_median_ignores_one_wild_repetition() {
        let base = Baseline::new("main", &spec(), &vec![figures(2.0, 8.0, 500.0, 0); 3]);
        let run = [
            figures(2.0, 8.0, 500.0, 0),
            figures(9.0, 90.0, 100.0, 0),
            figures(2.1, 8.1, 495.0, 0),
        ];
        let c = compare(&base, &run, Thresholds::default());
        assert!(regressed(&c).is_empty(), "{c:?}");
    }

    #[test]
    fn tiny_latencies_under_the_noise_floor_never_regress() {
        let base = Baseline::new("main", &spec(), &[figures(0.10, 0.20, 500.0, 0)]);
        // +40% but only +0.04 ms.
        let c = compare(
            &base,
            &[figures(0.14, 0.24, 500.0, 0)],
            Thresholds::default(),
        );
        assert!(regressed(&c).is_empty(), "{c:?}");
    }

    #[test]
    fn baselines_round_trip_and_refuse_other_work_or_versions() {
        let dir = tempfile::tempdir().unwrap();
        let base = Baseline::new("v1.2@abc", &spec(), &[figures(2.0, 8.0, 500.0, 0)]);
        base.save(dir.path()).unwrap();
        let back = Baseline::load(dir.path(), "v1.2@abc").unwrap();
        assert_eq!(back, base);
        let mut other = spec();
        other.connections = 8;
        assert!(back.comparable_with(&spec()).is_ok());
        assert!(
            back.comparable_with(&other)
                .unwrap_err()
                .contains("connections 4 vs 8")
        );
        let e = Baseline::load(dir.path(), "nope").unwrap_err().to_string();
        assert!(
            e.contains("no baseline `nope`") && e.contains("v1.2@abc"),
            "{e}"
        );
        std::fs::write(
            dir.path().join("old.json"),
            r#"{"format":"ngsim-load-baseline","version":0}"#,
        )
        .unwrap();
        let e = Baseline::load(dir.path(), "old").unwrap_err().to_string();
        assert!(e.contains("version 0"), "{e}");
        assert!(Baseline::path(dir.path(), "../x").is_err());
        assert_eq!(parse_percent("10%").unwrap(), 10.0);
        assert!(parse_percent("-1").is_err());
    }
}
