//! Error types. Every parse error carries the byte offset into the input.

use super::delim::DelimiterProblem;

/// A malformed message. `offset` is always a byte offset into the input slice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input has no bytes at all.
    #[error("empty input: an HL7 message must start with an MSH segment")]
    Empty,
    /// The input does not start with `MSH` followed by a field separator.
    #[error(
        "no MSH segment at offset {offset}: the message must start with `MSH` and a field separator"
    )]
    NoMsh {
        /// Where the MSH segment was expected.
        offset: usize,
    },
    /// MSH-1/MSH-2 do not form a valid delimiter set.
    #[error("bad encoding characters at offset {offset}: {problem}")]
    BadEncodingCharacters {
        /// Offset of MSH-2.
        offset: usize,
        /// What is wrong with them.
        problem: DelimiterProblem,
    },
    /// A segment id is not 3 upper-case letters or digits followed by a field separator.
    #[error(
        "bad segment id {id:?} at offset {offset}: expected 3 upper-case letters or digits followed by the field separator"
    )]
    BadSegmentId {
        /// Offset of the segment's first byte.
        offset: usize,
        /// The offending id (lossy, at most 16 bytes).
        id: String,
    },
    /// Two segment terminators in a row (a blank line).
    #[error("empty segment at offset {offset}")]
    EmptySegment {
        /// Offset of the extra terminator.
        offset: usize,
    },
    /// The last segment has no terminator (strict mode).
    #[error(
        "missing segment terminator: the input ends at offset {offset} inside a segment (CR expected)"
    )]
    MissingTerminator {
        /// The input length.
        offset: usize,
    },
    /// A line feed in strict mode, where only CR ends a segment.
    #[error(
        "line feed at offset {offset}: only CR terminates segments (use lenient newline mode for LF/CRLF)"
    )]
    UnexpectedLineFeed {
        /// Offset of the LF.
        offset: usize,
    },
    /// An MLLP framing byte (0x0B start block or 0x1C end block): bytes after
    /// the end of the message, or a frame that was not stripped.
    #[error(
        "MLLP framing byte 0x{byte:02X} at offset {offset}: bytes outside the message (strip the MLLP frame first)"
    )]
    FramingByte {
        /// Offset of the byte.
        offset: usize,
        /// 0x0B or 0x1C.
        byte: u8,
    },
    /// A NUL byte anywhere in the message.
    #[error("NUL byte at offset {offset}")]
    NulByte {
        /// Offset of the NUL.
        offset: usize,
    },
}

impl ParseError {
    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::NoMsh { offset }
            | Self::BadEncodingCharacters { offset, .. }
            | Self::BadSegmentId { offset, .. }
            | Self::EmptySegment { offset }
            | Self::MissingTerminator { offset }
            | Self::UnexpectedLineFeed { offset }
            | Self::FramingByte { offset, .. }
            | Self::NulByte { offset } => *offset,
        }
    }
}

/// A malformed field path such as `PID-3[2].1`. `offset` is a character
/// offset into the path string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with a 3-character segment id.
    #[error("bad segment id in path at offset {offset}: expected 3 upper-case letters or digits")]
    BadSegment {
        /// Offset in the path.
        offset: usize,
    },
    /// A specific character was expected.
    #[error("expected {expected} at offset {offset} in path")]
    Expected {
        /// What was expected, e.g. "`-`".
        expected: &'static str,
        /// Offset in the path.
        offset: usize,
    },
    /// An index is 0 (indices are 1-based) or does not fit.
    #[error("bad index at offset {offset} in path: indices are 1-based integers")]
    BadIndex {
        /// Offset in the path.
        offset: usize,
    },
    /// Characters remain after a complete path.
    #[error("unexpected trailing characters at offset {offset} in path")]
    Trailing {
        /// Offset in the path.
        offset: usize,
    },
    /// The path addresses something the operation cannot set (MSH-1/MSH-2).
    #[error("path {path} cannot be set: MSH-1 and MSH-2 come from the delimiters")]
    ReadOnly {
        /// The path as written.
        path: String,
    },
}

/// A built message that cannot be written in the character set its MSH-18
/// declares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A character has no code in the declared character set (for `8859/1`,
    /// anything above U+00FF). HL7 v2 has no escape that carries a Unicode
    /// character into a single-byte set: `\Xhh\` is raw data in the
    /// message's own set, and `\Cxxyy\`/`\Mxxyyzz\` switch ISO 2022 sets
    /// that `8859/1` does not include.
    #[error(
        "{segment}-{field} holds {character:?} (U+{code:04X}), which MSH-18 character set {charset} cannot represent"
    )]
    Unrepresentable {
        /// The segment id, e.g. `PID`.
        segment: String,
        /// The field number (HL7 numbering).
        field: usize,
        /// The offending character.
        character: char,
        /// Its code point.
        code: u32,
        /// The MSH-18 name, e.g. `8859/1`.
        charset: &'static str,
    },
}
