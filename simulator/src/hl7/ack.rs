//! ACK/NAK building (original and enhanced mode) and reading.
//!
//! An ACK is written straight into one `Vec<u8>`: no per-field allocation.
//!
//! Layout written by [`write_ack`]:
//! - `MSH`: MSH-3/4 and MSH-5/6 of the inbound message swapped, MSH-7 the
//!   given timestamp, MSH-9 `ACK^<inbound MSH-9.2>^ACK`, MSH-10 from a
//!   [`ControlIds`] generator, MSH-11/12 echoed. Same delimiters as inbound.
//! - `MSA`: MSA-1 the code, MSA-2 the inbound MSH-10, MSA-3 the text if any.
//!   For versions before 2.5, MSA-6 carries the error condition
//!   (`code^text^HL70357`).
//! - `ERR` when an [`ErrorDetail`] is given: for 2.5 and later
//!   `ERR||SEG^seq^field|code^text^HL70357|severity|||diagnostic` (ERR-7
//!   holds the detail text); before 2.5 the ERR-1 ELD form
//!   `SEG^seq^field^code&text&HL70357`, with the detail text in MSA-3 when
//!   no other text is given. The code's text is always table 0357's.

use std::borrow::Cow;

use super::delim::Delimiters;
use super::error::ParseError;
use super::escape;
use super::parse::{Message, read_delimiters};

/// MSA-1 acknowledgment codes (HL7 table 0008).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// Original mode: application accept (or enhanced application accept).
    AA,
    /// Application error.
    AE,
    /// Application reject.
    AR,
    /// Enhanced mode: commit accept.
    CA,
    /// Enhanced mode: commit error.
    CE,
    /// Enhanced mode: commit reject.
    CR,
}

impl AckCode {
    /// The two-letter code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AA => "AA",
            Self::AE => "AE",
            Self::AR => "AR",
            Self::CA => "CA",
            Self::CE => "CE",
            Self::CR => "CR",
        }
    }

    /// Parses a code (surrounding whitespace ignored).
    pub fn parse(raw: &[u8]) -> Option<Self> {
        Some(match raw.trim_ascii() {
            b"AA" => Self::AA,
            b"AE" => Self::AE,
            b"AR" => Self::AR,
            b"CA" => Self::CA,
            b"CE" => Self::CE,
            b"CR" => Self::CR,
            _ => return None,
        })
    }

    /// True for AA and CA.
    pub fn is_accept(self) -> bool {
        matches!(self, Self::AA | Self::CA)
    }

    /// The accept/error/reject code of the given mode's commit level:
    /// original mode uses A*, enhanced accept acknowledgments C*.
    pub fn for_mode(self, mode: AckMode) -> Self {
        match (mode, self) {
            (AckMode::Enhanced, Self::AA) => Self::CA,
            (AckMode::Enhanced, Self::AE) => Self::CE,
            (AckMode::Enhanced, Self::AR) => Self::CR,
            (AckMode::Original, Self::CA) => Self::AA,
            (AckMode::Original, Self::CE) => Self::AE,
            (AckMode::Original, Self::CR) => Self::AR,
            (_, c) => c,
        }
    }
}

/// Original or enhanced acknowledgment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// MSH-15 and MSH-16 both empty: one application ACK (AA/AE/AR).
    Original,
    /// MSH-15 or MSH-16 set: accept ACK (CA/CE/CR) and/or application ACK.
    Enhanced,
}

/// MSH-15/MSH-16 values (HL7 table 0155).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCondition {
    /// `AL`: always.
    Always,
    /// `NE`: never.
    Never,
    /// `ER`: only on error or reject.
    Error,
    /// `SU`: only on successful completion.
    Success,
}

impl AckCondition {
    /// Parses a table 0155 value; `None` for empty or unknown values.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        Some(match raw.trim_ascii() {
            b"AL" => Self::Always,
            b"NE" => Self::Never,
            b"ER" => Self::Error,
            b"SU" => Self::Success,
            _ => return None,
        })
    }

    /// Whether an acknowledgment is due for an outcome.
    pub fn requires(self, success: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Error => !success,
            Self::Success => success,
        }
    }
}

