//! Practice records rendered as NextGen Enterprise JSON: camelCase, GUID ids,
//! `"2026-07-01T08:00:00"` timestamps without a zone, and HATEOAS `_links`.

use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::practice::{
    Allergy, Appointment, Charge, Condition, Coverage, Document, Encounter, Immunization, LabPanel,
    MedicationRequest, Observation, ObservationValue, Part2Label, Patient, Practice, Procedure,
    Sex,
};

/// `2026-07-01T08:30:00` (wall-clock time, no zone), as NextGen sends.
pub fn ts(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// UTC form of a timestamp.
pub fn ts_utc(t: OffsetDateTime) -> String {
    ts(t.to_offset(time::UtcOffset::UTC))
}

/// A date as NextGen's midnight date-time.
pub fn day(d: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}T00:00:00",
        d.year(),
        d.month() as u8,
        d.day()
    )
}

/// Cents as a decimal amount.
pub fn money(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

/// One HATEOAS link in NextGen's shape.
pub fn link(href: String, method: &str, rel: &str, description: &str, base_href: &str) -> Value {
    json!({
        "href": href,
        "method": method,
        "rel": rel,
        "description": description,
        "vendorExtensions": { "baseHref": base_href },
    })
}

fn sex(s: Sex) -> &'static str {
    match s {
        Sex::M => "M",
        Sex::F => "F",
        Sex::U => "U",
    }
}

/// Whether a Part 2 record may be shown to this client.
pub fn visible(label: &Option<Part2Label>, part2_consent: bool) -> bool {
    match label {
        None => true,
        Some(l) => part2_consent && l.consent_state == crate::practice::ConsentState::Granted,
    }
}

