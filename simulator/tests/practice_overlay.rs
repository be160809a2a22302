//! Run-time writes layered over the generated practice.

use std::borrow::Cow;

use simulator::practice::{
    AppointmentPatch, CPT, CVX, ChargeStatus, ClockTime, Coding, LOINC, NewAppointment, NewCharge,
    NewEncounter, NewImmunization, NewObservation, NewPatient, ObservationCategory,
    ObservationValue, PatientIndex, PatientPatch, Practice, PracticeConfig, RecordKind, SNOMED,
    Sex,
};
use time::macros::{date, datetime};

fn practice() -> Practice {
    Practice::new(PracticeConfig {
        patients: 100,
        ..PracticeConfig::default()
    })
}

fn office_visit(amount_cents: i64) -> NewCharge {
    NewCharge {
        encounter_id: None,
        cpt: Coding::new(CPT, "99213", "Office visit"),
        units: 1,
        amount_cents,
        service_date: date!(2026 - 06 - 30),
        rendering_provider_id: None,
        payer_id: None,
    }
}

#[test]
fn create_update_and_find_a_patient() {
    let p = practice();
    let g0 = p.generation();
    let created = p.create_patient(NewPatient::new(
        "Testperson",
        "Alex",
        Sex::F,
        date!(1990 - 04 - 02),
    ));
    assert!(p.generation() > g0);
    assert_eq!(created.index, PatientIndex(100));
    assert_eq!(p.patient_count(), 101);
    assert_eq!(p.patient_indices().count(), 101);
    assert_eq!(p.find_patient_by_id(&created.id), Some(created.index));
    assert_eq!(p.find_patient_by_mrn(&created.mrn), Some(created.index));
    assert_eq!(
        p.find_patient_by_person_number(&created.person_number),
        Some(created.index)
    );
    assert_eq!(
        p.find_record(&created.id).unwrap().kind,
        RecordKind::Patient
    );
    assert!(p.chart(created.index).unwrap().encounters.is_empty());

    let updated = p
        .update_patient(
            created.index,
            PatientPatch {
                phone: Some("4195550000".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(updated.phone, "4195550000");
    assert_eq!(p.patient(created.index).unwrap().phone, "4195550000");

    // Patch a generated patient; the chart keeps its clinical data.
    let before = p.chart(PatientIndex(5)).unwrap();
    p.update_patient(
        PatientIndex(5),
        PatientPatch {
            family: Some("Renamed".into()),
            ..Default::default()
        },
    );
    let after = p.chart(PatientIndex(5)).unwrap();
    assert_eq!(after.patient.name.family, "Renamed");
    assert_eq!(after.encounters.len(), before.encounters.len());
    assert!(
        p.update_patient(PatientIndex(10_000), PatientPatch::default())
            .is_none()
    );
}

#[test]
fn overlay_records_appear_in_the_chart_and_reset_restores_the_seed() {
    let p = practice();
    let i = PatientIndex(3);
    let pure = serde_json::to_vec(&p.chart(i).unwrap()).unwrap();

    let obs = p
        .add_observation(
            i,
            NewObservation {
                encounter_id: None,
                category: ObservationCategory::Laboratory,
                code: Coding::new(LOINC, "4548-4", "Hemoglobin A1c"),
                value: ObservationValue::Quantity {
                    value: 6.1,
                    unit: Cow::Borrowed("%"),
                    code: Cow::Borrowed("%"),
                },
                reference_range: None,
                interpretation: None,
                effective: datetime!(2026-06-30 10:00 -5),
                performer_id: None,
                note: None,
                status: "final",
            },
        )
        .unwrap();
    let pr0 = &p.practitioners()[0];
    let enc = p
        .add_encounter(
            i,
            NewEncounter {
                status: "in-progress",
                encounter_type: Coding::new(SNOMED, "185349003", "Encounter for check up"),
                reason: Coding::new(SNOMED, "185349003", "Encounter for check up"),
                start: datetime!(2026-07-01 09:00 -5),
                end: datetime!(2026-07-01 09:20 -5),
                practice_id: pr0.practice_id.clone(),
                location_id: pr0.location_id,
                practitioner_id: pr0.id,
                cpt: Coding::new(CPT, "99213", "Office visit"),
            },
        )
        .unwrap();
    assert_eq!(
        p.find_encounter_by_visit_number(&enc.visit_number.to_string()),
        Some((i, enc.id))
    );
    assert_eq!(p.find_record(&enc.id).unwrap().kind, RecordKind::Encounter);
    let r = p.find_record(&obs.id).unwrap();
    assert_eq!(
        (r.kind, r.patient, r.overlay),
        (RecordKind::Observation, Some(i), true)
    );

    let pr = &p.practitioners()[0];
    let appt = p
        .add_appointment(
            i,
            NewAppointment {
                event_id: p.events()[0].id,
                event_name: Cow::Borrowed("Office Visit - Established"),
                date: date!(2026 - 07 - 02),
                begin_time: ClockTime(8 * 60),
                duration_minutes: 10,
                location_id: pr.location_id,
                rendering_provider_id: pr.id,
                practice_id: pr.practice_id.clone(),
            },
        )
        .unwrap();
    assert_eq!(appt.begin_time.hhmm(), "0800");
    assert_eq!(appt.end_time.hhmm(), "0810");
    let cancelled = p
        .update_appointment(
            &appt.id,
            AppointmentPatch {
                is_cancelled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cancelled.status(), "cancelled");
    // Update a generated appointment too.
    let generated = p.chart(i).unwrap().appointments[0].id;
    p.update_appointment(
        &generated,
        AppointmentPatch {
            is_no_show: Some(true),
            ..Default::default()
        },
    )
    .unwrap();

    let im = p
        .add_immunization(
            i,
            NewImmunization {
                cvx: Coding::new(CVX, "140", "Influenza"),
                occurrence: date!(2026 - 06 - 30),
                lot_number: "LOT1".into(),
                manufacturer: Cow::Borrowed("Sanofi"),
                performer_id: None,
                location_id: None,
                encounter_id: None,
            },
        )
        .unwrap();
    let ch = p.add_pending_charge(i, office_visit(14_000)).unwrap();
    assert_eq!(p.pending_charges().len(), 1);

    let c = p.chart(i).unwrap();
    assert!(c.observations.iter().any(|o| o.id == obs.id));
    assert_eq!(
        c.encounters.last().unwrap().id,
        enc.id,
        "newest visit sorts last"
    );
    assert!(
        c.appointments
            .iter()
            .any(|a| a.id == appt.id && a.is_cancelled)
    );
    assert!(
        c.appointments
            .iter()
            .any(|a| a.id == generated && a.is_no_show)
    );
    assert!(c.immunizations.iter().any(|x| x.id == im.id));
    assert!(
        c.charges
            .iter()
            .any(|x| x.id == ch.id && x.status == ChargeStatus::Pending)
    );

    let posted = p.post_pending_charges();
    assert_eq!(posted.len(), 1);
    assert!(p.pending_charges().is_empty());

    let g = p.generation();
    p.reset();
    assert!(p.generation() > g);
    assert_eq!(serde_json::to_vec(&p.chart(i).unwrap()).unwrap(), pure);
    assert!(
        p.find_record(&obs.id).is_none(),
        "overlay ids die with the overlay"
    );
    assert!(
        p.find_encounter_by_visit_number(&enc.visit_number.to_string())
            .is_none()
    );
    assert_eq!(p.patient_count(), 100);
}

#[test]
fn practice_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Practice>();
    let p = practice();
    let q = p.clone();
    q.create_patient(NewPatient::new(
        "Shared",
        "Overlay",
        Sex::U,
        date!(2000 - 01 - 01),
    ));
    assert_eq!(p.patient_count(), 101, "clones share one overlay");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let p = practice();
    let i = PatientIndex(1);
    let before = p.generation();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let p = p.clone();
            s.spawn(move || {
                for k in 0..25u32 {
                    p.create_patient(NewPatient::new(
                        format!("T{t}"),
                        format!("K{k}"),
                        Sex::U,
                        date!(2001 - 02 - 03),
                    ));
                    let phone = format!("41955{t}{k:04}");
                    p.update_patient(
                        i,
                        PatientPatch {
                            phone: Some(phone),
                            ..Default::default()
                        },
                    );
                }
            });
        }
    });
    assert_eq!(p.patient_count(), 200);
    assert_eq!(p.generation(), before + 200);
    let ids: std::collections::HashSet<_> = (100..200)
        .map(|n| p.patient(PatientIndex(n)).unwrap().id)
        .collect();
    assert_eq!(ids.len(), 100);
}

