//! Contexts drawn from the synthetic practice: the person in message `i` is
//! patient `i` of the practice, with the MRN, person number, name and birth
//! date that FHIR and the Enterprise API serve for the same seed.
//!
//! The mapping from practice records to [`MessageContext`] parts lives here
//! once; the MLLP sender renders its outbound messages with it too. Nothing
//! reads the wall clock: times come from the records, so the same practice
//! gives the same bytes.

use time::{Date, OffsetDateTime};

use super::context::{
    Address, AppointmentSnapshot, Charge as CtxCharge, Coverage as CtxCoverage, EncounterSnapshot,
    Immunization as CtxImmunization, MessageContext, Observation as CtxObservation, OrderSnapshot,
    PatientSnapshot, Provider, UdsFields, Version,
};
use super::messages::MessageType;
use crate::practice::{
    Appointment, Charge, Chart, Encounter, Immunization, Location, Observation, ObservationValue,
    Patient, PatientIndex, Practice, Practitioner, SlidingFeeClass,
};

/// `YYYYMMDD`.
pub fn hl7_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYYMMDDHHMMSS` (the record's own offset).
pub fn hl7_timestamp(t: OffsetDateTime) -> String {
    format!(
        "{}{:02}{:02}{:02}",
        hl7_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An XCN provider, empty when unknown.
pub fn provider(p: Option<&Practitioner>) -> Provider {
    p.map(|p| Provider {
        id: p.npi.clone(),
        family: p.family.into(),
        given: p.given.into(),
    })
    .unwrap_or_default()
}

/// PID and ZPI content for a practice patient.
pub fn patient_snapshot(p: &Patient) -> PatientSnapshot {
    let fee = match p.sliding_fee.class {
        SlidingFeeClass::A => "A",
        SlidingFeeClass::B => "B",
        SlidingFeeClass::C => "C",
        SlidingFeeClass::D => "D",
        SlidingFeeClass::FullPay => "FULL",
    };
    let mut programs = Vec::new();
    if p.part2 {
        programs.push("SUD".to_owned());
    }
    if p.uds.homeless != "N" && p.uds.homeless != "unknown" {
        programs.push("HCH".to_owned());
    }
    if p.uds.public_housing {
        programs.push("PHPC".to_owned());
    }
    let fpl = p
        .sliding_fee
        .income_band
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    PatientSnapshot {
        person_number: p.person_number.clone(),
        mrn: p.mrn.clone(),
        family: p.name.family.clone(),
        given: p.name.given.clone(),
        middle: p.name.middle.clone().unwrap_or_default(),
        dob: hl7_date(p.birth_date),
        sex: format!("{:?}", p.sex),
        address: Address {
            street: p.address.line.clone(),
            city: p.address.city.to_string(),
            state: p.address.state.to_string(),
            zip: p.address.postal_code.to_string(),
        },
        phone: p.phone.clone(),
        sliding_fee_class: Some(fee.to_owned()),
        program_codes: programs,
        uds: UdsFields {
            percent_fpl: fpl,
            family_size: Some(u32::from(p.sliding_fee.family_size)),
            homeless: p.uds.homeless.to_owned(),
            agricultural_worker: p.uds.agricultural_worker.to_owned(),
            veteran: if p.uds.veteran { "Y" } else { "N" }.into(),
            language: p.language.code.to_string(),
        },
    }
}

/// One OBX worth of a practice observation.
pub fn observation(o: &Observation) -> CtxObservation {
    let (vt, value, units) = match &o.value {
        ObservationValue::Quantity { value, unit, .. } => {
            ("NM", value.to_string(), unit.to_string())
        }
        ObservationValue::Integer { value } => ("NM", value.to_string(), String::new()),
        ObservationValue::Coded { coding } => ("ST", coding.display.to_string(), String::new()),
        ObservationValue::Text { text } => ("ST", text.clone(), String::new()),
        ObservationValue::None => ("ST", String::new(), String::new()),
    };
    CtxObservation {
        code: o.code.code.to_string(),
        text: o.code.display.to_string(),
        system: "LN".into(),
        value_type: vt.into(),
        value,
        units,
        range: o
            .reference_range
            .as_ref()
            .map(|r| r.text.to_string())
            .unwrap_or_default(),
        flag: o
            .interpretation
            .as_ref()
            .map(|c| c.code.to_string())
            .unwrap_or_default(),
    }
}

/// One RXA worth of a practice immunization.
pub fn immunization(im: &Immunization) -> CtxImmunization {
    CtxImmunization {
        cvx: im.cvx.code.to_string(),
        name: im.cvx.display.to_string(),
        date: hl7_date(im.occurrence),
        lot: im.lot_number.clone(),
        manufacturer: im.manufacturer.to_string(),
        dose: "0.5".into(),
    }
}

/// One FT1 worth of a practice charge.
pub fn charge(c: &Charge) -> CtxCharge {
    CtxCharge {
        cpt: c.cpt.code.to_string(),
        description: c.cpt.display.to_string(),
        date: hl7_date(c.service_date),
        units: u32::from(c.units),
        amount: format!(
            "{}.{:02}",
            c.amount_cents / 100,
            c.amount_cents.rem_euclid(100)
        ),
        diagnosis: "Z00.00".into(),
    }
}

/// PV1 content for a practice visit (empty parts when there is none).
pub fn encounter_snapshot(
    encounter: Option<&Encounter>,
    location: Option<&Location>,
    attending: Option<&Practitioner>,
) -> EncounterSnapshot {
    EncounterSnapshot {
        visit_number: encounter
            .map(|e| e.visit_number.to_string())
            .unwrap_or_default(),
        patient_class: "O".into(),
        location: location.map(|l| l.name.to_owned()).unwrap_or_default(),
        attending: provider(attending),
        admit_time: encounter
            .map(|e| hl7_timestamp(e.start))
            .unwrap_or_default(),
    }
}

/// SCH/AIS/AIL content for a practice appointment.
pub fn appointment(practice: &Practice, a: &Appointment) -> AppointmentSnapshot {
    AppointmentSnapshot {
        id: a.id.to_string(),
        start: format!("{}{}", hl7_date(a.appointment_date), a.begin_time.hhmm()),
        minutes: u32::from(a.duration_minutes),
        reason: a.event_name.to_string(),
        location: practice
            .location(&a.location_id)
            .map(|l| l.name.to_owned())
            .unwrap_or_default(),
    }
}

/// The context for a `kind` message about patient `index` of the practice
/// (wrapping around the patient count), or `None` for an empty practice.
///
/// Records: the latest visit (PV1), the latest lab panel and its results
/// (ORC/OBR/OBX), the latest appointment (SCH/AI*), the latest vaccination
/// (RXA), the latest three charges (FT1), the primary payer (IN1). MSH-7 is
/// the time of the record the message is about; MSH-10 is `control_id`.
/// Versions alternate 2.3/2.5.1 with the index parity, like
/// [`super::sample_context`].
pub fn practice_context(
    practice: &Practice,
    kind: MessageType,
    index: u64,
    control_id: &str,
) -> Option<MessageContext> {
    let count = u64::from(practice.patient_count());
    let i = u32::try_from(index.checked_rem(count)?).ok()?;
    let chart = practice.chart(PatientIndex(i))?;
    Some(chart_context(practice, &chart, kind, index, control_id))
}

fn chart_context(
    practice: &Practice,
    chart: &Chart,
    kind: MessageType,
    index: u64,
    control_id: &str,
) -> MessageContext {
    let p = &chart.patient;
    let pcp = practice.practitioner(&p.pcp_id);
    let encounter = chart.encounters.iter().max_by_key(|e| e.start);
    let attending = encounter
        .and_then(|e| practice.practitioner(&e.practitioner_id))
        .or(pcp);
    let location = encounter
        .and_then(|e| practice.location(&e.location_id))
        .or_else(|| practice.locations().first());
    let panel = chart.lab_panels.iter().max_by_key(|l| l.issued);
    let results: Vec<&Observation> = panel
        .map(|l| {
            chart
                .observations
                .iter()
                .filter(|o| l.result_ids.contains(&o.id))
                .collect()
        })
        .unwrap_or_default();
    let latest_appointment = chart.appointments.iter().max_by_key(|a| a.appointment_date);
    let vaccination = chart.immunizations.iter().max_by_key(|im| im.occurrence);
    let charges = &chart.charges[chart.charges.len().saturating_sub(3)..];
    let at_noon = |d: Date| format!("{}120000", hl7_date(d));
    let fallback = encounter.map_or_else(|| at_noon(practice.as_of()), |e| hl7_timestamp(e.start));
    let timestamp = match kind {
        MessageType::OruR01 | MessageType::OrmO01 => panel.map(|l| hl7_timestamp(l.issued)),
        MessageType::SiuS12 | MessageType::SiuS13 | MessageType::SiuS14 | MessageType::SiuS15 => {
            latest_appointment
                .map(|a| format!("{}{}00", hl7_date(a.appointment_date), a.begin_time.hhmm()))
        }
        MessageType::VxuV04 => vaccination.map(|im| at_noon(im.occurrence)),
        MessageType::DftP03 => charges.last().map(|c| at_noon(c.service_date)),
        _ => None,
    }
    .unwrap_or(fallback);
    let payer = practice.payer(&p.primary_payer_id);
    let member_id = chart
        .coverages
        .iter()
        .find(|c| c.payer_id == p.primary_payer_id)
        .map(|c| c.member_id.clone())
        .unwrap_or_default();
    MessageContext {
        version: Some(if index % 2 == 0 {
            Version::V23
        } else {
            Version::V251
        }),
        sending_app: "NextGen".into(),
        sending_facility: practice
            .practice_site(&p.practice_id)
            .map_or("NGSIM", |s| s.name)
            .into(),
        receiving_app: "RECEIVER".into(),
        receiving_facility: "LAB".into(),
        control_id: control_id.to_owned(),
        timestamp: timestamp.clone(),
        patient: patient_snapshot(p),
        encounter: encounter_snapshot(encounter, location, attending),
        order: OrderSnapshot {
            placer: panel.map(|l| l.accession.clone()).unwrap_or_default(),
            filler: panel
                .map(|l| format!("F{}", l.accession))
                .unwrap_or_default(),
            service_code: panel.map_or_else(|| "80053".into(), |l| l.code.code.to_string()),
            service_text: panel.map_or_else(
                || "Comprehensive metabolic panel".into(),
                |l| l.code.display.to_string(),
            ),
            ordering: provider(attending),
        },
        observations: results.into_iter().map(observation).collect(),
        appointment: latest_appointment
            .map(|a| appointment(practice, a))
            .unwrap_or_default(),
        immunizations: vaccination.map(immunization).into_iter().collect(),
        charges: charges.iter().map(charge).collect(),
        coverage: CtxCoverage {
            plan_id: payer.map(|p| p.payer_code.into()).unwrap_or_default(),
            company: payer.map(|p| p.name.into()).unwrap_or_default(),
            group: String::new(),
            member_id,
            guarantor_family: p.name.family.clone(),
            guarantor_given: p.name.given.clone(),
        },
        notes: encounter.and_then(|e| e.text.clone()).into_iter().collect(),
    }
}
