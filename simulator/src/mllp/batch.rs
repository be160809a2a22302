//! Batch files: the nightly pattern NextGen sites use over SFTP.
//!
//! - Outbound: [`export`] renders practice changes and writes them either as
//!   one FHS/BHS batch file (`FHS`, `BHS`, messages, `BTS|<count>`, `FTS|1`)
//!   or as one message per file (`<MSH-10>.hl7`).
//! - Inbound: [`import_dir`] reads every `*.hl7`/`*.txt` file of a directory
//!   (batch or single message, `\r` or `\r\n` segment ends), runs each message
//!   through the listener's policy (same ACKs, duplicates, practice writes,
//!   journal) and writes the ACKs next to it as `<file>.ack` (a batch of ACKs).
//!   ACK files are never read back.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::MllpLimits;
use super::conn::{self, IdSource};
use super::listener::Listener;
use super::render::{self, Addressee};
use crate::events::PracticeChange;
use crate::server::AppState;

/// How outbound messages are laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One FHS/BHS batch file.
    Batch,
    /// One message per file.
    OnePerFile,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportSummary {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Messages written.
    pub messages: usize,
}

/// What [`import_dir`] read.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files read.
    pub files: usize,
    /// Messages found.
    pub messages: usize,
    /// Accepted messages.
    pub accepted: usize,
    /// Outcome per message: `(file, MSH-10, outcome)`.
    pub outcomes: Vec<(String, String, String)>,
}

static BATCH_IDS: IdSource = IdSource::new("NGB");

/// Wrap messages in FHS/BHS … BTS/FTS.
pub fn write_batch(messages: &[Vec<u8>], sender: (&str, &str), ts: &str, out: &mut Vec<u8>) {
    let id = BATCH_IDS.next_string();
    let (app, fac) = sender;
    out.extend_from_slice(format!("FHS|^~\\&|{app}|{fac}|||{ts}||||{id}\r").as_bytes());
    out.extend_from_slice(format!("BHS|^~\\&|{app}|{fac}|||{ts}||||{id}\r").as_bytes());
    for m in messages {
        out.extend_from_slice(m);
        if !m.ends_with(b"\r") {
            out.push(b'\r');
        }
    }
    out.extend_from_slice(format!("BTS|{}\rFTS|1\r", messages.len()).as_bytes());
}

/// Split a file into its messages: batch envelopes are dropped, `\r\n` and
/// `\n` segment ends become `\r`, and each message starts at an `MSH` line.
pub fn split_messages(file: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in file.split(|b| *b == b'\r' || *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match line.get(..3) {
            Some(b"FHS" | b"BHS" | b"BTS" | b"FTS") => continue,
            Some(b"MSH") => out.push(Vec::new()),
            _ => {}
        }
        if let Some(m) = out.last_mut() {
            m.extend_from_slice(line);
            m.push(b'\r');
        }
    }
    out
}

/// Render `changes` and write them to `dir` in `layout`.
pub fn export(
    state: &AppState,
    changes: &[PracticeChange],
    dir: &Path,
    layout: Layout,
) -> std::io::Result<ExportSummary> {
    std::fs::create_dir_all(dir)?;
    let profile = state.profile();
    let to = Addressee {
        application: "BATCH",
        facility: "",
    };
    let mut messages = Vec::new();
    for c in changes {
        let id = BATCH_IDS.next_string();
        if let Some((_, m)) = render::render(&state.practice, &profile.hl7, c, &to, &id) {
            messages.push((id, m));
        }
    }
    let ts = conn::hl7_now();
    let mut files = Vec::new();
    match layout {
        Layout::Batch => {
            let mut out = Vec::new();
            let bodies: Vec<Vec<u8>> = messages.iter().map(|m| m.1.clone()).collect();
            write_batch(
                &bodies,
                (
                    &profile.hl7.sending_application,
                    &profile.hl7.sending_facility,
                ),
                conn::ts_str(&ts),
                &mut out,
            );
            let path = dir.join(format!(
                "ngsim-{}-{}.hl7",
                conn::ts_str(&ts),
                BATCH_IDS.next_string()
            ));
            std::fs::write(&path, out)?;
            files.push(path);
        }
        Layout::OnePerFile => {
            for (id, m) in &messages {
                let path = dir.join(format!("{id}.hl7"));
                std::fs::write(&path, m)?;
                files.push(path);
            }
        }
    }
    Ok(ExportSummary {
        files,
        messages: messages.len(),
    })
}

/// Read every `*.hl7`/`*.txt` file in `dir` (sorted by name), process each
/// message like the listener does, and write `<file>.ack`.
pub fn import_dir(state: &AppState, dir: &Path) -> std::io::Result<ImportSummary> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hl7" || e == "txt"))
        .collect();
    paths.sort();
    let listener = Listener::new(state.clone(), MllpLimits::default(), None);
    let profile = state.profile();
    let mut summary = ImportSummary::default();
    for path in paths {
        let bytes = std::fs::read(&path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        summary.files += 1;
        let mut acks = Vec::new();
        for m in split_messages(&bytes) {
            summary.messages += 1;
            let (outcome, framed) = listener.process(&m, &format!("batch:{name}"));
            if outcome == "accepted" {
                summary.accepted += 1;
            }
            let id = crate::hl7::Message::parse(&m)
                .map(|p| conn::text(p.control_id()))
                .unwrap_or_default();
            summary
                .outcomes
                .push((name.clone(), id.into(), outcome.into()));
            // Unframe the ACK(s) for the file.
            for f in framed.split(|b| *b == crate::hl7::mllp::SB) {
                if let Some(p) = f.strip_suffix(&[crate::hl7::mllp::EB, crate::hl7::mllp::CR]) {
                    acks.push(p.to_vec());
                }
            }
        }
        let mut out = Vec::new();
        let ts = conn::hl7_now();
        write_batch(
            &acks,
            (
                &profile.hl7.sending_application,
                &profile.hl7.sending_facility,
            ),
            conn::ts_str(&ts),
            &mut out,
        );
        let mut ack_path = path.clone().into_os_string();
        ack_path.push(".ack");
        std::fs::write(PathBuf::from(ack_path), out)?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip() {
        let msgs = vec![
            b"MSH|^~\\&|A|B|||1||ADT^A04|1|P|2.3\rPID|1\r".to_vec(),
            b"MSH|^~\\&|A|B|||1||ADT^A08|2|P|2.3\rPID|1\r".to_vec(),
        ];
        let mut out = Vec::new();
        write_batch(&msgs, ("NextGen", "NGSIM"), "20260701000000", &mut out);
        assert!(out.starts_with(b"FHS|"));
        assert!(out.ends_with(b"BTS|2\rFTS|1\r"));
        assert_eq!(split_messages(&out), msgs);
        let crlf: Vec<u8> = String::from_utf8(out)
            .unwrap()
            .replace('\r', "\r\n")
            .into_bytes();
        assert_eq!(split_messages(&crlf), msgs);
    }
}
