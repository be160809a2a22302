//! The zero-copy parser.
//!
//! [`Message::parse`] makes one pass with `memchr` over the input: it reads
//! the delimiters from MSH, validates every segment header and records each
//! segment's byte span in one `Vec` (the only allocation; reuse it with
//! [`Message::parse_in`] and [`Message::into_buffer`] for none). Fields,
//! repetitions, components and subcomponents are split lazily on access and
//! are plain sub-slices of the input.
//!
//! Numbering follows HL7: MSH-1 is the field separator and MSH-2 the encoding
//! characters, so MSH-3 is the sending application. MSH-1 and MSH-2 are
//! atomic: they are never split on the component or repetition characters.

use memchr::{memchr, memchr2, memchr3};

use super::delim::Delimiters;
use super::error::{ParseError, PathError};
use super::escape::{self, Charset};
use super::path::Path;

/// Parser options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Accept LF and CRLF as segment terminators (and a missing final
    /// terminator). Strict mode (the default) accepts only CR.
    pub lenient_newlines: bool,
}

/// One segment's byte span in the input (terminator excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// Reusable storage for segment spans; see [`Message::parse_in`].
#[derive(Debug, Default)]
pub struct ParseBuffer {
    spans: Vec<Span>,
}

/// A parsed message: a view over the input bytes.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    delims: Delimiters,
    spans: Vec<Span>,
    lenient_used: bool,
}

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const VT: u8 = 0x0B;
const FS: u8 = 0x1C;

fn lossy_id(bytes: &[u8], field: u8) -> String {
    let end = memchr(field, bytes).unwrap_or(bytes.len()).min(16);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The first byte the mode forbids, with its error.
fn first_forbidden(bytes: &[u8], lenient: bool) -> Option<(usize, ParseError)> {
    let a = if lenient {
        memchr2(0, FS, bytes)
    } else {
        memchr3(0, FS, LF, bytes)
    };
    let b = memchr(VT, a.map_or(bytes, |a| &bytes[..a]));
    let offset = b.or(a)?;
    let err = match bytes[offset] {
        0 => ParseError::NulByte { offset },
        LF => ParseError::UnexpectedLineFeed { offset },
        byte => ParseError::FramingByte { offset, byte },
    };
    Some((offset, err))
}

fn check_segment(seg: &[u8], offset: usize, field: u8) -> Result<(), ParseError> {
    if seg.is_empty() {
        return Err(ParseError::EmptySegment { offset });
    }
    let id_ok = seg.len() >= 3
        && seg[..3]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && (seg.len() == 3 || seg[3] == field);
    if id_ok {
        Ok(())
    } else {
        Err(ParseError::BadSegmentId {
            offset,
            id: lossy_id(seg, field),
        })
    }
}

pub(crate) fn read_delimiters(bytes: &[u8]) -> Result<Delimiters, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    if let Some((0, err)) = first_forbidden(&bytes[..1], false) {
        return Err(err);
    }
    if bytes.len() < 4 || &bytes[..3] != b"MSH" {
        return Err(ParseError::NoMsh { offset: 0 });
    }
    let field = bytes[3];
    let rest = &bytes[4..];
    let enc_len = memchr3(field, CR, LF, rest).unwrap_or(rest.len());
    Delimiters::from_msh(field, &rest[..enc_len])
        .map_err(|problem| ParseError::BadEncodingCharacters { offset: 4, problem })
}

