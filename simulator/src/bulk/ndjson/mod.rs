//! The typed NDJSON writers of the Bulk hot path.
//!
//! `render::*` builds a `serde_json::Value` (a tree of maps and owned
//! strings) that the export serializes once and drops; most of that time was
//! allocation. Here the same resources are serialized from borrowed,
//! `#[derive(Serialize)]` structs straight into the output buffer, with
//! instants, references and base64 formatted in place (no `String` per
//! field). The bytes must equal the `Value` rendering's: `serde_json`'s `Map`
//! is a `BTreeMap` (no `preserve_order`), so every struct declares its fields
//! in byte order of their JSON names, and the tests compare both renderers
//! record by record.
//!
//! Every chart type has a typed writer ([`TYPED`]); `Provenance`, the
//! practice-level types, and any job whose filters need the JSON tree
//! (`_typeFilter`, granular scopes, `_elements`) go through `Value`.

use std::fmt;
use std::io::Write;

use base64::display::Base64Display;
use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::fhir::render::{
    self, ACT_CODE, CONFIDENTIALITY, OBS_CATEGORY, US_CORE, US_CORE_CATEGORY,
};
use crate::practice::{self, Chart, Coding, Guid, Identifier, ObservationValue, Practice};

mod clinical;
mod people;

/// Types written by this module; every other type goes through `Value`.
pub const TYPED: &[&str] = &[
    "Observation",
    "Encounter",
    "DocumentReference",
    "Appointment",
    "Procedure",
    "DiagnosticReport",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "ServiceRequest",
    "Specimen",
    "Patient",
    "CareTeam",
    "CarePlan",
    "Goal",
    "Coverage",
    "Device",
    "Consent",
];

/// An RFC 3339 instant, formatted on the stack (`render::instant`).
struct Instant(OffsetDateTime);

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        let mut w = &mut buf[..];
        let n = self.0.format_into(&mut w, &Rfc3339).unwrap_or(0);
        s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default())
    }
}

/// Three strings joined, written without a `String` (`format!("{a}{b}{c}")`).
struct Cat<'a>(&'a str, &'a str, &'a str);

impl fmt::Display for Cat<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)?;
        f.write_str(self.1)?;
        f.write_str(self.2)
    }
}

impl Serialize for Cat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Serialize)]
struct Coding3<'a> {
    code: &'a str,
    display: &'a str,
    system: &'a str,
}

impl<'a> From<&'a Coding> for Coding3<'a> {
    fn from(c: &'a Coding) -> Self {
        Coding3 {
            code: &c.code,
            display: &c.display,
            system: c.system,
        }
    }
}

#[derive(Serialize)]
struct Coding2<'a> {
    code: &'a str,
    system: &'a str,
}

#[derive(Serialize)]
struct Concept<'a> {
    coding: [Coding3<'a>; 1],
    text: &'a str,
}

impl<'a> From<&'a Coding> for Concept<'a> {
    fn from(c: &'a Coding) -> Self {
        Concept {
            coding: [c.into()],
            text: &c.display,
        }
    }
}

#[derive(Serialize)]
struct CodeOnly<'a> {
    coding: [Coding2<'a>; 1],
}

fn code_only<'a>(system: &'a str, code: &'a str) -> CodeOnly<'a> {
    CodeOnly {
        coding: [Coding2 { code, system }],
    }
}

/// `{"reference": "Type/id"}` (`render::reference`).
struct Reference<'a>(&'static str, &'a str);

impl Serialize for Reference<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Reference", 1)?;
        m.serialize_field("reference", &Cat(self.0, "/", self.1))?;
        m.end()
    }
}

/// A list of references to `ty`.
struct References<'a>(&'static str, &'a [Guid]);

impl Serialize for References<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.1.len()))?;
        for id in self.1 {
            q.serialize_element(&Reference(self.0, id))?;
        }
        q.end()
    }
}

#[derive(Serialize)]
struct Ident<'a> {
    system: &'a str,
    value: &'a str,
}

/// `render::identifiers`.
struct Idents<'a>(&'a [Identifier]);

impl Serialize for Idents<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0.len()))?;
        for i in self.0 {
            q.serialize_element(&Ident {
                system: i.system,
                value: &i.value,
            })?;
        }
        q.end()
    }
}

