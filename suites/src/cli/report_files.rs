//! Report output shared by the commands that write reports (`run`, `load`):
//! the `--format` list and one `report.<ext>` file per format.

use std::path::Path;

use anyhow::anyhow;
use reports::{Format, Redactor, RunReport};

use super::Failure;

/// Parses the `--format` list; an unknown name is bad input.
pub(super) fn formats(names: &[String]) -> Result<Vec<Format>, Failure> {
    names
        .iter()
        .map(|f| {
            Format::from_name(f.trim()).ok_or_else(|| {
                Failure::bad_input(anyhow!(
                    "unknown report format `{f}` (known: junit, json, html, md)"
                ))
            })
        })
        .collect()
}

/// Writes `dir/report.<ext>` for every format, redacting secrets.
pub(super) fn write(
    report: &RunReport,
    redactor: &Redactor,
    formats: &[Format],
    dir: &Path,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::infrastructure(anyhow!("cannot create {}: {e}", dir.display())))?;
    for format in formats {
        let path = dir.join(format!("report.{}", format.extension()));
        let file = std::fs::File::create(&path).map_err(|e| {
            Failure::infrastructure(anyhow!("cannot write {}: {e}", path.display()))
        })?;
        format
            .write(report, redactor, std::io::BufWriter::new(file))
            .map_err(|e| {
                Failure::infrastructure(anyhow!("cannot write {}: {e}", path.display()))
            })?;
    }
    Ok(())
}