impl<'a> Message<'a> {
    /// Parses in strict mode (CR terminators only).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_in(bytes, ParseOptions::default(), ParseBuffer::default())
    }

    /// Parses with explicit options.
    pub fn parse_with(bytes: &'a [u8], options: ParseOptions) -> Result<Self, ParseError> {
        Self::parse_in(bytes, options, ParseBuffer::default())
    }

    /// Parses into a recycled buffer: no allocation once the buffer has
    /// grown to the largest segment count seen.
    pub fn parse_in(
        bytes: &'a [u8],
        options: ParseOptions,
        buffer: ParseBuffer,
    ) -> Result<Self, ParseError> {
        let mut spans = buffer.spans;
        spans.clear();
        let delims = read_delimiters(bytes)?;
        let lenient = options.lenient_newlines;
        let forbidden = first_forbidden(bytes, lenient);
        let limit = forbidden.as_ref().map_or(bytes.len(), |(o, _)| *o);
        // Size the span Vec once: counting terminators is far cheaper than
        // regrowing (and keeps a fresh parse at exactly one allocation).
        let terminators = if lenient {
            memchr::memchr2_iter(CR, LF, &bytes[..limit]).count()
        } else {
            memchr::memchr_iter(CR, &bytes[..limit]).count()
        };
        spans.reserve(terminators + 1);
        let mut lenient_used = false;
        let mut pos = 0;
        while pos < limit {
            let window = &bytes[pos..limit];
            let found = if lenient {
                memchr2(CR, LF, window)
            } else {
                memchr(CR, window)
            };
            let (end, next) = match found {
                Some(i) => {
                    let end = pos + i;
                    let crlf = lenient && bytes[end] == CR && bytes.get(end + 1) == Some(&LF);
                    lenient_used |= bytes[end] == LF || crlf;
                    (end, end + 1 + usize::from(crlf))
                }
                None if limit < bytes.len() => {
                    // The forbidden byte sits inside this segment; a bad id
                    // before it is reported first.
                    if window.len() > 3 {
                        check_segment(window, pos, delims.field)?;
                    }
                    break;
                }
                None if lenient => {
                    lenient_used = true;
                    (limit, limit)
                }
                None => {
                    return Err(ParseError::MissingTerminator {
                        offset: bytes.len(),
                    });
                }
            };
            check_segment(&bytes[pos..end], pos, delims.field)?;
            spans.push(Span { start: pos, end });
            pos = next;
        }
        if let Some((_, err)) = forbidden {
            return Err(err);
        }
        Ok(Self {
            bytes,
            delims,
            spans,
            lenient_used,
        })
    }

    /// Returns the span storage for reuse with [`Message::parse_in`].
    pub fn into_buffer(self) -> ParseBuffer {
        ParseBuffer { spans: self.spans }
    }

    /// The input bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The delimiters read from MSH-1/MSH-2.
    pub fn delimiters(&self) -> &Delimiters {
        &self.delims
    }

    /// True when lenient mode accepted an LF/CRLF terminator or a missing
    /// final terminator.
    pub fn lenient_newlines_used(&self) -> bool {
        self.lenient_used
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.spans.len()
    }

    fn view(&self, span: Span) -> Segment<'a> {
        Segment {
            raw: &self.bytes[span.start..span.end],
            offset: span.start,
            delims: self.delims,
        }
    }

    /// All segments in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'a>> + '_ {
        self.spans.iter().map(|s| self.view(*s))
    }

    /// The `occurrence`-th (1-based) segment with this id.
    pub fn segment_n(&self, id: &[u8], occurrence: usize) -> Option<Segment<'a>> {
        self.segments()
            .filter(|s| s.id() == id)
            .nth(occurrence.checked_sub(1)?)
    }

    /// The first segment with this id.
    pub fn segment(&self, id: &str) -> Option<Segment<'a>> {
        self.segment_n(id.as_bytes(), 1)
    }

    /// The raw (still escaped) value at a parsed path.
    pub fn query(&self, path: &Path) -> Option<&'a [u8]> {
        let field = self
            .segment_n(&path.segment, path.occurrence)?
            .field(path.field)?;
        let rep = match (path.repetition, path.component) {
            (None, None) => return Some(field.raw()),
            (r, _) => field.repetition(r.unwrap_or(1))?,
        };
        let Some(c) = path.component else {
            return Some(rep.raw());
        };
        let comp = rep.component(c)?;
        match path.subcomponent {
            None => Some(comp.raw()),
            Some(s) => comp.subcomponent(s),
        }
    }

    /// The raw value at a path string such as `PID-3[2].1`. `Ok(None)` when
    /// the message has nothing there.
    pub fn get(&self, path: &str) -> Result<Option<&'a [u8]>, PathError> {
        Ok(self.query(&Path::parse(path)?))
    }

    /// The decoded value at a path: escapes resolved and MSH-18 honoured.
    pub fn get_text(&self, path: &str) -> Result<Option<std::borrow::Cow<'a, str>>, PathError> {
        let charset = self.charset();
        Ok(self
            .get(path)?
            .map(|raw| escape::decode_text(raw, &self.delims, charset)))
    }

    /// The raw value at a path as (lossy) UTF-8, empty when the path is
    /// absent or malformed: for comparing header fields byte for byte.
    pub fn get_lossy(&self, path: &str) -> String {
        self.get(path)
            .ok()
            .flatten()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    }

    fn msh(&self, path: &Path) -> &'a [u8] {
        self.query(path).unwrap_or_default()
    }

    /// MSH-10, the message control id (raw).
    pub fn control_id(&self) -> &'a [u8] {
        self.msh(&MSH_10)
    }

    /// MSH-12.1, the version id (raw).
    pub fn version(&self) -> &'a [u8] {
        self.msh(&MSH_12_1)
    }

    /// MSH-18's character set (ASCII when absent).
    pub fn charset(&self) -> Charset {
        Charset::from_msh18(self.msh(&MSH_18_1))
    }
}

