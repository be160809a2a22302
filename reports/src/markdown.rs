//! A short Markdown summary for PR comments (GitHub-flavoured).
//!
//! A totals line, a table of failed, warned and errored checks, the passes
//! in a collapsed `<details>`, and a table of perf regressions when there
//! are any. Cell text has `<`, `>`, `&` HTML-escaped (GitHub renders inline
//! HTML), `|` escaped and newlines flattened so a message can't break the
//! table.

use std::io::Write;

use crate::ReportError;
use crate::model::{Outcome, RunReport, RunStatus};
use crate::redact::Redactor;

/// Writes the PR-comment summary of `report`, redacted.
pub fn write_markdown<W: Write>(
    report: &RunReport,
    redactor: &Redactor,
    mut out: W,
) -> Result<(), ReportError> {
    let report = redactor.redact_report(report);
    let s = &report.summary;
    let icon = match s.status {
        RunStatus::Passed => "✅",
        RunStatus::PassedWithWarnings => "⚠️",
        RunStatus::Failed => "❌",
        RunStatus::Errored => "💥",
    };
    writeln!(
        out,
        "### {icon} {} conformance: {} ({})\n",
        cell(&report.tool.name),
        cell(&report.sut.name),
        s.status.as_str()
    )?;
    writeln!(
        out,
        "**{} checks:** {} passed, {} failed, {} warnings, {} errored, {} skipped{} · {} · {} ms\n",
        s.total,
        s.passed,
        s.failed,
        s.warnings,
        s.errored,
        s.skipped,
        if report.perf.is_some() {
            format!(", {} perf regressions", s.perf_regressions)
        } else {
            String::new()
        },
        cell(&report.profiles.join(", ")),
        report.duration_ms,
    )?;

    let problems: Vec<_> = report
        .checks()
        .filter(|(_, c)| matches!(c.outcome, Outcome::Failed { .. } | Outcome::Errored { .. }))
        .collect();
    if !problems.is_empty() {
        writeln!(out, "| | Check | Title | Requirement | Message |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for (_, c) in problems {
            let mark = match (&c.outcome, c.is_failure()) {
                (Outcome::Errored { .. }, _) => "💥 error",
                (_, true) => "❌ SHALL",
                _ => "⚠️ SHOULD/MAY",
            };
            writeln!(
                out,
                "| {mark} | `{}` | {} | {} | {} |",
                cell(&c.id).replace('`', "'"),
                cell(&c.title),
                cell(&c.requirement),
                cell(c.outcome.message().unwrap_or_default()),
            )?;
        }
        writeln!(out)?;
    }

    let passed: Vec<_> = report
        .checks()
        .filter(|(_, c)| c.outcome == Outcome::Passed)
        .collect();
    if !passed.is_empty() {
        writeln!(
            out,
            "<details><summary>{} passed checks</summary>\n",
            passed.len()
        )?;
        for (_, c) in passed {
            writeln!(
                out,
                "- `{}` {} ({})",
                cell(&c.id).replace('`', "'"),
                cell(&c.title),
                cell(&c.requirement)
            )?;
        }
        writeln!(out, "\n</details>\n")?;
    }

    if let Some(baseline) = report.perf.as_ref().and_then(|p| p.baseline.as_ref()) {
        let regressed: Vec<_> = baseline.rows.iter().filter(|r| r.regressed).collect();
        if !regressed.is_empty() {
            writeln!(
                out,
                "#### Perf regressions vs `{}` (limit {}%)\n",
                cell(&baseline.name).replace('`', "'"),
                baseline.max_regression_pct
            )?;
            writeln!(out, "| Metric | Baseline | Current | Change |")?;
            writeln!(out, "|---|---:|---:|---:|")?;
            for r in regressed {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {:+.1}% |",
                    cell(&r.metric).replace('`', "'"),
                    r.baseline,
                    r.current,
                    r.change_pct
                )?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// Makes text safe inside a table cell or list item.
fn cell(text: &str) -> String {
    html_escape::encode_text(text)
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}
