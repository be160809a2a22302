//! MSH-18 `8859/1` (Latin-1): the decode path (escapes, then each byte as
//! its code point) and the encode path (text back to one byte per
//! character through the builder and encoder) on arbitrary bytes, plus a
//! whole Latin-1 message built around them. Nothing may panic, and the
//! text must survive every round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod hl7_module;
use hl7_module::hl7::escape;
use hl7_module::hl7::{Charset, Delimiters, Message, MessageBuilder};

fuzz_target!(|data: &[u8]| {
    let d = Delimiters::default();

    // Decode: every decoded byte becomes exactly one character up to U+00FF,
    // so converting the text back to Latin-1 gives the decoded bytes again.
    let decoded = escape::decode(data, &d);
    let text = escape::decode_text(data, &d, Charset::Latin1);
    assert_eq!(text.chars().count(), decoded.len());
    assert_eq!(Charset::Latin1.from_text(&text), decoded);

    // Encode: the text as a value of a Latin-1 message is written one byte
    // per character and read back as the same text.
    let mut b = MessageBuilder::new();
    b.set("MSH-18", "8859/1").expect("static path");
    b.set("NTE-3", &text).expect("static path");
    let wire = b.try_encode().expect("every character is in Latin-1");
    let m = Message::parse(&wire).expect("encoded message parses");
    assert_eq!(m.charset(), Charset::Latin1);
    let back = m
        .get_text("NTE-3")
        .expect("static path")
        .unwrap_or_default();
    assert_eq!(back, text);
    assert_eq!(MessageBuilder::from_message(&m), b);

    // The raw bytes as a segment of a Latin-1 message: whatever parses must
    // re-encode to a message with the same model.
    let mut raw = b"MSH|^~\\&||||||||||||||||8859/1\rNTE|1||".to_vec();
    raw.extend_from_slice(data);
    raw.push(b'\r');
    if let Ok(m) = Message::parse(&raw) {
        assert_eq!(m.charset(), Charset::Latin1);
        let model = MessageBuilder::from_message(&m);
        let again = model.encode();
        let reparsed = Message::parse(&again).expect("re-encoded message parses");
        assert_eq!(MessageBuilder::from_message(&reparsed), model);
        for seg in m.segments() {
            for field in seg.fields() {
                let _ = escape::decode_text(field.raw(), &d, m.charset());
            }
        }
    }
});
