//! The committed benchmark corpus is exactly what the generators produce,
//! every generated type parses, and `write_corpus` writes what it says.
//!
//! Regenerate the fixtures with `NGSIM_UPDATE_FIXTURES=1`.

use std::path::PathBuf;

use proptest::prelude::*;

use simulator::hl7::Message;
use simulator::hl7::MessageBuilder;
use simulator::hl7::generators::strategy;
use simulator::hl7::generators::{
    MessageType, Mutation, generate, practice_message, sample_context, write_corpus,
};
use simulator::practice::{PatientIndex, Practice, PracticeConfig};

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

fn practice(seed: u64) -> Practice {
    Practice::new(PracticeConfig {
        seed,
        ..PracticeConfig::default()
    })
}

fn text(m: &Message<'_>, path: &str) -> String {
    m.get_text(path).unwrap().unwrap_or_default().into_owned()
}

#[test]
fn every_type_names_the_practice_patient_with_that_index() {
    let practice = practice(11);
    for kind in MessageType::ALL {
        for index in [0u64, 1, 17] {
            let wire = practice_message(&practice, kind, index).unwrap().encode();
            let m = Message::parse(&wire).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let p = practice.patient(PatientIndex(index as u32)).unwrap();
            assert_eq!(text(&m, "PID-2"), p.person_number, "{kind}");
            assert_eq!(text(&m, "PID-3.1"), p.mrn, "{kind}");
            assert_eq!(text(&m, "PID-5.1"), p.name.family, "{kind}");
            assert_eq!(text(&m, "PID-5.2"), p.name.given, "{kind}");
            let dob = p.birth_date;
            let dob = format!(
                "{:04}{:02}{:02}",
                dob.year(),
                u8::from(dob.month()),
                dob.day()
            );
            assert_eq!(text(&m, "PID-7"), dob, "{kind}");
            let (t, e, _) = kind.code();
            assert_eq!(text(&m, "MSH-9.1"), t);
            assert_eq!(text(&m, "MSH-9.2"), e);
        }
    }
}

#[test]
fn practice_messages_carry_the_patients_records() {
    let practice = practice(11);
    let chart = practice.chart(PatientIndex(3)).unwrap();
    let oru = practice_message(&practice, MessageType::OruR01, 3)
        .unwrap()
        .encode();
    let m = Message::parse(&oru).unwrap();
    if let Some(panel) = chart.lab_panels.iter().max_by_key(|l| l.issued) {
        assert_eq!(text(&m, "OBR-2"), panel.accession);
        let obx = m.segments().filter(|s| s.id() == b"OBX").count();
        assert_eq!(obx, panel.result_ids.len());
    }
    let vxu = practice_message(&practice, MessageType::VxuV04, 3)
        .unwrap()
        .encode();
    let m = Message::parse(&vxu).unwrap();
    if let Some(im) = chart.immunizations.iter().max_by_key(|im| im.occurrence) {
        assert_eq!(text(&m, "RXA-5.1"), im.cvx.code.to_string());
    }
}

#[test]
fn corpus_file_i_is_about_practice_patient_i_and_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_corpus(&dir.path().join("a"), MessageType::AdtA04, 4, 5, false).unwrap();
    let b = write_corpus(&dir.path().join("b"), MessageType::AdtA04, 4, 5, false).unwrap();
    let c = write_corpus(&dir.path().join("c"), MessageType::AdtA04, 4, 6, false).unwrap();
    let practice = practice(5);
    for (i, f) in a.files.iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(&b.files[i]).unwrap(),
            "same seed, same bytes"
        );
        assert_ne!(
            bytes,
            std::fs::read(&c.files[i]).unwrap(),
            "another seed, another patient"
        );
        let m = Message::parse(&bytes).unwrap();
        let p = practice.patient(PatientIndex(i as u32)).unwrap();
        assert_eq!(text(&m, "PID-3.1"), p.mrn);
        assert_eq!(text(&m, "PID-5.1"), p.name.family);
    }
}

#[test]
fn mutated_corpus_applies_every_mutation_to_practice_messages() {
    let dir = tempfile::tempdir().unwrap();
    let n = Mutation::ALL.len();
    let plain = write_corpus(&dir.path().join("p"), MessageType::SiuS12, n, 8, false).unwrap();
    let mutated = write_corpus(&dir.path().join("m"), MessageType::SiuS12, n, 8, true).unwrap();
    let again = write_corpus(&dir.path().join("m2"), MessageType::SiuS12, n, 8, true).unwrap();
    for (i, m) in Mutation::ALL.iter().enumerate() {
        let name = mutated.files[i]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.contains(m.name()), "{name} for {m:?}");
        let bytes = std::fs::read(&mutated.files[i]).unwrap();
        assert_eq!(bytes, std::fs::read(&again.files[i]).unwrap(), "{name}");
        assert_ne!(
            bytes,
            std::fs::read(&plain.files[i]).unwrap(),
            "{name} is damaged"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn practice_messages_parse_and_round_trip(b in strategy::practice_message()) {
        let wire = b.encode();
        let m = Message::parse(&wire);
        prop_assert!(m.is_ok(), "{:?}", m.err());
        prop_assert_eq!(MessageBuilder::from_message(&m.unwrap()), b);
    }
}
