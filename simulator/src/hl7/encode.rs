//! The wire form of a [`MessageBuilder`]: segments joined by CR, every
//! segment terminated, no trailing-empty trimming (the model is written as is).
//!
//! ## MSH-18 character sets
//!
//! The model holds text as UTF-8. When MSH-18 is `8859/1`, every value is
//! transcoded to ISO 8859-1 on the way out (one byte per character), and
//! [`MessageBuilder::from_message`] maps a parsed Latin-1 message back to
//! UTF-8, so `parse(encode(m)) == m` holds for Latin-1 messages too.
//!
//! A character above U+00FF cannot be written in `8859/1`. HL7 v2 has no
//! escape for it: `\Xhh\` carries raw bytes *in the message's own set*
//! (a receiver would read the UTF-8 bytes of `€` as three Latin-1
//! characters), and `\Cxxyy\`/`\Mxxyyzz\` switch between the ISO 2022
//! sets that MSH-18/MSH-20 announce. So [`MessageBuilder::try_encode`]
//! rejects it with [`EncodeError::Unrepresentable`] naming the segment and
//! field; [`MessageBuilder::encode`], which cannot fail, writes `?` in its
//! place (the ISO 8859 substitution character). Every other MSH-18 value,
//! `UNICODE UTF-8` and an absent MSH-18 included, writes the bytes unchanged.

use super::build::{MessageBuilder, SegmentBuilder};
use super::delim::Delimiters;
use super::error::EncodeError;
use super::escape::{self, Charset};

fn join<T>(out: &mut Vec<u8>, items: &[T], sep: u8, mut each: impl FnMut(&mut Vec<u8>, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        each(out, item);
    }
}

/// Writes one segment; returns the first character (and its field number)
/// the character set cannot represent.
fn write_segment(
    seg: &SegmentBuilder,
    d: &Delimiters,
    charset: Charset,
    out: &mut Vec<u8>,
) -> Option<(usize, char)> {
    let first_field = if seg.id() == b"MSH" {
        d.write_msh_prefix(out);
        3
    } else {
        out.extend_from_slice(seg.id());
        1
    };
    let mut bad = None;
    for (i, field) in seg.fields().iter().enumerate() {
        out.push(d.field);
        join(out, field, d.repetition, |out, rep| {
            join(out, rep, d.component, |out, comp| {
                join(out, comp, d.subcomponent, |out, sub| {
                    if charset == Charset::Latin1 {
                        if let Some(c) = escape::utf8_to_latin1_into(sub, out) {
                            bad.get_or_insert((first_field + i, c));
                        }
                    } else {
                        out.extend_from_slice(sub);
                    }
                });
            });
        });
    }
    out.push(b'\r');
    bad
}

impl MessageBuilder {
    /// Appends the encoded message to `out`. With MSH-18 `8859/1`, text is
    /// written as Latin-1 and a character above U+00FF as `?` (see the
    /// module docs; [`MessageBuilder::try_encode_into`] rejects it instead).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let _ = self.encode_checked(out);
    }

    fn encode_checked(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let charset = self.charset();
        let mut first = None;
        for seg in self.segments() {
            if let Some((field, c)) = write_segment(seg, self.delimiters(), charset, out) {
                first.get_or_insert((seg.id(), field, c));
            }
        }
        match first {
            None => Ok(()),
            Some((id, field, character)) => Err(EncodeError::Unrepresentable {
                segment: String::from_utf8_lossy(id).into_owned(),
                field,
                character,
                code: u32::from(character),
                charset: charset.name(),
            }),
        }
    }

    /// The encoded message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoded message to `out`, or fails when a character
    /// cannot be written in the MSH-18 character set (`out` then holds a
    /// partial message).
    pub fn try_encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_checked(out)
    }

    /// The encoded message, or the first character the MSH-18 character
    /// set cannot represent.
    pub fn try_encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(256);
        self.encode_checked(&mut out)?;
        Ok(out)
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

    #[test]
    fn latin1_is_transcoded_and_out_of_range_is_an_error() {
        let mut b = MessageBuilder::new();
        b.set("MSH-18", "8859/1").unwrap();
        b.set("PID-5.1", "Muñoz").unwrap();
        let wire = b.try_encode().unwrap();
        assert!(wire.ends_with(b"PID|||||Mu\xf1oz\r"));
        let m = Message::parse(&wire).unwrap();
        assert_eq!(m.get_text("PID-5.1").unwrap().unwrap(), "Muñoz");
        assert_eq!(MessageBuilder::from_message(&m), b);

        b.set("NTE-3", "5 €").unwrap();
        let err = b.try_encode().unwrap_err();
        assert_eq!(
            err.to_string(),
            "NTE-3 holds '€' (U+20AC), which MSH-18 character set 8859/1 cannot represent"
        );
        assert!(b.encode().ends_with(b"NTE|||5 ?\r"));
    }

    #[test]
    fn utf8_and_absent_msh18_write_bytes_unchanged() {
        for msh18 in ["UNICODE UTF-8", ""] {
            let mut b = MessageBuilder::new();
            b.set("MSH-18", msh18).unwrap();
            b.set("PID-5.1", "Muñoz €").unwrap();
            let wire = b.try_encode().unwrap();
            assert!(wire.ends_with("PID|||||Muñoz €\r".as_bytes()));
        }
    }
}
