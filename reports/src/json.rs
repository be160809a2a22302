//! The versioned JSON report: the model itself, pretty-printed.
//!
//! Its format is described by `reports/schema/report.schema.json`
//! ([`JSON_SCHEMA`]); a test validates the writer's output against it.

use std::io::Write;

use crate::ReportError;
use crate::model::RunReport;
use crate::redact::Redactor;

/// The JSON Schema (draft 2020-12) of the JSON report.
pub const JSON_SCHEMA: &str = include_str!("../schema/report.schema.json");

/// Writes `report` as pretty-printed JSON with a trailing newline, redacted.
pub fn write_json<W: Write>(
    report: &RunReport,
    redactor: &Redactor,
    mut out: W,
) -> Result<(), ReportError> {
    let report = redactor.redact_report(report);
    serde_json::to_writer_pretty(&mut out, &report)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a JSON report, refusing other schema versions.
pub fn read_json<R: std::io::Read>(input: R) -> Result<RunReport, ReportError> {
    let report: RunReport = serde_json::from_reader(input)?;
    if report.schema_version != crate::model::SCHEMA_VERSION {
        return Err(ReportError::SchemaVersion(report.schema_version));
    }
    Ok(report)
}