/// What the inbound message asks for, from MSH-15 and MSH-16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckPolicy {
    /// Original when both fields are empty, else enhanced.
    pub mode: AckMode,
    /// MSH-15 (accept acknowledgment type), if set and known.
    pub accept: Option<AckCondition>,
    /// MSH-16 (application acknowledgment type), if set and known.
    pub application: Option<AckCondition>,
}

impl AckPolicy {
    /// Reads MSH-15/16. Both empty → original mode; otherwise enhanced.
    pub fn of(message: &Message<'_>) -> Self {
        let get = |p: &str| message.get(p).ok().flatten().unwrap_or_default();
        Self::from_fields(get("MSH-15"), get("MSH-16"))
    }

    /// The policy for raw MSH-15 and MSH-16 values (what [`AckPolicy::of`]
    /// reads), for callers that already hold them.
    pub fn from_fields(m15: &[u8], m16: &[u8]) -> Self {
        let blank = |v: &[u8]| v.trim_ascii().is_empty();
        let mode = if blank(m15) && blank(m16) {
            AckMode::Original
        } else {
            AckMode::Enhanced
        };
        Self {
            mode,
            accept: AckCondition::parse(m15),
            application: AckCondition::parse(m16),
        }
    }

    /// Whether an accept (commit) ACK is due. Original mode has none; in
    /// enhanced mode an empty or unknown MSH-15 counts as `AL`.
    pub fn wants_accept_ack(&self, success: bool) -> bool {
        self.mode == AckMode::Enhanced
            && self
                .accept
                .unwrap_or(AckCondition::Always)
                .requires(success)
    }

    /// Whether an application ACK is due. Always in original mode; in
    /// enhanced mode an empty or unknown MSH-16 counts as `AL`.
    pub fn wants_application_ack(&self, success: bool) -> bool {
        self.mode == AckMode::Original
            || self
                .application
                .unwrap_or(AckCondition::Always)
                .requires(success)
    }
}

/// HL7 table 0357 message error condition codes.
pub mod codes {
    /// Message accepted.
    pub const ACCEPTED: u16 = 0;
    /// Segment sequence error.
    pub const SEGMENT_SEQUENCE: u16 = 100;
    /// Required field missing.
    pub const REQUIRED_FIELD_MISSING: u16 = 101;
    /// Data type error.
    pub const DATA_TYPE: u16 = 102;
    /// Table value not found.
    pub const TABLE_VALUE_NOT_FOUND: u16 = 103;
    /// Unsupported message type.
    pub const UNSUPPORTED_MESSAGE_TYPE: u16 = 200;
    /// Unsupported event code.
    pub const UNSUPPORTED_EVENT: u16 = 201;
    /// Unsupported processing id.
    pub const UNSUPPORTED_PROCESSING_ID: u16 = 202;
    /// Unsupported version id.
    pub const UNSUPPORTED_VERSION: u16 = 203;
    /// Unknown key identifier.
    pub const UNKNOWN_KEY: u16 = 204;
    /// Duplicate key identifier.
    pub const DUPLICATE_KEY: u16 = 205;
    /// Application record locked.
    pub const RECORD_LOCKED: u16 = 206;
    /// Application internal error.
    pub const INTERNAL_ERROR: u16 = 207;

    /// The table 0357 text for a code.
    pub fn text(code: u16) -> &'static str {
        match code {
            ACCEPTED => "Message accepted",
            SEGMENT_SEQUENCE => "Segment sequence error",
            REQUIRED_FIELD_MISSING => "Required field missing",
            DATA_TYPE => "Data type error",
            TABLE_VALUE_NOT_FOUND => "Table value not found",
            UNSUPPORTED_MESSAGE_TYPE => "Unsupported message type",
            UNSUPPORTED_EVENT => "Unsupported event code",
            UNSUPPORTED_PROCESSING_ID => "Unsupported processing id",
            UNSUPPORTED_VERSION => "Unsupported version id",
            UNKNOWN_KEY => "Unknown key identifier",
            DUPLICATE_KEY => "Duplicate key identifier",
            RECORD_LOCKED => "Application record locked",
            INTERNAL_ERROR => "Application internal error",
            _ => "",
        }
    }
}

