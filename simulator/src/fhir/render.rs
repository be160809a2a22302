//! US Core renderings of the practice's typed records.
//!
//! Each function turns one record into its FHIR JSON. They run once per chart
//! and practice generation: the [`super::store`] caches the rendered bytes, so
//! reads and searches never render on the hot path.

use base64::Engine;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::practice::{
    self, CANARY_SYSTEM, Chart, Coding, ConsentState, Identifier, ObservationCategory,
    ObservationValue, Part2Label, Practice,
};

pub(crate) const US_CORE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/";
pub(crate) const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub(crate) const US_CORE_CATEGORY: &str = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category";
pub(crate) const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
pub(crate) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const NPI: &str = "http://hl7.org/fhir/sid/us-npi";
/// Identifier system of NextGen MRNs.
pub const MRN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.3.8013.1";

/// RFC 3339 timestamp.
pub fn instant(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn date(d: Date) -> String {
    d.to_string()
}

fn coding(c: &Coding) -> Value {
    json!({"system": c.system, "code": c.code, "display": c.display})
}

fn cc(c: &Coding) -> Value {
    json!({"coding": [coding(c)], "text": c.display})
}

fn cc_code(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

fn reference(ty: &str, id: &str) -> Value {
    json!({"reference": format!("{ty}/{id}")})
}

fn identifiers(ids: &[Identifier]) -> Value {
    ids.iter()
        .map(|i| json!({"system": canon_system(i.system), "value": i.value}))
        .collect()
}

fn canon_system(s: &str) -> &str {
    if s == CANARY_SYSTEM { CANARY_SYSTEM } else { s }
}

/// The 42 CFR Part 2 security labels.
pub fn part2_security() -> Value {
    json!([
        {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
        {"system": ACT_CODE, "code": "ETH", "display": "substance abuse information sensitivity"},
        {"system": ACT_CODE, "code": "SUD", "display": "substance use disorder information sensitivity"},
        {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
        {"system": ACT_CODE, "code": "NORDSCLCD", "display": "no redisclosure without consent directive"},
    ])
}

fn meta(last_updated: OffsetDateTime, profile: &str, part2: Option<&Part2Label>) -> Value {
    let mut m = json!({
        "lastUpdated": instant(last_updated),
        "profile": [format!("{US_CORE}{profile}")],
    });
    if part2.is_some() {
        m["security"] = part2_security();
    }
    m
}

fn narrative(text: &str) -> Value {
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    json!({"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{esc}</div>")})
}

fn org_id(p: &Practice, practice_id: &str) -> String {
    p.practice_site(practice_id)
        .map(|s| s.guid.to_string())
        .unwrap_or_else(|| p.enterprise().guid.to_string())
}

/// `Patient`.
pub fn patient(p: &Practice, pt: &practice::Patient) -> Value {
    let gender = match pt.sex {
        practice::Sex::M => "male",
        practice::Sex::F => "female",
        practice::Sex::U => "unknown",
    };
    let mut ids = vec![json!({
        "use": "usual",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
        "system": MRN_SYSTEM,
        "value": pt.mrn,
    })];
    ids.push(json!({"system": "urn:ngsim:person-number", "value": pt.person_number}));
    for e in &pt.external_ids {
        ids.push(json!({"system": e.system, "value": e.value}));
    }
    let mut given = vec![pt.name.given.clone()];
    if let Some(m) = &pt.name.middle {
        given.push(m.clone());
    }
    let mut telecom = vec![json!({"system": "phone", "value": pt.phone, "use": "home"})];
    if let Some(e) = &pt.email {
        telecom.push(json!({"system": "email", "value": e}));
    }
    json!({
        "resourceType": "Patient",
        "id": pt.id.as_str(),
        "meta": meta(pt.last_updated, "us-core-patient", None),
        "extension": [
            {"url": format!("{US_CORE}us-core-race"), "extension": [
                {"url": "ombCategory", "valueCoding": coding(&pt.race)},
                {"url": "text", "valueString": pt.race.display},
            ]},
            {"url": format!("{US_CORE}us-core-ethnicity"), "extension": [
                {"url": "ombCategory", "valueCoding": coding(&pt.ethnicity)},
                {"url": "text", "valueString": pt.ethnicity.display},
            ]},
            {"url": format!("{US_CORE}us-core-birthsex"), "valueCode": match pt.sex {
                practice::Sex::M => "M", practice::Sex::F => "F", practice::Sex::U => "UNK" }},
        ],
        "identifier": ids,
        "active": true,
        "name": [{"use": "official", "family": pt.name.family, "given": given}],
        "telecom": telecom,
        "gender": gender,
        "birthDate": date(pt.birth_date),
        "deceasedBoolean": pt.deceased,
        "address": [{
            "use": "home", "line": [pt.address.line], "city": pt.address.city,
            "state": pt.address.state, "postalCode": pt.address.postal_code, "country": "US",
        }],
        "maritalStatus": cc(&pt.marital_status),
        "communication": [{"language": cc(&pt.language)}],
        "generalPractitioner": [reference("Practitioner", &pt.pcp_id)],
        "managingOrganization": reference("Organization", &org_id(p, &pt.practice_id)),
    })
}

/// `Practitioner`.
pub fn practitioner(pr: &practice::Practitioner) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": pr.id.as_str(),
        "meta": meta(pr.last_updated, "us-core-practitioner", None),
        "identifier": [{"system": NPI, "value": pr.npi}],
        "active": true,
        "name": [{"family": pr.family, "given": [pr.given], "suffix": [pr.credentials]}],
    })
}

