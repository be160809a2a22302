//! Ids are O(1)-invertible and forged ids are rejected without panicking.

use proptest::prelude::*;
use simulator::practice::{PatientIndex, Practice, PracticeConfig, RecordKind};

fn million() -> Practice {
    Practice::new(PracticeConfig {
        patients: 1_000_000,
        ..PracticeConfig::default()
    })
}

#[test]
fn ids_invert_in_constant_time_in_a_million_patient_practice() {
    let p = million();
    let start = std::time::Instant::now();
    for n in [0u32, 1, 999_999] {
        let i = PatientIndex(n);
        let pt = p.patient(i).unwrap();
        assert_eq!(p.find_patient_by_id(&pt.id), Some(i));
        assert_eq!(p.find_patient_by_mrn(&pt.mrn), Some(i));
        assert_eq!(p.find_patient_by_person_number(&pt.person_number), Some(i));
        let c = p.chart(i).unwrap();
        let e = &c.encounters[c.encounters.len() - 1];
        let r = p.find_record(&e.id).unwrap();
        assert_eq!((r.kind, r.patient), (RecordKind::Encounter, Some(i)));
        assert!((r.ordinal as usize) < c.encounters.len());
        assert!(
            c.encounters.windows(2).all(|w| w[0].start <= w[1].start),
            "visits in date order"
        );
        for e in &c.encounters {
            let found = p.find_encounter_by_visit_number(&e.visit_number.to_string());
            assert_eq!(found, Some((i, e.id)));
        }
    }
    // Three charts of a million-patient practice: nothing else was generated.
    assert!(start.elapsed().as_secs() < 5);
    assert!(p.patient(PatientIndex(1_000_000)).is_none());
    assert!(p.find_patient_by_person_number("000001000001").is_none());
}

#[test]
fn mrns_are_unique_and_look_random() {
    let p = Practice::new(PracticeConfig {
        patients: 5_000,
        ..PracticeConfig::default()
    });
    let mut seen = std::collections::HashSet::new();
    let mut sequential = 0;
    let mut prev = 0i64;
    for i in p.patient_indices() {
        let mrn = p.patient(i).unwrap().mrn;
        assert!(mrn.bytes().all(|b| b.is_ascii_digit()));
        let v: i64 = mrn.parse().unwrap();
        if (v - prev).abs() == 1 {
            sequential += 1;
        }
        prev = v;
        assert!(seen.insert(mrn));
    }
    assert!(sequential < 10);
}

#[test]
fn other_seeds_ids_are_rejected() {
    let a = Practice::new(PracticeConfig::default());
    let b = Practice::new(PracticeConfig {
        seed: 99,
        ..PracticeConfig::default()
    });
    let id = a.patient(PatientIndex(7)).unwrap().id;
    assert!(b.find_patient_by_id(&id).is_none());
    assert!(b.find_record(&id).is_none());
    assert!(
        a.find_record(&id.to_uppercase()).is_some(),
        "GUIDs are case-insensitive"
    );
    for bad in [
        "",
        "id-4",
        "00000000-0000-0000-0000-000000000000",
        &id[..35],
        &format!("{id}0"),
    ] {
        assert!(a.find_record(bad).is_none(), "{bad}");
        assert!(a.find_patient_by_id(bad).is_none());
    }
    assert!(a.find_patient_by_mrn("abc").is_none());
    assert!(a.find_patient_by_person_number("-1").is_none());
    for bad in ["", "x", "-5", "9999", "18446744073709551615", "10004096"] {
        assert!(a.find_encounter_by_visit_number(bad).is_none(), "{bad}");
    }
}

proptest! {
    #[test]
    fn garbage_is_rejected_without_panicking(s in ".{0,64}") {
        let p = Practice::new(PracticeConfig::default());
        prop_assert!(p.find_record(&s).is_none() || s.len() == 36);
        let _ = p.find_patient_by_id(&s);
        let _ = p.find_patient_by_mrn(&s);
        let _ = p.find_patient_by_person_number(&s);
        let _ = p.find_encounter_by_visit_number(&s);
        prop_assert!(!p.is_canary(&s) || s.starts_with("NGSIM-CANARY-"));
        let _ = p.canaries_in(s.as_bytes());
    }

    #[test]
    fn guid_shaped_forgeries_are_rejected(hex in "[0-9a-f]{32}") {
        let p = Practice::new(PracticeConfig::default());
        let id = format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32]);
        prop_assert!(p.find_record(&id).is_none());
    }

    #[test]
    fn flipping_one_digit_of_a_real_id_is_rejected(n in 0u32..1000, pos in 0usize..36) {
        let p = Practice::new(PracticeConfig::default());
        let id = p.chart(PatientIndex(n)).unwrap().encounters[0].id;
        let mut bytes = id.to_string().into_bytes();
        if bytes[pos] != b'-' {
            bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
            let forged = String::from_utf8(bytes).unwrap();
            prop_assert!(p.find_record(&forged).is_none());
        }
    }
}
