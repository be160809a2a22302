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
    /// [`is_standard`] of `delims`, computed once.
    standard: bool,
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
        // Size a fresh span Vec once: counting terminators is far cheaper
        // than regrowing (and keeps a fresh parse at exactly one
        // allocation). A recycled buffer skips the count: it has usually
        // grown to fit already, and otherwise grows as it goes.
        if spans.capacity() == 0 {
            let terminators = if lenient {
                memchr::memchr2_iter(CR, LF, &bytes[..limit]).count()
            } else {
                memchr::memchr_iter(CR, &bytes[..limit]).count()
            };
            spans.reserve(terminators + 1);
        }
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
            standard: is_standard(&delims),
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
            standard: self.standard,
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
        Ok(self.get(path)?.map(|raw| self.decode_text(raw)))
    }

    /// A raw value of this message as text: escapes resolved and MSH-18
    /// honoured.
    pub fn decode_text(&self, raw: &'a [u8]) -> std::borrow::Cow<'a, str> {
        let bytes = escape::decode(raw, &self.delims);
        // ASCII reads the same in every character set: MSH-18 (a walk of
        // the whole MSH segment) is looked up only for other bytes.
        let charset = if bytes.is_ascii() {
            Charset::Ascii
        } else {
            self.charset()
        };
        charset.to_text(bytes)
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

/// Delimiter role bits: what a value contains, as [`Split`] reports it.
const FIELD: u8 = 1;
const REP: u8 = 2;
const COMP: u8 = 4;
const SUB: u8 = 8;
const ALL: u8 = FIELD | REP | COMP | SUB;

/// The role bit of each byte under the standard delimiters `| ~ ^ &` (0 for
/// every other byte): one table load per byte replaces four compares.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'|' as usize] = FIELD;
    t[b'~' as usize] = REP;
    t[b'^' as usize] = COMP;
    t[b'&' as usize] = SUB;
    t
};

/// True when the delimiters are `| ~ ^ &` in their usual roles, so
/// [`CLASS`] gives each byte's role.
fn is_standard(d: &Delimiters) -> bool {
    (d.field, d.repetition, d.component, d.subcomponent) == (b'|', b'~', b'^', b'&')
}

/// The role bits of `x` under any delimiters (the [`CLASS`] fallback).
#[inline]
fn roles(x: u8, d: &Delimiters) -> u8 {
    u8::from(x == d.field)
        | u8::from(x == d.repetition) << 1
        | u8::from(x == d.component) << 2
        | u8::from(x == d.subcomponent) << 3
}

/// Finds the first byte whose role is `sep` (or the end) and the roles of
/// the bytes before it.
///
/// A byte loop: HL7 values are mostly empty or a few bytes long, where
/// `memchr`'s per-call setup and 8-byte SWAR both measured slower.
#[inline(always)]
fn scan(hay: &[u8], sep: u8, role: impl Fn(u8) -> u8) -> (usize, u8) {
    let mut seen = 0;
    for (i, &x) in hay.iter().enumerate() {
        let r = role(x);
        if r & sep != 0 {
            return (i, seen);
        }
        seen |= r;
    }
    (hay.len(), seen)
}

/// A value at any level below the segment, with the delimiter roles it may
/// contain (`inner`, a superset): a value without its level's separator is
/// never scanned again. Scanning a field notes which lower delimiters it
/// holds, so a field without `~` yields its one repetition unscanned, and
/// a plain value (most HL7 values) is never scanned below its level.
/// MSH-1 and MSH-2 have `inner == 0`: they are never split.
#[derive(Debug, Clone, Copy)]
struct Piece<'a> {
    raw: &'a [u8],
    delims: Delimiters,
    standard: bool,
    inner: u8,
}

impl<'a> Piece<'a> {
    /// Splits on the delimiter with role `sep`.
    #[inline]
    fn split(self, sep: u8) -> Split<'a> {
        Split {
            rest: self.raw,
            done: false,
            sep,
            lower: ALL & !(sep | (sep - 1)),
            inner: self.inner,
            delims: self.delims,
            standard: self.standard,
        }
    }
}

/// Splits a value on one separator. Yields the raw pieces (see
/// [`Component::subcomponents`]).
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: &'a [u8],
    done: bool,
    /// The role bit split on.
    sep: u8,
    /// The role bits below `sep`, reported per piece.
    lower: u8,
    /// The role bits `rest` may contain.
    inner: u8,
    delims: Delimiters,
    standard: bool,
}

impl<'a> Split<'a> {
    /// The next piece and the lower delimiter roles it contains.
    #[inline]
    fn next_piece(&mut self) -> Option<(&'a [u8], u8)> {
        if self.done {
            return None;
        }
        let rest = self.rest;
        if self.inner & self.sep == 0 {
            self.done = true;
            return Some((rest, self.inner & self.lower));
        }
        let (end, seen) = if self.standard {
            scan(rest, self.sep, |x| CLASS[usize::from(x)])
        } else {
            let d = self.delims;
            scan(rest, self.sep, |x| roles(x, &d))
        };
        let (piece, tail) = rest.split_at(end.min(rest.len()));
        match tail.split_first() {
            Some((_, tail)) => self.rest = tail,
            None => self.done = true,
        }
        Some((piece, seen & self.lower))
    }

