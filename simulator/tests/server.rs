//! The in-process simulator: builder, control API, journaling, runtime swaps.

use serde_json::{Value, json};
use simulator::Simulator;

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn starts_on_an_ephemeral_loopback_port_and_reports_health() {
    let sim = Simulator::builder().start().await.unwrap();
    assert!(sim.http_addr().ip().is_loopback());
    assert_ne!(sim.http_addr().port(), 0);
    let (status, body) = get(&format!("{}/_ngsim/health", sim.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["profile"], "nge-5.9.2");
    assert_eq!(body["urls"]["fhir"], sim.fhir_base_url());
}

#[tokio::test]
async fn two_simulators_run_side_by_side() {
    let a = Simulator::builder().start().await.unwrap();
    let b = Simulator::builder()
        .profile_named("nge-office")
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_ne!(a.http_addr(), b.http_addr());
    assert!(b.fhir_base_url().ends_with("/api/fhir/r4"));
}

#[tokio::test]
async fn every_exchange_is_journaled_and_filterable() {
    let sim = Simulator::builder().start().await.unwrap();
    let base = sim.base_url().to_owned();
    get(&format!("{base}/_ngsim/health")).await;
    get(&format!("{base}/_ngsim/faults?access_token=secret-value")).await;
    let (_, j) = get(&format!("{base}/_ngsim/journal?surface=control")).await;
    let entries = j["entries"].as_array().unwrap();
    assert!(entries.len() >= 2);
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ordered by sequence");
    let faults = entries
        .iter()
        .find(|e| e["route"] == "/_ngsim/faults")
        .unwrap();
    assert_eq!(faults["method"], "GET");
    assert_eq!(faults["status"], 200);
    assert_eq!(faults["query"], "access_token=[REDACTED]");
    assert!(!j.to_string().contains("secret-value"));
    // `since` skips earlier entries; an unknown surface is a 400 naming the known ones.
    let last = *seqs.last().unwrap();
    let (_, later) = get(&format!("{base}/_ngsim/journal?since={}", last + 1)).await;
    assert!(
        later["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["seq"].as_u64().unwrap() > last)
    );
    let (status, err) = get(&format!("{base}/_ngsim/journal?surface=ftp")).await;
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("known: fhir"));
}

#[tokio::test]
async fn quirks_and_profiles_swap_at_runtime() {
    let sim = Simulator::builder().start().await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/_ngsim/quirks", sim.base_url());
    let r = c
        .patch(&url)
        .json(&json!({"fhir": {"default-page-size": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.state().profile().fhir.default_page_size, 3);
    // A bad value is refused with the key path, and nothing changes.
    let r = c
        .patch(&url)
        .json(&json!({"fhir": {"paging-param": "_limit"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let msg: Value = r.json().await.unwrap();
    assert!(
        msg["message"]
            .as_str()
            .unwrap()
            .contains("fhir.paging-param"),
        "{msg}"
    );
    assert_eq!(sim.state().profile().fhir.default_page_size, 3);
    let r = c
        .put(format!("{}/_ngsim/profile", sim.base_url()))
        .json(&json!({"name": "nge-office"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.state().profile().name, "nge-office");
    assert!(sim.fhir_base_url().ends_with("/api/fhir/r4"));
}

#[tokio::test]
async fn faults_are_set_listed_and_cleared() {
    let sim = Simulator::builder().start().await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/_ngsim/faults", sim.base_url());
    let rule = json!({"surface": "fhir", "kind": "rate-limit", "retry-after-secs": 3, "times": 1});
    assert_eq!(c.post(&url).json(&rule).send().await.unwrap().status(), 201);
    let (_, list) = get(&url).await;
    assert_eq!(list[0]["kind"], "rate-limit");
    let bad = json!({"surface": "fhir", "kind": "rate-limit", "retry-after": 3});
    let r = c.post(&url).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(c.delete(&url).send().await.unwrap().status(), 204);
    let (_, list) = get(&url).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn non_loopback_binds_need_allow_remote() {
    let addr = "0.0.0.0:0".parse().unwrap();
    let err = Simulator::builder()
        .http_addr(addr)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--allow-remote"), "{err}");
}

#[tokio::test]
async fn journal_file_survives_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let sim = Simulator::builder()
        .journal_file(&path)
        .start()
        .await
        .unwrap();
    get(&format!("{}/_ngsim/health", sim.base_url())).await;
    sim.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let first: simulator::journal::Entry =
        serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first.http().unwrap().route, "/_ngsim/health");
}

#[tokio::test]
async fn the_practice_is_shared_and_reset_restores_the_seed() {
    use simulator::practice::{NewPatient, Sex};
    let sim = Simulator::builder()
        .seed(9)
        .patients(25)
        .start()
        .await
        .unwrap();
    let (_, health) = get(&format!("{}/_ngsim/health", sim.base_url())).await;
    assert_eq!(health["practice"]["seed"], 9);
    assert_eq!(health["practice"]["patients"], 25);
    let created = sim.practice().create_patient(NewPatient::new(
        "Testcase",
        "Ada",
        Sex::F,
        time::macros::date!(1990 - 01 - 02),
    ));
    assert_eq!(sim.practice().patient_count(), 26);
    assert!(sim.practice().find_patient_by_id(&created.id).is_some());
    let r = reqwest::Client::new()
        .post(format!("{}/_ngsim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.practice().patient_count(), 25);
    assert!(sim.practice().find_patient_by_id(&created.id).is_none());
}

#[tokio::test]
async fn reset_revokes_smart_tokens_too() {
    let sim = Simulator::builder().patients(5).start().await.unwrap();
    let token = simulator::auth::mint_backend_token(sim.state(), "system/Patient.rs").unwrap();
    assert!(sim.state().auth.lookup(&token).is_some());
    let r = reqwest::Client::new()
        .post(format!("{}/_ngsim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        sim.state().auth.lookup(&token).is_none(),
        "a reset is a fresh simulator"
    );
}
