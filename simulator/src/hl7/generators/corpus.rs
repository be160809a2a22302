//! Writing a corpus of generated messages to a directory.

use std::io;
use std::path::{Path, PathBuf};

use super::context::sample_context;
use super::messages::{MessageType, generate};
use super::mutate::{Mutation, mutate};
use super::rng::Rng;

/// What [`write_corpus`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusSummary {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Total bytes written.
    pub bytes: u64,
}

/// Writes `count` messages of one type to `dir` (created if missing), one
/// file each, CR segment terminators, no MLLP framing. The same `seed`
/// gives the same files. With `mutate`, each message gets one mutation
/// (cycling through [`Mutation::ALL`]); bad-framing output is an MLLP byte
/// stream and gets the `.mllp` extension, the others `.hl7`.
///
/// File names: `<type>-<index>.hl7` or `<type>-<index>-<mutation>.<ext>`,
/// e.g. `adt-a04-0003-truncate.hl7`.
pub fn write_corpus(
    dir: &Path,
    msg_type: MessageType,
    count: usize,
    seed: u64,
    mutate_messages: bool,
) -> io::Result<CorpusSummary> {
    std::fs::create_dir_all(dir)?;
    let (t, e, _) = msg_type.code();
    let stem = format!("{t}-{e}").to_ascii_lowercase();
    let mut rng = Rng::new(seed);
    let mut summary = CorpusSummary::default();
    for i in 0..count {
        let builder = generate(msg_type, &sample_context(seed, i as u64));
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
