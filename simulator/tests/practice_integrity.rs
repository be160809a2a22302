//! Every reference from every record resolves, and every id decodes to its owner.

use std::collections::HashSet;

use simulator::practice::{Chart, Guid, PatientIndex, Practice, PracticeConfig, RecordKind};

struct Checker<'a> {
    p: &'a Practice,
    i: PatientIndex,
    chart: &'a Chart,
    encounters: HashSet<&'a str>,
    observations: HashSet<&'a str>,
    conditions: HashSet<&'a str>,
    goals: HashSet<&'a str>,
}

impl Checker<'_> {
    fn own(&self, id: &str, kind: RecordKind) {
        let r = self
            .p
            .find_record(id)
            .unwrap_or_else(|| panic!("find_record({id}) failed"));
        assert_eq!(r.kind, kind, "{id}");
        assert_eq!(r.patient, Some(self.i), "{id}");
    }
    fn patient(&self, id: &str) {
        assert_eq!(id, self.chart.patient.id);
        assert_eq!(self.p.find_patient_by_id(id), Some(self.i));
    }
    fn encounter(&self, id: &Option<Guid>) {
        if let Some(id) = id {
            assert!(
                self.encounters.contains(id.as_str()),
                "dangling encounter {id}"
            );
        }
    }
    fn practitioner(&self, id: &str) {
        assert!(
            self.p.practitioner(id).is_some(),
            "dangling practitioner {id}"
        );
    }
    fn location(&self, id: &str) {
        assert!(self.p.location(id).is_some(), "dangling location {id}");
    }
}

#[test]
fn references_resolve_for_first_500_patients() {
    let p = Practice::new(PracticeConfig::default());
    for n in 0..500 {
        let i = PatientIndex(n);
        let c = p.chart(i).unwrap();
        let ck = Checker {
            p: &p,
            i,
            chart: &c,
            encounters: c.encounters.iter().map(|e| e.id.as_str()).collect(),
            observations: c.observations.iter().map(|e| e.id.as_str()).collect(),
            conditions: c.conditions.iter().map(|e| e.id.as_str()).collect(),
            goals: c.goals.iter().map(|e| e.id.as_str()).collect(),
        };
        let pt = &c.patient;
        ck.own(&pt.id, RecordKind::Patient);
        assert_eq!(p.find_patient_by_mrn(&pt.mrn), Some(i));
        assert_eq!(p.find_patient_by_person_number(&pt.person_number), Some(i));
        assert_eq!(pt.person_number.len(), 12);
        ck.practitioner(&pt.pcp_id);
        assert!(p.payer(&pt.primary_payer_id).is_some());
        assert!(p.practice_site(&pt.practice_id).is_some());

        let mut ids = HashSet::new();
        let mut unique = |id: &str| assert!(ids.insert(id.to_string()), "duplicate id {id}");
        for e in &c.encounters {
            unique(&e.id);
            ck.own(&e.id, RecordKind::Encounter);
            ck.patient(&e.patient_id);
            ck.practitioner(&e.practitioner_id);
            ck.location(&e.location_id);
            assert!(p.practice_site(&e.practice_id).is_some());
            assert_eq!(e.class.code, "AMB");
        }
        for r in &c.conditions {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Condition);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.asserter_id);
        }
        for r in &c.medications {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Medication);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.prescriber_id);
            if let Some(cid) = &r.reason_condition_id {
                assert!(ck.conditions.contains(cid.as_str()));
            }
        }
        for r in &c.allergies {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Allergy);
            ck.patient(&r.patient_id);
            ck.practitioner(&r.recorder_id);
        }
        for r in &c.observations {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Observation);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            if let Some(pr) = &r.performer_id {
                ck.practitioner(pr);
            }
            if let Some(panel) = &r.panel_id {
                assert!(
                    c.lab_panels
                        .iter()
                        .any(|lp| &lp.id == panel && lp.result_ids.contains(&r.id))
                );
            }
        }
        for r in &c.lab_panels {
            unique(&r.id);
            ck.own(&r.id, RecordKind::LabPanel);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.performer_id);
            assert!(!r.result_ids.is_empty());
            for m in &r.result_ids {
                assert!(ck.observations.contains(m.as_str()), "panel member {m}");
            }
        }
        for r in &c.immunizations {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Immunization);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            r.performer_id.iter().for_each(|x| ck.practitioner(x));
            r.location_id.iter().for_each(|x| ck.location(x));
        }
        for r in &c.procedures {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Procedure);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.performer_id);
        }
        for r in &c.documents {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Document);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.author_id);
            assert!(!r.text.is_empty());
        }
        for r in &c.appointments {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Appointment);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            ck.practitioner(&r.rendering_provider_id);
            ck.location(&r.location_id);
            assert!(p.event(&r.event_id).is_some());
            assert_eq!(r.begin_time.hhmm().len(), 4);
        }
        for r in &c.charges {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Charge);
            ck.patient(&r.patient_id);
            ck.encounter(&r.encounter_id);
            r.rendering_provider_id
                .iter()
                .for_each(|x| ck.practitioner(x));
            r.payer_id
                .iter()
                .for_each(|x| assert!(p.payer(x).is_some()));
            assert!(r.amount_cents > 0);
        }
        for r in &c.coverages {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Coverage);
            ck.patient(&r.patient_id);
            assert!(p.payer(&r.payer_id).is_some());
        }
        for r in &c.care_plans {
            unique(&r.id);
            ck.own(&r.id, RecordKind::CarePlan);
            ck.patient(&r.patient_id);
            ck.practitioner(&r.author_id);
            r.goal_ids
                .iter()
                .for_each(|g| assert!(ck.goals.contains(g.as_str())));
            r.addresses_condition_ids
                .iter()
                .for_each(|g| assert!(ck.conditions.contains(g.as_str())));
        }
        for r in &c.care_team {
            unique(&r.id);
            ck.own(&r.id, RecordKind::CareTeam);
            ck.patient(&r.patient_id);
            r.members
                .iter()
                .for_each(|m| ck.practitioner(&m.practitioner_id));
        }
        for r in &c.goals {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Goal);
            ck.patient(&r.patient_id);
            r.addresses_condition_id
                .iter()
                .for_each(|g| assert!(ck.conditions.contains(g.as_str())));
        }
        for r in &c.devices {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Device);
            ck.patient(&r.patient_id);
        }
        if let Some(r) = &c.consent {
            unique(&r.id);
            ck.own(&r.id, RecordKind::Consent);
            ck.patient(&r.patient_id);
            assert!(p.practice_site(&r.source_practice_id).is_some());
        }
        assert!(
            c.balance.balance_cents >= 0,
            "negative balance {:?}",
            c.balance
        );
        assert_eq!(
            c.balance.balance_cents,
            c.balance.charges_cents - c.balance.payments_cents - c.balance.adjustments_cents
        );
    }
}