fn is_empty(ids: &Idents<'_>) -> bool {
    ids.0.is_empty()
}

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "lastUpdated")]
    last_updated: Instant,
    profile: [Cat<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<[Coding3<'static>; 5]>,
}

/// `render::meta`.
fn meta(last_updated: OffsetDateTime, profile: &str, part2: bool) -> Meta<'_> {
    Meta {
        last_updated: Instant(last_updated),
        profile: [Cat(US_CORE, profile, "")],
        security: part2.then(part2_security),
    }
}

/// `{"lastUpdated": …}` alone (MedicationStatement, Appointment, Consent).
#[derive(Serialize)]
struct MetaUpdated {
    #[serde(rename = "lastUpdated")]
    last_updated: Instant,
}

/// `render::part2_security`, typed.
const PART2: [(&str, &str, &str); 5] = [
    (CONFIDENTIALITY, "R", "restricted"),
    (ACT_CODE, "ETH", "substance abuse information sensitivity"),
    (
        ACT_CODE,
        "SUD",
        "substance use disorder information sensitivity",
    ),
    (ACT_CODE, "42CFRPart2", "42 CFR Part2"),
    (
        ACT_CODE,
        "NORDSCLCD",
        "no redisclosure without consent directive",
    ),
];

fn part2_security() -> [Coding3<'static>; 5] {
    PART2.map(|(system, code, display)| Coding3 {
        code,
        display,
        system,
    })
}

#[derive(Serialize)]
struct Quantity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    value: f64,
}

const UCUM: &str = "http://unitsofmeasure.org";

#[derive(Serialize)]
struct Range<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    high: Option<Quantity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    low: Option<Quantity<'a>>,
    text: &'a str,
}

#[derive(Serialize)]
struct Note<'a> {
    text: &'a str,
}

/// The `value[x]` choice, as four optional fields in name order.
#[derive(Serialize, Default)]
struct Value<'a> {
    #[serde(
        rename = "valueCodeableConcept",
        skip_serializing_if = "Option::is_none"
    )]
    codeable_concept: Option<Concept<'a>>,
    #[serde(rename = "valueInteger", skip_serializing_if = "Option::is_none")]
    integer: Option<i64>,
    #[serde(rename = "valueQuantity", skip_serializing_if = "Option::is_none")]
    quantity: Option<Quantity<'a>>,
    #[serde(rename = "valueString", skip_serializing_if = "Option::is_none")]
    string: Option<&'a str>,
}

impl<'a> Value<'a> {
    fn of(v: &'a ObservationValue) -> Value<'a> {
        let mut out = Value::default();
        match v {
            ObservationValue::Quantity { value, unit, code } => {
                out.quantity = Some(Quantity {
                    code: Some(code),
                    system: Some(UCUM),
                    unit: Some(unit),
                    value: *value,
                });
            }
            ObservationValue::Integer { value } => out.integer = Some(*value),
            ObservationValue::Coded { coding } => out.codeable_concept = Some(coding.into()),
            ObservationValue::Text { text } => out.string = Some(text),
            ObservationValue::None => {}
        }
        out
    }
}

#[derive(Serialize)]
struct Component<'a> {
    code: Concept<'a>,
    #[serde(flatten)]
    value: Value<'a>,
}

/// `render::observation`'s components, mapped while serializing.
struct Components<'a>(&'a [practice::ObservationComponent]);

impl Serialize for Components<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            q.serialize_element(&Component {
                code: (&c.code).into(),
                value: Value::of(&c.value),
            })?;
        }
        q.end()
    }
}