/// `PractitionerRole` id for a practitioner.
pub fn role_id(practitioner_id: &str) -> String {
    format!("{practitioner_id}-role")
}

/// `PractitionerRole`.
pub fn practitioner_role(p: &Practice, pr: &practice::Practitioner) -> Value {
    json!({
        "resourceType": "PractitionerRole",
        "id": role_id(&pr.id),
        "meta": meta(pr.last_updated, "us-core-practitionerrole", None),
        "active": true,
        "practitioner": {
            "reference": format!("Practitioner/{}", pr.id.as_str()),
            "identifier": {"system": NPI, "value": pr.npi},
            "display": format!("{} {}, {}", pr.given, pr.family, pr.credentials),
        },
        "organization": reference("Organization", &org_id(p, &pr.practice_id)),
        "code": [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": pr.taxonomy.code, "display": pr.taxonomy.display}]}],
        "specialty": [cc(&pr.taxonomy)],
        "location": [reference("Location", &pr.location_id)],
    })
}

/// Every `Organization`: the enterprise, its practice sites and the payers.
pub fn organizations(p: &Practice, updated: OffsetDateTime) -> Vec<Value> {
    let e = p.enterprise();
    let mut out = vec![json!({
        "resourceType": "Organization",
        "id": e.guid.as_str(),
        "meta": meta(updated, "us-core-organization", None),
        "identifier": [{"system": "urn:ngsim:enterprise", "value": e.id}],
        "active": true,
        "type": [cc_code("http://terminology.hl7.org/CodeSystem/organization-type", "prov")],
        "name": e.name,
    })];
    for s in &e.practices {
        let addr = p
            .locations()
            .iter()
            .find(|l| l.practice_id == s.id)
            .map(|l| &l.address);
        let mut o = json!({
            "resourceType": "Organization",
            "id": s.guid.as_str(),
            "meta": meta(updated, "us-core-organization", None),
            "identifier": [
                {"system": NPI, "value": s.npi},
                {"system": "urn:oid:2.16.840.1.113883.4.4", "value": s.tax_id},
                {"system": "urn:ngsim:practice", "value": s.id},
            ],
            "active": true,
            "type": [cc_code("http://terminology.hl7.org/CodeSystem/organization-type", "prov")],
            "name": s.name,
            "partOf": reference("Organization", &e.guid),
        });
        if let Some(a) = addr {
            o["address"] = json!([{"line": [a.line], "city": a.city, "state": a.state,
                                   "postalCode": a.postal_code, "country": "US"}]);
        }
        out.push(o);
    }
    for py in p.payers() {
        out.push(json!({
            "resourceType": "Organization",
            "id": py.id.as_str(),
            "meta": meta(updated, "us-core-organization", None),
            "identifier": [{"system": "urn:ngsim:payer-code", "value": py.payer_code}],
            "active": true,
            "type": [cc_code("http://terminology.hl7.org/CodeSystem/organization-type", "pay")],
            "name": py.name,
        }));
    }
    out
}

/// `Location`.
pub fn location(p: &Practice, l: &practice::Location, updated: OffsetDateTime) -> Value {
    json!({
        "resourceType": "Location",
        "id": l.id.as_str(),
        "meta": meta(updated, "us-core-location", None),
        "identifier": [{"system": NPI, "value": l.npi}],
        "status": "active",
        "name": l.name,
        "telecom": [{"system": "phone", "value": l.phone}],
        "address": {"line": [l.address.line], "city": l.address.city, "state": l.address.state,
                    "postalCode": l.address.postal_code, "country": "US"},
        "managingOrganization": reference("Organization", &org_id(p, &l.practice_id)),
    })
}

fn obs_value(v: &ObservationValue) -> Option<(&'static str, Value)> {
    match v {
        ObservationValue::Quantity { value, unit, code } => Some((
            "valueQuantity",
            json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}),
        )),
        ObservationValue::Integer { value } => Some(("valueInteger", json!(value))),
        ObservationValue::Coded { coding: c } => Some(("valueCodeableConcept", cc(c))),
        ObservationValue::Text { text } => Some(("valueString", json!(text))),
        ObservationValue::None => None,
    }
}

