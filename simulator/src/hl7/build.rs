//! The owned message model and its builder.
//!
//! A [`MessageBuilder`] holds segments as nested vectors of raw (already
//! escaped) subcomponents. Setters escape plain values; `set_raw` splits an
//! already-encoded value on the delimiters of the level it is written to.
//! The model is canonical (every field has at least one repetition, every
//! repetition one component, every component one subcomponent), so
//! `MessageBuilder::from_message(&Message::parse(&b.encode())?) == b`.

use std::borrow::Cow;

use super::delim::Delimiters;
use super::error::PathError;
use super::escape::{self, Charset};
use super::parse::{Field, Message};
use super::path::Path;

type Component = Vec<Vec<u8>>;
type Repetition = Vec<Component>;
type FieldValue = Vec<Repetition>;

fn empty_field() -> FieldValue {
    vec![vec![vec![Vec::new()]]]
}

/// One segment under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentBuilder {
    id: [u8; 3],
    /// Field `n` lives at `fields[n - first_field]` (MSH starts at MSH-3).
    fields: Vec<FieldValue>,
}

/// Where to write inside a segment (all 1-based).
#[derive(Debug, Clone, Copy)]
struct Slot {
    field: usize,
    repetition: Option<usize>,
    component: Option<usize>,
    subcomponent: Option<usize>,
}

impl From<&Path> for Slot {
    fn from(p: &Path) -> Self {
        Self {
            field: p.field,
            repetition: p.repetition,
            component: p.component,
            subcomponent: p.subcomponent,
        }
    }
}

fn grow<T>(v: &mut Vec<T>, n: usize, fill: impl Fn() -> T) -> &mut T {
    while v.len() < n {
        v.push(fill());
    }
    &mut v[n - 1]
}

fn split_level(raw: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    raw.split(move |b| *b == sep)
}

fn split_component(raw: &[u8], d: &Delimiters) -> Component {
    split_level(raw, d.subcomponent)
        .map(<[u8]>::to_vec)
        .collect()
}

fn split_repetition(raw: &[u8], d: &Delimiters) -> Repetition {
    split_level(raw, d.component)
        .map(|c| split_component(c, d))
        .collect()
}

fn split_field(raw: &[u8], d: &Delimiters) -> FieldValue {
    split_level(raw, d.repetition)
        .map(|r| split_repetition(r, d))
        .collect()
}

impl SegmentBuilder {
    /// A segment with no fields. `id` must be 3 upper-case letters or digits.
    pub fn new(id: &str) -> Result<Self, PathError> {
        let id: [u8; 3] = id
            .as_bytes()
            .try_into()
            .ok()
            .filter(|id: &[u8; 3]| {
                id.iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            })
            .ok_or(PathError::BadSegment { offset: 0 })?;
        Ok(Self {
            id,
            fields: Vec::new(),
        })
    }

    /// The segment id.
    pub fn id(&self) -> &[u8; 3] {
        &self.id
    }

    fn first_field(&self) -> usize {
        if &self.id == b"MSH" { 3 } else { 1 }
    }

    /// Number of fields present (for MSH, not counting MSH-1/MSH-2).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when no field is present.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The raw fields, `[repetition][component][subcomponent]`, starting at
    /// field 1 (MSH-3 for MSH).
    pub fn fields(&self) -> &[Vec<Vec<Vec<Vec<u8>>>>] {
        &self.fields
    }

    fn write(&mut self, slot: Slot, raw: &[u8], d: &Delimiters) -> Result<(), PathError> {
        let first = self.first_field();
        if slot.field < first {
            return Err(PathError::ReadOnly {
                path: format!("MSH-{}", slot.field),
            });
        }
        let field = grow(&mut self.fields, slot.field + 1 - first, empty_field);
        let (Some(c), r) = (slot.component, slot.repetition) else {
            match slot.repetition {
                None => *field = split_field(raw, d),
                Some(r) => *grow(field, r, || vec![vec![Vec::new()]]) = split_repetition(raw, d),
            }
            return Ok(());
        };
        let rep = grow(field, r.unwrap_or(1), || vec![vec![Vec::new()]]);
        let comp = grow(rep, c, || vec![Vec::new()]);
        match slot.subcomponent {
            None => *comp = split_component(raw, d),
            Some(s) => *grow(comp, s, Vec::new) = raw.to_vec(),
        }
        Ok(())
    }