/// `render::observation`, typed; fields in JSON-name byte order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Observation<'a> {
    category: [CodeOnly<'a>; 1],
    code: Concept<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<Components<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_absent_reason: Option<CodeOnly<'static>>,
    effective_date_time: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    identifier: Idents<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interpretation: Option<[Concept<'a>; 1]>,
    issued: Instant,
    meta: Meta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<[Note<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    performer: Option<[Reference<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_range: Option<[Range<'a>; 1]>,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
    #[serde(flatten)]
    value: Value<'a>,
}

/// Write `o` as `render::observation` would serialize it (no newline).
pub fn write_observation(
    out: &mut impl Write,
    o: &practice::Observation,
) -> serde_json::Result<()> {
    let unit = match &o.value {
        ObservationValue::Quantity { unit, code, .. } => Some((&**unit, &**code)),
        _ => None,
    };
    let q = |x: f64| Quantity {
        code: unit.map(|u| u.1),
        system: unit.map(|_| UCUM),
        unit: unit.map(|u| u.0),
        value: x,
    };
    let value = Value::of(&o.value);
    let absent = matches!(o.value, ObservationValue::None) && o.components.is_empty();
    let obs = Observation {
        category: [code_only(OBS_CATEGORY, render::category_code(o.category))],
        code: (&o.code).into(),
        component: (!o.components.is_empty()).then_some(Components(&o.components)),
        data_absent_reason: absent.then_some(code_only(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "unknown",
        )),
        effective_date_time: Instant(o.effective),
        encounter: o.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: o.id.as_str(),
        identifier: Idents(&o.identifiers),
        interpretation: o.interpretation.as_ref().map(|i| [i.into()]),
        issued: Instant(o.last_updated),
        meta: meta(o.last_updated, render::obs_profile(o), o.part2.is_some()),
        note: o.note.as_deref().map(|text| [Note { text }]),
        performer: o
            .performer_id
            .as_ref()
            .map(|p| [Reference("Practitioner", p)]),
        reference_range: o.reference_range.as_ref().map(|r| {
            [Range {
                high: r.high.map(q),
                low: r.low.map(q),
                text: &r.text,
            }]
        }),
        resource_type: "Observation",
        status: o.status,
        subject: Reference("Patient", &o.patient_id),
        value,
    };
    serde_json::to_writer(out, &obs)
}

/// `render::sdoh_observations`, typed: one SDOH screening answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sdoh<'a> {
    category: [CodeOnly<'a>; 2],
    code: Concept<'a>,
    effective_date_time: Instant,
    id: Cat<'a>,
    interpretation: [CodeOnly<'a>; 1],
    meta: Meta<'a>,
    resource_type: &'static str,
    status: &'static str,
    subject: Reference<'a>,
    value_codeable_concept: Concept<'a>,
}

/// Write SDOH answer `n` of `pt` as `render::sdoh_observations` would.
fn write_sdoh(
    out: &mut impl Write,
    pt: &practice::Patient,
    n: usize,
    a: &practice::SdohAnswer,
) -> serde_json::Result<()> {
    let num = itoa_buf(n);
    let n = num.as_str();
    let v = Sdoh {
        category: [
            code_only(OBS_CATEGORY, "survey"),
            code_only(US_CORE_CATEGORY, "sdoh"),
        ],
        code: (&a.question).into(),
        effective_date_time: Instant(pt.last_updated),
        id: Cat(&pt.id, "-sdoh-", n),
        interpretation: [code_only(
            "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            if a.positive { "POS" } else { "NEG" },
        )],
        meta: meta(
            pt.last_updated,
            "us-core-observation-screening-assessment",
            false,
        ),
        resource_type: "Observation",
        status: "final",
        subject: Reference("Patient", &pt.id),
        value_codeable_concept: (&a.answer).into(),
    };
    serde_json::to_writer(out, &v)
}

/// A small decimal number on the stack.
struct Num {
    buf: [u8; 20],
    len: usize,
}

impl Num {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn itoa_buf(n: usize) -> Num {
    let mut buf = [0u8; 20];
    let mut w = &mut buf[..];
    let _ = write!(w, "{n}");
    let len = 20 - w.len();
    Num { buf, len }
}

/// The id of a practice's Organization, borrowed (`render::org_id`).
fn org_id<'p>(p: &'p Practice, practice_id: &str) -> &'p str {
    p.practice_site(practice_id)
        .map_or_else(|| p.enterprise().guid.as_str(), |s| s.guid.as_str())
}

/// `{"individual": …}`, `{"location": …}`, `{"actor": …}` wrappers.
#[derive(Serialize)]
struct Individual<'a> {
    individual: Reference<'a>,
}

#[derive(Serialize)]
struct AtLocation<'a> {
    location: Reference<'a>,
}

#[derive(Serialize)]
struct Actor<'a> {
    actor: Reference<'a>,
}

#[derive(Serialize)]
struct Period {
    end: Instant,
    start: Instant,
}

#[derive(Serialize)]
struct Start {
    start: Instant,
}

/// `render::narrative`: the text XML-escaped inside an XHTML `div`.
struct Div<'a>(&'a str);

