//! Parse arbitrary bytes in both modes, walk and decode every value, read
//! it as an ACK, and build an ACK or NAK for it. Nothing may panic, and a
//! NAK for unparseable input must itself parse.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod hl7_module;
use hl7_module::hl7::ack::{self, Ack};
use hl7_module::hl7::{AckCode, Message, MessageBuilder, ParseOptions, SequentialIds};

fuzz_target!(|data: &[u8]| {
    for lenient in [false, true] {
        let options = ParseOptions { lenient_newlines: lenient };
        match Message::parse_with(data, options) {
            Ok(m) => {
                for seg in m.segments() {
                    for field in seg.fields() {
                        let _ = field.decoded();
                        for rep in field.repetitions() {
                            for comp in rep.components() {
                                let _ = comp.decoded();
                                for _ in comp.subcomponents() {}
                            }
                        }
                    }
                }
                let _ = m.get_text("PID-3[2].1.1");
                let _ = ack::read_ack(&m);
                let spec = Ack { code: AckCode::AA, text: Some("ok"), error: None, timestamp: "20250101" };
                let out = ack::build_ack(&m, &spec, &mut SequentialIds::new("F", 0));
                assert!(Message::parse(&out).is_ok(), "ACK does not parse");
                if !lenient {
                    // Re-encoding a parsed message gives bytes that parse to the same model.
                    let model = MessageBuilder::from_message(&m);
                    let again = model.encode();
                    let reparsed = Message::parse(&again).expect("re-encoded message parses");
                    assert_eq!(MessageBuilder::from_message(&reparsed), model);
                }
            }
            Err(err) => {
                let mut out = Vec::new();
                ack::write_nak(data, &err, "20250101", &mut SequentialIds::new("N", 0), &mut out);
                assert!(Message::parse(&out).is_ok(), "NAK does not parse");
            }
        }
    }
});