/// ERR-4 severity (HL7 table 0516).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `E`.
    Error,
    /// `W`.
    Warning,
    /// `I`.
    Information,
    /// `F`.
    Fatal,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "E",
            Self::Warning => "W",
            Self::Information => "I",
            Self::Fatal => "F",
        }
    }

    fn parse(raw: &[u8]) -> Option<Self> {
        Some(match raw.trim_ascii() {
            b"E" => Self::Error,
            b"W" => Self::Warning,
            b"I" => Self::Information,
            b"F" => Self::Fatal,
            _ => return None,
        })
    }
}

/// Where an error is: segment id, 1-based occurrence, field (0 = whole segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorLocation {
    /// Segment id.
    pub segment: [u8; 3],
    /// 1-based occurrence of that segment id.
    pub sequence: usize,
    /// Field number (HL7 numbering), 0 when the whole segment is meant.
    pub field: usize,
}

/// An error to report in MSA-6/ERR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail<'a> {
    /// Where, if known.
    pub location: Option<ErrorLocation>,
    /// Table 0357 code (see [`codes`]).
    pub code: u16,
    /// ERR-4 severity (2.5+).
    pub severity: Severity,
    /// Diagnostic text; when `None` the table 0357 text is used.
    pub text: Option<Cow<'a, str>>,
}

/// What to acknowledge with.
#[derive(Debug, Clone)]
pub struct Ack<'a> {
    /// MSA-1.
    pub code: AckCode,
    /// MSA-3 text.
    pub text: Option<&'a str>,
    /// The error for MSA-6/ERR (normally with AE/AR/CE/CR).
    pub error: Option<ErrorDetail<'a>>,
    /// MSH-7, e.g. `20240101120000`.
    pub timestamp: &'a str,
}

/// A source of unique MSH-10 values for ACKs.
pub trait ControlIds {
    /// Appends the next id to `out`.
    fn write_next(&mut self, out: &mut Vec<u8>);
}

impl<F: FnMut(&mut Vec<u8>)> ControlIds for F {
    fn write_next(&mut self, out: &mut Vec<u8>) {
        self(out);
    }
}

/// Deterministic ids: `prefix` followed by a counter.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    prefix: String,
    next: u64,
}

impl SequentialIds {
    /// Starts at `first`.
    pub fn new(prefix: impl Into<String>, first: u64) -> Self {
        Self {
            prefix: prefix.into(),
            next: first,
        }
    }
}

impl ControlIds for SequentialIds {
    fn write_next(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prefix.as_bytes());
        push_usize(out, self.next as usize);
        self.next = self.next.wrapping_add(1);
    }
}

fn push_usize(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The MSH fields an ACK needs, scanned from the first line of the input.
#[derive(Debug, Default)]
struct Header<'a> {
    fields: [&'a [u8]; 17],
}

impl<'a> Header<'a> {
    /// Splits the first line (up to CR or LF) on the field separator.
    /// `fields[n]` is MSH-n for n >= 3.
    fn scan(raw: &'a [u8], d: &Delimiters) -> Self {
        let line_end = memchr::memchr2(b'\r', b'\n', raw).unwrap_or(raw.len());
        let mut h = Self::default();
        let line = &raw[..line_end];
        for (i, f) in line.split(|b| *b == d.field).enumerate().skip(2).take(14) {
            h.fields[i + 1] = f;
        }
        h
    }

    fn trigger(&self, d: &Delimiters) -> &'a [u8] {
        self.fields[9]
            .split(|b| *b == d.component || *b == d.repetition)
            .nth(1)
            .unwrap_or_default()
    }
}

