//! Access control on FHIR reads and searches: patient context, split `.r`/`.s`
//! grants, granular category scopes, 42 CFR Part 2 disclosure, the profile's
//! rate limit, injected faults, and what lands in the journal.

mod support;

use serde_json::{Value, json};
use simulator::auth::ClientKey;
use simulator::clients::ClientRegistry;
use simulator::journal::{Detail, Surface};
use simulator::practice::{ConsentState, PatientIndex, RecordKind};
use support::*;

const VITALS: &str = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

fn categories(b: &Value) -> Vec<String> {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "match")
        .map(|e| {
            e["resource"]["category"][0]["coding"][0]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn patient_context_confines_reads_and_searches() {
    let sim = start("nge-5.9.2").await;
    let t = app_token(&sim, "launch/patient patient/*.rs").await;
    let me = t["patient"].as_str().unwrap().to_owned();
    let token = t["access_token"].as_str().unwrap();
    let other = patient_id(&sim, 7);
    fhir_json(&sim, token, &format!("Patient/{me}"), 200).await;
    let denied = fhir_json(&sim, token, &format!("Patient/{other}"), 403).await;
    assert_eq!(denied["issue"][0]["code"], "forbidden");
    let mine = fhir_json(&sim, token, "Observation?_maxresults=500", 200).await;
    assert!(mine["total"].as_u64().unwrap() > 0);
    for e in mine["entry"].as_array().unwrap() {
        if e["search"]["mode"] == "match" {
            assert_eq!(
                e["resource"]["subject"]["reference"],
                format!("Patient/{me}")
            );
        }
    }
    let theirs = fhir_json(&sim, token, &format!("Observation?patient={other}"), 200).await;
    assert_eq!(theirs["total"], 0);

    // The journal names the client, scopes and patient of every FHIR request.
    let entries = sim
        .journal()
        .entries(0, usize::MAX, |e| e.surface == Surface::Fhir);
    assert!(!entries.is_empty());
    for e in entries {
        let Detail::Http(h) = &e.detail else { panic!() };
        assert_eq!(h.client_id.as_deref(), Some("demo-public"));
        assert_eq!(h.scopes.as_deref(), Some("launch/patient patient/*.rs"));
        assert_eq!(h.patient.as_deref(), Some(me.as_str()));
    }
}

#[tokio::test]
async fn split_read_and_search_grants_are_honoured() {
    let sim = start("nge-5.9.2").await;
    let read_only = app_token(
        &sim,
        "launch/patient patient/Observation.r patient/Observation.r patient/Patient.r",
    )
    .await;
    let me = read_only["patient"].as_str().unwrap().to_owned();
    let rt = read_only["access_token"].as_str().unwrap();
    fhir_json(&sim, rt, &format!("Observation?patient={me}"), 403).await;
    let search_only = app_token(&sim, "launch/patient patient/Observation.s").await;
    let st = search_only["access_token"].as_str().unwrap();
    let b = fhir_json(&sim, st, &format!("Observation?patient={me}"), 200).await;
    let obs_id = match_ids(&b)[0].clone();
    fhir_json(&sim, st, &format!("Observation/{obs_id}"), 403).await;
    fhir_json(&sim, rt, &format!("Observation/{obs_id}"), 200).await;
    // Both halves together behave like .rs.
    let both = app_token(
        &sim,
        "launch/patient patient/Observation.r patient/Observation.s",
    )
    .await;
    let bt = both["access_token"].as_str().unwrap();
    fhir_json(&sim, bt, &format!("Observation?patient={me}"), 200).await;
    fhir_json(&sim, bt, &format!("Observation/{obs_id}"), 200).await;
}

#[tokio::test]
async fn granular_category_scopes_filter_searches_and_reads() {
    let sim = start("nge-5.9.2").await;
    let t = app_token(
        &sim,
        &format!("launch/patient patient/Observation.rs?category={VITALS}"),
    )
    .await;
    let me = t["patient"].as_str().unwrap().to_owned();
    let token = t["access_token"].as_str().unwrap();
    let b = fhir_json(
        &sim,
        token,
        &format!("Observation?patient={me}&_maxresults=500"),
        200,
    )
    .await;
    let cats = categories(&b);
    assert!(!cats.is_empty());
    assert!(cats.iter().all(|c| c == "vital-signs"), "{cats:?}");
    let backend = backend_token(&sim, "system/*.rs").await;
    let labs = fhir_json(
        &sim,
        &backend,
        &format!("Observation?patient={me}&category=laboratory"),
        200,
    )
    .await;
    if let Some(lab) = match_ids(&labs).first() {
        fhir_json(&sim, token, &format!("Observation/{lab}"), 403).await;
    }
}

/// A Part 2 patient and one of their Part 2 Condition ids.
fn part2_patient(sim: &simulator::RunningSimulator) -> (PatientIndex, String, String) {
    let p = practice(sim);
    for i in p.patient_indices() {
        if !p.is_part2(i) {
            continue;
        }
        if let Some(c) = p
            .canaries_of(i)
            .into_iter()
            .find(|c| c.kind == RecordKind::Condition)
        {
            let pid = p.patient(i).unwrap().id.to_string();
            return (i, pid, c.record_id.to_string());
        }
    }
    panic!("the practice has Part 2 patients");
}

fn part2_entries(b: &Value) -> usize {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["resource"]["meta"]["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|c| c["code"] == "42CFRPart2"))
        })
        .count()
}

fn notice(b: &Value) -> Option<Value> {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["search"]["mode"] == "outcome")
        .map(|e| e["resource"].clone())
}