impl fmt::Display for Div<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<div xmlns=\"http://www.w3.org/1999/xhtml\">")?;
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                _ => "&gt;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)?;
        f.write_str("</div>")
    }
}

impl Serialize for Div<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Serialize)]
struct Narrative<'a> {
    div: Div<'a>,
    status: &'static str,
}

/// `render::encounter`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Encounter<'a> {
    class: Coding3<'a>,
    id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    identifier: Idents<'a>,
    location: [AtLocation<'a>; 1],
    meta: Meta<'a>,
    participant: [Individual<'a>; 1],
    period: Period,
    reason_code: [Concept<'a>; 1],
    resource_type: &'static str,
    service_provider: Reference<'a>,
    status: &'a str,
    subject: Reference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Narrative<'a>>,
    #[serde(rename = "type")]
    ty: [Concept<'a>; 2],
}

/// Write `e` as `render::encounter` would serialize it (no newline).
pub fn write_encounter(
    out: &mut impl Write,
    p: &Practice,
    e: &practice::Encounter,
) -> serde_json::Result<()> {
    let v = Encounter {
        class: (&e.class).into(),
        id: e.id.as_str(),
        identifier: Idents(&e.identifiers),
        location: [AtLocation {
            location: Reference("Location", &e.location_id),
        }],
        meta: meta(e.last_updated, "us-core-encounter", e.part2.is_some()),
        participant: [Individual {
            individual: Reference("Practitioner", &e.practitioner_id),
        }],
        period: Period {
            end: Instant(e.end),
            start: Instant(e.start),
        },
        reason_code: [(&e.reason).into()],
        resource_type: "Encounter",
        service_provider: Reference("Organization", org_id(p, &e.practice_id)),
        status: e.status,
        subject: Reference("Patient", &e.patient_id),
        text: e.text.as_deref().map(|t| Narrative {
            div: Div(t),
            status: "generated",
        }),
        ty: [(&e.encounter_type).into(), (&e.cpt).into()],
    };
    serde_json::to_writer(out, &v)
}

/// `DocumentReference.identifier`: the `urn:uuid:` of the id, then the record's.
struct DocIds<'a>(&'a str, &'a [Identifier]);

#[derive(Serialize)]
struct UuidIdent<'a> {
    system: &'static str,
    value: Cat<'a>,
}

impl Serialize for DocIds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(1 + self.1.len()))?;
        q.serialize_element(&UuidIdent {
            system: "urn:ietf:rfc:3986",
            value: Cat("urn:uuid:", self.0, ""),
        })?;
        for i in self.1 {
            q.serialize_element(&Ident {
                system: i.system,
                value: &i.value,
            })?;
        }
        q.end()
    }
}

/// Base64 of the text, encoded while serializing.
struct B64<'a>(&'a [u8]);

impl Serialize for B64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Base64Display::new(
            self.0,
            &base64::engine::general_purpose::STANDARD,
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attachment<'a> {
    content_type: &'a str,
    data: B64<'a>,
    title: &'a str,
}

#[derive(Serialize)]
struct Content<'a> {
    attachment: Attachment<'a>,
    format: Coding2<'static>,
}

#[derive(Serialize)]
struct DocContext<'a> {
    encounter: [Reference<'a>; 1],
    period: Start,
}