/// Copies a raw field, escaping the bytes a parser would reject (the
/// inbound field may come from a malformed message).
fn push_raw(out: &mut Vec<u8>, raw: &[u8], d: &Delimiters) {
    for &b in raw {
        if matches!(b, 0 | 0x0B | 0x1C | b'\r' | b'\n') {
            escape::escape_into(&[b], d, out);
        } else {
            out.push(b);
        }
    }
}

fn is_legacy_version(version: &[u8], d: &Delimiters) -> bool {
    let v = version
        .split(|b| *b == d.component)
        .next()
        .unwrap_or_default();
    matches!(v.get(..3), Some(b"2.1" | b"2.2" | b"2.3" | b"2.4"))
}

struct Writer<'o> {
    out: &'o mut Vec<u8>,
    d: Delimiters,
}

impl Writer<'_> {
    fn sep(&mut self, b: u8, n: usize) {
        self.out.extend(std::iter::repeat_n(b, n));
    }
    fn text(&mut self, s: &str) {
        escape::escape_into(s.as_bytes(), &self.d, self.out);
    }
    fn location(&mut self, loc: &ErrorLocation) {
        let c = self.d.component;
        self.out.extend_from_slice(&loc.segment);
        self.out.push(c);
        push_usize(self.out, loc.sequence);
        if loc.field > 0 {
            self.out.push(c);
            push_usize(self.out, loc.field);
        }
    }
    /// `code<sep>table text<sep>HL70357`.
    fn condition(&mut self, e: &ErrorDetail<'_>, sep: u8) {
        push_usize(self.out, usize::from(e.code));
        self.out.push(sep);
        self.text(codes::text(e.code));
        self.out.push(sep);
        self.out.extend_from_slice(b"HL70357");
    }
}

fn write_with_header(
    h: &Header<'_>,
    d: Delimiters,
    ack: &Ack<'_>,
    ids: &mut dyn ControlIds,
    out: &mut Vec<u8>,
) {
    let f = d.field;
    d.write_msh_prefix(out);
    for n in [5, 6, 3, 4] {
        out.push(f);
        push_raw(out, h.fields[n], &d);
    }
    out.push(f);
    out.extend_from_slice(ack.timestamp.as_bytes());
    out.extend_from_slice(&[f, f]);
    out.extend_from_slice(b"ACK");
    out.push(d.component);
    push_raw(out, h.trigger(&d), &d);
    out.push(d.component);
    out.extend_from_slice(b"ACK");
    out.push(f);
    ids.write_next(out);
    for n in [11, 12] {
        out.push(f);
        push_raw(out, h.fields[n], &d);
    }
    out.extend_from_slice(b"\rMSA");
    out.push(f);
    out.extend_from_slice(ack.code.as_str().as_bytes());
    out.push(f);
    push_raw(out, h.fields[10], &d);
    let legacy = is_legacy_version(h.fields[12], &d);
    let mut w = Writer { out, d };
    // Before 2.5 the diagnostic text has no ERR field: it goes to MSA-3.
    let diagnostic = ack.error.as_ref().and_then(|e| e.text.as_deref());
    let msa3 = ack.text.or(diagnostic.filter(|_| legacy));
    if msa3.is_some() || (legacy && ack.error.is_some()) {
        w.sep(f, 1);
        w.text(msa3.unwrap_or_default());
    }
    if let (true, Some(e)) = (legacy, &ack.error) {
        w.sep(f, 3);
        w.condition(e, d.component);
    }
    w.out.push(b'\r');
    let Some(e) = &ack.error else { return };
    w.out.extend_from_slice(b"ERR");
    w.sep(f, 1);
    if legacy {
        let written = match &e.location {
            Some(loc) => {
                w.location(loc);
                if loc.field > 0 { 2 } else { 1 }
            }
            None => 0,
        };
        w.sep(d.component, 3 - written);
        w.condition(e, d.subcomponent);
    } else {
        w.sep(f, 1);
        if let Some(loc) = &e.location {
            w.location(loc);
        }
        w.sep(f, 1);
        w.condition(e, d.component);
        w.sep(f, 1);
        w.out.extend_from_slice(e.severity.as_str().as_bytes());
        if let Some(text) = diagnostic {
            // ERR-7 diagnostic information.
            w.sep(f, 3);
            w.text(text);
        }
    }
    w.out.push(b'\r');
}

