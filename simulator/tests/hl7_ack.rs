//! ACKs: snapshots per code and version, NAKs for unparseable input, the
//! reader, and the invariants as properties.

use std::borrow::Cow;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simulator::hl7::ack::{
    self, Ack, AckCondition, AckMode, AckPolicy, ErrorDetail, Severity, codes, read_ack,
};
use simulator::hl7::generators::strategy;
use simulator::hl7::{AckCode, ErrorLocation, Message, SequentialIds};

const TS: &str = "20250102030405";

fn inbound(version: &str, msh15_16: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|NextGen|DOSC|RH|18779|20130405125146||ORM^O01|1999077678|P|{version}|||{msh15_16}\rPID|1|000000000026|60043^^^NextGen^MRN\r"
    )
    .into_bytes()
}

fn render(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "\n")
}

fn pid3_error() -> ErrorDetail<'static> {
    ErrorDetail {
        location: Some(ErrorLocation {
            segment: *b"PID",
            sequence: 1,
            field: 3,
        }),
        code: codes::REQUIRED_FIELD_MISSING,
        severity: Severity::Error,
        text: None,
    }
}

/// (snapshot name, code, MSA-3 text, error, MSH-15|MSH-16).
type Case<'a> = (
    &'a str,
    AckCode,
    Option<&'a str>,
    Option<ErrorDetail<'a>>,
    &'a str,
);

#[test]
fn ack_snapshots() {
    for version in ["2.3", "2.5.1"] {
        let cases: [Case<'_>; 4] = [
            ("aa", AckCode::AA, None, None, ""),
            (
                "ae",
                AckCode::AE,
                Some("PID-3 is required"),
                Some(pid3_error()),
                "",
            ),
            (
                "ar",
                AckCode::AR,
                Some("Unsupported message type"),
                Some(ErrorDetail {
                    location: Some(ErrorLocation {
                        segment: *b"MSH",
                        sequence: 1,
                        field: 9,
                    }),
                    code: codes::UNSUPPORTED_MESSAGE_TYPE,
                    severity: Severity::Error,
                    text: Some(Cow::Borrowed("ORM^O01 not routed | try ADT")),
                }),
                "",
            ),
            ("ca", AckCode::CA, None, None, "AL|AL"),
        ];
        for (name, code, text, error, msh15_16) in cases {
            let raw = inbound(version, msh15_16);
            let m = Message::parse(&raw).unwrap();
            let spec = Ack {
                code,
                text,
                error: error.clone(),
                timestamp: TS,
            };
            let out = ack::build_ack(&m, &spec, &mut SequentialIds::new("ACK", 1));
            insta::assert_snapshot!(format!("ack_{name}_{version}"), render(&out));
            // The reader gets back what was written.
            let parsed = Message::parse(&out).unwrap();
            let view = read_ack(&parsed).unwrap();
            assert_eq!(view.code, code);
            assert_eq!(view.control_id, b"1999077678");
            assert_eq!(view.text.as_deref(), text);
            assert_eq!(view.error_code, error.as_ref().map(|e| e.code));
            assert_eq!(view.error_location, error.as_ref().and_then(|e| e.location));
        }
    }
}

#[test]
fn nak_for_unparseable_input() {
    let cases: &[(&str, &[u8])] = &[
        (
            "nak_bad_segment_id",
            b"MSH|^~\\&|APP|FAC|RCV|RFAC|20250101||ADT^A04|77|P|2.5.1\rpid|1\r",
        ),
        (
            "nak_nul_2.3",
            b"MSH|^~\\&|APP|FAC|RCV|RFAC|20250101||ADT^A04|77|P|2.3\rPID|1|x\0y\r",
        ),
        ("nak_no_msh", b"garbage"),
        (
            "nak_missing_terminator_enhanced",
            b"MSH|^~\\&|APP|FAC|RCV|RFAC|20250101||ADT^A04|78|P|2.5.1|||AL|NE\rPID|1",
        ),
    ];
    for (name, raw) in cases {
        let err = Message::parse(raw).unwrap_err();
        let mut out = Vec::new();
        ack::write_nak(raw, &err, TS, &mut SequentialIds::new("NAK", 1), &mut out);
        insta::assert_snapshot!(*name, render(&out));
        let parsed = Message::parse(&out).unwrap();
        let view = read_ack(&parsed).unwrap();
        assert!(!view.code.is_accept());
    }
}