/// `render::document`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    author: [Reference<'a>; 1],
    category: [Concept2<'static>; 1],
    content: [Content<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<DocContext<'a>>,
    date: Instant,
    id: &'a str,
    identifier: DocIds<'a>,
    meta: Meta<'a>,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
    #[serde(rename = "type")]
    ty: Concept<'a>,
}

/// A `CodeableConcept` of one full coding and no text.
#[derive(Serialize)]
struct Concept2<'a> {
    coding: [Coding3<'a>; 1],
}

/// Write `d` as `render::document` would serialize it (no newline).
pub fn write_document(out: &mut impl Write, d: &practice::Document) -> serde_json::Result<()> {
    let v = Document {
        author: [Reference("Practitioner", &d.author_id)],
        category: [Concept2 {
            coding: [Coding3 {
                code: "clinical-note",
                display: "Clinical Note",
                system: US_CORE_CATEGORY,
            }],
        }],
        content: [Content {
            attachment: Attachment {
                content_type: d.mime_type,
                data: B64(d.text.as_bytes()),
                title: d.title,
            },
            format: Coding2 {
                code: "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                system: "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
            },
        }],
        context: d.encounter_id.as_ref().map(|e| DocContext {
            encounter: [Reference("Encounter", e)],
            period: Start {
                start: Instant(d.date),
            },
        }),
        date: Instant(d.date),
        id: d.id.as_str(),
        identifier: DocIds(&d.id, &d.identifiers),
        meta: meta(
            d.last_updated,
            "us-core-documentreference",
            d.part2.is_some(),
        ),
        resource_type: "DocumentReference",
        status: d.status,
        subject: Reference("Patient", &d.patient_id),
        ty: (&d.doc_type).into(),
    };
    serde_json::to_writer(out, &v)
}

/// An appointment's wall-clock time on its day (`render::appointment`).
struct At(Date, practice::ClockTime);

impl Serialize for At {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "{}T{:02}:{:02}:00Z",
            self.0,
            self.1.0 / 60,
            self.1.0 % 60
        ))
    }
}

#[derive(Serialize)]
struct Participant<'a> {
    actor: Reference<'a>,
    status: &'static str,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

