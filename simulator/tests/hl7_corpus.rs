//! The committed benchmark corpus is exactly what the generators produce,
//! every generated type parses, and `write_corpus` writes what it says.
//!
//! Regenerate the fixtures with `NGSIM_UPDATE_FIXTURES=1`.

use std::path::PathBuf;

use simulator::hl7::Message;
use simulator::hl7::generators::{MessageType, Mutation, generate, sample_context, write_corpus};

const SEED: u64 = 2026;

/// The benchmark corpus: (file, type, context index). Odd indices are 2.5.1.
const CORPUS: &[(&str, MessageType, u64)] = &[
    ("adt_a04.hl7", MessageType::AdtA04, 1),
    ("oru_r01.hl7", MessageType::OruR01, 3),
    ("siu_s12.hl7", MessageType::SiuS12, 5),
    ("vxu_v04.hl7", MessageType::VxuV04, 7),
    ("dft_p03.hl7", MessageType::DftP03, 9),
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/hl7v2/corpus")
}

#[test]
fn committed_corpus_matches_generators() {
    let update = std::env::var_os("NGSIM_UPDATE_FIXTURES").is_some();
    let mut total = 0;
    for (file, kind, index) in CORPUS {
        let bytes = generate(*kind, &sample_context(SEED, *index)).encode();
        let path = corpus_dir().join(file);
        if update {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap();
        assert_eq!(committed, bytes, "{file} differs from the generator output");
        let m = Message::parse(&committed).unwrap();
        assert_eq!(m.version(), b"2.5.1");
        total += committed.len();
    }
    assert!((9_000..14_000).contains(&total), "corpus is {total} bytes");
}

#[test]
fn every_type_in_both_versions_parses_with_nextgen_shapes() {
    for kind in MessageType::ALL {
        for index in 0..4 {
            let ctx = sample_context(7, index);
            let bytes = generate(kind, &ctx).encode();
            let m = Message::parse(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let (t, e, _) = kind.code();
            assert_eq!(m.get("MSH-9.1").unwrap().unwrap(), t.as_bytes());
            assert_eq!(m.get("MSH-9.2").unwrap().unwrap(), e.as_bytes());
            assert_eq!(m.get("MSH-15").unwrap().unwrap(), b"AL");
            assert_eq!(m.get("MSH-16").unwrap().unwrap(), b"AL");
            let pid2 = m.get("PID-2").unwrap().unwrap();
            assert_eq!(pid2.len(), 12, "{kind}");
            assert!(pid2.iter().all(u8::is_ascii_digit));
            assert_eq!(m.get("PID-3.4").unwrap().unwrap(), b"NextGen");
            assert_eq!(m.get("PID-3.5").unwrap().unwrap(), b"MRN");
            assert_eq!(kind.to_string().parse::<MessageType>().unwrap(), kind);
        }
    }
}

#[test]
fn write_corpus_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write_corpus(dir.path(), MessageType::OruR01, 3, 1, false).unwrap();
    assert_eq!(plain.files.len(), 3);
    for f in &plain.files {
        Message::parse(&std::fs::read(f).unwrap()).unwrap();
    }
    let again = write_corpus(&dir.path().join("again"), MessageType::OruR01, 3, 1, false).unwrap();
    assert_eq!(plain.bytes, again.bytes);
    let n = Mutation::ALL.len();
    let mutated = write_corpus(&dir.path().join("m"), MessageType::AdtA04, n, 1, true).unwrap();
    let names: Vec<_> = mutated
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"adt-a04-0009-bad-framing.mllp".to_owned()),
        "{names:?}"
    );
    let sizes: u64 = mutated
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(mutated.bytes, sizes);
}