/// Writes an ACK for a parsed inbound message into `out`.
pub fn write_ack(
    inbound: &Message<'_>,
    ack: &Ack<'_>,
    ids: &mut dyn ControlIds,
    out: &mut Vec<u8>,
) {
    let d = *inbound.delimiters();
    let h = Header::scan(inbound.as_bytes(), &d);
    write_with_header(&h, d, ack, ids, out);
}

/// Builds an ACK for a parsed inbound message.
pub fn build_ack(inbound: &Message<'_>, ack: &Ack<'_>, ids: &mut dyn ControlIds) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_ack(inbound, ack, ids, &mut out);
    out
}

/// Writes a best-effort NAK for bytes that failed to parse. The delimiters
/// and MSH fields are scraped from the first line when readable (defaults and
/// empty fields otherwise); the code and ERR come from [`error_detail`] and
/// [`ParseError::ack_code`], in the mode MSH-15/16 ask for when readable.
pub fn write_nak(
    raw: &[u8],
    err: &ParseError,
    timestamp: &str,
    ids: &mut dyn ControlIds,
    out: &mut Vec<u8>,
) {
    let delims = read_delimiters(raw);
    let d = delims.clone().unwrap_or_default();
    let h = if delims.is_ok() {
        Header::scan(raw, &d)
    } else {
        Header::default()
    };
    let blank = |n: usize| h.fields[n].trim_ascii().is_empty();
    let mode = if blank(15) && blank(16) {
        AckMode::Original
    } else {
        AckMode::Enhanced
    };
    let detail = error_detail(raw, err);
    let ack = Ack {
        code: err.ack_code(mode),
        text: None,
        error: Some(detail),
        timestamp,
    };
    write_with_header(&h, d, &ack, ids, out);
}

/// Finds the segment (id and occurrence) and field at a byte offset.
fn locate(raw: &[u8], offset: usize, field_sep: u8) -> Option<ErrorLocation> {
    let offset = offset.min(raw.len());
    let start = memchr::memrchr2(b'\r', b'\n', &raw[..offset]).map_or(0, |i| i + 1);
    let segment: [u8; 3] = raw.get(start..start + 3)?.try_into().ok()?;
    if !segment
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return None;
    }
    let sequence = raw[..start]
        .split(|b| *b == b'\r' || *b == b'\n')
        .filter(|s| s.starts_with(&segment))
        .count()
        + 1;
    let seps = memchr::memchr_iter(field_sep, &raw[start..offset]).count();
    let field = seps + usize::from(&segment == b"MSH" && seps > 0);
    Some(ErrorLocation {
        segment,
        sequence,
        field,
    })
}

/// Maps a parse error to a table 0357 code and an ERR location.
///
/// | Error | Code | Location |
/// |---|---|---|
/// | empty input, no MSH | 100 segment sequence | `MSH^1` |
/// | bad encoding characters | 102 data type | `MSH^1^2` |
/// | bad segment id, empty segment | 100 segment sequence | none (the segment has no valid id) |
/// | missing terminator, LF in strict mode, MLLP byte | 100 segment sequence | the segment (and field) holding the offset |
/// | NUL byte | 102 data type | the segment and field holding the NUL |
pub fn error_detail(raw: &[u8], err: &ParseError) -> ErrorDetail<'static> {
    let field_sep = read_delimiters(raw).map_or(b'|', |d| d.field);
    let msh = |field| {
        Some(ErrorLocation {
            segment: *b"MSH",
            sequence: 1,
            field,
        })
    };
    let (code, location) = match err {
        ParseError::Empty | ParseError::NoMsh { .. } => (codes::SEGMENT_SEQUENCE, msh(0)),
        ParseError::BadEncodingCharacters { .. } => (codes::DATA_TYPE, msh(2)),
        ParseError::BadSegmentId { .. } | ParseError::EmptySegment { .. } => {
            (codes::SEGMENT_SEQUENCE, None)
        }
        ParseError::MissingTerminator { offset }
        | ParseError::UnexpectedLineFeed { offset }
        | ParseError::FramingByte { offset, .. } => {
            (codes::SEGMENT_SEQUENCE, locate(raw, *offset, field_sep))
        }
        ParseError::NulByte { offset } => (codes::DATA_TYPE, locate(raw, *offset, field_sep)),
    };
    ErrorDetail {
        location,
        code,
        severity: Severity::Error,
        text: Some(Cow::Owned(err.to_string())),
    }
}