/// Charges of several patients, interleaved in the holding tank: each chart
/// holds its own in arrival order, each id resolves, and posting takes them
/// all in arrival order.
#[test]
fn interleaved_charges_stay_with_their_patients() {
    let p = practice();
    let (a, b) = (PatientIndex(4), PatientIndex(9));
    let base = |i| p.chart(i).unwrap().charges.len();
    let (base_a, base_b) = (base(a), base(b));
    let mut ids = Vec::new();
    for (k, i) in [a, b, a, a, b].into_iter().enumerate() {
        let ch = p
            .add_pending_charge(i, office_visit(1_000 + k as i64))
            .unwrap();
        ids.push((i, ch.id, ch.amount_cents));
    }
    for i in [a, b] {
        let c = p.chart(i).unwrap();
        let want: Vec<_> = ids
            .iter()
            .filter(|x| x.0 == i)
            .map(|x| (x.1, x.2))
            .collect();
        let base = if i == a { base_a } else { base_b };
        let got: Vec<_> = c.charges[base..]
            .iter()
            .map(|x| (x.id, x.amount_cents))
            .collect();
        assert_eq!(got, want, "charges of {i:?}");
        for (id, _) in &want {
            assert_eq!(p.find_record(id).and_then(|r| r.patient), Some(i));
        }
    }
    let pending: Vec<_> = p.pending_charges().iter().map(|c| c.amount_cents).collect();
    assert_eq!(pending, [1_000, 1_001, 1_002, 1_003, 1_004]);
    assert_eq!(p.post_pending_charges().len(), 5);
}
