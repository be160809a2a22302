//! MSH-18 character sets on the way out and back in: `8859/1` messages are
//! written as Latin-1 bytes and read back as the same text; `UNICODE UTF-8`
//! (and no MSH-18) write the UTF-8 bytes unchanged.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simulator::hl7::{Charset, EncodeError, Message, MessageBuilder};

/// Text drawn from all of Latin-1 that is printable, non-ASCII included,
/// plus the delimiters and the escape character (so escaping is exercised).
fn latin1_text() -> impl Strategy<Value = String> {
    let printable = prop_oneof![
        (0x20u32..0x7F).prop_map(|c| char::from_u32(c).expect("ASCII")),
        (0xA0u32..=0xFF).prop_map(|c| char::from_u32(c).expect("Latin-1")),
    ];
    proptest::collection::vec(printable, 0..24).prop_map(|v| v.into_iter().collect())
}

fn message(msh18: &str, values: &[String]) -> MessageBuilder {
    let mut b = MessageBuilder::new();
    b.set("MSH-3", "NextGen").expect("static path");
    b.set_raw("MSH-9", b"ADT^A08").expect("static path");
    b.set("MSH-10", "1").expect("static path");
    b.set("MSH-12", "2.5.1").expect("static path");
    b.set("MSH-18", msh18).expect("static path");
    for (i, v) in values.iter().enumerate() {
        b.set(&format!("NTE[{}]-3", i + 1), v)
            .expect("generated path");
    }
    b.set("PID-5.1", values.first().map_or("", String::as_str))
        .expect("static path");
    b
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/hl7_charset.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn latin1_round_trips_text_and_writes_one_byte_per_character(
        values in proptest::collection::vec(latin1_text(), 1..4)
    ) {
        let b = message("8859/1", &values);
        prop_assert_eq!(b.charset(), Charset::Latin1);
        let wire = b.try_encode().expect("every character is in Latin-1");
        prop_assert_eq!(&wire, &b.encode());
        let m = Message::parse(&wire).expect("parses");
        prop_assert_eq!(m.charset(), Charset::Latin1);
        for (i, v) in values.iter().enumerate() {
            let text = m.get_text(&format!("NTE[{}]-3", i + 1)).unwrap().unwrap_or_default();
            prop_assert_eq!(text.as_ref(), v.as_str());
            // On the wire, the value is exactly its Latin-1 bytes, escaped.
            let raw = m.get(&format!("NTE[{}]-3", i + 1)).unwrap().unwrap_or_default();
            let latin1: Vec<u8> = v.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
            let escaped = simulator::hl7::escape::escape(&latin1, m.delimiters());
            prop_assert_eq!(raw, escaped.as_ref());
        }
        prop_assert_eq!(MessageBuilder::from_message(&m), b);
    }

    #[test]
    fn utf8_default_is_unchanged(values in proptest::collection::vec(".{0,16}", 1..4)) {
        for msh18 in ["UNICODE UTF-8", ""] {
            let b = message(msh18, &values);
            let wire = b.try_encode().expect("UTF-8 represents everything");
            let m = Message::parse(&wire).expect("parses");
            for (i, v) in values.iter().enumerate() {
                let raw = m.get(&format!("NTE[{}]-3", i + 1)).unwrap().unwrap_or_default();
                let escaped = simulator::hl7::escape::escape(v.as_bytes(), m.delimiters());
                prop_assert_eq!(raw, escaped.as_ref());
                let text = m.get_text(&format!("NTE[{}]-3", i + 1)).unwrap().unwrap_or_default();
                prop_assert_eq!(text.as_ref(), v.as_str());
            }
            prop_assert_eq!(MessageBuilder::from_message(&m), b);
        }
    }
}

#[test]
fn a_character_outside_latin1_is_a_clear_error() {
    let b = message(
        "8859/1",
        &["Zoë".to_owned(), "dose 5 µg → 10 µg".to_owned()],
    );
    let err = b.try_encode().unwrap_err();
    assert_eq!(
        err,
        EncodeError::Unrepresentable {
            segment: "NTE".to_owned(),
            field: 3,
            character: '→',
            code: 0x2192,
            charset: "8859/1",
        }
    );
    // The infallible encoder substitutes `?` and keeps everything else.
    let m_wire = b.encode();
    let m = Message::parse(&m_wire).unwrap();
    assert_eq!(
        m.get_text("NTE[2]-3").unwrap().unwrap(),
        "dose 5 µg ? 10 µg"
    );
    assert_eq!(m.get_text("PID-5.1").unwrap().unwrap(), "Zoë");
}

/// Found by the `hl7_parse` fuzz target: with `/` as the subcomponent
/// delimiter, an unescaped MSH-18 `8859/1` was Latin-1 to the parser (which
/// reads the raw component) but ASCII to the builder (which read the first
/// subcomponent), so re-encoding wrote UTF-8 that the re-parse then read as
/// Latin-1 and doubled every accented letter.
#[test]
fn msh18_with_the_subcomponent_delimiter_is_read_alike_by_parser_and_builder() {
    let raw = b"MSH|^~\\/|NextGen|NGSIM|RECEIVER|LAB|202601\xce\xce120000||ADT^A08^ADT_A01|1|P|2.5.9|||AL|AL||8859/1\r\
PID|1||1^^^NextGen^MRN||M\xfcller\r";
    let m = Message::parse(raw).unwrap();
    assert_eq!(m.charset(), Charset::Latin1);
    let model = MessageBuilder::from_message(&m);
    assert_eq!(model.charset(), Charset::Latin1);
    let again = model.encode();
    assert!(
        again.windows(2).any(|w| w == b"M\xfc"),
        "written back as Latin-1"
    );
    let reparsed = Message::parse(&again).unwrap();
    assert_eq!(MessageBuilder::from_message(&reparsed), model);
    assert_eq!(
        reparsed.get_text("PID-5").unwrap().as_deref(),
        Some("Müller")
    );
}