#[test]
fn parse_errors_map_to_codes() {
    let raw = b"MSH|^~\\&|A\rPID|1|x\0\r";
    let err = Message::parse(raw).unwrap_err();
    let d = ack::error_detail(raw, &err);
    assert_eq!(d.code, codes::DATA_TYPE);
    assert_eq!(
        d.location,
        Some(ErrorLocation {
            segment: *b"PID",
            sequence: 1,
            field: 2
        })
    );
    assert_eq!(err.ack_code(AckMode::Original), AckCode::AE);
    assert_eq!(err.ack_code(AckMode::Enhanced), AckCode::CE);
    let err = Message::parse(b"MSH|^^|").unwrap_err();
    assert_eq!(err.ack_code(AckMode::Original), AckCode::AR);
    assert_eq!(
        ack::error_detail(b"MSH|^^|", &err).location.unwrap().field,
        2
    );
}

#[test]
fn msh15_16_policy() {
    let policy = |v: &str| AckPolicy::of(&Message::parse(&inbound("2.3", v)).unwrap());
    let p = policy("");
    assert_eq!(p.mode, AckMode::Original);
    assert!(!p.wants_accept_ack(true) && p.wants_application_ack(false));
    let p = policy("AL|AL");
    assert_eq!(p.mode, AckMode::Enhanced);
    assert!(p.wants_accept_ack(true) && p.wants_application_ack(true));
    let p = policy("NE|NE");
    assert!(!p.wants_accept_ack(true) && !p.wants_application_ack(false));
    let p = policy("ER|SU");
    assert!(!p.wants_accept_ack(true) && p.wants_accept_ack(false));
    assert!(p.wants_application_ack(true) && !p.wants_application_ack(false));
    assert_eq!(p.accept, Some(AckCondition::Error));
    assert_eq!(AckCode::AE.for_mode(AckMode::Enhanced), AckCode::CE);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/hl7_ack.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn ack_invariants(b in strategy::nextgen_message(), first in 0u64..1_000_000) {
        let wire = b.encode();
        let m = Message::parse(&wire).unwrap();
        let mut ids = SequentialIds::new("A", first);
        let spec = Ack { code: AckCode::AA, text: None, error: None, timestamp: TS };
        let one = ack::build_ack(&m, &spec, &mut ids);
        let two = ack::build_ack(&m, &spec, &mut ids);
        let (a, a2) = (Message::parse(&one).unwrap(), Message::parse(&two).unwrap());
        let get = |m: &Message<'_>, p: &str| m.get(p).unwrap().unwrap_or_default().to_vec();
        prop_assert_eq!(get(&a, "MSA-2"), get(&m, "MSH-10"));
        prop_assert_eq!(get(&a, "MSH-3"), get(&m, "MSH-5"));
        prop_assert_eq!(get(&a, "MSH-4"), get(&m, "MSH-6"));
        prop_assert_eq!(get(&a, "MSH-5"), get(&m, "MSH-3"));
        prop_assert_eq!(get(&a, "MSH-6"), get(&m, "MSH-4"));
        prop_assert_eq!(get(&a, "MSH-11"), get(&m, "MSH-11"));
        prop_assert_eq!(get(&a, "MSH-12"), get(&m, "MSH-12"));
        let trigger = get(&m, "MSH-9.2");
        prop_assert_eq!(get(&a, "MSH-9"), [b"ACK^".as_slice(), &trigger, b"^ACK"].concat());
        prop_assert_ne!(get(&a, "MSH-10"), get(&a2, "MSH-10"));
        prop_assert_ne!(get(&a, "MSH-10"), get(&m, "MSH-10"));
    }

    #[test]
    fn naks_always_parse(bytes in strategy::mutated_message()) {
        if let Err(err) = Message::parse(&bytes) {
            let mut out = Vec::new();
            ack::write_nak(&bytes, &err, TS, &mut SequentialIds::new("N", 0), &mut out);
            let nak = Message::parse(&out);
            prop_assert!(nak.is_ok(), "{:?}: {}", nak.err(), render(&out));
            let nak = nak.unwrap();
            prop_assert!(!read_ack(&nak).unwrap().code.is_accept());
        }
    }
}
