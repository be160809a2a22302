//! The delimiter set of a message, read from MSH-1 and MSH-2.

/// The six HL7 delimiters. `truncation` is the v2.7+ fifth encoding character
/// (`#` by convention); it is `None` when MSH-2 has only four characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// MSH-1, `|` by default.
    pub field: u8,
    /// First character of MSH-2, `^` by default.
    pub component: u8,
    /// Second character of MSH-2, `~` by default.
    pub repetition: u8,
    /// Third character of MSH-2, `\` by default.
    pub escape: u8,
    /// Fourth character of MSH-2, `&` by default.
    pub subcomponent: u8,
    /// Fifth character of MSH-2 (v2.7+), if present.
    pub truncation: Option<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            field: b'|',
            component: b'^',
            repetition: b'~',
            escape: b'\\',
            subcomponent: b'&',
            truncation: None,
        }
    }
}

/// Why a candidate delimiter set is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelimiterProblem {
    /// MSH-2 has fewer than 4 or more than 5 characters.
    WrongCount(usize),
    /// A delimiter is a letter, digit, control byte, space or non-ASCII byte.
    NotPunctuation(u8),
    /// The same byte is used for two delimiters.
    Duplicate(u8),
}

impl std::fmt::Display for DelimiterProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongCount(n) => write!(f, "expected 4 or 5 encoding characters, found {n}"),
            Self::NotPunctuation(b) => {
                write!(
                    f,
                    "byte 0x{b:02X} cannot be a delimiter (must be ASCII punctuation)"
                )
            }
            Self::Duplicate(b) => write!(f, "byte 0x{b:02X} is used for two delimiters"),
        }
    }
}

impl Delimiters {
    /// Builds a delimiter set from MSH-1 and the MSH-2 bytes, validating it.
    pub fn from_msh(field: u8, encoding: &[u8]) -> Result<Self, DelimiterProblem> {
        if !(4..=5).contains(&encoding.len()) {
            return Err(DelimiterProblem::WrongCount(encoding.len()));
        }
        let mut seen = [false; 256];
        for &b in std::iter::once(&field).chain(encoding) {
            if !b.is_ascii_punctuation() {
                return Err(DelimiterProblem::NotPunctuation(b));
            }
            if std::mem::replace(&mut seen[usize::from(b)], true) {
                return Err(DelimiterProblem::Duplicate(b));
            }
        }
        Ok(Self {
            field,
            component: encoding[0],
            repetition: encoding[1],
            escape: encoding[2],
            subcomponent: encoding[3],
            truncation: encoding.get(4).copied(),
        })
    }

    /// MSH-2 as it appears on the wire (4 or 5 bytes).
    pub fn encoding_characters(&self) -> ([u8; 5], usize) {
        let mut out = [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
            0,
        ];
        match self.truncation {
            Some(t) => {
                out[4] = t;
                (out, 5)
            }
            None => (out, 4),
        }
    }

    /// Writes MSH-1 and MSH-2 (`|^~\&`) into `out`.
    pub fn write_msh_prefix(&self, out: &mut Vec<u8>) {
        let (enc, n) = self.encoding_characters();
        out.extend_from_slice(b"MSH");
        out.push(self.field);
        out.extend_from_slice(&enc[..n]);
    }
}
