//! Writing a corpus of generated messages to a directory.

use std::io;
use std::path::{Path, PathBuf};

use super::super::build::MessageBuilder;
use super::messages::{MessageType, generate};
use super::mutate::{Mutation, mutate};
#[cfg(not(ngsim_hl7_only))]
use super::practice::practice_context;
use super::rng::Rng;
#[cfg(not(ngsim_hl7_only))]
use crate::practice::{Practice, PracticeConfig};

/// What [`write_corpus`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusSummary {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Total bytes written.
    pub bytes: u64,
}

/// Writes `count` messages of one type to `dir` (created if missing), one
/// file each, CR segment terminators, no MLLP framing, drawn from the
/// synthetic practice of `seed` with the defaults `ngsim serve` uses
/// ([`PracticeConfig`]: 1000 patients, as of 2026-07-01): message `i` is
/// about patient `i`. The same `seed` gives the same files. See
/// [`write_practice_corpus`].
#[cfg(not(ngsim_hl7_only))]
pub fn write_corpus(
    dir: &Path,
    msg_type: MessageType,
    count: usize,
    seed: u64,
    mutate_messages: bool,
) -> io::Result<CorpusSummary> {
    let practice = Practice::new(PracticeConfig {
        seed,
        ..PracticeConfig::default()
    });
    write_practice_corpus(dir, &practice, msg_type, count, mutate_messages)
}

/// The message [`write_corpus`] writes as number `index` (before any
/// mutation): about patient `index` (modulo the patient count) of
/// `practice`, with MSH-10 `<seed mod 1000><index, 6 digits>`. `None` for a
/// practice without patients.
#[cfg(not(ngsim_hl7_only))]
pub fn practice_message(
    practice: &Practice,
    msg_type: MessageType,
    index: u64,
) -> Option<MessageBuilder> {
    let control_id = format!("{}{index:06}", practice.config().seed % 1000);
    let ctx = practice_context(practice, msg_type, index, &control_id)?;
    Some(generate(msg_type, &ctx))
}

/// [`write_corpus`] over a given practice. With `mutate`, each message gets
/// one mutation (cycling through [`Mutation::ALL`], drawn from an RNG seeded
/// with the practice seed); bad-framing output is an MLLP byte stream and
/// gets the `.mllp` extension, the others `.hl7`.
///
/// File names: `<type>-<index>.hl7` or `<type>-<index>-<mutation>.<ext>`,
/// e.g. `adt-a04-0003-truncate.hl7`.
#[cfg(not(ngsim_hl7_only))]
pub fn write_practice_corpus(
    dir: &Path,
    practice: &Practice,
    msg_type: MessageType,
    count: usize,
    mutate_messages: bool,
) -> io::Result<CorpusSummary> {
    std::fs::create_dir_all(dir)?;
    let (t, e, _) = msg_type.code();
    let stem = format!("{t}-{e}").to_ascii_lowercase();
    let mut rng = Rng::new(practice.config().seed);
    let mut summary = CorpusSummary::default();
    for i in 0..count {
        let builder = practice_message(practice, msg_type, i as u64).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the practice has no patients")
        })?;
        let (bytes, name) = if mutate_messages {
            let m = Mutation::ALL[i % Mutation::ALL.len()];
            let ext = if m == Mutation::BadFraming {
                "mllp"
            } else {
                "hl7"
            };
            let bytes = mutate(&builder, m, &mut rng);
            (bytes, format!("{stem}-{i:04}-{}.{ext}", m.name()))
        } else {
            (builder.encode(), format!("{stem}-{i:04}.hl7"))
        };
        let path = dir.join(name);
        std::fs::write(&path, &bytes)?;
        summary.bytes += bytes.len() as u64;
        summary.files.push(path);
    }
    Ok(summary)
}
