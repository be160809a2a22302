//! Parser: exact errors (snapshotted), no panics, and agreement with
//! hl7-parser on well-formed ASCII messages.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simulator::hl7::generators::strategy;
use simulator::hl7::{Message, MessageBuilder, ParseError, ParseOptions, Path};

const OK: &[u8] =
    b"MSH|^~\\&|APP|FAC|RCV|RFAC|20250101||ADT^A04|1|P|2.3\rPID|1||42^^^NextGen^MRN\r";

/// One input per error kind, with the expected error.
fn error_cases() -> Vec<(&'static str, Vec<u8>, ParseError)> {
    let with = |tail: &[u8]| [OK, tail].concat();
    vec![
        ("empty", b"".to_vec(), ParseError::Empty),
        (
            "no_msh",
            b"PID|1\r".to_vec(),
            ParseError::NoMsh { offset: 0 },
        ),
        (
            "no_msh_short",
            b"MSH".to_vec(),
            ParseError::NoMsh { offset: 0 },
        ),
        (
            "encoding_chars_count",
            b"MSH|^~|APP\r".to_vec(),
            ParseError::BadEncodingCharacters {
                offset: 4,
                problem: simulator::hl7::delim::DelimiterProblem::WrongCount(2),
            },
        ),
        (
            "encoding_chars_duplicate",
            b"MSH|^~\\^|APP\r".to_vec(),
            ParseError::BadEncodingCharacters {
                offset: 4,
                problem: simulator::hl7::delim::DelimiterProblem::Duplicate(b'^'),
            },
        ),
        (
            "encoding_chars_alnum",
            b"MSH|^~\\A|APP\r".to_vec(),
            ParseError::BadEncodingCharacters {
                offset: 4,
                problem: simulator::hl7::delim::DelimiterProblem::NotPunctuation(b'A'),
            },
        ),
        (
            "segment_id_lowercase",
            with(b"pv1|1\r"),
            ParseError::BadSegmentId {
                offset: OK.len(),
                id: "pv1".into(),
            },
        ),
        (
            "segment_id_four_chars",
            with(b"ZPID|1\r"),
            ParseError::BadSegmentId {
                offset: OK.len(),
                id: "ZPID".into(),
            },
        ),
        (
            "segment_id_short",
            with(b"PV\r"),
            ParseError::BadSegmentId {
                offset: OK.len(),
                id: "PV".into(),
            },
        ),
        (
            "empty_segment",
            with(b"\rPV1|1\r"),
            ParseError::EmptySegment { offset: OK.len() },
        ),
        (
            "missing_terminator",
            with(b"PV1|1"),
            ParseError::MissingTerminator {
                offset: OK.len() + 5,
            },
        ),
        (
            "line_feed_strict",
            b"MSH|^~\\&|APP\nPID|1\n".to_vec(),
            ParseError::UnexpectedLineFeed { offset: 12 },
        ),
        (
            "bytes_after_end",
            with(b"\x1c\r"),
            ParseError::FramingByte {
                offset: OK.len(),
                byte: 0x1C,
            },
        ),
        (
            "mllp_start_block",
            [b"\x0b", OK].concat(),
            ParseError::FramingByte {
                offset: 0,
                byte: 0x0B,
            },
        ),
        (
            "nul_byte",
            with(b"PV1|1\0|2\r"),
            ParseError::NulByte {
                offset: OK.len() + 5,
            },
        ),
    ]
}

#[test]
fn every_malformation_is_an_exact_error() {
    for (name, input, expected) in error_cases() {
        let err = Message::parse(&input).unwrap_err();
        assert_eq!(err, expected, "{name}");
        assert_eq!(err.offset(), expected.offset());
        insta::assert_snapshot!(format!("parse_error_{name}"), err.to_string());
    }
}

#[test]
fn path_errors_are_snapshotted() {
    let cases = ["pid-3", "PID3", "PID-0", "OBX[5-5", "PID-3.1x", "PID-3[]"];
    let text: Vec<String> = cases
        .iter()
        .map(|p| format!("{p:10} => {}", Path::parse(p).unwrap_err()))
        .collect();
    insta::assert_snapshot!("path_errors", text.join("\n"));
}

#[test]
fn lenient_mode_accepts_crlf_and_says_so() {
    let lf = b"MSH|^~\\&|APP\r\nPID|1\nPV1|1";
    let m = Message::parse_with(
        lf,
        ParseOptions {
            lenient_newlines: true,
        },
    )
    .unwrap();
    assert!(m.lenient_newlines_used());
    assert_eq!(m.segment_count(), 3);
    assert_eq!(m.get("PV1-1").unwrap().unwrap(), b"1");
}