pub(crate) fn category_code(c: ObservationCategory) -> &'static str {
    match c {
        ObservationCategory::VitalSigns => "vital-signs",
        ObservationCategory::Laboratory => "laboratory",
        ObservationCategory::Survey => "survey",
        ObservationCategory::SocialHistory => "social-history",
    }
}

pub(crate) fn obs_profile(o: &practice::Observation) -> &'static str {
    match o.category {
        ObservationCategory::VitalSigns => "us-core-vital-signs",
        ObservationCategory::Laboratory => "us-core-observation-lab",
        ObservationCategory::Survey => "us-core-observation-screening-assessment",
        ObservationCategory::SocialHistory => "us-core-smokingstatus",
    }
}

/// `Observation` from a chart observation.
pub fn observation(o: &practice::Observation) -> Value {
    let cat = category_code(o.category);
    let mut v = json!({
        "resourceType": "Observation",
        "id": o.id.as_str(),
        "meta": meta(o.last_updated, obs_profile(o), o.part2.as_ref()),
        "status": o.status,
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": cat}]}],
        "code": cc(&o.code),
        "subject": reference("Patient", &o.patient_id),
        "effectiveDateTime": instant(o.effective),
        "issued": instant(o.last_updated),
    });
    if !o.identifiers.is_empty() {
        v["identifier"] = identifiers(&o.identifiers);
    }
    if let Some(e) = &o.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    if let Some(pid) = &o.performer_id {
        v["performer"] = json!([reference("Practitioner", pid)]);
    }
    match obs_value(&o.value) {
        Some((k, val)) => v[k] = val,
        None if o.components.is_empty() => {
            v["dataAbsentReason"] = json!({"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown"}]});
        }
        None => {}
    }
    if !o.components.is_empty() {
        v["component"] = o
            .components
            .iter()
            .map(|c| {
                let mut comp = json!({"code": cc(&c.code)});
                if let Some((k, val)) = obs_value(&c.value) {
                    comp[k] = val;
                }
                comp
            })
            .collect();
    }
    if let Some(r) = &o.reference_range {
        let mut rr = json!({"text": r.text});
        let unit = match &o.value {
            ObservationValue::Quantity { unit, code, .. } => Some((unit.clone(), code.clone())),
            _ => None,
        };
        let q = |x: f64| match &unit {
            Some((u, c)) => {
                json!({"value": x, "unit": u, "system": "http://unitsofmeasure.org", "code": c})
            }
            None => json!({"value": x}),
        };
        if let Some(l) = r.low {
            rr["low"] = q(l);
        }
        if let Some(h) = r.high {
            rr["high"] = q(h);
        }
        v["referenceRange"] = json!([rr]);
    }
    if let Some(i) = &o.interpretation {
        v["interpretation"] = json!([cc(i)]);
    }
    if let Some(n) = &o.note {
        v["note"] = json!([{"text": n}]);
    }
    v
}