/// A person (a realistic subset of NextGen's ~150 keys).
pub fn person(p: &Patient, practice: &Practice) -> Value {
    let pcp = practice.practitioner(&p.pcp_id);
    let age = {
        let on = practice.as_of();
        let mut a = on.year() - p.birth_date.year();
        if (on.month() as u8, on.day()) < (p.birth_date.month() as u8, p.birth_date.day()) {
            a -= 1;
        }
        a.max(0)
    };
    let id = &p.id;
    let mut v = json!({
        "id": id,
        "personNumber": p.person_number,
        "medicalRecordNumber": p.mrn,
        "firstName": p.name.given,
        "lastName": p.name.family,
        "middleName": p.name.middle,
        "prefix": null,
        "suffix": null,
        "nickname": null,
        "addressLine1": p.address.line,
        "addressLine2": null,
        "city": p.address.city,
        "state": p.address.state,
        "zip": p.address.postal_code,
        "countryId": null,
        "country": "USA",
        "homePhone": p.phone,
        "dayPhone": null,
        "cellPhone": p.phone,
        "alternatePhone": null,
        "email": p.email,
        "hasEmail": p.email.is_some(),
        "hasPhoneNumber": true,
        "sex": sex(p.sex),
        "dateOfBirth": day(p.birth_date),
        "age": format!("{age} Years"),
        "socialSecurityNumber": null,
        "maritalStatus": p.marital_status.display,
        "preferredLanguage": p.language.display,
        "preferredLanguageId": p.language.code,
        "race": p.race.display,
        "ethnicity": p.ethnicity.display,
        "currentGender": p.gender_identity.display,
        "primaryCareProviderId": p.pcp_id,
        "primaryCareProviderFullName": pcp.map(|d| format!("{} {}", d.given, d.family)),
        "primaryCareProviderFirstName": pcp.map(|d| d.given),
        "primaryCareProviderLastName": pcp.map(|d| d.family),
    });
    let more = json!({
        "isExpired": p.deceased,
        "expiredDate": null,
        "isSmoker": null,
        "isVeteran": p.uds.veteran,
        "udsHomelessStatusId": p.uds.homeless,
        "udsMigrantWorkerStatusId": p.uds.agricultural_worker,
        "udsPublicHousingPrimaryCareId": if p.uds.public_housing { "Y" } else { "N" },
        "udsSchoolBasedHealthCenterId": if p.uds.school_based { "Y" } else { "N" },
        "udsVeteranStatus": if p.uds.veteran { "Y" } else { "N" },
        "isSelfPayer": practice.payer(&p.primary_payer_id).is_some_and(|y| y.kind == crate::practice::PayerKind::SelfPay),
        "otherIdNumber": p.external_ids.first().map(|e| e.value.clone()),
        "externalId": p.external_ids.first().map(|e| e.value.clone()),
        "isEnterpriseChart": true,
        "createdBy": 1,
        "createTimestamp": ts(p.last_updated),
        "createTimestampUtc": ts_utc(p.last_updated),
        "modifiedBy": 1,
        "modifyTimestamp": ts(p.last_updated),
        "modifyTimestampUtc": ts_utc(p.last_updated),
        "provenanceInfo": null,
        "enterpriseId": p.enterprise_id,
        "practiceId": p.practice_id,
        "_links": [
            link(format!("persons/{id}"), "GET", "self", "Get this person", "persons/{0}"),
            link(format!("persons/{id}/chart"), "GET", "chart", "Get the person's chart", "persons/{0}/chart"),
            link(format!("persons/{id}/insurances"), "GET", "insurances", "Get the person's insurances", "persons/{0}/insurances"),
            link(format!("persons/{id}/appointments"), "GET", "appointments", "Get the person's appointments", "persons/{0}/appointments"),
        ],
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut v, more) {
        a.extend(b);
    }
    v
}

/// A person's insurance (a FHIR Coverage).
pub fn insurance(c: &Coverage, practice: &Practice) -> Value {
    let payer = practice.payer(&c.payer_id);
    json!({
        "personId": c.patient_id,
        "personPayerId": c.id,
        "payerId": c.payer_id,
        "payerName": payer.map(|p| p.name),
        "payerCode": payer.map(|p| p.payer_code),
        "defaultCob": c.order,
        "policyNumber": c.member_id,
        "policyEffectiveDate": day(c.period_start),
        "policyExpirationDate": c.period_end.map(day),
        "insuredPersonId": c.patient_id,
        "relationship": c.relationship,
        "isPatientInsurance": true,
        "isActive": c.status == "active",
        "isDeleted": false,
        "isAvailable": true,
        "isEmployerInsurance": false,
        "modifyTimestamp": ts(c.last_updated),
        "_links": [link(format!("persons/{}/insurances/{}", c.patient_id, c.id), "GET", "self", "Get this insurance", "persons/{0}/insurances")],
    })
}

/// An appointment.
pub fn appointment(a: &Appointment, p: Option<&Patient>, practice: &Practice) -> Value {
    let loc = practice.location(&a.location_id);
    let prov = practice.practitioner(&a.rendering_provider_id);
    let workflow = if a.is_kept {
        "KEPT"
    } else if a.is_cancelled {
        "CANCELLED"
    } else if a.is_no_show {
        "NO SHOW"
    } else {
        "SCHEDULED"
    };
    json!({
        "id": a.id,
        "eventId": a.event_id,
        "eventName": a.event_name,
        "appointmentDate": day(a.appointment_date),
        "beginTime": a.begin_time.hhmm(),
        "endTime": a.end_time.hhmm(),
        "duration": a.duration_minutes,
        "isCancelled": a.is_cancelled,
        "isRescheduled": a.is_rescheduled,
        "rescheduledAppointmentId": null,
        "isDeleted": false,
        "isKept": a.is_kept,
        "isNoShow": a.is_no_show,
        "status": a.status(),
        "encounterId": a.encounter_id,
        "locationId": a.location_id,
        "locationName": loc.map(|l| l.name),
        "practiceId": a.practice_id,
        "renderingProviderId": a.rendering_provider_id,
        "renderingProviderFirstName": prov.map(|d| d.given),
        "renderingProviderLastName": prov.map(|d| d.family),
        "resourceIds": [a.rendering_provider_id],
        "workflowRoom": null,
        "workflowStatus": workflow,
        "personId": a.patient_id,
        "firstName": p.map(|p| p.name.given.clone()),
        "lastName": p.map(|p| p.name.family.clone()),
        "dateOfBirth": p.map(|p| day(p.birth_date)),
        "sex": p.map(|p| sex(p.sex)),
        "appointmentConfirmed": false,
        "createTimestamp": ts(a.last_updated),
        "modifyTimestamp": ts(a.last_updated),
        "_links": [
            link(format!("appointments/{}", a.id), "GET", "self", "Get this appointment", "appointments"),
            link(format!("persons/{}", a.patient_id), "GET", "person", "Get the person", "persons"),
        ],
    })
}

fn chart_link(pid: &str, what: &str, id: &str) -> Value {
    link(
        format!("persons/{pid}/chart/{what}/{id}"),
        "GET",
        "self",
        "Get this record",
        "persons/{0}/chart",
    )
}

/// An encounter.
pub fn encounter(e: &Encounter, practice: &Practice) -> Value {
    let prov = practice.practitioner(&e.practitioner_id);
    json!({
        "id": e.id,
        "personId": e.patient_id,
        "timestamp": ts(e.start),
        "endTimestamp": ts(e.end),
        "status": e.status,
        "typeCode": e.encounter_type.code,
        "type": e.encounter_type.display,
        "reasonForVisit": e.reason.display,
        "cptCode": e.cpt.code,
        "practiceId": e.practice_id,
        "locationId": e.location_id,
        "locationName": practice.location(&e.location_id).map(|l| l.name),
        "renderingProviderId": e.practitioner_id,
        "renderingProviderName": prov.map(|d| format!("{} {}", d.given, d.family)),
        "isBillable": true,
        "modifyTimestamp": ts(e.last_updated),
        "_links": [
            chart_link(&e.patient_id, "encounters", &e.id),
            link(format!("persons/{}/chart/encounters/{}/vitals", e.patient_id, e.id), "GET", "vitals", "Get the encounter's vital signs", "persons/{0}/chart/encounters/{1}"),
        ],
    })
}

/// An allergy.
pub fn allergy(a: &Allergy) -> Value {
    json!({
        "id": a.id,
        "personId": a.patient_id,
        "description": a.code.display,
        "code": a.code.code,
        "allergyTypeDescription": a.category,
        "reactionDescription": a.reaction.display,
        "severityDescription": a.severity,
        "criticality": a.criticality,
        "status": a.clinical_status,
        "onsetDate": day(a.recorded),
        "createTimestamp": day(a.recorded),
        "modifyTimestamp": ts(a.last_updated),
        "_links": [chart_link(&a.patient_id, "allergies", &a.id)],
    })
}

/// A problem-list entry or an encounter diagnosis.
pub fn condition(c: &Condition, what: &str) -> Value {
    // A problem written without a SNOMED concept has an empty SNOMED code.
    let snomed = (!c.snomed.code.is_empty()).then_some(&c.snomed);
    json!({
        "id": c.id,
        "personId": c.patient_id,
        "encounterId": c.encounter_id,
        "description": c.icd10.display,
        "icd10Code": c.icd10.code,
        "snomedConceptId": snomed.map(|s| &s.code),
        "snomedDescription": snomed.map(|s| &s.display),
        "status": c.clinical_status,
        "verificationStatus": c.verification_status,
        "category": c.category,
        "onsetDate": day(c.onset),
        "diagnosisDate": day(c.recorded),
        "note": c.note,
        "modifyTimestamp": ts(c.last_updated),
        "_links": [chart_link(&c.patient_id, what, &c.id)],
    })
}

/// A medication.
pub fn medication(m: &MedicationRequest) -> Value {
    json!({
        "id": m.id,
        "personId": m.patient_id,
        "encounterId": m.encounter_id,
        "medicationName": m.rxnorm.display,
        "rxNormCode": m.rxnorm.code,
        "sig": m.dosage,
        "status": m.status,
        "intent": m.intent,
        "startDate": day(m.authored_on),
        "prescribedBy": m.prescriber_id,
        "note": m.note,
        "modifyTimestamp": ts(m.last_updated),
        "_links": [chart_link(&m.patient_id, "medications", &m.id)],
    })
}

/// A procedure.
pub fn procedure(p: &Procedure) -> Value {
    json!({
        "id": p.id,
        "personId": p.patient_id,
        "encounterId": p.encounter_id,
        "cptCode": p.cpt.code,
        "description": p.cpt.display,
        "snomedConceptId": p.snomed.code,
        "status": p.status,
        "serviceDate": ts(p.performed),
        "renderingProviderId": p.performer_id,
        "modifyTimestamp": ts(p.last_updated),
        "_links": [chart_link(&p.patient_id, "procedures", &p.id)],
    })
}

/// An immunization.
pub fn immunization(i: &Immunization) -> Value {
    json!({
        "id": i.id,
        "personId": i.patient_id,
        "encounterId": i.encounter_id,
        "cvxCode": i.cvx.code,
        "vaccineName": i.cvx.display,
        "status": i.status,
        "administeredDate": day(i.occurrence),
        "lotNumber": i.lot_number,
        "manufacturer": i.manufacturer,
        "administeredById": i.performer_id,
        "locationId": i.location_id,
        "modifyTimestamp": ts(i.last_updated),
        "_links": [chart_link(&i.patient_id, "immunizations", &i.id)],
    })
}

/// An observation's value as `(value, units)`.
pub fn obs_value(v: &ObservationValue) -> (Value, Value) {
    match v {
        ObservationValue::Quantity { value, unit, .. } => (json!(value), json!(unit)),
        ObservationValue::Integer { value } => (json!(value), Value::Null),
        ObservationValue::Coded { coding } => (json!(coding.display), Value::Null),
        ObservationValue::Text { text } => (json!(text), Value::Null),
        ObservationValue::None => (Value::Null, Value::Null),
    }
}

/// A single observation (vital sign, social history item, lab result).
pub fn observation(o: &Observation) -> Value {
    let (value, units) = obs_value(&o.value);
    let components: Vec<Value> = o
        .components
        .iter()
        .map(|c| {
            let (v, u) = obs_value(&c.value);
            json!({"loincCode": c.code.code, "description": c.code.display, "value": v, "units": u})
        })
        .collect();
    json!({
        "id": o.id,
        "personId": o.patient_id,
        "encounterId": o.encounter_id,
        "loincCode": o.code.code,
        "description": o.code.display,
        "value": value,
        "units": units,
        "components": components,
        "referenceRange": o.reference_range.as_ref().map(|r| r.text.clone()),
        "abnormalFlag": o.interpretation.as_ref().map(|i| i.code.clone()),
        "status": o.status,
        "observationTimestamp": ts(o.effective),
        "modifyTimestamp": ts(o.last_updated),
    })
}

/// A lab panel with its results.
pub fn lab_result(p: &LabPanel, results: &[&Observation]) -> Value {
    json!({
        "id": p.id,
        "personId": p.patient_id,
        "encounterId": p.encounter_id,
        "orderId": p.id,
        "accessionNumber": p.accession,
        "testDescription": p.code.display,
        "loincCode": p.code.code,
        "resultStatus": p.status,
        "collectionTimestamp": ts(p.effective),
        "resultTimestamp": ts(p.issued),
        "orderingProviderId": p.performer_id,
        "results": results.iter().map(|o| observation(o)).collect::<Vec<_>>(),
        "modifyTimestamp": ts(p.last_updated),
        "_links": [link(format!("persons/{}/chart/lab/panels/{}/results", p.patient_id, p.id), "GET", "results", "Get the panel's results", "persons/{0}/chart/lab")],
    })
}

/// A document (the text is served by `…/plain-text`).
pub fn document(d: &Document) -> Value {
    json!({
        "id": d.id,
        "personId": d.patient_id,
        "encounterId": d.encounter_id,
        "documentType": d.doc_type.display,
        "loincCode": d.doc_type.code,
        "description": d.title,
        "status": d.status,
        "mimeType": d.mime_type,
        "authorId": d.author_id,
        "createTimestamp": ts(d.date),
        "modifyTimestamp": ts(d.last_updated),
        "_links": [link(format!("persons/{}/chart/documents/{}/plain-text", d.patient_id, d.id), "GET", "plain-text", "Get the document as plain text", "persons/{0}/chart/documents")],
    })
}

/// A charge.
pub fn charge(c: &Charge) -> Value {
    json!({
        "id": c.id,
        "personId": c.patient_id,
        "encounterId": c.encounter_id,
        "cptCode": c.cpt.code,
        "serviceItemDescription": c.cpt.display,
        "units": c.units,
        "amount": money(c.amount_cents),
        "serviceDate": day(c.service_date),
        "status": match c.status { crate::practice::ChargeStatus::Posted => "Posted", crate::practice::ChargeStatus::Pending => "Pending" },
        "renderingProviderId": c.rendering_provider_id,
        "payerId": c.payer_id,
        "modifyTimestamp": ts(c.last_updated),
        "_links": [chart_link(&c.patient_id, "charges", &c.id)],
    })
}
