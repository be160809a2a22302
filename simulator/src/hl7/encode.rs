//! The wire form of a [`MessageBuilder`]: segments joined by CR, every
//! segment terminated, no trailing-empty trimming (the model is written as is).

use super::build::{MessageBuilder, SegmentBuilder};
use super::delim::Delimiters;

fn join<T>(out: &mut Vec<u8>, items: &[T], sep: u8, mut each: impl FnMut(&mut Vec<u8>, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        each(out, item);
    }
}

fn write_segment(seg: &SegmentBuilder, d: &Delimiters, out: &mut Vec<u8>) {
    if seg.id() == b"MSH" {
        d.write_msh_prefix(out);
    } else {
        out.extend_from_slice(seg.id());
    }
    for field in seg.fields() {
        out.push(d.field);
        join(out, field, d.repetition, |out, rep| {
            join(out, rep, d.component, |out, comp| {
                join(out, comp, d.subcomponent, |out, sub| {
                    out.extend_from_slice(sub)
                });
            });
        });
    }
    out.push(b'\r');
}

impl MessageBuilder {
    /// Appends the encoded message to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        for seg in self.segments() {
            write_segment(seg, self.delimiters(), out);
        }
    }

    /// The encoded message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Message, SegmentBuilder};
    use super::*;

    #[test]
    fn builds_and_reparses() {
        let mut b = MessageBuilder::new();
        b.set("MSH-3", "NextGen").unwrap();
        b.set("MSH-9", "").unwrap();
        b.set_raw("MSH-9", b"ADT^A04").unwrap();
        b.set("MSH-10", "42").unwrap();
        b.set("PID-5.1", "O|BRIEN^X").unwrap();
        b.set("PID-3[2].4", "NextGen").unwrap();
        b.push(SegmentBuilder::new("OBX").unwrap().set("5", "a&b").unwrap());
        let wire = b.encode();
        assert_eq!(
            String::from_utf8_lossy(&wire),
            "MSH|^~\\&|NextGen||||||ADT^A04|42\rPID|||~^^^NextGen||O\\F\\BRIEN\\S\\X\rOBX|||||a\\T\\b\r"
        );
        let m = Message::parse(&wire).unwrap();
        assert_eq!(MessageBuilder::from_message(&m), b);
        assert!(b.set("MSH-2", "x").is_err());
    }

    #[test]
    fn other_delimiters_reencode_pushed_segments() {
        let d = Delimiters::from_msh(b'*', b"#$!%").unwrap();
        let mut b = MessageBuilder::with_delimiters(d);
        b.push(
            SegmentBuilder::new("NTE")
                .unwrap()
                .set("3", "a*b|c")
                .unwrap(),
        );
        let wire = b.encode();
        assert_eq!(wire, b"MSH*#$!%\rNTE***a!F!b|c\r");
        let m = Message::parse(&wire).unwrap();
        assert_eq!(m.get_text("NTE-3").unwrap().unwrap(), "a*b|c");
    }
}