/// Id of the SDOH screening Observation `n` of a patient.
pub fn sdoh_id(patient_id: &str, n: usize) -> String {
    format!("{patient_id}-sdoh-{n}")
}

/// SDOH screening answers as `Observation`s (categories `survey` and `sdoh`).
pub fn sdoh_observations(pt: &practice::Patient) -> Vec<Value> {
    pt.sdoh
        .iter()
        .enumerate()
        .map(|(n, a)| {
            json!({
                "resourceType": "Observation",
                "id": sdoh_id(&pt.id, n),
                "meta": meta(pt.last_updated, "us-core-observation-screening-assessment", None),
                "status": "final",
                "category": [
                    {"coding": [{"system": OBS_CATEGORY, "code": "survey"}]},
                    {"coding": [{"system": US_CORE_CATEGORY, "code": "sdoh"}]},
                ],
                "code": cc(&a.question),
                "subject": reference("Patient", &pt.id),
                "effectiveDateTime": instant(pt.last_updated),
                "valueCodeableConcept": cc(&a.answer),
                "interpretation": [cc_code(
                    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    if a.positive { "POS" } else { "NEG" },
                )],
            })
        })
        .collect()
}

/// `Encounter`.
pub fn encounter(p: &Practice, e: &practice::Encounter) -> Value {
    let mut v = json!({
        "resourceType": "Encounter",
        "id": e.id.as_str(),
        "meta": meta(e.last_updated, "us-core-encounter", e.part2.as_ref()),
        "status": e.status,
        "class": coding(&e.class),
        "type": [cc(&e.encounter_type), cc(&e.cpt)],
        "subject": reference("Patient", &e.patient_id),
        "participant": [{"individual": reference("Practitioner", &e.practitioner_id)}],
        "period": {"start": instant(e.start), "end": instant(e.end)},
        "reasonCode": [cc(&e.reason)],
        "location": [{"location": reference("Location", &e.location_id)}],
        "serviceProvider": reference("Organization", &org_id(p, &e.practice_id)),
    });
    if !e.identifiers.is_empty() {
        v["identifier"] = identifiers(&e.identifiers);
    }
    if let Some(t) = &e.text {
        v["text"] = narrative(t);
    }
    v
}

/// `Condition`.
pub fn condition(c: &practice::Condition) -> Value {
    let profile = if c.category == "encounter-diagnosis" {
        "us-core-condition-encounter-diagnosis"
    } else {
        "us-core-condition-problems-health-concerns"
    };
    // A problem written through the Enterprise API may have no SNOMED concept.
    let codes: Vec<Value> = [&c.icd10, &c.snomed]
        .into_iter()
        .filter(|x| !x.code.is_empty())
        .map(coding)
        .collect();
    let mut v = json!({
        "resourceType": "Condition",
        "id": c.id.as_str(),
        "meta": meta(c.last_updated, profile, c.part2.as_ref()),
        "clinicalStatus": cc_code("http://terminology.hl7.org/CodeSystem/condition-clinical", c.clinical_status),
        "verificationStatus": cc_code("http://terminology.hl7.org/CodeSystem/condition-ver-status", c.verification_status),
        "category": [cc_code("http://terminology.hl7.org/CodeSystem/condition-category", c.category)],
        "code": {"coding": codes, "text": c.icd10.display},
        "subject": reference("Patient", &c.patient_id),
        "onsetDateTime": date(c.onset),
        "recordedDate": date(c.recorded),
        "asserter": reference("Practitioner", &c.asserter_id),
    });
    if let Some(e) = &c.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    if !c.identifiers.is_empty() {
        v["identifier"] = identifiers(&c.identifiers);
    }
    if let Some(n) = &c.note {
        v["note"] = json!([{"text": n}]);
    }
    v
}