#[tokio::test]
async fn part2_records_are_withheld_disclosed_or_labelled_per_consent_and_mode() {
    let key = ClientKey::generate_es384("consented-key");
    let reg = ClientRegistry {
        smart: vec![backend_client("consented-backend", &key, true)],
        gsa: Vec::new(),
    };
    let sim = start_with_clients("nge-5.9.2", reg).await;
    let (i, pid, cond) = part2_patient(&sim);
    practice(&sim).set_consent(i, ConsentState::Granted);
    let plain = backend_token(&sim, "system/*.rs").await;
    let consented = backend_token_with(&sim, "consented-backend", &key, "system/*.rs").await;
    let q = format!("Condition?patient={pid}&_maxresults=500");

    // No client consent: withheld, not counted, 404 on read, notice attached.
    let b = fhir_json(&sim, &plain, &q, 200).await;
    assert_eq!(part2_entries(&b), 0);
    assert_eq!(b["total"].as_u64().unwrap() as usize, match_ids(&b).len());
    let n = notice(&b).expect("a notice entry");
    assert_eq!(n["issue"][0]["code"], "suppressed");
    assert_eq!(
        n["issue"][0]["details"]["text"],
        simulator::fhir::NOTICE_ABBREVIATED
    );
    fhir_json(&sim, &plain, &format!("Condition/{cond}"), 404).await;

    // Consented client and granted patient consent: labelled, with the notice
    // and a reference to the Consent.
    let b2 = fhir_json(&sim, &consented, &q, 200).await;
    assert!(part2_entries(&b2) > 0);
    assert!(b2["total"].as_u64().unwrap() > b["total"].as_u64().unwrap());
    let labelled = fhir_json(&sim, &consented, &format!("Condition/{cond}"), 200).await;
    let codes: Vec<&str> = labelled["meta"]["security"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["R", "ETH", "SUD", "42CFRPart2", "NORDSCLCD"]);
    let n2 = notice(&b2).expect("a notice entry");
    let consent_ref = n2["issue"][0]["extension"][0]["valueReference"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(consent_ref.starts_with("Consent/"));
    fhir_json(&sim, &consented, &consent_ref, 200).await;

    // The patient revokes: withheld even from the consented client.
    practice(&sim).set_consent(i, ConsentState::Revoked);
    let b3 = fhir_json(&sim, &consented, &q, 200).await;
    assert_eq!(part2_entries(&b3), 0);
    fhir_json(&sim, &consented, &format!("Condition/{cond}"), 404).await;

    // label-only discloses to everyone, labelled; the full notice on request.
    let r = http()
        .patch(format!("{}/_ngsim/quirks", sim.base_url()))
        .json(&json!({"part2": {"mode": "label-only", "notice": "full"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b4 = fhir_json(&sim, &plain, &q, 200).await;
    assert!(part2_entries(&b4) > 0);
    assert_eq!(
        notice(&b4).unwrap()["issue"][0]["details"]["text"],
        simulator::fhir::NOTICE_FULL
    );
}

#[tokio::test]
async fn office_rate_limit_answers_429_with_retry_after() {
    let sim = start("nge-office").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    for _ in 0..20 {
        fhir_json(&sim, &token, &format!("Patient/{pid}"), 200).await;
    }
    let r = fhir_get(&sim, &token, &format!("Patient/{pid}")).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["issue"][0]["code"], "throttled");
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    fhir_json(&sim, &token, &format!("Patient/{pid}"), 200).await;
}

#[tokio::test]
async fn injected_faults_are_served_and_named_in_the_journal() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    let add = |rule: Value| {
        let url = format!("{}/_ngsim/faults", sim.base_url());
        async move {
            // Adding a rule re-arms every counter, so clear the last one first.
            http().delete(&url).send().await.unwrap();
            let r = http().post(url).json(&rule).send().await.unwrap();
            assert_eq!(r.status(), 201);
        }
    };
    add(json!({"name": "flaky-503", "surface": "fhir", "kind": "status", "status": 503, "transient": true, "times": 1})).await;
    let r = fhir_get(&sim, &token, &format!("Patient/{pid}")).await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["issue"][0]["code"], "transient");
    fhir_json(&sim, &token, &format!("Patient/{pid}"), 200).await;
    add(json!({"name": "throttle", "surface": "fhir", "kind": "rate-limit", "retry-after-secs": 2, "times": 1})).await;
    let r = fhir_get(&sim, &token, &format!("Patient/{pid}")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    add(json!({"name": "slow", "surface": "fhir", "kind": "latency", "ms": 20, "times": 1})).await;
    fhir_json(&sim, &token, &format!("Patient/{pid}"), 200).await;
    let faults: Vec<String> = sim
        .journal()
        .entries(0, usize::MAX, |e| e.surface == Surface::Fhir)
        .iter()
        .filter_map(|e| match &e.detail {
            Detail::Http(h) => h.fault.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(faults, ["flaky-503", "throttle", "slow"]);
}