const fn msh_path(field: usize, component: Option<usize>) -> Path {
    Path {
        segment: *b"MSH",
        occurrence: 1,
        field,
        repetition: None,
        component,
        subcomponent: None,
    }
}
const MSH_10: Path = msh_path(10, None);
const MSH_12_1: Path = msh_path(12, Some(1));
const MSH_18_1: Path = msh_path(18, Some(1));

/// Splits on a separator; an atomic piece is never split.
///
/// While scanning for the separator it also notes whether a piece contains
/// any lower-level delimiter: a "plain" piece is then never scanned again
/// at the lower levels (most HL7 values are plain). Values are short, so a
/// byte loop beats `memchr`'s per-call setup here (parse_walk bench).
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
    lower: [u8; 3],
    atomic: bool,
    /// `(separator class, lower classes)` in [`CLASS`] when every delimiter
    /// involved is one of `| ~ ^ &`, else `None` (the compare loop).
    classes: Option<(u8, u8)>,
}

/// The delimiter class of each byte for the usual delimiter characters
/// `| ~ ^ &` (in whatever roles MSH-2 gives them): one bit each, 0 for
/// every other byte. One table load per byte replaces four compares.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'|' as usize] = 1;
    t[b'~' as usize] = 2;
    t[b'^' as usize] = 4;
    t[b'&' as usize] = 8;
    t
};

impl<'a> Split<'a> {
    fn new(raw: &'a [u8], sep: u8, lower: [u8; 3], atomic: bool) -> Self {
        // An atomic piece is never scanned: skip the lookups (most values
        // are plain, and this setup measured 15 % of a walk under callgrind).
        let classes = if atomic {
            None
        } else {
            let class = |b: u8| CLASS[usize::from(b)];
            let [a, b, c] = lower;
            let (cs, ca, cb, cc) = (class(sep), class(a), class(b), class(c));
            ((cs != 0) & (ca != 0) & (cb != 0) & (cc != 0)).then_some((cs, ca | cb | cc))
        };
        Self {
            rest: Some(raw),
            sep,
            lower,
            atomic,
            classes,
        }
    }

    /// The next piece and whether it is plain.
    #[inline]
    fn next_piece(&mut self) -> Option<(&'a [u8], bool)> {
        let rest = self.rest?;
        if self.atomic {
            self.rest = None;
            return Some((rest, true));
        }
        let (end, plain) = match self.classes {
            Some((sep_class, lower_classes)) => scan_classes(rest, sep_class, lower_classes),
            None => scan(rest, self.sep, self.lower),
        };
        self.rest = rest.get(end + 1..).filter(|_| end < rest.len());
        Some((&rest[..end], plain))
    }
}

/// [`scan`] for the usual delimiter characters: one [`CLASS`] load per byte.
#[inline]
fn scan_classes(hay: &[u8], sep_class: u8, lower_classes: u8) -> (usize, bool) {
    let mut seen = 0u8;
    for (i, &x) in hay.iter().enumerate() {
        let class = CLASS[usize::from(x)];
        if class & sep_class != 0 {
            return (i, seen & lower_classes == 0);
        }
        seen |= class;
    }
    (hay.len(), seen & lower_classes == 0)
}

/// Finds `sep` (or the end) and whether any `lower` byte occurs before it.
///
/// A byte loop: HL7 fields are mostly empty or a few bytes long, where
/// `memchr`'s per-call setup and 8-byte SWAR both measured slower.
#[inline]
fn scan(hay: &[u8], sep: u8, lower: [u8; 3]) -> (usize, bool) {
    let [a, b, c] = lower;
    let mut plain = true;
    for (i, &x) in hay.iter().enumerate() {
        if x == sep {
            return (i, plain);
        }
        plain &= x != a && x != b && x != c;
    }
    (hay.len(), plain)
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        self.next_piece().map(|(raw, _)| raw)
    }
}

/// A value at any level below the segment. `atomic` means it has no
/// lower-level delimiters (MSH-1/MSH-2, or found plain while splitting).
#[derive(Debug, Clone, Copy)]
struct Piece<'a> {
    raw: &'a [u8],
    delims: Delimiters,
    atomic: bool,
}