/// `MedicationRequest`.
pub fn medication_request(m: &practice::MedicationRequest) -> Value {
    let mut v = json!({
        "resourceType": "MedicationRequest",
        "id": m.id.as_str(),
        "meta": meta(m.last_updated, "us-core-medicationrequest", m.part2.as_ref()),
        "status": m.status,
        "intent": m.intent,
        "category": [cc_code("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community")],
        "medicationCodeableConcept": cc(&m.rxnorm),
        "subject": reference("Patient", &m.patient_id),
        "authoredOn": date(m.authored_on),
        "requester": reference("Practitioner", &m.prescriber_id),
        "dosageInstruction": [{"text": m.dosage}],
    });
    if let Some(e) = &m.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    if let Some(r) = &m.reason_condition_id {
        v["reasonReference"] = json!([reference("Condition", r)]);
    }
    if !m.identifiers.is_empty() {
        v["identifier"] = identifiers(&m.identifiers);
    }
    if let Some(n) = &m.note {
        v["note"] = json!([{"text": n}]);
    }
    v
}

/// Id of the `MedicationStatement` derived from a prescription.
pub fn statement_id(med_id: &str) -> String {
    format!("{med_id}-stmt")
}

/// The `MedicationStatement.status` of a prescription's status.
pub(crate) fn statement_status(request_status: &str) -> &'static str {
    match request_status {
        "active" => "active",
        "completed" => "completed",
        "stopped" | "cancelled" => "stopped",
        "on-hold" => "on-hold",
        "draft" => "intended",
        _ => "unknown",
    }
}

/// `MedicationStatement` derived from a prescription (what the patient takes).
pub fn medication_statement(m: &practice::MedicationRequest) -> Value {
    let status = statement_status(m.status);
    let mut v = json!({
        "resourceType": "MedicationStatement",
        "id": statement_id(&m.id),
        "meta": {"lastUpdated": instant(m.last_updated)},
        "basedOn": [reference("MedicationRequest", &m.id)],
        "status": status,
        "medicationCodeableConcept": cc(&m.rxnorm),
        "subject": reference("Patient", &m.patient_id),
        "effectiveDateTime": date(m.authored_on),
        "dateAsserted": instant(m.last_updated),
        "dosage": [{"text": m.dosage}],
    });
    if m.part2.is_some() {
        v["meta"]["security"] = part2_security();
    }
    v
}

/// `AllergyIntolerance`.
pub fn allergy(a: &practice::Allergy) -> Value {
    json!({
        "resourceType": "AllergyIntolerance",
        "id": a.id.as_str(),
        "meta": meta(a.last_updated, "us-core-allergyintolerance", None),
        "clinicalStatus": cc_code("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", a.clinical_status),
        "verificationStatus": cc_code("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed"),
        "category": [a.category],
        "criticality": a.criticality,
        "code": cc(&a.code),
        "patient": reference("Patient", &a.patient_id),
        "recordedDate": date(a.recorded),
        "recorder": reference("Practitioner", &a.recorder_id),
        "reaction": [{"manifestation": [cc(&a.reaction)], "severity": a.severity}],
    })
}

/// `Procedure`.
pub fn procedure(pr: &practice::Procedure) -> Value {
    let mut v = json!({
        "resourceType": "Procedure",
        "id": pr.id.as_str(),
        "meta": meta(pr.last_updated, "us-core-procedure", None),
        "status": pr.status,
        "code": {"coding": [coding(&pr.cpt), coding(&pr.snomed)], "text": pr.snomed.display},
        "subject": reference("Patient", &pr.patient_id),
        "performedDateTime": instant(pr.performed),
        "performer": [{"actor": reference("Practitioner", &pr.performer_id)}],
    });
    if let Some(e) = &pr.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    v
}

