//! The MSH fields the listener reads, taken from one pass over MSH.
//!
//! The listener needs MSH-3/4 (the sender), MSH-9 (the type), MSH-10, MSH-12
//! (the version), MSH-15/16 (the ACK conditions) and MSH-18 (the charset)
//! in several places: policy, duplicate memory, faults, the ACK and the
//! journal. Looking each up by path string re-parsed the path and re-split
//! MSH every time; [`Header::read`] splits MSH once per message and the
//! values are plain sub-slices, the same bytes [`Message::get`] returns.

use crate::hl7::{Charset, Message};

/// MSH values of one message (raw, still escaped; empty when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Header<'a> {
    /// MSH-3, the sending application (the whole field).
    pub sending_application: &'a [u8],
    /// MSH-4, the sending facility (the whole field).
    pub sending_facility: &'a [u8],
    /// MSH-9.1, the message code (`ADT`).
    pub message_code: &'a [u8],
    /// MSH-9.2, the trigger event (`A04`).
    pub trigger_event: &'a [u8],
    /// MSH-10, the control id.
    pub control_id: &'a [u8],
    /// MSH-12.1, the version id.
    pub version: &'a [u8],
    /// MSH-15, the accept acknowledgment type (the whole field).
    pub accept_ack: &'a [u8],
    /// MSH-16, the application acknowledgment type (the whole field).
    pub application_ack: &'a [u8],
    /// MSH-18's character set (ASCII when absent).
    pub charset: Charset,
}

impl<'a> Header<'a> {
    /// Read the header of `m` in one pass over its MSH segment.
    pub fn read(m: &Message<'a>) -> Header<'a> {
        let mut h = Header {
            charset: Charset::from_msh18(b""),
            ..Header::default()
        };
        let Some(msh) = m.segment("MSH") else {
            return h;
        };
        let comp =
            |f: &crate::hl7::Field<'a>, n| f.component(n).map(|c| c.raw()).unwrap_or_default();
        for (i, f) in msh.fields().enumerate().take(18) {
            match i + 1 {
                3 => h.sending_application = f.raw(),
                4 => h.sending_facility = f.raw(),
                9 => {
                    h.message_code = comp(&f, 1);
                    h.trigger_event = comp(&f, 2);
                }
                10 => h.control_id = f.raw(),
                12 => h.version = comp(&f, 1),
                15 => h.accept_ack = f.raw(),
                16 => h.application_ack = f.raw(),
                18 => h.charset = Charset::from_msh18(comp(&f, 1)),
                _ => {}
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value equals what the path lookup returns, on messages with
    /// and without the optional fields, repetitions and odd delimiters.
    #[test]
    fn header_matches_path_lookups() {
        let messages: [&[u8]; 4] = [
            b"MSH|^~\\&|APP~X|FAC^F2|R|F|20260101||ADT^A04^ADT_A01|ID1|P|2.5.1^x|||AL|NE||UNICODE UTF-8\rPID|1\r",
            b"MSH|^~\\&|A|B\r",
            b"MSH#*@!%#A#B#C#D#T##ORU*R01#9#P#2.3\r",
            b"MSH|^~\\&|A|B|C|D|T||ADT|1|P||||||8859/1\r",
        ];
        for raw in messages {
            let m = Message::parse(raw).unwrap();
            let h = Header::read(&m);
            let get = |p: &str| m.get(p).unwrap().unwrap_or_default();
            assert_eq!(h.sending_application, get("MSH-3"));
            assert_eq!(h.sending_facility, get("MSH-4"));
            assert_eq!(h.message_code, get("MSH-9.1"));
            assert_eq!(h.trigger_event, get("MSH-9.2"));
            assert_eq!(h.control_id, m.control_id());
            assert_eq!(h.version, get("MSH-12.1"));
            assert_eq!(h.accept_ack, get("MSH-15"));
            assert_eq!(h.application_ack, get("MSH-16"));
            assert_eq!(h.charset, m.charset());
        }
    }
}