    /// The next piece as a [`Piece`].
    #[inline]
    fn next_child(&mut self) -> Option<Piece<'a>> {
        let (raw, inner) = self.next_piece()?;
        Some(Piece {
            raw,
            delims: self.delims,
            standard: self.standard,
            inner,
        })
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        self.next_piece().map(|(raw, _)| raw)
    }
}

/// The children of a value one level down, as [`Piece`]s.
#[derive(Debug, Clone)]
struct Children<'a>(Split<'a>);

impl<'a> Iterator for Children<'a> {
    type Item = Piece<'a>;
    #[inline]
    fn next(&mut self) -> Option<Piece<'a>> {
        self.0.next_child()
    }
}

macro_rules! level {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(Piece<'a>);

        impl<'a> $name<'a> {
            /// The raw (still escaped) bytes.
            #[inline]
            pub fn raw(&self) -> &'a [u8] {
                self.0.raw
            }

            /// True when the value has no bytes.
            #[inline]
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
    #[inline]
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + use<'a> {
        Children(self.0.split(REP)).map(Repetition)
    }

    /// The `n`-th (1-based) repetition.
    pub fn repetition(&self, n: usize) -> Option<Repetition<'a>> {
        self.repetitions().nth(n.checked_sub(1)?)
    }

    /// Component `n` of the first repetition.
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.repetition(1)?.component(n)
    }
}

impl<'a> Repetition<'a> {
    /// The components (one for an empty repetition).
    #[inline]
    pub fn components(&self) -> impl Iterator<Item = Component<'a>> + use<'a> {
        Children(self.0.split(COMP)).map(Component)
    }

    /// The `n`-th (1-based) component.
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.components().nth(n.checked_sub(1)?)
    }
}

impl<'a> Component<'a> {
    /// The raw subcomponents (one for an empty component).
    #[inline]
    pub fn subcomponents(&self) -> Split<'a> {
        self.0.split(SUB)
    }

    /// The `n`-th (1-based) raw subcomponent.
    pub fn subcomponent(&self, n: usize) -> Option<&'a [u8]> {
        self.subcomponents().nth(n.checked_sub(1)?)
    }
}

/// One segment.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    offset: usize,
    delims: Delimiters,
    standard: bool,
}

/// The fields of a segment; see [`Segment::fields`].
#[derive(Debug, Clone)]
struct Fields<'a> {
    split: Split<'a>,
    /// MSH only: the atomic fields still to come first (2: MSH-1 and
    /// MSH-2, 1: MSH-2), else 0.
    msh: u8,
    /// MSH-1 (the field separator itself).
    msh_1: &'a [u8],
}

impl<'a> Fields<'a> {
    #[cold]
    fn next_msh(&mut self) -> Option<Field<'a>> {
        self.msh -= 1;
        let raw = if self.msh == 1 {
            self.msh_1
        } else {
            self.split.next_piece()?.0
        };
        Some(Field(Piece {
            raw,
            inner: 0,
            ..self.split_piece()
        }))
    }

    fn split_piece(&self) -> Piece<'a> {
        Piece {
            raw: &[],
            delims: self.split.delims,
            standard: self.split.standard,
            inner: 0,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;
    #[inline]
    fn next(&mut self) -> Option<Field<'a>> {
        if self.msh != 0 {
            return self.next_msh();
        }
        self.split.next_child().map(Field)
    }
}

impl<'a> Segment<'a> {
    /// The 3-byte segment id.
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        &self.raw[..3]
    }

    /// The segment's bytes, terminator excluded.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte offset of the segment in the input.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn is_msh(&self) -> bool {
        self.id() == b"MSH"
    }

    fn piece(&self, raw: &'a [u8], inner: u8) -> Piece<'a> {
        Piece {
            raw,
            delims: self.delims,
            standard: self.standard,
            inner,
        }
    }

    /// Field `n` (1-based, HL7 numbering). Field 0 of a segment other than
    /// MSH is its id.
    pub fn field(&self, n: usize) -> Option<Field<'a>> {
        match n {
            0 if self.is_msh() => None,
            0 => Some(Field(self.piece(self.id(), 0))),
            n => self.fields().nth(n - 1),
        }
    }

    /// Every field from field 1 on (for MSH: MSH-1, the field separator,
    /// and MSH-2, the encoding characters, both never split).
    #[inline]
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        // A segment is its id, then (when longer) the field separator and
        // the fields: check_segment guarantees it.
        let body = self.raw.get(4..);
        let mut split = self.piece(body.unwrap_or_default(), ALL).split(FIELD);
        split.done = body.is_none();
        let msh = if body.is_some() && self.is_msh() {
            2
        } else {
            0
        };
        Fields {
            split,
            msh,
            msh_1: &self.raw[3..3 + usize::from(msh != 0)],
        }
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