/// `Immunization`.
pub fn immunization(i: &practice::Immunization) -> Value {
    let mut v = json!({
        "resourceType": "Immunization",
        "id": i.id.as_str(),
        "meta": meta(i.last_updated, "us-core-immunization", None),
        "status": i.status,
        "vaccineCode": cc(&i.cvx),
        "patient": reference("Patient", &i.patient_id),
        "occurrenceDateTime": date(i.occurrence),
        "primarySource": true,
        "lotNumber": i.lot_number,
        "manufacturer": {"display": i.manufacturer},
    });
    if let Some(e) = &i.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    if let Some(pid) = &i.performer_id {
        v["performer"] = json!([{"actor": reference("Practitioner", pid)}]);
    }
    if let Some(l) = &i.location_id {
        v["location"] = reference("Location", l);
    }
    v
}

/// `DiagnosticReport` from a lab panel.
pub fn diagnostic_report(l: &practice::LabPanel) -> Value {
    let mut v = json!({
        "resourceType": "DiagnosticReport",
        "id": l.id.as_str(),
        "meta": meta(l.last_updated, "us-core-diagnosticreport-lab", l.part2.as_ref()),
        "identifier": [{"system": "urn:ngsim:accession", "value": l.accession}],
        "status": l.status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory"}]}],
        "code": cc(&l.code),
        "subject": reference("Patient", &l.patient_id),
        "effectiveDateTime": instant(l.effective),
        "issued": instant(l.issued),
        "performer": [reference("Practitioner", &l.performer_id)],
        "result": l.result_ids.iter().map(|r| reference("Observation", r)).collect::<Vec<_>>(),
    });
    if let Some(e) = &l.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    v
}

/// Id of the lab order (`ServiceRequest`) behind a lab panel.
pub fn service_request_id(panel_id: &str) -> String {
    format!("{panel_id}-order")
}

/// Id of the `Specimen` a lab panel was run on.
pub fn specimen_id(panel_id: &str) -> String {
    format!("{panel_id}-specimen")
}

/// The lab order (`ServiceRequest`) a lab panel fulfils: the same code,
/// patient, encounter, ordering clinician and accession.
pub fn service_request(l: &practice::LabPanel) -> Value {
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "id": service_request_id(&l.id),
        "meta": meta(l.last_updated, "us-core-servicerequest", l.part2.as_ref()),
        "identifier": [{"system": "urn:ngsim:accession", "value": l.accession}],
        "status": "completed",
        "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007", "display": "Laboratory procedure"}]}],
        "code": cc(&l.code),
        "subject": reference("Patient", &l.patient_id),
        "occurrenceDateTime": instant(l.effective),
        "authoredOn": instant(l.effective),
        "requester": reference("Practitioner", &l.performer_id),
    });
    if let Some(e) = &l.encounter_id {
        v["encounter"] = reference("Encounter", e);
    }
    v
}

/// The `Specimen` a lab panel was run on (collected at the panel's time).
pub fn specimen(l: &practice::LabPanel) -> Value {
    json!({
        "resourceType": "Specimen",
        "id": specimen_id(&l.id),
        "meta": meta(l.last_updated, "us-core-specimen", l.part2.as_ref()),
        "accessionIdentifier": {"system": "urn:ngsim:accession", "value": l.accession},
        "status": "available",
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119297000", "display": "Blood specimen"}]},
        "subject": reference("Patient", &l.patient_id),
        "receivedTime": instant(l.issued),
        "request": [reference("ServiceRequest", &service_request_id(&l.id))],
        "collection": {"collectedDateTime": instant(l.effective)},
    })
}

