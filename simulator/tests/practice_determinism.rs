//! Same seed → identical bytes; different seed → different bytes.

use simulator::practice::{DEFAULT_AS_OF, PatientIndex, Practice, PracticeConfig};

fn serialise(p: &Practice, n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let chart = p.chart(PatientIndex(i)).expect("patient exists");
        serde_json::to_writer(&mut out, &chart).expect("serialises");
        out.push(b'\n');
    }
    out
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let a = serialise(&Practice::new(PracticeConfig::default()), 200);
    let b = serialise(&Practice::new(PracticeConfig::default()), 200);
    assert_eq!(a, b, "same seed must give identical bytes");
    let c = serialise(
        &Practice::new(PracticeConfig {
            seed: 43,
            ..PracticeConfig::default()
        }),
        200,
    );
    assert_ne!(a, c, "a different seed must give different data");
}

#[test]
fn patient_does_not_depend_on_practice_size() {
    let small = Practice::new(PracticeConfig {
        patients: 10,
        ..PracticeConfig::default()
    });
    let big = Practice::new(PracticeConfig {
        patients: 1_000_000,
        ..PracticeConfig::default()
    });
    for i in [0, 3, 9] {
        let a = serde_json::to_vec(&small.chart(PatientIndex(i)).unwrap()).unwrap();
        let b = serde_json::to_vec(&big.chart(PatientIndex(i)).unwrap()).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn defaults_and_practice_wide_entities() {
    let p = Practice::new(PracticeConfig::default());
    assert_eq!(p.config().seed, 42);
    assert_eq!(p.config().patients, 1000);
    assert_eq!(p.config().as_of, DEFAULT_AS_OF);
    assert_eq!(p.enterprise().id, "00001");
    assert!((2..=3).contains(&p.enterprise().practices.len()));
    assert_eq!(p.enterprise().practices[0].id, "0001");
    assert!(p.locations().len() >= 5);
    assert!(p.practitioners().len() >= 20);
    for pr in p.practitioners() {
        assert!(
            simulator::practice::npi_is_valid(&pr.npi),
            "bad NPI {}",
            pr.npi
        );
        assert!(p.practice_site(&pr.practice_id).is_some());
        assert!(p.location(&pr.location_id).is_some());
    }
    for l in p.locations() {
        assert!(simulator::practice::npi_is_valid(&l.npi));
    }
    assert!(p.payers().iter().any(|x| !x.sliding_fee.is_empty()));
}

#[test]
fn dates_are_relative_to_as_of_and_appointments_fill_the_next_week() {
    let p = Practice::new(PracticeConfig::default());
    let as_of = p.as_of();
    let mut next_week = 0;
    for i in p.patient_indices() {
        let c = p.chart(i).unwrap();
        assert!((1..=15).contains(&c.encounters.len()));
        for e in &c.encounters {
            let d = e.start.date();
            assert!(
                d < as_of && (as_of - d).whole_days() <= 3 * 366,
                "encounter {d}"
            );
        }
        for a in &c.appointments {
            let days = (a.appointment_date - as_of).whole_days();
            if (0..=7).contains(&days) && !a.is_cancelled {
                next_week += 1;
            }
        }
    }
    assert!(
        next_week > 100,
        "only {next_week} appointments in the next 7 days"
    );
}
