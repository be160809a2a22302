//! Typed NDJSON writers for the problem-list, medication, allergy,
//! immunization and lab-order types (see the parent module for the rules:
//! fields in byte order of their JSON names, bytes equal to `render::*`).

use std::io::Write;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use time::{Date, OffsetDateTime};

use super::{
    Actor, Cat, CodeOnly, Coding3, Concept, Concept2, Ident, Idents, Instant, Meta, Note,
    Reference, Text, code_only, is_empty, lines, meta, part2_security,
};
use crate::practice::{self, Chart, Coding};

/// A calendar date (`render::date`), formatted while serializing.
struct Day(Date);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// `{"reference": "<a><b><c>"}` for ids derived from another record's.
#[derive(Serialize)]
struct RefTo<'a> {
    reference: Cat<'a>,
}

/// The codings of a Condition that have a code (ICD-10, then SNOMED).
struct Codes<'a>([&'a Coding; 2]);

impl Serialize for Codes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(None)?;
        for c in self.0.iter().filter(|c| !c.code.is_empty()) {
            q.serialize_element(&Coding3::from(*c))?;
        }
        q.end()
    }
}

#[derive(Serialize)]
struct ConditionCode<'a> {
    coding: Codes<'a>,
    text: &'a str,
}

/// `render::condition`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Condition<'a> {
    asserter: Reference<'a>,
    category: [CodeOnly<'a>; 1],
    clinical_status: CodeOnly<'a>,
    code: ConditionCode<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    identifier: Idents<'a>,
    meta: Meta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<[Note<'a>; 1]>,
    onset_date_time: Day,
    recorded_date: Day,
    resource_type: &'static str,
    subject: Reference<'a>,
    verification_status: CodeOnly<'a>,
}

/// Write `c` as `render::condition` would serialize it (no newline).
pub fn write_condition(out: &mut impl Write, c: &practice::Condition) -> serde_json::Result<()> {
    let profile = if c.category == "encounter-diagnosis" {
        "us-core-condition-encounter-diagnosis"
    } else {
        "us-core-condition-problems-health-concerns"
    };
    let v = Condition {
        asserter: Reference("Practitioner", &c.asserter_id),
        category: [code_only(
            "http://terminology.hl7.org/CodeSystem/condition-category",
            c.category,
        )],
        clinical_status: code_only(
            "http://terminology.hl7.org/CodeSystem/condition-clinical",
            c.clinical_status,
        ),
        code: ConditionCode {
            coding: Codes([&c.icd10, &c.snomed]),
            text: &c.icd10.display,
        },
        encounter: c.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: c.id.as_str(),
        identifier: Idents(&c.identifiers),
        meta: meta(c.last_updated, profile, c.part2.is_some()),
        note: c.note.as_deref().map(|text| [Note { text }]),
        onset_date_time: Day(c.onset),
        recorded_date: Day(c.recorded),
        resource_type: "Condition",
        subject: Reference("Patient", &c.patient_id),
        verification_status: code_only(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            c.verification_status,
        ),
    };
    serde_json::to_writer(out, &v)
}

#[derive(Serialize)]
struct Reaction<'a> {
    manifestation: [Concept<'a>; 1],
    severity: &'a str,
}

/// `render::allergy`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Allergy<'a> {
    category: [&'a str; 1],
    clinical_status: CodeOnly<'a>,
    code: Concept<'a>,
    criticality: &'a str,
    id: &'a str,
    meta: Meta<'a>,
    patient: Reference<'a>,
    reaction: [Reaction<'a>; 1],
    recorded_date: Day,
    recorder: Reference<'a>,
    resource_type: &'static str,
    verification_status: CodeOnly<'a>,
}

/// Write `a` as `render::allergy` would serialize it (no newline).
pub fn write_allergy(out: &mut impl Write, a: &practice::Allergy) -> serde_json::Result<()> {
    let v = Allergy {
        category: [a.category],
        clinical_status: code_only(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            a.clinical_status,
        ),
        code: (&a.code).into(),
        criticality: a.criticality,
        id: a.id.as_str(),
        meta: meta(a.last_updated, "us-core-allergyintolerance", false),
        patient: Reference("Patient", &a.patient_id),
        reaction: [Reaction {
            manifestation: [(&a.reaction).into()],
            severity: a.severity,
        }],
        recorded_date: Day(a.recorded),
        recorder: Reference("Practitioner", &a.recorder_id),
        resource_type: "AllergyIntolerance",
        verification_status: code_only(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            "confirmed",
        ),
    };
    serde_json::to_writer(out, &v)
}

#[derive(Serialize)]
struct Display<'a> {
    display: &'a str,
}

/// `render::immunization`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Immunization<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Reference<'a>>,
    lot_number: &'a str,
    manufacturer: Display<'a>,
    meta: Meta<'a>,
    occurrence_date_time: Day,
    patient: Reference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    performer: Option<[Actor<'a>; 1]>,
    primary_source: bool,
    resource_type: &'static str,
    status: &'a str,
    vaccine_code: Concept<'a>,
}

/// Write `i` as `render::immunization` would serialize it (no newline).
pub fn write_immunization(
    out: &mut impl Write,
    i: &practice::Immunization,
) -> serde_json::Result<()> {
    let v = Immunization {
        encounter: i.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: i.id.as_str(),
        location: i.location_id.as_ref().map(|l| Reference("Location", l)),
        lot_number: &i.lot_number,
        manufacturer: Display {
            display: &i.manufacturer,
        },
        meta: meta(i.last_updated, "us-core-immunization", false),
        occurrence_date_time: Day(i.occurrence),
        patient: Reference("Patient", &i.patient_id),
        performer: i.performer_id.as_ref().map(|p| {
            [Actor {
                actor: Reference("Practitioner", p),
            }]
        }),
        primary_source: true,
        resource_type: "Immunization",
        status: i.status,
        vaccine_code: (&i.cvx).into(),
    };
    serde_json::to_writer(out, &v)
}

/// `render::medication_request`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MedicationRequest<'a> {
    authored_on: Day,
    category: [CodeOnly<'a>; 1],
    dosage_instruction: [Text<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    identifier: Idents<'a>,
    intent: &'a str,
    medication_codeable_concept: Concept<'a>,
    meta: Meta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<[Note<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_reference: Option<[Reference<'a>; 1]>,
    requester: Reference<'a>,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
}

/// Write `m` as `render::medication_request` would serialize it (no newline).
pub fn write_medication_request(
    out: &mut impl Write,
    m: &practice::MedicationRequest,
) -> serde_json::Result<()> {
    let v = MedicationRequest {
        authored_on: Day(m.authored_on),
        category: [code_only(
            "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
            "community",
        )],
        dosage_instruction: [Text { text: m.dosage }],
        encounter: m.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: m.id.as_str(),
        identifier: Idents(&m.identifiers),
        intent: m.intent,
        medication_codeable_concept: (&m.rxnorm).into(),
        meta: meta(
            m.last_updated,
            "us-core-medicationrequest",
            m.part2.is_some(),
        ),
        note: m.note.as_deref().map(|text| [Note { text }]),
        reason_reference: m
            .reason_condition_id
            .as_ref()
            .map(|r| [Reference("Condition", r)]),
        requester: Reference("Practitioner", &m.prescriber_id),
        resource_type: "MedicationRequest",
        status: m.status,
        subject: Reference("Patient", &m.patient_id),
    };
    serde_json::to_writer(out, &v)
}

/// `{"lastUpdated": …, "security": …}` without a profile (MedicationStatement).
#[derive(Serialize)]
struct MetaPart2 {
    #[serde(rename = "lastUpdated")]
    last_updated: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<[Coding3<'static>; 5]>,
}

/// `render::medication_statement`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MedicationStatement<'a> {
    based_on: [Reference<'a>; 1],
    date_asserted: Instant,
    dosage: [Text<'a>; 1],
    effective_date_time: Day,
    id: Cat<'a>,
    medication_codeable_concept: Concept<'a>,
    meta: MetaPart2,
    resource_type: &'static str,
    status: &'static str,
    subject: Reference<'a>,
}

/// Write the statement derived from `m` as `render::medication_statement`
/// would serialize it (no newline).
pub fn write_medication_statement(
    out: &mut impl Write,
    m: &practice::MedicationRequest,
) -> serde_json::Result<()> {
    let v = MedicationStatement {
        based_on: [Reference("MedicationRequest", &m.id)],
        date_asserted: Instant(m.last_updated),
        dosage: [Text { text: m.dosage }],
        effective_date_time: Day(m.authored_on),
        id: Cat(&m.id, "-stmt", ""),
        medication_codeable_concept: (&m.rxnorm).into(),
        meta: MetaPart2 {
            last_updated: Instant(m.last_updated),
            security: m.part2.is_some().then(part2_security),
        },
        resource_type: "MedicationStatement",
        status: crate::fhir::render::statement_status(m.status),
        subject: Reference("Patient", &m.patient_id),
    };
    serde_json::to_writer(out, &v)
}

const ACCESSION: &str = "urn:ngsim:accession";
const SNOMED: &str = "http://snomed.info/sct";

/// `render::service_request`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceRequest<'a> {
    authored_on: Instant,
    category: [Concept2<'static>; 1],
    code: Concept<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<Reference<'a>>,
    id: Cat<'a>,
    identifier: [Ident<'a>; 1],
    intent: &'static str,
    meta: Meta<'a>,
    occurrence_date_time: Instant,
    requester: Reference<'a>,
    resource_type: &'static str,
    status: &'static str,
    subject: Reference<'a>,
}

/// Write the order behind `l` as `render::service_request` would serialize
/// it (no newline).
pub fn write_service_request(
    out: &mut impl Write,
    l: &practice::LabPanel,
) -> serde_json::Result<()> {
    let v = ServiceRequest {
        authored_on: Instant(l.effective),
        category: [Concept2 {
            coding: [Coding3 {
                code: "108252007",
                display: "Laboratory procedure",
                system: SNOMED,
            }],
        }],
        code: (&l.code).into(),
        encounter: l.encounter_id.as_ref().map(|e| Reference("Encounter", e)),
        id: Cat(&l.id, "-order", ""),
        identifier: [Ident {
            system: ACCESSION,
            value: &l.accession,
        }],
        intent: "order",
        meta: meta(l.last_updated, "us-core-servicerequest", l.part2.is_some()),
        occurrence_date_time: Instant(l.effective),
        requester: Reference("Practitioner", &l.performer_id),
        resource_type: "ServiceRequest",
        status: "completed",
        subject: Reference("Patient", &l.patient_id),
    };
    serde_json::to_writer(out, &v)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Collection {
    collected_date_time: Instant,
}

/// `render::specimen`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Specimen<'a> {
    accession_identifier: Ident<'a>,
    collection: Collection,
    id: Cat<'a>,
    meta: Meta<'a>,
    received_time: Instant,
    request: [RefTo<'a>; 1],
    resource_type: &'static str,
    status: &'static str,
    subject: Reference<'a>,
    #[serde(rename = "type")]
    ty: Concept2<'static>,
}

/// Write the specimen of `l` as `render::specimen` would serialize it (no
/// newline).
pub fn write_specimen(out: &mut impl Write, l: &practice::LabPanel) -> serde_json::Result<()> {
    let v = Specimen {
        accession_identifier: Ident {
            system: ACCESSION,
            value: &l.accession,
        },
        collection: Collection {
            collected_date_time: Instant(l.effective),
        },
        id: Cat(&l.id, "-specimen", ""),
        meta: meta(l.last_updated, "us-core-specimen", l.part2.is_some()),
        received_time: Instant(l.issued),
        request: [RefTo {
            reference: Cat("ServiceRequest/", &l.id, "-order"),
        }],
        resource_type: "Specimen",
        status: "available",
        subject: Reference("Patient", &l.patient_id),
        ty: Concept2 {
            coding: [Coding3 {
                code: "119297000",
                display: "Blood specimen",
                system: SNOMED,
            }],
        },
    };
    serde_json::to_writer(out, &v)
}

/// [`super::each_record`] for its types; `false` for any other type.
pub(super) fn each_record(c: &Chart, ty: &str, f: &mut impl FnMut(OffsetDateTime, bool)) -> bool {
    match ty {
        "Condition" => c
            .conditions
            .iter()
            .for_each(|x| f(x.last_updated, x.part2.is_some())),
        "AllergyIntolerance" => c.allergies.iter().for_each(|a| f(a.last_updated, false)),
        "Immunization" => c
            .immunizations
            .iter()
            .for_each(|i| f(i.last_updated, false)),
        // Statements carry their prescription's update time and label.
        "MedicationRequest" | "MedicationStatement" => c
            .medications
            .iter()
            .for_each(|m| f(m.last_updated, m.part2.is_some())),
        // The order and the specimen carry their panel's.
        "ServiceRequest" | "Specimen" => c
            .lab_panels
            .iter()
            .for_each(|l| f(l.last_updated, l.part2.is_some())),
        _ => return false,
    }
    true
}

/// [`super::write_lines`] for its types; `false` for any other type.
pub(super) fn write_lines(
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    c: &Chart,
    ty: &str,
    keep: &impl Fn(OffsetDateTime, bool) -> bool,
) -> bool {
    let med = |m: &practice::MedicationRequest| (m.last_updated, m.part2.is_some());
    let lab = |l: &practice::LabPanel| (l.last_updated, l.part2.is_some());
    match ty {
        "Condition" => lines(
            out,
            ends,
            &c.conditions,
            |x| (x.last_updated, x.part2.is_some()),
            keep,
            write_condition,
        ),
        "AllergyIntolerance" => lines(
            out,
            ends,
            &c.allergies,
            |a| (a.last_updated, false),
            keep,
            write_allergy,
        ),
        "Immunization" => lines(
            out,
            ends,
            &c.immunizations,
            |i| (i.last_updated, false),
            keep,
            write_immunization,
        ),
        "MedicationRequest" => lines(
            out,
            ends,
            &c.medications,
            med,
            keep,
            write_medication_request,
        ),
        "MedicationStatement" => lines(
            out,
            ends,
            &c.medications,
            med,
            keep,
            write_medication_statement,
        ),
        "ServiceRequest" => lines(out, ends, &c.lab_panels, lab, keep, write_service_request),
        "Specimen" => lines(out, ends, &c.lab_panels, lab, keep, write_specimen),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::render;
    use crate::practice::{Practice, PracticeConfig};

    fn same<T>(
        x: &T,
        typed: impl Fn(&mut Vec<u8>, &T) -> serde_json::Result<()>,
        value: impl Fn(&T) -> serde_json::Value,
    ) {
        let mut got = Vec::new();
        typed(&mut got, x).unwrap();
        let want = serde_json::to_string(&value(x)).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    /// The branches generated charts never reach (overlay records without
    /// an encounter, performer, location or SNOMED code, Part 2 lab
    /// panels), on patched copies of generated records.
    #[test]
    fn patched_records_equal_the_value_rendering() {
        let p = Practice::new(PracticeConfig {
            patients: 40,
            ..PracticeConfig::default()
        });
        let charts: Vec<_> = p.patient_indices().map(|i| p.chart(i).unwrap()).collect();
        let label = charts
            .iter()
            .flat_map(|c| &c.conditions)
            .find_map(|x| x.part2.clone())
            .expect("a Part 2 condition");
        let mut n = 0;
        for c in &charts {
            for x in &c.conditions {
                let mut x = x.clone();
                x.encounter_id = None;
                x.snomed.code = "".into();
                x.note = None;
                x.identifiers.clear();
                same(&x, write_condition, render::condition);
                x.part2 = Some(label.clone());
                x.icd10.code = "".into();
                same(&x, write_condition, render::condition);
                n += 1;
            }
            for m in &c.medications {
                let mut m = m.clone();
                m.encounter_id = None;
                m.reason_condition_id = None;
                m.note = None;
                m.identifiers.clear();
                m.part2 = Some(label.clone());
                same(&m, write_medication_request, render::medication_request);
                same(&m, write_medication_statement, render::medication_statement);
                for status in ["stopped", "cancelled", "on-hold", "draft", "other"] {
                    m.status = status;
                    same(&m, write_medication_statement, render::medication_statement);
                }
                n += 1;
            }
            for i in &c.immunizations {
                let mut i = i.clone();
                i.encounter_id = None;
                i.performer_id = None;
                i.location_id = None;
                same(&i, write_immunization, render::immunization);
                n += 1;
            }
            for l in &c.lab_panels {
                let mut l = l.clone();
                l.encounter_id = None;
                l.part2 = Some(label.clone());
                same(&l, write_service_request, render::service_request);
                same(&l, write_specimen, render::specimen);
                n += 1;
            }
        }
        assert!(n > 100, "only {n} records patched");
    }
}
