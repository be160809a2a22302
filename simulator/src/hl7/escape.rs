//! Escape sequences and MSH-18 character sets.
//!
//! Decoding works on bytes, so non-ASCII text and invalid UTF-8 pass through
//! untouched; [`decode_text`] applies the character set afterwards.
//!
//! | Escape | Decodes to |
//! |---|---|
//! | `\F\` `\S\` `\T\` `\R\` `\E\` | the field, component, subcomponent, repetition, escape character |
//! | `\P\` | the v2.7 truncation character (only when MSH-2 defines one) |
//! | `\Xhh…\` | the bytes given as hex pairs (`\X0D0A\` → CR LF) |
//! | `\H\` `\N\` | nothing: start/end highlighting has no plain-text form |
//! | `\.br\` | `\n` (line break) |
//! | `\.sp n\` | `n` line breaks (default 1; at most 100) |
//! | `\.sk n\` | `n` spaces (default 1; at most 100) |
//! | `\.ce\` | `\n` (ends the line; centring has no plain-text form) |
//! | `\.in ±n\` `\.ti ±n\` `\.fi\` `\.nf\` | nothing (indent and fill modes) |
//! | anything else (`\Cxxyy\`, `\Mxxyyzz\`, `\Z…\`, a malformed `\X\`) | kept verbatim |
//!
//! An escape character with no closing one is kept verbatim.

use std::borrow::Cow;

use memchr::memchr;

use super::delim::Delimiters;

/// The character set named by MSH-18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// Empty MSH-18 or `ASCII`.
    #[default]
    Ascii,
    /// `8859/1`: decoded text is transcoded from Latin-1 to UTF-8.
    Latin1,
    /// `UNICODE UTF-8`.
    Utf8,
    /// Any other name: decoded as UTF-8, invalid sequences replaced.
    Other,
}

impl Charset {
    /// Reads MSH-18 (its first repetition's first component).
    pub fn from_msh18(value: &[u8]) -> Self {
        match value.trim_ascii() {
            b"" | b"ASCII" => Self::Ascii,
            b"8859/1" => Self::Latin1,
            b"UNICODE UTF-8" | b"UTF-8" => Self::Utf8,
            _ => Self::Other,
        }
    }

    /// Converts decoded bytes in this character set to text. Invalid UTF-8
    /// becomes U+FFFD; Latin-1 maps every byte to its code point.
    pub fn to_text<'a>(self, bytes: Cow<'a, [u8]>) -> Cow<'a, str> {
        if self == Self::Latin1 && !bytes.is_ascii() {
            return Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect());
        }
        match bytes {
            Cow::Borrowed(b) => String::from_utf8_lossy(b),
            Cow::Owned(v) => match String::from_utf8(v) {
                Ok(s) => Cow::Owned(s),
                Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            },
        }
    }

    /// The MSH-18 name of this character set (`""` for ASCII and other).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ascii | Self::Other => "",
            Self::Latin1 => "8859/1",
            Self::Utf8 => "UNICODE UTF-8",
        }
    }

    /// Converts text to bytes in this character set before escaping.
    /// Latin-1 replaces characters above U+00FF with `?`; the others emit UTF-8.
    pub fn from_text(self, text: &str) -> Cow<'_, [u8]> {
        if self == Self::Latin1 && !text.is_ascii() {
            let latin = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            return Cow::Owned(latin);
        }
        Cow::Borrowed(text.as_bytes())
    }
}

/// Appends `bytes` to `out` transcoded from UTF-8 to ISO 8859-1: every
/// character up to U+00FF becomes its single byte; a character above it
/// becomes `?` and the first such character is returned. Bytes that are not
/// valid UTF-8 are copied unchanged (they are taken to be Latin-1 already,
/// as in a value copied from a parsed Latin-1 message without decoding).
pub(crate) fn utf8_to_latin1_into(bytes: &[u8], out: &mut Vec<u8>) -> Option<char> {
    if bytes.is_ascii() {
        out.extend_from_slice(bytes);
        return None;
    }
    let mut first_bad = None;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match u8::try_from(u32::from(c)) {
                Ok(b) => out.push(b),
                Err(_) => {
                    first_bad.get_or_insert(c);
                    out.push(b'?');
                }
            }
        }
        out.extend_from_slice(chunk.invalid());
    }
    first_bad
}

/// ISO 8859-1 bytes as UTF-8 (every byte is the code point of the same value).
pub(crate) fn latin1_to_utf8(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.is_ascii() {
        return Cow::Borrowed(bytes);
    }
    Cow::Owned(
        bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes(),
    )
}

const MAX_REPEAT: usize = 100;

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_hex(hex: &[u8], out: &mut Vec<u8>) -> bool {
    if hex.is_empty() || hex.len() % 2 != 0 || !hex.iter().all(|b| hex_val(*b).is_some()) {
        return false;
    }
    out.extend(
        hex.chunks_exact(2)
            .filter_map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?)),
    );
    true
}