/// `DocumentReference`.
pub fn document(d: &practice::Document) -> Value {
    let mut ids = vec![
        json!({"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", d.id.as_str())}),
    ];
    if let Value::Array(more) = identifiers(&d.identifiers) {
        ids.extend(more);
    }
    let mut v = json!({
        "resourceType": "DocumentReference",
        "id": d.id.as_str(),
        "meta": meta(d.last_updated, "us-core-documentreference", d.part2.as_ref()),
        "identifier": ids,
        "status": d.status,
        "type": cc(&d.doc_type),
        "category": [{"coding": [{"system": US_CORE_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": reference("Patient", &d.patient_id),
        "date": instant(d.date),
        "author": [reference("Practitioner", &d.author_id)],
        "content": [{
            "attachment": {
                "contentType": d.mime_type,
                "data": base64::engine::general_purpose::STANDARD.encode(d.text.as_bytes()),
                "title": d.title,
            },
            "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"},
        }],
    });
    if let Some(e) = &d.encounter_id {
        v["context"] =
            json!({"encounter": [reference("Encounter", e)], "period": {"start": instant(d.date)}});
    }
    v
}

/// `CarePlan`.
pub fn care_plan(c: &practice::CarePlan) -> Value {
    json!({
        "resourceType": "CarePlan",
        "id": c.id.as_str(),
        "meta": meta(c.last_updated, "us-core-careplan", None),
        "text": narrative(c.title),
        "status": c.status,
        "intent": c.intent,
        "category": [{"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "code": "assess-plan"}]}],
        "title": c.title,
        "subject": reference("Patient", &c.patient_id),
        "period": {"start": date(c.period_start)},
        "author": reference("Practitioner", &c.author_id),
        "addresses": c.addresses_condition_ids.iter().map(|i| reference("Condition", i)).collect::<Vec<_>>(),
        "goal": c.goal_ids.iter().map(|i| reference("Goal", i)).collect::<Vec<_>>(),
    })
}

/// `CareTeam`.
pub fn care_team(c: &practice::CareTeam) -> Value {
    json!({
        "resourceType": "CareTeam",
        "id": c.id.as_str(),
        "meta": meta(c.last_updated, "us-core-careteam", None),
        "status": c.status,
        "name": c.name,
        "subject": reference("Patient", &c.patient_id),
        "participant": c.members.iter().map(|m| json!({
            "role": [cc(&m.role)],
            "member": reference("Practitioner", &m.practitioner_id),
        })).collect::<Vec<_>>(),
    })
}

/// `Goal`.
pub fn goal(g: &practice::Goal) -> Value {
    let mut v = json!({
        "resourceType": "Goal",
        "id": g.id.as_str(),
        "meta": meta(g.last_updated, "us-core-goal", None),
        "lifecycleStatus": g.lifecycle_status,
        "description": {"text": g.description},
        "subject": reference("Patient", &g.patient_id),
        "startDate": date(g.start),
    });
    if let Some(d) = g.due {
        v["target"] = json!([{"dueDate": date(d)}]);
    }
    if let Some(c) = &g.addresses_condition_id {
        v["addresses"] = json!([reference("Condition", c)]);
    }
    v
}

/// `Coverage`.
pub fn coverage(c: &practice::Coverage) -> Value {
    let mut period = json!({"start": date(c.period_start)});
    if let Some(e) = c.period_end {
        period["end"] = date(e).into();
    }
    json!({
        "resourceType": "Coverage",
        "id": c.id.as_str(),
        "meta": meta(c.last_updated, "us-core-coverage", None),
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]}, "value": c.member_id}],
        "status": c.status,
        "subscriberId": c.member_id,
        "beneficiary": reference("Patient", &c.patient_id),
        "relationship": cc_code("http://terminology.hl7.org/CodeSystem/subscriber-relationship", c.relationship),
        "period": period,
        "payor": [reference("Organization", &c.payer_id)],
        "order": c.order,
    })
}

/// `Device`.
pub fn device(d: &practice::Device) -> Value {
    json!({
        "resourceType": "Device",
        "id": d.id.as_str(),
        "meta": meta(d.last_updated, "us-core-implantable-device", None),
        "udiCarrier": [{"carrierHRF": d.udi}],
        "status": d.status,
        "type": cc(&d.device_type),
        "patient": reference("Patient", &d.patient_id),
    })
}

