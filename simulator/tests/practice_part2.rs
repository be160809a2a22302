//! 42 CFR Part 2: share, labels, canaries and consent.

use std::collections::{HashMap, HashSet};

use simulator::practice::{
    CANARY_PREFIX, Chart, ConsentState, PatientIndex, Practice, PracticeConfig, chart_canaries,
};

fn practice(n: u32) -> Practice {
    Practice::new(PracticeConfig {
        patients: n,
        ..PracticeConfig::default()
    })
}

#[test]
fn part2_share_is_about_five_percent_and_consents_are_distributed() {
    let p = practice(10_000);
    let part2: Vec<PatientIndex> = p.patient_indices().filter(|&i| p.is_part2(i)).collect();
    let share = part2.len() as f64 / 10_000.0;
    assert!((0.03..=0.07).contains(&share), "share {share}");
    let mut states: HashMap<ConsentState, usize> = HashMap::new();
    for &i in &part2 {
        *states.entry(p.consent_state(i)).or_default() += 1;
        assert!(p.patient(i).unwrap().part2);
    }
    for s in [
        ConsentState::Granted,
        ConsentState::Revoked,
        ConsentState::Absent,
    ] {
        let n = states.get(&s).copied().unwrap_or(0);
        assert!(n * 10 > part2.len(), "{s:?}: {n} of {}", part2.len());
    }
    assert!(states[&ConsentState::Granted] > states[&ConsentState::Revoked]);
}

fn check_part2_chart(p: &Practice, c: &Chart, seen: &mut HashSet<String>) {
    let i = c.patient.index;
    let listed = p.canaries_of(i);
    assert!(listed.len() >= 5, "{} canaries", listed.len());
    for r in &listed {
        assert!(seen.insert(r.canary.clone()), "canary reused: {}", r.canary);
        assert!(r.canary.starts_with(CANARY_PREFIX) && r.canary.len() == CANARY_PREFIX.len() + 16);
        assert!(p.is_canary(&r.canary));
        let rec = p.find_record(&r.record_id).unwrap();
        assert_eq!(rec.kind, r.kind);
    }
    // Identifier and text carry the canary on every Part 2 record.
    let has = |ids: &[simulator::practice::Identifier], canary: &str| {
        ids.iter().any(|x| x.value == canary)
    };
    let mut kinds = HashSet::new();
    for e in c.encounters.iter().filter(|e| e.part2.is_some()) {
        let k = &e.part2.as_ref().unwrap().canary;
        assert!(has(&e.identifiers, k) && e.text.as_deref().unwrap().contains(k.as_str()));
        kinds.insert("encounter");
    }
    for e in c.conditions.iter().filter(|e| e.part2.is_some()) {
        let k = &e.part2.as_ref().unwrap().canary;
        assert!(has(&e.identifiers, k) && e.note.as_deref().unwrap().contains(k.as_str()));
        assert!(e.icd10.code.starts_with('F'));
        kinds.insert("condition");
    }
    for e in c.medications.iter().filter(|e| e.part2.is_some()) {
        let k = &e.part2.as_ref().unwrap().canary;
        assert!(has(&e.identifiers, k) && e.note.as_deref().unwrap().contains(k.as_str()));
        kinds.insert("medication");
    }
    for e in c.observations.iter().filter(|e| e.part2.is_some()) {
        let k = &e.part2.as_ref().unwrap().canary;
        assert!(has(&e.identifiers, k) && e.note.as_deref().unwrap().contains(k.as_str()));
        kinds.insert("observation");
    }
    for e in c.documents.iter().filter(|e| e.part2.is_some()) {
        let k = &e.part2.as_ref().unwrap().canary;
        assert!(has(&e.identifiers, k) && e.text.contains(k.as_str()));
        kinds.insert("document");
    }
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    // The scanner finds exactly the listed canaries in the serialised chart.
    let bytes = serde_json::to_vec(c).unwrap();
    let found: HashSet<String> = p.canaries_in(&bytes).into_iter().map(|h| h.token).collect();
    let listed: HashSet<String> = listed.into_iter().map(|r| r.canary).collect();
    assert_eq!(found, listed);
    match p.consent_state(i) {
        ConsentState::Absent => assert!(c.consent.is_none()),
        s => assert_eq!(c.consent.as_ref().unwrap().state, s),
    }
}

#[test]
fn part2_records_carry_unique_canaries_in_identifier_and_text() {
    let p = practice(2_000);
    let mut seen = HashSet::new();
    let mut n = 0;
    for i in p.patient_indices() {
        let c = p.chart(i).unwrap();
        if p.is_part2(i) {
            check_part2_chart(&p, &c, &mut seen);
            n += 1;
        } else {
            assert!(chart_canaries(&c).is_empty());
            let bytes = serde_json::to_vec(&c).unwrap();
            assert!(
                p.canaries_in(&bytes).is_empty(),
                "canary in non-Part 2 chart {i:?}"
            );
            assert!(
                !bytes
                    .windows(CANARY_PREFIX.len())
                    .any(|w| w == CANARY_PREFIX.as_bytes())
            );
        }
    }
    assert!(n > 40);
}

#[test]
fn canaries_in_finds_tokens_in_arbitrary_bytes() {
    let p = practice(1_000);
    let i = p.patient_indices().find(|&i| p.is_part2(i)).unwrap();
    let canaries = p.canaries_of(i);
    let mut blob = b"MSH|^~\\&|NG|\r\nNTE|1||".to_vec();
    blob.extend_from_slice(canaries[0].canary.as_bytes());
    blob.extend_from_slice(b"\r\n\x00\xff garbage NGSIM-CANARY-0123456789abcdef NGSIM-CANARY-");
    blob.extend_from_slice(canaries[1].canary.as_bytes());
    blob.extend_from_slice(b"NGSIM-CANARY-12");
    let hits = p.canaries_in(&blob);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].token, canaries[0].canary);
    assert_eq!(hits[0].patient, i);
    assert_eq!(hits[1].token, canaries[1].canary);
    assert!(!p.is_canary("NGSIM-CANARY-0123456789abcdef"));
    // Another seed's canaries are not ours.
    let other = Practice::new(PracticeConfig {
        seed: 7,
        ..PracticeConfig::default()
    });
    assert!(other.canaries_in(canaries[0].canary.as_bytes()).is_empty());
}

#[test]
fn set_consent_relabels_records_and_reset_restores() {
    let p = practice(1_000);
    let i = p.patient_indices().find(|&i| p.is_part2(i)).unwrap();
    let before = serde_json::to_vec(&p.chart(i).unwrap()).unwrap();
    for state in [
        ConsentState::Revoked,
        ConsentState::Granted,
        ConsentState::Absent,
    ] {
        p.set_consent(i, state);
        assert_eq!(p.consent_state(i), state);
        let c = p.chart(i).unwrap();
        assert!(
            c.documents
                .iter()
                .filter_map(|d| d.part2.as_ref())
                .all(|l| l.consent_state == state)
        );
        assert_eq!(
            c.consent.as_ref().map(|c| c.state),
            (state != ConsentState::Absent).then_some(state)
        );
    }
    p.reset();
    assert_eq!(serde_json::to_vec(&p.chart(i).unwrap()).unwrap(), before);
}