/// Parses the optional count after a formatting command (`\.sp 2\`, `\.in -4\`).
fn count(arg: &[u8]) -> Option<usize> {
    let arg = arg.trim_ascii();
    let digits = arg
        .strip_prefix(b"+")
        .or(arg.strip_prefix(b"-"))
        .unwrap_or(arg);
    if digits.is_empty() {
        return (arg.len() == digits.len()).then_some(1);
    }
    let s = std::str::from_utf8(digits).ok()?;
    s.parse::<usize>().ok().map(|n| n.min(MAX_REPEAT))
}

fn decode_formatting(cmd: &[u8], out: &mut Vec<u8>) -> bool {
    let (name, arg) = cmd.split_at(cmd.len().min(2));
    let n = match count(arg) {
        Some(n) => n,
        None => return false,
    };
    match name {
        b"br" | b"ce" if arg.is_empty() => out.push(b'\n'),
        b"sp" => out.extend(std::iter::repeat_n(b'\n', n)),
        b"sk" => out.extend(std::iter::repeat_n(b' ', n)),
        b"in" | b"ti" => {}
        b"fi" | b"nf" if arg.is_empty() => {}
        _ => return false,
    }
    true
}

/// Decodes one escape body (between the escape characters). Returns false
/// for an unknown or malformed sequence.
fn decode_one(body: &[u8], d: &Delimiters, out: &mut Vec<u8>) -> bool {
    let single = match body {
        b"F" => Some(d.field),
        b"S" => Some(d.component),
        b"T" => Some(d.subcomponent),
        b"R" => Some(d.repetition),
        b"E" => Some(d.escape),
        b"P" => match d.truncation {
            Some(t) => Some(t),
            None => return false,
        },
        b"H" | b"N" => return true,
        _ => None,
    };
    if let Some(b) = single {
        out.push(b);
        return true;
    }
    match body.split_first() {
        Some((b'X', hex)) => decode_hex(hex, out),
        Some((b'.', cmd)) => decode_formatting(cmd, out),
        _ => false,
    }
}

/// Decodes escapes in a raw value. Borrows when there is nothing to decode.
pub fn decode<'a>(raw: &'a [u8], delims: &Delimiters) -> Cow<'a, [u8]> {
    let esc = delims.escape;
    let Some(first) = memchr(esc, raw) else {
        return Cow::Borrowed(raw);
    };
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut i = first;
    while i < raw.len() {
        let Some(close) = memchr(esc, &raw[i + 1..]).map(|k| i + 1 + k) else {
            out.extend_from_slice(&raw[i..]);
            break;
        };
        if decode_one(&raw[i + 1..close], delims, &mut out) {
            i = close + 1;
        } else {
            out.push(esc);
            i += 1;
        }
        let next = memchr(esc, &raw[i..]).map_or(raw.len(), |k| i + k);
        out.extend_from_slice(&raw[i..next]);
        i = next;
    }
    Cow::Owned(out)
}

/// Decodes escapes, then converts to text in the given character set.
pub fn decode_text<'a>(raw: &'a [u8], delims: &Delimiters, charset: Charset) -> Cow<'a, str> {
    charset.to_text(decode(raw, delims))
}

/// The escape for one byte, if it needs one.
fn escape_for(b: u8, d: &Delimiters) -> Option<&'static [u8]> {
    Some(match b {
        _ if b == d.field => b"F",
        _ if b == d.component => b"S",
        _ if b == d.subcomponent => b"T",
        _ if b == d.repetition => b"R",
        _ if b == d.escape => b"E",
        _ if Some(b) == d.truncation => b"P",
        b'\r' => b"X0D",
        b'\n' => b"X0A",
        0 => b"X00",
        0x0B => b"X0B",
        0x1C => b"X1C",
        _ => return None,
    })
}

/// Appends `value` to `out` with every delimiter and every byte the parser
/// rejects (CR, LF, NUL, MLLP framing bytes) escaped.
pub fn escape_into(value: &[u8], delims: &Delimiters, out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in value.iter().enumerate() {
        if let Some(seq) = escape_for(b, delims) {
            out.extend_from_slice(&value[start..i]);
            out.push(delims.escape);
            out.extend_from_slice(seq);
            out.push(delims.escape);
            start = i + 1;
        }
    }
    out.extend_from_slice(&value[start..]);
}