/// `Consent` (42 CFR Part 2 consent to disclose).
pub fn consent(p: &Practice, c: &practice::Consent) -> Value {
    let mut provision = json!({
        "type": "permit",
        "period": {"start": date(c.date_granted)},
        "actor": c.recipients.iter().map(|r| json!({
            "role": cc_code("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"),
            "reference": {"display": format!("{} ({})", r.name, r.kind)},
        })).collect::<Vec<_>>(),
        "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": c.purpose}],
    });
    if let Some(e) = c.revoked_on.or(c.period_end) {
        provision["period"]["end"] = date(e).into();
    }
    let status = match c.state {
        ConsentState::Granted => "active",
        _ => "inactive",
    };
    let mut v = json!({
        "resourceType": "Consent",
        "id": c.id.as_str(),
        "meta": {"lastUpdated": instant(c.last_updated)},
        "status": status,
        "scope": cc_code("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
        "category": [cc(&c.category)],
        "patient": reference("Patient", &c.patient_id),
        "dateTime": format!("{}T00:00:00Z", date(c.date_granted)),
        "organization": [reference("Organization", &org_id(p, &c.source_practice_id))],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": c.policy_rule}]},
        "provision": provision,
    });
    if c.part2.is_some() {
        v["meta"]["security"] = part2_security();
    }
    v
}

/// `Appointment`.
pub fn appointment(a: &practice::Appointment) -> Value {
    let at = |t: practice::ClockTime| {
        format!(
            "{}T{:02}:{:02}:00Z",
            date(a.appointment_date),
            t.0 / 60,
            t.0 % 60
        )
    };
    json!({
        "resourceType": "Appointment",
        "id": a.id.as_str(),
        "meta": {"lastUpdated": instant(a.last_updated)},
        // FHIR has no "rescheduled": the original slot is cancelled.
        "status": match a.status() { "rescheduled" => "cancelled", s => s },
        "serviceType": [{"text": a.event_name}],
        "start": at(a.begin_time),
        "end": at(a.end_time),
        "minutesDuration": a.duration_minutes,
        "participant": [
            {"actor": reference("Patient", &a.patient_id), "status": "accepted"},
            {"actor": reference("Practitioner", &a.rendering_provider_id), "status": "accepted"},
            {"actor": reference("Location", &a.location_id), "status": "accepted"},
        ],
    })
}

/// Id of the generated `Provenance` of a resource.
pub fn provenance_id(target_id: &str) -> String {
    format!("prov-{target_id}")
}

/// The generated `Provenance` of a clinical resource.
pub fn provenance(target: &Value, org: &str) -> Value {
    let ty = target["resourceType"].as_str().unwrap_or("Resource");
    let id = target["id"].as_str().unwrap_or("");
    let recorded = target["meta"]["lastUpdated"].clone();
    let mut v = json!({
        "resourceType": "Provenance",
        "id": provenance_id(id),
        "meta": {"lastUpdated": recorded, "profile": [format!("{US_CORE}us-core-provenance")]},
        "target": [reference(ty, id)],
        "recorded": recorded,
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}]},
            "who": reference("Organization", org),
            "onBehalfOf": reference("Organization", org),
        }],
    });
    if let Some(sec) = target["meta"].get("security") {
        v["meta"]["security"] = sec.clone();
    }
    v
}

/// Every resource of one chart, in a stable order.
pub fn chart_resources(p: &Practice, c: &Chart, with_appointments: bool) -> Vec<Value> {
    let mut out = Vec::with_capacity(256);
    out.push(patient(p, &c.patient));
    out.extend(c.encounters.iter().map(|e| encounter(p, e)));
    out.extend(c.conditions.iter().map(condition));
    out.extend(c.medications.iter().map(medication_request));
    out.extend(c.medications.iter().map(medication_statement));
    out.extend(c.allergies.iter().map(allergy));
    out.extend(c.observations.iter().map(observation));
    out.extend(sdoh_observations(&c.patient));
    out.extend(c.lab_panels.iter().map(diagnostic_report));
    out.extend(c.immunizations.iter().map(immunization));
    out.extend(c.procedures.iter().map(procedure));
    out.extend(c.documents.iter().map(document));
    out.extend(c.care_plans.iter().map(care_plan));
    out.extend(c.care_team.iter().map(care_team));
    out.extend(c.goals.iter().map(goal));
    out.extend(c.coverages.iter().map(coverage));
    out.extend(c.devices.iter().map(device));
    out.extend(c.lab_panels.iter().map(service_request));
    out.extend(c.lab_panels.iter().map(specimen));
    if let Some(cs) = &c.consent {
        out.push(consent(p, cs));
    }
    if with_appointments {
        out.extend(c.appointments.iter().map(appointment));
    }
    out
}