#[test]
fn practice_wide_ids_decode() {
    let p = Practice::new(PracticeConfig::default());
    for (n, l) in p.locations().iter().enumerate() {
        let r = p.find_record(&l.id).unwrap();
        assert_eq!(
            (r.kind, r.patient, r.ordinal as usize),
            (RecordKind::Location, None, n)
        );
    }
    for pr in p.practitioners() {
        assert_eq!(
            p.find_record(&pr.id).unwrap().kind,
            RecordKind::Practitioner
        );
    }
    for x in p.payers() {
        assert_eq!(p.find_record(&x.id).unwrap().kind, RecordKind::Payer);
    }
}

#[test]
fn record_fetches_what_find_record_names() {
    use simulator::practice::Record;
    let p = Practice::new(PracticeConfig::default());
    let c = p.chart(PatientIndex(11)).unwrap();
    let lab = &c.observations.last().unwrap().id;
    assert!(matches!(p.record(lab), Some(Record::Observation(o)) if o.id == *lab));
    let enc = &c.encounters[0].id;
    assert!(matches!(p.record(enc), Some(Record::Encounter(e)) if e.id == *enc));
    assert!(matches!(p.record(&c.patient.id), Some(Record::Patient(_))));
    assert!(
        p.record(&p.locations()[0].id).is_none(),
        "practice-wide entities have their own accessors"
    );
    let week: Vec<_> = p
        .appointments_between(p.as_of(), p.as_of() + time::Duration::days(7))
        .collect();
    assert!(!week.is_empty());
    assert!(week.iter().all(|a| p.find_record(&a.id).is_some()));
}