    fn write_value(&mut self, slot: Slot, value: &[u8], d: &Delimiters) -> Result<(), PathError> {
        self.write(slot, &escape::escape(value, d), d)
    }

    fn slot(&self, spec: &str) -> Result<Slot, PathError> {
        let id = std::str::from_utf8(&self.id).unwrap_or("ZZZ");
        Path::parse(&format!("{id}-{spec}")).map(|p| Slot::from(&p))
    }

    /// Sets a plain value (escaped with the default delimiters) at a
    /// field-relative path such as `5.1` or `3[2].4`.
    pub fn set(mut self, spec: &str, value: &str) -> Result<Self, PathError> {
        let slot = self.slot(spec)?;
        self.write_value(slot, value.as_bytes(), &Delimiters::default())?;
        Ok(self)
    }

    /// Sets an already-encoded value (default delimiters) at a field-relative
    /// path, splitting it into repetitions/components/subcomponents.
    pub fn set_raw(mut self, spec: &str, raw: &str) -> Result<Self, PathError> {
        let slot = self.slot(spec)?;
        self.write(slot, raw.as_bytes(), &Delimiters::default())?;
        Ok(self)
    }

    /// Appends a field (already encoded, default delimiters) after the last one.
    pub fn push_raw(mut self, raw: &str) -> Self {
        self.fields
            .push(split_field(raw.as_bytes(), &Delimiters::default()));
        self
    }

    fn from_fields<'a>(
        id: [u8; 3],
        fields: impl Iterator<Item = Field<'a>>,
        d: &Delimiters,
    ) -> Self {
        let fields = fields.map(|f| split_field(f.raw(), d)).collect();
        Self { id, fields }
    }
}

fn reencode(mut segment: SegmentBuilder, from: &Delimiters, to: &Delimiters) -> SegmentBuilder {
    if from != to {
        let subs = segment.fields.iter_mut().flatten().flatten().flatten();
        for sub in subs {
            let plain = escape::decode(sub, from).into_owned();
            *sub = escape::escape(&plain, to).into_owned();
        }
    }
    segment
}

/// A message under construction: the delimiters plus segments, MSH first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBuilder {
    delims: Delimiters,
    segments: Vec<SegmentBuilder>,
}

impl Default for MessageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageBuilder {
    /// A message with the default delimiters and an empty MSH segment.
    pub fn new() -> Self {
        Self::with_delimiters(Delimiters::default())
    }

    /// A message with the given delimiters and an empty MSH segment.
    pub fn with_delimiters(delims: Delimiters) -> Self {
        Self {
            delims,
            segments: vec![SegmentBuilder {
                id: *b"MSH",
                fields: Vec::new(),
            }],
        }
    }

    /// Copies a parsed message into an owned model (raw values kept as is,
    /// except that a message whose MSH-18 is `8859/1` is mapped from Latin-1
    /// to the model's UTF-8; [`MessageBuilder::encode`] maps it back).
    pub fn from_message(message: &Message<'_>) -> Self {
        let delims = *message.delimiters();
        let latin1 = message.charset() == Charset::Latin1;
        let segments = message
            .segments()
            .map(|s| {
                let id = s.id().try_into().unwrap_or(*b"ZZZ");
                let skip = if &id == b"MSH" { 2 } else { 0 };
                let mut seg = SegmentBuilder::from_fields(id, s.fields().skip(skip), &delims);
                if latin1 {
                    for sub in seg.fields.iter_mut().flatten().flatten().flatten() {
                        if let Cow::Owned(utf8) = escape::latin1_to_utf8(sub) {
                            *sub = utf8;
                        }
                    }
                }
                seg
            })
            .collect();
        Self { delims, segments }
    }