/// `render::appointment`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Appointment<'a> {
    end: At,
    id: &'a str,
    meta: MetaUpdated,
    minutes_duration: u16,
    participant: [Participant<'a>; 3],
    resource_type: &'static str,
    service_type: [Text<'a>; 1],
    start: At,
    status: &'static str,
}

/// Write `a` as `render::appointment` would serialize it (no newline).
pub fn write_appointment(
    out: &mut impl Write,
    a: &practice::Appointment,
) -> serde_json::Result<()> {
    let accepted = |actor| Participant {
        actor,
        status: "accepted",
    };
    let v = Appointment {
        end: At(a.appointment_date, a.end_time),
        id: a.id.as_str(),
        meta: MetaUpdated {
            last_updated: Instant(a.last_updated),
        },
        minutes_duration: a.duration_minutes,
        participant: [
            accepted(Reference("Patient", &a.patient_id)),
            accepted(Reference("Practitioner", &a.rendering_provider_id)),
            accepted(Reference("Location", &a.location_id)),
        ],
        resource_type: "Appointment",
        service_type: [Text {
            text: &a.event_name,
        }],
        start: At(a.appointment_date, a.begin_time),
        // FHIR has no "rescheduled": the original slot is cancelled.
        status: match a.status() {
            "rescheduled" => "cancelled",
            s => s,
        },
    };
    serde_json::to_writer(out, &v)
}

#[derive(Serialize)]
struct ProcCode<'a> {
    coding: [Coding3<'a>; 2],
    text: &'a str,
}

/// `render::procedure`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Procedure<'a> {
    code: ProcCode<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    meta: Meta<'a>,
    performed_date_time: Instant,
    performer: [Actor<'a>; 1],
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
}

/// Write `pr` as `render::procedure` would serialize it (no newline).
pub fn write_procedure(out: &mut impl Write, pr: &practice::Procedure) -> serde_json::Result<()> {
    let v = Procedure {
        code: ProcCode {
            coding: [(&pr.cpt).into(), (&pr.snomed).into()],
            text: &pr.snomed.display,
        },
        encounter: pr.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: pr.id.as_str(),
        meta: meta(pr.last_updated, "us-core-procedure", false),
        performed_date_time: Instant(pr.performed),
        performer: [Actor {
            actor: Reference("Practitioner", &pr.performer_id),
        }],
        resource_type: "Procedure",
        status: pr.status,
        subject: Reference("Patient", &pr.patient_id),
    };
    serde_json::to_writer(out, &v)
}

/// `render::diagnostic_report`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiagnosticReport<'a> {
    category: [Concept2<'static>; 1],
    code: Concept<'a>,
    effective_date_time: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    identifier: [Ident<'a>; 1],
    issued: Instant,
    meta: Meta<'a>,
    performer: [Reference<'a>; 1],
    resource_type: &'static str,
    result: References<'a>,
    status: &'a str,
    subject: Reference<'a>,
}

/// Write `l` as `render::diagnostic_report` would serialize it (no newline).
pub fn write_diagnostic_report(
    out: &mut impl Write,
    l: &practice::LabPanel,
) -> serde_json::Result<()> {
    let v = DiagnosticReport {
        category: [Concept2 {
            coding: [Coding3 {
                code: "LAB",
                display: "Laboratory",
                system: "http://terminology.hl7.org/CodeSystem/v2-0074",
            }],
        }],
        code: (&l.code).into(),
        effective_date_time: Instant(l.effective),
        encounter: l.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: l.id.as_str(),
        identifier: [Ident {
            system: "urn:ngsim:accession",
            value: &l.accession,
        }],
        issued: Instant(l.issued),
        meta: meta(
            l.last_updated,
            "us-core-diagnosticreport-lab",
            l.part2.is_some(),
        ),
        performer: [Reference("Practitioner", &l.performer_id)],
        resource_type: "DiagnosticReport",
        result: References("Observation", &l.result_ids),
        status: l.status,
        subject: Reference("Patient", &l.patient_id),
    };
    serde_json::to_writer(out, &v)
}

/// Calls `f(last_updated, part2)` for every resource of typed type `ty` in
/// chart `c`, in `render_type` order. Returns `false` for an untyped type.
pub fn each_record(c: &Chart, ty: &str, mut f: impl FnMut(OffsetDateTime, bool)) -> bool {
    match ty {
        "Observation" => {
            c.observations
                .iter()
                .for_each(|o| f(o.last_updated, o.part2.is_some()));
            c.patient
                .sdoh
                .iter()
                .for_each(|_| f(c.patient.last_updated, false));
        }
        "Encounter" => c
            .encounters
            .iter()
            .for_each(|e| f(e.last_updated, e.part2.is_some())),
        "DocumentReference" => c
            .documents
            .iter()
            .for_each(|d| f(d.last_updated, d.part2.is_some())),
        "Appointment" => c.appointments.iter().for_each(|a| f(a.last_updated, false)),
        "Procedure" => c.procedures.iter().for_each(|p| f(p.last_updated, false)),
        "DiagnosticReport" => c
            .lab_panels
            .iter()
            .for_each(|l| f(l.last_updated, l.part2.is_some())),
        _ => return clinical::each_record(c, ty, &mut f) || people::each_record(c, ty, &mut f),
    }
    true
}

/// End the line just written to `out` and record where it ends; a failed
/// write (only a failing serializer fails on a `Vec`) drops the partial line.
fn end_line(out: &mut Vec<u8>, ends: &mut Vec<usize>, r: serde_json::Result<()>) {
    match r {
        Ok(()) => {
            out.push(b'\n');
            ends.push(out.len());
        }
        Err(_) => out.truncate(ends.last().copied().unwrap_or(0)),
    }
}

/// One line per record of `records` whose `(last_updated, part2)`, from
/// `key`, `keep` accepts.
fn lines<'c, T: 'c>(
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    records: impl IntoIterator<Item = &'c T>,
    key: impl Fn(&T) -> (OffsetDateTime, bool),
    keep: &impl Fn(OffsetDateTime, bool) -> bool,
    write: impl Fn(&mut Vec<u8>, &T) -> serde_json::Result<()>,
) {
    for x in records {
        let (updated, part2) = key(x);
        if keep(updated, part2) {
            let r = write(out, x);
            end_line(out, ends, r);
        }
    }
}

/// Append one NDJSON line per resource of typed type `ty` in chart `c` that
/// `keep(last_updated, part2)` accepts, in `render_type` order, pushing each
/// line's end offset to `ends`. Returns `false` for an untyped type.
pub fn write_lines(
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    p: &Practice,
    c: &Chart,
    ty: &str,
    keep: impl Fn(OffsetDateTime, bool) -> bool,
) -> bool {
    match ty {
        "Observation" => {
            lines(
                out,
                ends,
                &c.observations,
                |o| (o.last_updated, o.part2.is_some()),
                &keep,
                write_observation,
            );
            let pt = &c.patient;
            for (n, a) in pt.sdoh.iter().enumerate() {
                if keep(pt.last_updated, false) {
                    let r = write_sdoh(out, pt, n, a);
                    end_line(out, ends, r);
                }
            }
        }
        "Encounter" => lines(
            out,
            ends,
            &c.encounters,
            |e| (e.last_updated, e.part2.is_some()),
            &keep,
            |o, e| write_encounter(o, p, e),
        ),
        "DocumentReference" => lines(
            out,
            ends,
            &c.documents,
            |d| (d.last_updated, d.part2.is_some()),
            &keep,
            write_document,
        ),
        "Appointment" => lines(
            out,
            ends,
            &c.appointments,
            |a| (a.last_updated, false),
            &keep,
            write_appointment,
        ),
        "Procedure" => lines(
            out,
            ends,
            &c.procedures,
            |pr| (pr.last_updated, false),
            &keep,
            write_procedure,
        ),
        "DiagnosticReport" => lines(
            out,
            ends,
            &c.lab_panels,
            |l| (l.last_updated, l.part2.is_some()),
            &keep,
            write_diagnostic_report,
        ),
        _ => {
            return clinical::write_lines(out, ends, c, ty, &keep)
                || people::write_lines(out, ends, p, c, ty, &keep);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::job::render_type;
    use crate::practice::PracticeConfig;

    /// Every typed writer, record by record, against `render_type`'s `Value`
    /// rendering serialized: the bytes must be identical.
    #[test]
    fn typed_bytes_equal_the_value_rendering() {
        let p = Practice::new(PracticeConfig {
            patients: 400,
            ..PracticeConfig::default()
        });
        let mut counts = std::collections::BTreeMap::new();
        let (mut buf, mut ends) = (Vec::new(), Vec::new());
        for i in p.patient_indices() {
            let c = p.chart(i).unwrap();
            for ty in TYPED {
                buf.clear();
                ends.clear();
                assert!(write_lines(&mut buf, &mut ends, &p, &c, ty, |_, _| true));
                let want = render_type(&p, &c, ty);
                assert_eq!(ends.len(), want.len(), "{ty} of patient {i:?}");
                let mut from = 0;
                for (end, v) in ends.iter().zip(&want) {
                    let want = serde_json::to_string(v).unwrap() + "\n";
                    assert_eq!(
                        String::from_utf8_lossy(&buf[from..*end]),
                        want,
                        "{ty} {}",
                        v["id"]
                    );
                    from = *end;
                }
                let mut n = 0;
                assert!(each_record(&c, ty, |_, _| n += 1));
                assert_eq!(n, want.len(), "{ty} records of patient {i:?}");
                *counts.entry(*ty).or_insert(0) += n;
            }
        }
        for ty in TYPED {
            // Implanted devices and Part 2 consents are rare (about 20 and
            // 13 in 400 patients): their floor is lower, not absent.
            let floor = match *ty {
                "Device" | "Consent" => 5,
                _ => 100,
            };
            assert!(counts[ty] >= floor, "{ty}: only {} compared", counts[ty]);
        }
        let c = p.chart(crate::practice::PatientIndex(0)).unwrap();
        assert!(!write_lines(
            &mut buf,
            &mut ends,
            &p,
            &c,
            "Provenance",
            |_, _| true
        ));
        assert!(!each_record(&c, "Provenance", |_, _| {}));
    }

    /// `Div` escapes as `render::narrative` does (its `replace` chain).
    #[test]
    fn narrative_div_escapes_like_the_value_rendering() {
        for text in [
            "plain",
            "a & b < c > d \"q\" \\ é",
            "&&<<>>",
            "x\n\"y\"",
            "",
        ] {
            let esc = text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            let want = format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{esc}</div>");
            assert_eq!(Div(text).to_string(), want);
            assert_eq!(
                serde_json::to_vec(&Div(text)).unwrap(),
                serde_json::to_vec(&want).unwrap()
            );
        }
        assert_eq!(itoa_buf(1234).as_str(), "1234");
    }
}