impl<'a> Piece<'a> {
    fn split(&self, sep: u8, lower: [u8; 3]) -> Split<'a> {
        Split::new(self.raw, sep, lower, self.atomic)
    }

    fn children(&self, sep: u8, lower: [u8; 3]) -> impl Iterator<Item = Piece<'a>> + use<'a> {
        let (mut split, parent) = (self.split(sep, lower), *self);
        std::iter::from_fn(move || {
            let (raw, atomic) = split.next_piece()?;
            Some(Piece {
                raw,
                atomic,
                ..parent
            })
        })
    }

    fn nth(&self, sep: u8, lower: [u8; 3], n: usize) -> Option<Piece<'a>> {
        self.children(sep, lower).nth(n.checked_sub(1)?)
    }

    fn rep_args(&self) -> (u8, [u8; 3]) {
        let d = &self.delims;
        (d.repetition, [d.component, d.subcomponent, d.component])
    }

    fn comp_args(&self) -> (u8, [u8; 3]) {
        let d = &self.delims;
        (d.component, [d.subcomponent; 3])
    }

    fn sub_args(&self) -> (u8, [u8; 3]) {
        (self.delims.subcomponent, [self.delims.subcomponent; 3])
    }
}

macro_rules! level {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(Piece<'a>);

        impl<'a> $name<'a> {
            /// The raw (still escaped) bytes.
            pub fn raw(&self) -> &'a [u8] {
                self.0.raw
            }

            /// True when the value has no bytes.
            pub fn is_empty(&self) -> bool {
                self.0.raw.is_empty()
            }

            /// The value with escapes decoded (borrowed when there are none).
            pub fn decoded(&self) -> std::borrow::Cow<'a, [u8]> {
                escape::decode(self.0.raw, &self.0.delims)
            }
        }
    };
}

level!(
    /// A field (all of its repetitions).
    Field
);
level!(
    /// One repetition of a field.
    Repetition
);
level!(
    /// One component of a repetition.
    Component
);

impl<'a> Field<'a> {
    /// The repetitions (one for an empty field).
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + use<'a> {
        let (sep, lower) = self.0.rep_args();
        self.0.children(sep, lower).map(Repetition)
    }

    /// The `n`-th (1-based) repetition.
    pub fn repetition(&self, n: usize) -> Option<Repetition<'a>> {
        let (sep, lower) = self.0.rep_args();
        self.0.nth(sep, lower, n).map(Repetition)
    }

    /// Component `n` of the first repetition.
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.repetition(1)?.component(n)
    }
}

impl<'a> Repetition<'a> {
    /// The components (one for an empty repetition).
    pub fn components(&self) -> impl Iterator<Item = Component<'a>> + use<'a> {
        let (sep, lower) = self.0.comp_args();
        self.0.children(sep, lower).map(Component)
    }

    /// The `n`-th (1-based) component.
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        let (sep, lower) = self.0.comp_args();
        self.0.nth(sep, lower, n).map(Component)
    }
}

impl<'a> Component<'a> {
    /// The raw subcomponents (one for an empty component).
    pub fn subcomponents(&self) -> Split<'a> {
        let (sep, lower) = self.0.sub_args();
        self.0.split(sep, lower)
    }

    /// The `n`-th (1-based) raw subcomponent.
    pub fn subcomponent(&self, n: usize) -> Option<&'a [u8]> {
        let (sep, lower) = self.0.sub_args();
        self.0.nth(sep, lower, n).map(|p| p.raw)
    }
}

/// One segment.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    offset: usize,
    delims: Delimiters,
}

