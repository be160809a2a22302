//! Practice → outbound NextGen-shaped message, with the profile's quirks.
//!
//! Messages are built from the PRACTICE (patient, chart, appointment)
//! through the HL7 generators' [`MessageContext`], so the same person is the
//! same patient in FHIR, the Enterprise API and HL7:
//!
//! - MSH-12 from the profile (`2.3` or `2.5.1`); MSH-3/4 from the profile,
//!   or the Office shape `NextGen Office^<acct>` / `<PRACTICE NAME>^<practiceId>`
//!   when `office-style`;
//! - PID-2 person number, PID-3 `<mrn>^^^NextGen^MRN`;
//! - PV1-2 class `O`, PV1-3 location, PV1-7 attending and PV1-8 referring
//!   (the PCP) with their NPIs, PV1-19 visit number, PV1-20 financial class
//!   from the primary payer (`MCD`, `MCR`, `COM`, `SP`), PV1-50
//!   `practiceId;NAME;ACCT` when `office-style`;
//! - Z-segments only when listed in the profile's `z-segments` (`ZPI`: sliding
//!   fee class, program codes, UDS fields).

use crate::events::{ChangeKind, PracticeChange};
use crate::hl7::generators::context::{
    AppointmentSnapshot, Charge as CtxCharge, EncounterSnapshot, Immunization as CtxImm,
    Observation as CtxObs, OrderSnapshot, Provider, UdsFields,
};
use crate::hl7::generators::{MessageContext, MessageType, PatientSnapshot, Version, generate};
use crate::practice::{
    Chart, ObservationValue, PayerKind, Practice, Practitioner, SlidingFeeClass,
};
use crate::profile::Hl7Profile;

/// Who the message is for (MSH-5/MSH-6).
#[derive(Debug, Clone, Default)]
pub struct Addressee<'a> {
    /// MSH-5.
    pub application: &'a str,
    /// MSH-6.
    pub facility: &'a str,
}

/// The message type an event becomes, if any.
pub fn message_type(kind: ChangeKind) -> Option<MessageType> {
    Some(match kind {
        ChangeKind::PatientRegistered => MessageType::AdtA04,
        ChangeKind::PatientUpdated => MessageType::AdtA08,
        ChangeKind::AppointmentBooked => MessageType::SiuS12,
        ChangeKind::AppointmentRescheduled => MessageType::SiuS13,
        ChangeKind::AppointmentModified => MessageType::SiuS14,
        ChangeKind::AppointmentCancelled => MessageType::SiuS15,
        ChangeKind::ResultsAdded => MessageType::OruR01,
        ChangeKind::ImmunizationAdded => MessageType::VxuV04,
        ChangeKind::OrderPlaced => MessageType::OrmO01,
        ChangeKind::ChargePending => MessageType::DftP03,
        ChangeKind::ConsentChanged => return None,
    })
}

fn provider(p: Option<&Practitioner>) -> Provider {
    p.map(|p| Provider {
        id: p.npi.clone(),
        family: p.family.into(),
        given: p.given.into(),
    })
    .unwrap_or_default()
}

