//! Criterion results: read the figures criterion writes under
//! `target/criterion`, compare a run with a saved baseline, and render the
//! figures table of `benches/README.md`.
//!
//! # Regression rule
//! A bench regresses when its median time rose by more than the allowed
//! percentage **and** the 95 % confidence intervals of the two medians do not
//! overlap. The second condition absorbs the run-to-run noise of a shared
//! machine: a slower median whose interval still overlaps the baseline's is
//! reported as a change, not a regression.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::BaselineRow;

/// One bench's figures from one run (or baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigure {
    /// Criterion's full id, e.g. `parse_walk/ngsim`.
    pub id: String,
    /// Median time per iteration, nanoseconds.
    pub median_ns: f64,
    /// Lower bound of the median's 95 % confidence interval.
    pub median_low_ns: f64,
    /// Upper bound of the median's 95 % confidence interval.
    pub median_high_ns: f64,
    /// Work per iteration, when the bench declared it.
    pub throughput: Option<Throughput>,
}

/// Work done per iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Throughput {
    /// Bytes per iteration.
    Bytes(u64),
    /// Elements (messages, requests, patients) per iteration.
    Elements(u64),
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Benchmark {
    full_id: String,
    throughput: Option<serde_json::Value>,
}

/// Read every bench's figures for `baseline` (`new` is the latest run) under
/// `criterion_dir`, sorted by id.
pub fn read(criterion_dir: &Path, baseline: &str) -> std::io::Result<Vec<BenchFigure>> {
    let mut out = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == baseline) {
                if let Some(f) = read_one(&path)? {
                    out.push(f);
                }
            } else if path.file_name().is_some_and(|n| n != "report") {
                stack.push(path);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn read_one(dir: &Path) -> std::io::Result<Option<BenchFigure>> {
    let (est, bench): (PathBuf, PathBuf) = (dir.join("estimates.json"), dir.join("benchmark.json"));
    if !est.exists() || !bench.exists() {
        return Ok(None);
    }
    let parse = |p: &Path| -> std::io::Result<String> { std::fs::read_to_string(p) };
    let e: Estimates = serde_json::from_str(&parse(&est)?).map_err(std::io::Error::other)?;
    let b: Benchmark = serde_json::from_str(&parse(&bench)?).map_err(std::io::Error::other)?;
    let throughput = b.throughput.as_ref().and_then(|t| {
        let get = |k: &str| t.get(k).and_then(serde_json::Value::as_u64);
        get("Bytes")
            .or(get("BytesDecimal"))
            .map(Throughput::Bytes)
            .or(get("Elements").map(Throughput::Elements))
    });
    Ok(Some(BenchFigure {
        id: b.full_id,
        median_ns: e.median.point_estimate,
        median_low_ns: e.median.confidence_interval.lower_bound,
        median_high_ns: e.median.confidence_interval.upper_bound,
        throughput,
    }))
}

/// Compare `current` with `baseline` by id; benches missing from either side
/// are left out. See the module docs for the rule.
pub fn compare(
    current: &[BenchFigure],
    baseline: &[BenchFigure],
    max_regression_pct: f64,
) -> Vec<BaselineRow> {
    current
        .iter()
        .filter_map(|c| {
            let b = baseline.iter().find(|b| b.id == c.id)?;
            let mut row =
                BaselineRow::compare(&c.id, b.median_ns, c.median_ns, max_regression_pct, true);
            // Overlapping intervals: within the noise, whatever the medians say.
            row.regressed = row.regressed && c.median_low_ns > b.median_high_ns;
            Some(row)
        })
        .collect()
}

fn human_time(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

fn human_rate(t: Throughput, ns: f64) -> String {
    let per_s = 1e9 / ns;
    match t {
        Throughput::Bytes(b) => format!("{:.1} MB/s", b as f64 * per_s / 1e6),
        Throughput::Elements(e) => format!("{:.0} /s", e as f64 * per_s),
    }
}

/// The figures as a Markdown table (median time, 95 % interval, throughput).
pub fn markdown_table(figures: &[BenchFigure]) -> String {
    let mut s =
        String::from("| bench | median | 95 % interval | throughput |\n|---|---:|---:|---:|\n");
    for f in figures {
        let rate = f
            .throughput
            .map(|t| human_rate(t, f.median_ns))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| `{}` | {} | {} – {} | {} |",
            f.id,
            human_time(f.median_ns),
            human_time(f.median_low_ns),
            human_time(f.median_high_ns),
            rate
        );
    }
    s
}

/// A comparison as a Markdown table.
pub fn markdown_comparison(
    rows: &[BaselineRow],
    baseline: &str,
    max_regression_pct: f64,
) -> String {
    let mut s = format!(
        "Compared with baseline `{baseline}` (regression: median over +{max_regression_pct}% and intervals apart)\n\n\
         | bench | baseline | current | change | verdict |\n|---|---:|---:|---:|---|\n"
    );
    for r in rows {
        let verdict = if r.regressed { "**REGRESSED**" } else { "ok" };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {:+.1}% | {verdict} |",
            r.metric,
            human_time(r.baseline),
            human_time(r.current),
            r.change_pct
        );
    }
    s
}

