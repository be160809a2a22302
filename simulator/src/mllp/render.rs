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
use crate::hl7::generators::context::OrderSnapshot;
use crate::hl7::generators::practice::{self as from_practice, hl7_date, provider};
use crate::hl7::generators::{MessageContext, MessageType, PatientSnapshot, Version, generate};
use crate::practice::{Chart, PayerKind, Practice, Practitioner};
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

fn patient_snapshot(chart: &Chart) -> PatientSnapshot {
    from_practice::patient_snapshot(&chart.patient)
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
        encounter: from_practice::encounter_snapshot(encounter, location, attending),
        ..MessageContext::default()
    };
    if let Some(a) = appointment {
        ctx.appointment = from_practice::appointment(practice, a);
    }
    let obs: Vec<_> = chart
        .observations
        .iter()
        .filter(|o| Some(o.id.as_str()) == record)
        .collect();
    ctx.observations = obs.iter().map(|o| from_practice::observation(o)).collect();
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
        .map(from_practice::immunization)
        .collect();
    ctx.charges = chart
        .charges
        .iter()
        .filter(|c| Some(c.id.as_str()) == record)
        .map(from_practice::charge)
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