fn hl7_date(d: time::Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

fn hl7_ts(t: time::OffsetDateTime) -> String {
    super::conn::ts_str(&super::conn::hl7_timestamp(t)).to_owned()
}

fn patient_snapshot(chart: &Chart) -> PatientSnapshot {
    let p = &chart.patient;
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
        address: crate::hl7::generators::context::Address {
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

/// Render `change` as an outbound message, or `None` when the event has no
/// HL7 form or its records are gone.
pub fn render(
    practice: &Practice,
    hl7: &Hl7Profile,
    change: &PracticeChange,
    to: &Addressee<'_>,
    control_id: &str,
) -> Option<(MessageType, Vec<u8>)> {
    let kind = message_type(change.kind)?;
    let i = practice.find_patient_by_id(&change.patient_id)?;
    let chart = practice.chart(i)?;
    let p = &chart.patient;
    let record = change.record_id.as_deref();
    let site = practice.practice_site(&p.practice_id);
    let pcp = practice.practitioner(&p.pcp_id);
    let appointment = chart
        .appointments
        .iter()
        .find(|a| Some(a.id.as_str()) == record)
        .or_else(|| chart.appointments.last());
    // The visit: the appointment's, the record's, else the latest.
    let encounter = appointment
        .and_then(|a| a.encounter_id)
        .and_then(|id| chart.encounters.iter().find(|e| e.id == id))
        .or_else(|| chart.encounters.iter().max_by_key(|e| e.start));
    let attending = encounter
        .and_then(|e| practice.practitioner(&e.practitioner_id))
        .or(pcp);
    let location = encounter
        .and_then(|e| practice.location(&e.location_id))
        .or_else(|| practice.locations().first());
    let now = super::conn::hl7_now();
    let mut ctx = MessageContext {
        version: Some(if hl7.version == "2.5.1" {
            Version::V251
        } else {
            Version::V23
        }),
        sending_app: hl7.sending_application.clone(),
        sending_facility: hl7.sending_facility.clone(),
        receiving_app: to.application.to_owned(),
        receiving_facility: to.facility.to_owned(),
        control_id: control_id.to_owned(),
        timestamp: super::conn::ts_str(&now).to_owned(),
        patient: patient_snapshot(&chart),
        encounter: EncounterSnapshot {
            visit_number: encounter
                .map(|e| e.visit_number.to_string())
                .unwrap_or_default(),
            patient_class: "O".into(),
            location: location.map(|l| l.name.to_owned()).unwrap_or_default(),
            attending: provider(attending),
            admit_time: encounter.map(|e| hl7_ts(e.start)).unwrap_or_default(),
        },
        ..MessageContext::default()
    };
    if let Some(a) = appointment {
        ctx.appointment = AppointmentSnapshot {
            id: a.id.to_string(),
            start: format!("{}{}", hl7_date(a.appointment_date), a.begin_time.hhmm()),
            minutes: u32::from(a.duration_minutes),
            reason: a.event_name.to_string(),
            location: practice
                .location(&a.location_id)
                .map(|l| l.name.to_owned())
                .unwrap_or_default(),
        };
    }
    let obs: Vec<_> = chart
        .observations
        .iter()
        .filter(|o| Some(o.id.as_str()) == record)
        .collect();
    ctx.observations = obs
        .iter()
        .map(|o| {
            let (vt, value, units) = match &o.value {
                ObservationValue::Quantity { value, unit, .. } => {
                    ("NM", value.to_string(), unit.to_string())
                }
                ObservationValue::Integer { value } => ("NM", value.to_string(), String::new()),
                ObservationValue::Coded { coding } => {
                    ("ST", coding.display.to_string(), String::new())
                }
                ObservationValue::Text { text } => ("ST", text.clone(), String::new()),
                ObservationValue::None => ("ST", String::new(), String::new()),
            };
            CtxObs {
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
        })
        .collect();
    ctx.order = OrderSnapshot {
        placer: record.unwrap_or_default().chars().take(22).collect(),
        filler: format!("F{}", control_id),
        service_code: obs
            .first()
            .map(|o| o.code.code.to_string())
            .unwrap_or_else(|| "80053".into()),
        service_text: obs
            .first()
            .map(|o| o.code.display.to_string())
            .unwrap_or_else(|| "Comprehensive metabolic panel".into()),
        ordering: provider(attending),
    };
    ctx.immunizations = chart
        .immunizations
        .iter()
        .filter(|im| Some(im.id.as_str()) == record)
        .map(|im| CtxImm {
            cvx: im.cvx.code.to_string(),
            name: im.cvx.display.to_string(),
            date: hl7_date(im.occurrence),
            lot: im.lot_number.clone(),
            manufacturer: im.manufacturer.to_string(),
            dose: "0.5".into(),
        })
        .collect();
    ctx.charges = chart
        .charges
        .iter()
        .filter(|c| Some(c.id.as_str()) == record)
        .map(|c| CtxCharge {
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
        })
        .collect();
    let payer = practice.payer(&p.primary_payer_id);
    if let Some(payer) = payer {
        ctx.coverage.company = payer.name.into();
        ctx.coverage.plan_id = payer.payer_code.into();
    }
    ctx.coverage.guarantor_family = p.name.family.clone();
    ctx.coverage.guarantor_given = p.name.given.clone();
    let mut b = generate(kind, &ctx);
    let has_pv1 = b.segments().iter().any(|s| s.id() == b"PV1");
    if has_pv1 {
        let class = match payer.map(|p| p.kind) {
            Some(PayerKind::Medicaid) => "MCD",
            Some(PayerKind::Medicare) => "MCR",
            Some(PayerKind::Commercial) => "COM",
            _ => "SP",
        };
        let _ = b.set("PV1-20", class);
        if let Some(pcp) = pcp {
            let _ = b.set("PV1-8.1", &pcp.npi);
            let _ = b.set("PV1-8.2", pcp.family);
            let _ = b.set("PV1-8.3", pcp.given);
        }
    }
    if hl7.office_style {
        let acct = practice.enterprise().id.clone();
        let (site_id, site_name) = site.map_or(("", ""), |s| (s.id.as_str(), s.name));
        let _ = b.set_raw("MSH-3", format!("NextGen Office^{acct}").as_bytes());
        let _ = b.set_raw("MSH-4", format!("{site_name}^{site_id}").as_bytes());
        if has_pv1 {
            let _ = b.set_raw("PV1-50", format!("{site_id};{site_name};{acct}").as_bytes());
        }
    }
    let mut out = b.encode();
    if let Some(c) = chart
        .conditions
        .iter()
        .find(|c| Some(c.id.as_str()) == record)
    {
        let diagnosing = practice.practitioner(&c.asserter_id);
        insert_dg1(&mut out, c, diagnosing, hl7.version == "2.5.1");
    }
    strip_z_segments(&mut out, &hl7.z_segments);
    Some((kind, out))
}

/// Put a DG1 for a problem recorded through the Enterprise API into the
/// ADT^A08 its change event becomes, where ADT_A01 orders it: after AL1,
/// before GT1/IN1 (and the Z and NTE segments the generators append).
///
/// Why ADT^A08 with DG1 and not PPR^PC1: the message types NextGen sites are
/// known to exchange are ADT, SIU, DFT and ORU (nextgen.md §3, "Message types
/// commonly exchanged"); no public source shows Rosetta sending PPR, so a
/// problem-list change leaves as a demographics-and-diagnosis update. DG1 has
/// no clinical-status field (PRB would), so a resolved problem shows only in
/// FHIR and the Enterprise API.
fn insert_dg1(
    out: &mut Vec<u8>,
    c: &crate::practice::Condition,
    diagnosing: Option<&Practitioner>,
    v251: bool,
) {
    let d = provider(diagnosing);
    let onset = hl7_date(c.onset);
    let mut fields = vec![
        ("DG1-1", "1"),
        ("DG1-3.1", &*c.icd10.code),
        ("DG1-3.2", &*c.icd10.display),
        ("DG1-3.3", "I10"),
        ("DG1-4", &*c.icd10.display),
        ("DG1-5", onset.as_str()),
        ("DG1-6", "F"),
        ("DG1-16.1", d.id.as_str()),
        ("DG1-16.2", d.family.as_str()),
        ("DG1-16.3", d.given.as_str()),
    ];
    if v251 {
        // DG1-21 diagnosis action code (2.5 and later): A = add.
        fields.push(("DG1-21", "A"));
    }
    // A one-segment message carries the DG1 through the builder's escaping.
    let mut m = crate::hl7::build::MessageBuilder::new();
    for (path, value) in fields {
        if !value.is_empty() {
            let _ = m.set(path, value);
        }
    }
    let encoded = m.encode();
    let Some(dg1) = encoded
        .split_inclusive(|b| *b == b'\r')
        .find(|seg| seg.starts_with(b"DG1"))
    else {
        return;
    };
    let at = out
        .split_inclusive(|b| *b == b'\r')
        .scan(0, |pos, seg| {
            let start = *pos;
            *pos += seg.len();
            Some((start, seg))
        })
        .find(|(_, seg)| {
            [&b"GT1"[..], b"IN1", b"NTE"]
                .iter()
                .any(|id| seg.starts_with(id))
                || seg.starts_with(b"Z")
        })
        .map_or(out.len(), |(start, _)| start);
    let dg1 = dg1.to_vec();
    out.splice(at..at, dg1);
}

/// Drop every `Z..` segment not listed in the profile.
fn strip_z_segments(out: &mut Vec<u8>, keep: &[String]) {
    let kept: Vec<u8> = out
        .split_inclusive(|b| *b == b'\r')
        .filter(|seg| !seg.starts_with(b"Z") || keep.iter().any(|z| seg.starts_with(z.as_bytes())))
        .flatten()
        .copied()
        .collect();
    *out = kept;
}
