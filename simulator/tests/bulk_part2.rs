//! 42 CFR Part 2 in bulk: labelled records go only to a client with Part 2
//! consent AND a granted consent for the patient; otherwise they are withheld
//! and the manifest's `error` array points at a notice (never the ids).

mod bulk_support;
mod support;

use bulk_support::*;
use serde_json::{Value, json};
use simulator::practice::{ConsentState, PatientIndex};
use support::{backend_token, backend_token_with, http};

fn labelled(v: &Value) -> bool {
    v["meta"]["security"].to_string().contains("42CFRPart2")
}

async fn export_patient(sim: &simulator::RunningSimulator, token: &str, pid: &str) -> Value {
    let body = json!({"resourceType": "Parameters", "parameter": [
        {"name": "patient", "valueReference": {"reference": format!("Patient/{pid}")}},
    ]});
    let r = http()
        .post(bulk_url(sim, "Patient/$export"))
        .bearer_auth(token)
        .header("prefer", "respond-async")
        .json(&body)
        .send()
        .await
        .unwrap();
    manifest(&content_location(&r), token).await
}

#[tokio::test]
async fn part2_records_need_client_and_patient_consent() {
    let (key, reg) = one_backend("consented-backend", true);
    let sim = sim_with_clients("nge-5.9.2", 200, reg, |p| {
        p.bulk.export_duration = std::time::Duration::ZERO;
    })
    .await;
    let practice = support::practice(&sim);
    let i = (0..200)
        .map(PatientIndex)
        .find(|i| practice.is_part2(*i))
        .expect("a Part 2 patient among 200");
    let pid = support::patient_id(&sim, i.0);
    practice.set_consent(i, ConsentState::Granted);
    let plain = backend_token(&sim, "system/*.rs").await;
    let consented = backend_token_with(&sim, "consented-backend", &key, "system/*.rs").await;

    // No client consent: withheld, with a notice that counts but never names them.
    let m = export_patient(&sim, &plain, &pid).await;
    let res = all_resources(&m, &plain).await;
    assert!(!res.iter().any(labelled));
    let errors = m["error"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["type"], "OperationOutcome");
    let (status, _, notice) = download(errors[0]["url"].as_str().unwrap(), Some(&plain)).await;
    assert_eq!(status, 200);
    let oo: Value = serde_json::from_str(notice.lines().next().unwrap()).unwrap();
    assert_eq!(oo["issue"][0]["code"], "suppressed");
    assert_eq!(
        oo["issue"][0]["details"]["text"],
        simulator::fhir::NOTICE_ABBREVIATED
    );
    let diag = oo["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diag.contains(" records withheld"), "{diag}");

    // Consented client, granted patient consent: labelled records exported.
    let m2 = export_patient(&sim, &consented, &pid).await;
    let res2 = all_resources(&m2, &consented).await;
    let disclosed: Vec<&Value> = res2.iter().filter(|r| labelled(r)).collect();
    assert!(!disclosed.is_empty());
    let withheld_n: usize = diag
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("the count leads the diagnostics");
    assert_eq!(withheld_n, disclosed.len());
    assert_eq!(res2.len(), res.len() + disclosed.len());
    for d in &disclosed {
        assert!(
            !notice.contains(d["id"].as_str().unwrap()),
            "a withheld id leaked"
        );
    }
    let snap: Value = serde_json::from_str(notice.lines().next().unwrap()).unwrap();
    insta::assert_json_snapshot!("withheld_notice", snap);

    // Consented client, revoked patient consent: withheld again.
    practice.set_consent(i, ConsentState::Revoked);
    let m3 = export_patient(&sim, &consented, &pid).await;
    let res3 = all_resources(&m3, &consented).await;
    assert!(!res3.iter().any(labelled));
}