    /// The character set MSH-18 names (its first component); ASCII when
    /// absent. It decides how [`MessageBuilder::encode`] writes text.
    ///
    /// The component is read whole, subcomponent delimiters included, as
    /// [`Message::charset`] reads the raw bytes: with `/` as the subcomponent
    /// delimiter, an unescaped `8859/1` must name Latin-1 on both sides, or
    /// a re-encoded message would be read in another character set.
    pub fn charset(&self) -> Charset {
        let Some(component) = self
            .segments
            .first()
            .and_then(|msh| msh.fields.get(18 - msh.first_field()))
            .and_then(|f| f.first()?.first())
        else {
            return Charset::from_msh18(b"");
        };
        match component.as_slice() {
            [] => Charset::from_msh18(b""),
            [one] => Charset::from_msh18(one),
            subs => Charset::from_msh18(&subs.join(&self.delims.subcomponent)),
        }
    }

    /// The delimiters.
    pub fn delimiters(&self) -> &Delimiters {
        &self.delims
    }

    /// The segments, MSH first.
    pub fn segments(&self) -> &[SegmentBuilder] {
        &self.segments
    }

    /// Appends a segment built with [`SegmentBuilder`]. Its values were
    /// encoded with the default delimiters; they are re-encoded if this
    /// message uses others.
    pub fn push(&mut self, segment: SegmentBuilder) -> &mut Self {
        let segment = self.reencode(segment);
        self.segments.push(segment);
        self
    }

    fn reencode(&self, segment: SegmentBuilder) -> SegmentBuilder {
        reencode(segment, &Delimiters::default(), &self.delims)
    }

    /// The same message with other delimiters: every value is decoded and
    /// re-escaped, so the decoded content is unchanged.
    pub fn redelimit(&self, delims: Delimiters) -> MessageBuilder {
        let segments = self
            .segments
            .iter()
            .map(|s| reencode(s.clone(), &self.delims, &delims))
            .collect();
        Self { delims, segments }
    }

    fn locate(&mut self, path: &Path) -> &mut SegmentBuilder {
        let id = path.segment;
        let mut seen = 0;
        let found = self.segments.iter().position(|s| {
            seen += usize::from(s.id == id);
            s.id == id && seen == path.occurrence
        });
        let index = found.unwrap_or_else(|| {
            for _ in seen..path.occurrence {
                self.segments.push(SegmentBuilder {
                    id,
                    fields: Vec::new(),
                });
            }
            self.segments.len() - 1
        });
        &mut self.segments[index]
    }

    /// Sets a plain value at a path (e.g. `PID-5.1`), escaping it. A missing
    /// segment occurrence is appended.
    pub fn set(&mut self, path: &str, value: &str) -> Result<&mut Self, PathError> {
        self.set_bytes(path, value.as_bytes())
    }

    /// Like [`MessageBuilder::set`] for a byte value.
    pub fn set_bytes(&mut self, path: &str, value: &[u8]) -> Result<&mut Self, PathError> {
        let path = Path::parse(path)?;
        let d = self.delims;
        self.locate(&path)
            .write_value(Slot::from(&path), value, &d)?;
        Ok(self)
    }

    /// Sets an already-encoded value at a path, splitting it on this
    /// message's delimiters (`set_raw("PID-3", "1^^^NextGen^MRN")`).
    pub fn set_raw(&mut self, path: &str, raw: &[u8]) -> Result<&mut Self, PathError> {
        let path = Path::parse(path)?;
        let d = self.delims;
        self.locate(&path).write(Slot::from(&path), raw, &d)?;
        Ok(self)
    }
}