impl<'a> Segment<'a> {
    /// The 3-byte segment id.
    pub fn id(&self) -> &'a [u8] {
        &self.raw[..3]
    }

    /// The segment's bytes, terminator excluded.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte offset of the segment in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn is_msh(&self) -> bool {
        self.id() == b"MSH"
    }

    fn piece(&self, raw: &'a [u8], atomic: bool) -> Field<'a> {
        Field(Piece {
            raw,
            delims: self.delims,
            atomic,
        })
    }

    /// Field `n` (1-based, HL7 numbering).
    pub fn field(&self, n: usize) -> Option<Field<'a>> {
        if self.is_msh() {
            match n {
                0 => None,
                1 => self.raw.get(3..4).map(|r| self.piece(r, true)),
                n => self
                    .pieces()
                    .nth(n - 1)
                    .map(|(r, plain)| self.piece(r, plain || n == 2)),
            }
        } else {
            self.pieces().nth(n).map(|(r, plain)| self.piece(r, plain))
        }
    }

    /// `(raw field, plain)` pairs, the segment id first.
    fn pieces(&self) -> impl Iterator<Item = (&'a [u8], bool)> + use<'a> {
        let d = &self.delims;
        let mut split = Split::new(
            self.raw,
            d.field,
            [d.repetition, d.component, d.subcomponent],
            false,
        );
        std::iter::from_fn(move || split.next_piece())
    }

    /// Every field from field 1 on.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let seg = *self;
        let msh = seg.is_msh();
        let first = seg
            .raw
            .get(3..4)
            .filter(|_| msh)
            .map(|r| seg.piece(r, true));
        let rest = seg
            .pieces()
            .skip(1)
            .enumerate()
            .map(move |(i, (r, plain))| seg.piece(r, plain || (msh && i == 0)));
        first.into_iter().chain(rest)
    }

    /// Number of fields (MSH counts MSH-1).
    pub fn field_count(&self) -> usize {
        let seps = memchr::memchr_iter(self.delims.field, self.raw).count();
        seps + usize::from(self.is_msh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADT: &[u8] = b"MSH|^~\\&|NextGen|DOSC|RH|18779|20130405125146269||ADT^A04^ADT_A01|1999077678|P|2.3|||AL|AL\rPID|1|000000000026|60043^^^NextGen^MRN~X1&Y1^^^Other||DOE^JANE\rOBX|1|TX\rOBX|2|NM|GLU^Glucose||98\r";

    #[test]
    fn msh_numbering_is_hl7() {
        let m = Message::parse(ADT).unwrap();
        assert_eq!(m.get("MSH-1").unwrap(), Some(&b"|"[..]));
        assert_eq!(m.get("MSH-2").unwrap(), Some(&b"^~\\&"[..]));
        assert_eq!(m.get("MSH-2.1").unwrap(), Some(&b"^~\\&"[..]));
        assert_eq!(m.get("MSH-3").unwrap(), Some(&b"NextGen"[..]));
        assert_eq!(m.get("MSH-9.2").unwrap(), Some(&b"A04"[..]));
        assert_eq!(m.control_id(), b"1999077678");
        assert_eq!(m.version(), b"2.3");
        assert_eq!(m.get("MSH-16").unwrap(), Some(&b"AL"[..]));
        assert_eq!(m.get("MSH-17").unwrap(), None);
    }

    #[test]
    fn paths_reach_every_level() {
        let m = Message::parse(ADT).unwrap();
        assert_eq!(m.get("PID-3[2].1").unwrap(), Some(&b"X1&Y1"[..]));
        assert_eq!(m.get("PID-3[2].1.2").unwrap(), Some(&b"Y1"[..]));
        assert_eq!(m.get("PID-3.5").unwrap(), Some(&b"MRN"[..]));
        assert_eq!(m.get("PID-3[3]").unwrap(), None);
        assert_eq!(m.get("OBX[2]-5").unwrap(), Some(&b"98"[..]));
        assert_eq!(m.get("OBX[3]-5").unwrap(), None);
        assert_eq!(m.get("PID-4").unwrap(), Some(&b""[..]));
        assert_eq!(m.segment_count(), 4);
        let msh = m.segment("MSH").unwrap();
        assert_eq!(msh.field_count(), msh.fields().count());
        assert_eq!(msh.fields().nth(1).unwrap().repetitions().count(), 1);
    }

    #[test]
    fn five_encoding_characters() {
        let m = Message::parse(b"MSH|^~\\&#|APP|FAC\rPID|1||A#B\r").unwrap();
        assert_eq!(m.delimiters().truncation, Some(b'#'));
        assert_eq!(m.get("MSH-2").unwrap(), Some(&b"^~\\&#"[..]));
        assert_eq!(m.get("MSH-3").unwrap(), Some(&b"APP"[..]));
    }

    #[test]
    fn lenient_mode_is_explicit_and_reported() {
        let crlf = b"MSH|^~\\&|A\r\nPID|1\r\n";
        assert_eq!(
            Message::parse(crlf).unwrap_err(),
            ParseError::UnexpectedLineFeed { offset: 11 }
        );
        let opts = ParseOptions {
            lenient_newlines: true,
        };
        let m = Message::parse_with(crlf, opts).unwrap();
        assert!(m.lenient_newlines_used());
        assert_eq!(m.segment_count(), 2);
        let m = Message::parse_with(b"MSH|^~\\&|A\rPID|1\r", opts).unwrap();
        assert!(!m.lenient_newlines_used());
        let m = Message::parse_with(b"MSH|^~\\&|A\nPID|1", opts).unwrap();
        assert!(m.lenient_newlines_used());
        assert_eq!(m.get("PID-1").unwrap(), Some(&b"1"[..]));
    }
}