impl ParseError {
    /// The MSA-1 code for this error: reject (AR/CR) when the header itself
    /// is unreadable, error (AE/CE) otherwise.
    pub fn ack_code(&self, mode: AckMode) -> AckCode {
        let code = match self {
            Self::Empty | Self::NoMsh { .. } | Self::BadEncodingCharacters { .. } => AckCode::AR,
            _ => AckCode::AE,
        };
        code.for_mode(mode)
    }
}

/// An ACK as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckView<'a> {
    /// MSA-1.
    pub code: AckCode,
    /// MSA-2 (raw).
    pub control_id: &'a [u8],
    /// MSA-3, decoded.
    pub text: Option<Cow<'a, str>>,
    /// ERR-2 (2.5+) or ERR-1 (before 2.5).
    pub error_location: Option<ErrorLocation>,
    /// ERR-3.1 (2.5+), ERR-1.4.1 or MSA-6.1 (before 2.5).
    pub error_code: Option<u16>,
    /// ERR-4.
    pub severity: Option<Severity>,
    /// ERR-7 diagnostic information (2.5+), decoded.
    pub diagnostic: Option<Cow<'a, str>>,
}

/// Why an ACK could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckReadError {
    /// No MSA segment.
    #[error("no MSA segment")]
    NoMsa,
    /// MSA-1 is not a table 0008 code.
    #[error("MSA-1 {found:?} is not AA, AE, AR, CA, CE or CR")]
    BadCode {
        /// What MSA-1 held.
        found: String,
    },
}

fn parse_num(raw: Option<&[u8]>) -> Option<usize> {
    std::str::from_utf8(raw?).ok()?.trim().parse().ok()
}

fn read_location(m: &Message<'_>, base: &str) -> Option<ErrorLocation> {
    let get = |c: usize| m.get(&format!("{base}.{c}")).ok().flatten();
    let segment = get(1)?.try_into().ok()?;
    Some(ErrorLocation {
        segment,
        sequence: parse_num(get(2)).unwrap_or(1),
        field: parse_num(get(3)).unwrap_or(0),
    })
}

/// Reads an ACK's code, control id, text, error location and error code.
pub fn read_ack<'a>(m: &Message<'a>) -> Result<AckView<'a>, AckReadError> {
    let msa = m.segment("MSA").ok_or(AckReadError::NoMsa)?;
    let raw_code = msa.field(1).map(|f| f.raw()).unwrap_or_default();
    let code = AckCode::parse(raw_code).ok_or_else(|| AckReadError::BadCode {
        found: String::from_utf8_lossy(raw_code).into_owned(),
    })?;
    let get = |p: &str| m.get(p).ok().flatten().filter(|v| !v.is_empty());
    let text = get("MSA-3").map(|t| m.decode_text(t));
    let modern = get("ERR-2").is_some() || get("ERR-3").is_some();
    let (error_location, error_code) = if modern {
        (read_location(m, "ERR-2"), parse_num(get("ERR-3.1")))
    } else {
        let code = get("ERR-1.4.1").or(get("MSA-6.1"));
        (read_location(m, "ERR-1"), parse_num(code))
    };
    Ok(AckView {
        code,
        control_id: msa.field(2).map(|f| f.raw()).unwrap_or_default(),
        text,
        error_location,
        error_code: error_code.and_then(|c| u16::try_from(c).ok()),
        severity: get("ERR-4").and_then(Severity::parse),
        diagnostic: get("ERR-7").map(|t| m.decode_text(t)),
    })
}
