//! The typed NDJSON writer of the Bulk hot path.
//!
//! `render::observation` builds a `serde_json::Value` (a tree of maps and
//! owned strings) that the export serializes once and drops; most of that
//! time was allocation. Here the same resource is serialized from borrowed,
//! `#[derive(Serialize)]` structs straight into the output buffer. The bytes
//! must equal the `Value` rendering's: `serde_json`'s `Map` is a `BTreeMap`
//! (no `preserve_order`), so every struct declares its fields in byte order
//! of their JSON names, and the tests compare both renderers record by record.
//!
//! Only Observation (the bulk of every export's bytes) has a typed writer;
//! other types, and any job whose filters need the JSON tree (`_typeFilter`,
//! granular scopes, `_elements`), go through `Value`.

use std::io::Write;

use serde::Serialize;

use crate::fhir::render::{self, ACT_CODE, CONFIDENTIALITY, OBS_CATEGORY, US_CORE};
use crate::practice::{self, Coding, ObservationValue};

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

#[derive(Serialize)]
struct Reference {
    reference: String,
}

fn reference(ty: &str, id: &str) -> Reference {
    Reference {
        reference: format!("{ty}/{id}"),
    }
}

#[derive(Serialize)]
struct Ident<'a> {
    system: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct Meta {
    #[serde(rename = "lastUpdated")]
    last_updated: String,
    profile: [String; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<[Coding3<'static>; 5]>,
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

/// `render::observation`, typed; fields in JSON-name byte order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Observation<'a> {
    category: [CodeOnly<'a>; 1],
    code: Concept<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component: Vec<Component<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_absent_reason: Option<CodeOnly<'static>>,
    effective_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference>,
    id: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identifier: Vec<Ident<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interpretation: Option<[Concept<'a>; 1]>,
    issued: String,
    meta: Meta,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<[Note<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    performer: Option<[Reference; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_range: Option<[Range<'a>; 1]>,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference,
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
        category: [CodeOnly {
            coding: [Coding2 {
                code: render::category_code(o.category),
                system: OBS_CATEGORY,
            }],
        }],
        code: (&o.code).into(),
        component: o
            .components
            .iter()
            .map(|c| Component {
                code: (&c.code).into(),
                value: Value::of(&c.value),
            })
            .collect(),
        data_absent_reason: absent.then_some(CodeOnly {
            coding: [Coding2 {
                code: "unknown",
                system: "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            }],
        }),
        effective_date_time: render::instant(o.effective),
        encounter: o.encounter_id.as_ref().map(|e| reference("Encounter", e)),
        id: o.id.as_str(),
        identifier: o
            .identifiers
            .iter()
            .map(|i| Ident {
                system: i.system,
                value: &i.value,
            })
            .collect(),
        interpretation: o.interpretation.as_ref().map(|i| [i.into()]),
        issued: render::instant(o.last_updated),
        meta: Meta {
            last_updated: render::instant(o.last_updated),
            profile: [format!("{US_CORE}{}", render::obs_profile(o))],
            security: o.part2.as_ref().map(|_| part2_security()),
        },
        note: o.note.as_deref().map(|text| [Note { text }]),
        performer: o
            .performer_id
            .as_ref()
            .map(|p| [reference("Practitioner", p)]),
        reference_range: o.reference_range.as_ref().map(|r| {
            [Range {
                high: r.high.map(q),
                low: r.low.map(q),
                text: &r.text,
            }]
        }),
        resource_type: "Observation",
        status: o.status,
        subject: reference("Patient", &o.patient_id),
        value,
    };
    serde_json::to_writer(out, &obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::practice::{Practice, PracticeConfig};

    #[test]
    fn typed_observation_bytes_equal_the_value_rendering() {
        let p = Practice::new(PracticeConfig {
            patients: 400,
            ..PracticeConfig::default()
        });
        let mut n = 0;
        let mut buf = Vec::new();
        for i in p.patient_indices() {
            let c = p.chart(i).unwrap();
            for o in &c.observations {
                buf.clear();
                write_observation(&mut buf, o).unwrap();
                let want = serde_json::to_vec(&render::observation(o)).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&buf),
                    String::from_utf8_lossy(&want),
                    "observation {}",
                    o.id.as_str()
                );
                n += 1;
            }
        }
        assert!(n > 1000, "{n} observations compared");
    }
}