/// Replace the text between `<!-- begin:NAME -->` and `<!-- end:NAME -->`.
/// Returns `None` when the markers are missing.
pub fn replace_section(doc: &str, name: &str, body: &str) -> Option<String> {
    let (begin, end) = (
        format!("<!-- begin:{name} -->"),
        format!("<!-- end:{name} -->"),
    );
    let start = doc.find(&begin)? + begin.len();
    let stop = start + doc[start..].find(&end)?;
    Some(format!("{}\n{}{}", &doc[..start], body, &doc[stop..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(id: &str, median: f64, spread: f64) -> BenchFigure {
        BenchFigure {
            id: id.into(),
            median_ns: median,
            median_low_ns: median - spread,
            median_high_ns: median + spread,
            throughput: None,
        }
    }

    #[test]
    fn regressions_need_the_threshold_and_separate_intervals() {
        let base = [
            fig("a", 100.0, 2.0),
            fig("b", 100.0, 2.0),
            fig("c", 100.0, 20.0),
            fig("d", 100.0, 2.0),
        ];
        let now = [
            fig("a", 120.0, 2.0),
            fig("b", 105.0, 2.0),
            fig("c", 125.0, 20.0),
            fig("d", 80.0, 2.0),
        ];
        let rows = compare(&now, &base, 10.0);
        let verdict: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.metric.as_str(), r.regressed))
            .collect();
        // a: +20% and apart → regressed; b: +5% → below the threshold;
        // c: +25% but the intervals overlap → noise; d: faster.
        assert_eq!(
            verdict,
            [("a", true), ("b", false), ("c", false), ("d", false)]
        );
    }

    #[test]
    fn reads_what_criterion_writes() {
        let dir = tempfile_dir();
        let b = dir.join("group/ngsim/new");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            b.join("estimates.json"),
            r#"{"median":{"point_estimate":1000.0,"confidence_interval":{"lower_bound":990.0,"upper_bound":1010.0,"confidence_level":0.95},"standard_error":1.0}}"#,
        )
        .unwrap();
        std::fs::write(
            b.join("benchmark.json"),
            r#"{"full_id":"group/ngsim","throughput":{"Bytes":11434}}"#,
        )
        .unwrap();
        let figs = read(&dir, "new").unwrap();
        assert_eq!(figs.len(), 1);
        assert_eq!(figs[0].throughput, Some(Throughput::Bytes(11434)));
        let table = markdown_table(&figs);
        assert!(
            table.contains("| `group/ngsim` | 1.00 µs | 990.0 ns – 1.01 µs | 11434.0 MB/s |"),
            "{table}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("ngsim-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn sections_are_replaced_between_markers() {
        let doc = "head\n<!-- begin:figures -->\nold\n<!-- end:figures -->\ntail\n";
        let new = replace_section(doc, "figures", "new\n").unwrap();
        assert_eq!(
            new,
            "head\n<!-- begin:figures -->\nnew\n<!-- end:figures -->\ntail\n"
        );
        assert!(replace_section("no markers", "figures", "x").is_none());
    }
}
