//! Scripted practice changes for the outbound feeds: one event of a kind for
//! a patient, or a "day in the clinic" (registrations, then appointments,
//! then visits with results and charges). Each step writes the practice
//! first, so the rendered message shows the new record, then publishes the
//! change (origin `script` or `control`).

use std::borrow::Cow;

use time::{Duration, PrimitiveDateTime, Time};

use crate::events::{ChangeKind, PracticeChange};
use crate::practice::{
    AppointmentPatch, CPT, CVX, ClockTime, Coding, LOINC, NewAppointment, NewCharge,
    NewImmunization, NewObservation, NewPatient, ObservationCategory, ObservationValue,
    PatientIndex, Practice, Sex,
};
use crate::server::AppState;

/// Write what `kind` implies for patient `i` and return the change to publish.
pub fn write(
    practice: &Practice,
    kind: ChangeKind,
    i: PatientIndex,
    origin: &str,
) -> Option<PracticeChange> {
    let p = practice.patient(i)?;
    let day = practice.as_of() + Duration::days(1);
    let at = PrimitiveDateTime::new(practice.as_of(), Time::from_hms(9, 30, 0).ok()?).assume_utc();
    let latest_appt = || {
        practice.chart(i).and_then(|c| {
            c.appointments
                .iter()
                .max_by_key(|a| a.last_updated)
                .map(|a| a.id)
        })
    };
    let record = match kind {
        ChangeKind::AppointmentBooked => {
            let event = practice.events().first()?;
            let location = practice
                .locations()
                .iter()
                .find(|l| l.practice_id == p.practice_id)
                .or_else(|| practice.locations().first())?;
            let a = practice.add_appointment(
                i,
                NewAppointment {
                    event_id: event.id,
                    event_name: Cow::Borrowed(event.name),
                    date: day,
                    begin_time: ClockTime(9 * 60),
                    duration_minutes: event.duration_minutes,
                    location_id: location.id,
                    rendering_provider_id: p.pcp_id,
                    practice_id: p.practice_id.clone(),
                },
            )?;
            Some(a.id)
        }
        ChangeKind::AppointmentRescheduled
        | ChangeKind::AppointmentModified
        | ChangeKind::AppointmentCancelled => {
            let id = latest_appt()?;
            let patch = match kind {
                ChangeKind::AppointmentRescheduled => AppointmentPatch {
                    date: Some(day + Duration::days(1)),
                    is_rescheduled: Some(true),
                    ..AppointmentPatch::default()
                },
                ChangeKind::AppointmentModified => AppointmentPatch {
                    duration_minutes: Some(30),
                    ..AppointmentPatch::default()
                },
                _ => AppointmentPatch {
                    is_cancelled: Some(true),
                    ..AppointmentPatch::default()
                },
            };
            Some(practice.update_appointment(&id, patch)?.id)
        }
        ChangeKind::ResultsAdded => Some(
            practice
                .add_observation(
                    i,
                    NewObservation {
                        encounter_id: None,
                        category: ObservationCategory::Laboratory,
                        code: Coding::new(
                            LOINC,
                            "2345-7",
                            "Glucose [Mass/volume] in Serum or Plasma",
                        ),
                        value: ObservationValue::Quantity {
                            value: 98.0,
                            unit: Cow::Borrowed("mg/dL"),
                            code: Cow::Borrowed("mg/dL"),
                        },
                        reference_range: None,
                        interpretation: None,
                        effective: at,
                        performer_id: None,
                        note: None,
                        status: "final",
                    },
                )?
                .id,
        ),
        ChangeKind::ImmunizationAdded => Some(
            practice
                .add_immunization(
                    i,
                    NewImmunization {
                        cvx: Coding::new(CVX, "150", "Influenza, injectable, quadrivalent"),
                        occurrence: practice.as_of(),
                        lot_number: "NGSIM01".into(),
                        manufacturer: Cow::Borrowed("SKB"),
                        performer_id: None,
                        location_id: None,
                        encounter_id: None,
                    },
                )?
                .id,
        ),
        ChangeKind::ChargePending => Some(
            practice
                .add_pending_charge(
                    i,
                    NewCharge {
                        encounter_id: None,
                        cpt: Coding::new(CPT, "99213", "Office visit, established patient"),
                        units: 1,
                        amount_cents: 12_500,
                        service_date: practice.as_of(),
                        rendering_provider_id: Some(p.pcp_id),
                        payer_id: None,
                    },
                )?
                .id,
        ),
        ChangeKind::PatientRegistered
        | ChangeKind::PatientUpdated
        | ChangeKind::OrderPlaced
        | ChangeKind::ConsentChanged => None,
    };
    Some(PracticeChange {
        kind,
        patient_id: p.id.to_string(),
        record_id: record.map(|g| g.to_string()),
        origin: origin.into(),
    })
}

/// A day in the clinic for `n` new patients, published in clinic order:
/// every registration, then every booking, then each visit's results and
/// charge. Returns the changes published.
pub fn clinic_day(state: &AppState, n: u32) -> Vec<PracticeChange> {
    let practice = &state.practice;
    let born = practice.as_of() - Duration::days(365 * 40);
    let mut people = Vec::new();
    let mut out = Vec::new();
    for k in 0..n {
        let p = practice.create_patient(NewPatient::new(
            format!("Clinicday{k}"),
            "Casey",
            if k % 2 == 0 { Sex::F } else { Sex::M },
            born + Duration::days(i64::from(k) * 37),
        ));
        people.push(p.index);
        out.push(PracticeChange {
            kind: ChangeKind::PatientRegistered,
            patient_id: p.id.to_string(),
            record_id: None,
            origin: "script".into(),
        });
    }
    for kinds in [
        &[ChangeKind::AppointmentBooked][..],
        &[ChangeKind::ResultsAdded, ChangeKind::ChargePending][..],
    ] {
        for &i in &people {
            for &kind in kinds {
                out.extend(write(practice, kind, i, "script"));
            }
        }
    }
    for c in &out {
        state.events.publish(c.clone());
    }
    out
}