/// Escapes a value. Borrows when nothing needs escaping.
pub fn escape<'a>(value: &'a [u8], delims: &Delimiters) -> Cow<'a, [u8]> {
    if value.iter().all(|&b| escape_for(b, delims).is_none()) {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len() + 8);
    escape_into(value, delims, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(raw: &str) -> String {
        String::from_utf8(decode(raw.as_bytes(), &Delimiters::default()).into_owned()).unwrap()
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(dec(r"a\F\b"), "a|b");
        assert_eq!(dec(r"a\S\b"), "a^b");
        assert_eq!(dec(r"a\T\b"), "a&b");
        assert_eq!(dec(r"a\R\b"), "a~b");
        assert_eq!(dec(r"a\E\b"), r"a\b");
        assert_eq!(dec(r"\E\T\E\"), r"\T\");
    }

    #[test]
    fn truncation_escape_needs_a_fifth_character() {
        assert_eq!(dec(r"a\P\b"), r"a\P\b");
        let d = Delimiters::from_msh(b'|', b"^~\\&#").unwrap();
        assert_eq!(decode(br"a\P\b", &d).as_ref(), b"a#b");
        assert_eq!(escape(b"a#b", &d).as_ref(), br"a\P\b");
    }

    #[test]
    fn hex_escapes() {
        assert_eq!(dec(r"\X41\"), "A");
        assert_eq!(dec(r"\X0D0a\"), "\r\n");
        assert_eq!(dec(r"\XC3A9\"), "é");
        assert_eq!(dec(r"\X4\"), r"\X4\");
        assert_eq!(dec(r"\X\"), r"\X\");
        assert_eq!(dec(r"\XZZ\"), r"\XZZ\");
    }

    #[test]
    fn highlighting_is_dropped() {
        assert_eq!(dec(r"\H\bold\N\"), "bold");
    }

    #[test]
    fn formatting_escapes() {
        assert_eq!(dec(r"a\.br\b"), "a\nb");
        assert_eq!(dec(r"a\.sp\b"), "a\nb");
        assert_eq!(dec(r"a\.sp 3\b"), "a\n\n\nb");
        assert_eq!(dec(r"a\.sp2\b"), "a\n\nb");
        assert_eq!(dec(r"a\.sk 2\b"), "a  b");
        assert_eq!(dec(r"a\.ce\b"), "a\nb");
        assert_eq!(dec(r"a\.in +4\b"), "ab");
        assert_eq!(dec(r"a\.ti -2\b"), "ab");
        assert_eq!(dec(r"a\.fi\b\.nf\"), "ab");
        assert_eq!(dec(r"\.sp 99999\").len(), MAX_REPEAT);
        assert_eq!(dec(r"\.xx\"), r"\.xx\");
        assert_eq!(dec(r"\.br 2\"), r"\.br 2\");
    }

    #[test]
    fn unknown_and_unterminated_are_verbatim() {
        assert_eq!(dec(r"\C2842\"), r"\C2842\");
        assert_eq!(dec(r"\M2442\"), r"\M2442\");
        assert_eq!(dec(r"\Zfoo\"), r"\Zfoo\");
        assert_eq!(dec(r"abc\F"), r"abc\F");
        assert_eq!(dec(r"a\b\F\"), r"a\b|");
        assert_eq!(dec(r"\"), r"\");
    }

    #[test]
    fn non_ascii_and_invalid_utf8_are_bytes() {
        assert_eq!(dec(r"\é\"), r"\é\");
        assert_eq!(dec(r"ééé\T\x"), "ééé&x");
        assert_eq!(dec(r"é\F\x"), "é|x");
        let raw = b"\xff\\F\\\xfe";
        assert_eq!(decode(raw, &Delimiters::default()).as_ref(), b"\xff|\xfe");
        let text = decode_text(raw, &Delimiters::default(), Charset::Utf8);
        assert_eq!(text, "\u{FFFD}|\u{FFFD}");
    }

    #[test]
    fn charsets() {
        assert_eq!(Charset::from_msh18(b""), Charset::Ascii);
        assert_eq!(Charset::from_msh18(b"8859/1"), Charset::Latin1);
        assert_eq!(Charset::from_msh18(b"UNICODE UTF-8"), Charset::Utf8);
        assert_eq!(Charset::from_msh18(b"ISO IR87"), Charset::Other);
        let d = Delimiters::default();
        assert_eq!(decode_text(b"Jos\xe9\\S\\", &d, Charset::Latin1), "José^");
        assert_eq!(Charset::Latin1.from_text("José€").as_ref(), b"Jos\xe9?");
        assert_eq!(Charset::Utf8.from_text("é").as_ref(), "é".as_bytes());
    }

    #[test]
    fn unescaped_values_borrow() {
        let d = Delimiters::default();
        assert!(matches!(decode(b"plain", &d), Cow::Borrowed(_)));
        assert!(matches!(escape(b"plain", &d), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_round_trips() {
        let d = Delimiters::default();
        let v = b"a|b^c&d~e\\f\rg\nh\0i\x0bj\x1ck";
        let e = escape(v, &d);
        assert_eq!(
            e.as_ref(),
            &br"a\F\b\S\c\T\d\R\e\E\f\X0D\g\X0A\h\X00\i\X0B\j\X1C\k"[..]
        );
        assert_eq!(decode(&e, &d).as_ref(), v);
    }
}