#[test]
fn truncation_character_is_an_encoding_character() {
    let m = Message::parse(b"MSH|^~\\&#|SENDER|FAC\r").unwrap();
    assert_eq!(m.get("MSH-2").unwrap().unwrap(), b"^~\\&#");
    assert_eq!(m.get("MSH-3").unwrap().unwrap(), b"SENDER");
}

#[test]
fn regression_inputs_do_not_panic() {
    // Inputs that broke other parsers (hl7-parser's escape panic) or
    // exercise edge paths here.
    let inputs: &[&[u8]] = &[
        "MSH|^~\\&|\\é\\|ééé\\T\\x\r".as_bytes(),
        b"MSH|^~\\&\r",
        b"MSH|^~\\&|\rMSH\r",
        b"MSH|^~\\&|\rMSH|\r",
        b"MSH|^~\\&\x1c",
        b"MSH|",
        b"MSH|^~\\&|\r\r",
    ];
    for input in inputs {
        if let Ok(m) = Message::parse(input) {
            walk(&m);
        }
    }
}

/// Touches every field, repetition, component and subcomponent.
fn walk(m: &Message<'_>) -> usize {
    let mut n = 0;
    for seg in m.segments() {
        for field in seg.fields() {
            n += field.decoded().len();
            for rep in field.repetitions() {
                for comp in rep.components() {
                    n += comp.subcomponents().map(<[u8]>::len).sum::<usize>();
                }
            }
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/hl7_parse.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for lenient in [false, true] {
            if let Ok(m) = Message::parse_with(&bytes, ParseOptions { lenient_newlines: lenient }) {
                walk(&m);
                let _ = m.get("PID-3[2].1.1");
            }
        }
    }

    #[test]
    fn never_panics_on_msh_prefixed_bytes(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let bytes = [b"MSH|^~\\&|".as_slice(), &tail].concat();
        if let Ok(m) = Message::parse(&bytes) {
            walk(&m);
        }
    }

    #[test]
    fn never_panics_on_mutated_messages(bytes in strategy::mutated_message()) {
        for lenient in [false, true] {
            if let Ok(m) = Message::parse_with(&bytes, ParseOptions { lenient_newlines: lenient }) {
                walk(&m);
            }
        }
    }

    #[test]
    fn agrees_with_hl7_parser_on_well_formed_ascii(b in strategy::well_formed_ascii()) {
        let wire = b.encode();
        let text = std::str::from_utf8(&wire).unwrap();
        let ours = Message::parse(&wire).unwrap();
        let theirs = hl7_parser::Message::parse(text).unwrap();
        let their_segs: Vec<_> = theirs.segments().collect();
        prop_assert_eq!(ours.segment_count(), their_segs.len());
        for (seg, their) in ours.segments().zip(their_segs) {
            prop_assert_eq!(seg.id(), their.name.as_bytes());
            // Both number fields the HL7 way (MSH-1 = `|`) and from 1.
            for n in 1..=seg.field_count() + 1 {
                let field = seg.field(n);
                let their_field = their.field(n);
                prop_assert_eq!(field.map(|f| f.raw()), their_field.map(|f| f.raw_value().as_bytes()));
                let (Some(field), Some(their_field)) = (field, their_field) else { continue };
                if seg.id() == b"MSH" && n <= 2 {
                    continue;
                }
                for (r, rep) in field.repetitions().enumerate() {
                    let their_rep = their_field.repeat(r + 1);
                    prop_assert_eq!(Some(rep.raw()), their_rep.map(|x| x.raw_value().as_bytes()));
                    for (c, comp) in rep.components().enumerate() {
                        let their_comp = their_rep.and_then(|x| x.component(c + 1));
                        prop_assert_eq!(Some(comp.raw()), their_comp.map(|x| x.raw_value().as_bytes()));
                        for (s, sub) in comp.subcomponents().enumerate() {
                            let their_sub = their_comp.and_then(|x| x.subcomponent(s + 1));
                            prop_assert_eq!(Some(sub), their_sub.map(|x| x.raw_value().as_bytes()));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn round_trips_through_the_builder(b in strategy::arbitrary_message()) {
        let wire = b.encode();
        let parsed = Message::parse(&wire);
        prop_assert!(parsed.is_ok(), "{:?} on {:?}", parsed.err(), String::from_utf8_lossy(&wire));
        prop_assert_eq!(MessageBuilder::from_message(&parsed.unwrap()), b);
    }

    #[test]
    fn nextgen_messages_round_trip(b in strategy::nextgen_message()) {
        let wire = b.encode();
        prop_assert_eq!(MessageBuilder::from_message(&Message::parse(&wire).unwrap()), b);
    }
}
