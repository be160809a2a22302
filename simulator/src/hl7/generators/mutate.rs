//! Adversarial mutations of a well-formed message.

use super::super::build::MessageBuilder;
use super::super::delim::Delimiters;
use super::super::mllp;
use super::rng::Rng;

/// One kind of damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// Malformed, nested, unknown and unterminated escapes in an extra field.
    EscapeAbuse,
    /// UTF-8 and Latin-1 text plus invalid UTF-8 in an extra field.
    NonAscii,
    /// One 64 KiB field.
    LongField,
    /// Re-encoded with `*` `#$!%@` delimiters (valid, v2.7 five characters).
    OddDelimiters,
    /// Cut at a random byte.
    Truncate,
    /// A segment repeated.
    DuplicateSegment,
    /// A segment other than MSH removed.
    DropSegment,
    /// LF or CRLF segment terminators.
    LfTerminators,
    /// A NUL byte inserted.
    NulByte,
    /// Broken MLLP framing (the output is a byte stream, not a message).
    BadFraming,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Self; 10] = [
        Self::EscapeAbuse,
        Self::NonAscii,
        Self::LongField,
        Self::OddDelimiters,
        Self::Truncate,
        Self::DuplicateSegment,
        Self::DropSegment,
        Self::LfTerminators,
        Self::NulByte,
        Self::BadFraming,
    ];

    /// A short name for file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::EscapeAbuse => "escape-abuse",
            Self::NonAscii => "non-ascii",
            Self::LongField => "long-field",
            Self::OddDelimiters => "odd-delimiters",
            Self::Truncate => "truncate",
            Self::DuplicateSegment => "duplicate-segment",
            Self::DropSegment => "drop-segment",
            Self::LfTerminators => "lf-terminators",
            Self::NulByte => "nul-byte",
            Self::BadFraming => "bad-framing",
        }
    }
}

const ESCAPE_ABUSE: &[&[u8]] = &[
    br"\E\T\E\",
    br"\X4\",
    br"\XZZ\",
    "\\é\\".as_bytes(),
    br"\.sp 99999\",
    br"\H\\N\",
    br"\Zfoo\",
    br"abc\F",
    br"\",
    br"\C2842\\M2442\",
];

const NON_ASCII: &[&[u8]] = &[
    "Zoë Ångström".as_bytes(),
    "ééé\\T\\x".as_bytes(),
    b"Jos\xe9",
    b"\xff\xfe\xfd",
    "漢字\\F\\テスト".as_bytes(),
];

fn segments(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|b| *b == b'\r')
        .filter(|s| !s.is_empty())
        .collect()
}

fn join(segs: &[&[u8]], term: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in segs {
        out.extend_from_slice(s);
        out.extend_from_slice(term);
    }
    out
}

/// Appends a raw field to a random segment.
fn add_field(bytes: &[u8], rng: &mut Rng, payload: &[u8]) -> Vec<u8> {
    let segs = segments(bytes);
    let target = rng.below(segs.len());
    let mut out = Vec::with_capacity(bytes.len() + payload.len() + 1);
    for (i, s) in segs.iter().enumerate() {
        out.extend_from_slice(s);
        if i == target {
            out.push(b'|');
            out.extend_from_slice(payload);
        }
        out.push(b'\r');
    }
    out
}

fn bad_framing(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    match rng.below(5) {
        0 => {
            out.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
            mllp::frame_into(bytes, &mut out);
        }
        1 => {
            out.push(mllp::SB);
            out.extend_from_slice(bytes);
            out.push(mllp::EB);
        }
        2 => {
            out.push(mllp::SB);
            out.extend_from_slice(bytes);
        }
        3 => {
            mllp::frame_into(bytes, &mut out);
            out.extend_from_slice(b"\r\n\0junk");
            mllp::frame_into(&[mllp::ACK], &mut out);
        }
        _ => {
            out.push(mllp::SB);
            out.extend_from_slice(&bytes[..bytes.len() / 2]);
            mllp::frame_into(bytes, &mut out);
        }
    }
    out
}

/// Applies one mutation to a message and returns the damaged bytes.
pub fn mutate(message: &MessageBuilder, mutation: Mutation, rng: &mut Rng) -> Vec<u8> {
    let bytes = message.encode();
    match mutation {
        Mutation::EscapeAbuse => {
            let payload = *rng.pick(ESCAPE_ABUSE);
            add_field(&bytes, rng, payload)
        }
        Mutation::NonAscii => {
            let payload = *rng.pick(NON_ASCII);
            add_field(&bytes, rng, payload)
        }
        Mutation::LongField => add_field(&bytes, rng, &vec![b'A'; 64 * 1024]),
        Mutation::OddDelimiters => {
            let d = Delimiters::from_msh(b'*', b"#$!%@").expect("valid delimiters");
            message.redelimit(d).encode()
        }
        Mutation::Truncate => bytes[..rng.below(bytes.len())].to_vec(),
        Mutation::DuplicateSegment | Mutation::DropSegment => {
            let mut segs = segments(&bytes);
            let i = 1 + rng.below(segs.len().saturating_sub(1));
            if i < segs.len() {
                if mutation == Mutation::DropSegment {
                    segs.remove(i);
                } else {
                    segs.insert(i, segs[i]);
                }
            }
            join(&segs, b"\r")
        }
        Mutation::LfTerminators => {
            let term: &[u8] = if rng.chance(50) { b"\n" } else { b"\r\n" };
            join(&segments(&bytes), term)
        }
        Mutation::NulByte => {
            let mut out = bytes;
            out.insert(rng.below(out.len()), 0);
            out
        }
        Mutation::BadFraming => bad_framing(&bytes, rng),
    }
}
