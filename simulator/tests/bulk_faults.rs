//! Faults on the bulk surface, set at runtime through `/_ngsim/faults`, and
//! the profile's bulk rate limit: each visible in the responses and named in
//! the journal.

mod bulk_support;
mod support;

use std::time::Duration;

use bulk_support::*;
use serde_json::{Value, json};
use simulator::RunningSimulator;
use support::{backend_token, http};

async fn add_fault(sim: &RunningSimulator, rule: Value) {
    let r = http()
        .post(format!("{}/_ngsim/faults", sim.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

fn faults_in_journal(sim: &RunningSimulator) -> Vec<String> {
    bulk_journal(sim)
        .iter()
        .filter_map(|e| e["fault"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn rate_limit_on_kickoff_then_success() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    add_fault(
        &sim,
        json!({"surface": "bulk", "kind": "rate-limit", "retry-after-secs": 7, "matching": "$export", "times": 1}),
    )
    .await;
    let r = kickoff(&sim, &token, "$export").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    start_export(&sim, &token, "$export").await;
    assert_eq!(faults_in_journal(&sim), ["rate-limit"]);
}

#[tokio::test]
async fn rate_limit_and_transient_error_on_status() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "$export").await;
    add_fault(
        &sim,
        json!({"name": "poll-throttle", "surface": "bulk", "kind": "rate-limit", "retry-after-secs": 3, "matching": "$export-status", "times": 1}),
    )
    .await;
    add_fault(
        &sim,
        json!({"name": "poll-blip", "surface": "bulk", "kind": "status", "status": 503, "transient": true, "matching": "$export-status", "times": 1}),
    )
    .await;
    let r = poll(&url, &token).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let r = poll(&url, &token).await;
    assert_eq!(r.status(), 503);
    let oo: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("transient_status", oo);
    manifest(&url, &token).await;
    assert_eq!(faults_in_journal(&sim), ["poll-throttle", "poll-blip"]);
}

#[tokio::test]
async fn a_failing_job_gives_500_with_an_outcome() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    add_fault(
        &sim,
        json!({"surface": "bulk", "kind": "bulk-job-fails", "times": 1}),
    )
    .await;
    let url = start_export(&sim, &token, "$export").await;
    let r = wait(&url, &token).await;
    assert_eq!(r.status(), 500);
    let oo: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("job_failed", oo);
    assert!(
        bulk_journal(&sim)
            .iter()
            .any(|e| e["name"] == "bulk-job-failed")
    );
    assert!(faults_in_journal(&sim).contains(&"bulk-job-fails".to_owned()));
    // The next job is fine.
    let url = start_export(&sim, &token, "$export").await;
    manifest(&url, &token).await;
}

#[tokio::test]
async fn failing_files_become_error_entries_per_type() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/*.rs").await;
    add_fault(
        &sim,
        json!({"surface": "bulk", "kind": "bulk-file-errors", "types": ["Condition", "Encounter"]}),
    )
    .await;
    let url = start_export(&sim, &token, "Patient/$export").await;
    let m = manifest(&url, &token).await;
    let types = output_types(&m);
    assert!(!types.contains(&"Condition".to_owned()) && !types.contains(&"Encounter".to_owned()));
    assert!(types.contains(&"Patient".to_owned()));
    let errors = m["error"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    for e in errors {
        assert_eq!(e["type"], "OperationOutcome");
        let (status, ct, body) = download(e["url"].as_str().unwrap(), Some(&token)).await;
        assert_eq!((status, ct.as_str()), (200, "application/fhir+ndjson"));
        let oo: Value = serde_json::from_str(body.trim()).unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
    }
    all_resources(&m, &token).await;
}

#[tokio::test]
async fn expired_files_fault() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    add_fault(
        &sim,
        json!({"surface": "bulk", "kind": "bulk-expire-files"}),
    )
    .await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Patient").await;
    let m = manifest(&url, &token).await;
    let (status, _, _) = download(m["output"][0]["url"].as_str().unwrap(), Some(&token)).await;
    assert_eq!(status, 410);
    assert!(faults_in_journal(&sim).contains(&"bulk-expire-files".to_owned()));
}

#[tokio::test]
async fn profile_rate_limit_applies_to_kickoff_and_status() {
    let sim = sim_with("nge-5.9.2", 2, |p| {
        p.bulk.export_duration = Duration::ZERO;
        p.rate_limits.bulk = Some(simulator::profile::RateLimit {
            requests: 2,
            per: Duration::from_secs(60),
            per_client: true,
        });
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "$export").await;
    poll(&url, &token).await;
    let r = poll(&url, &token).await;
    assert_eq!(r.status(), 429);
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(faults_in_journal(&sim), ["rate-limit (profile)"]);
}

#[tokio::test]
async fn export_duration_is_a_runtime_quirk() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let r = http()
        .patch(format!("{}/_ngsim/quirks", sim.base_url()))
        .json(&json!({"bulk": {"export-duration": "90s"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let url = start_export(&sim, &token, "$export").await;
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(80)).await;
    assert_eq!(poll(&url, &token).await.status(), 202);
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(wait(&url, &token).await.status(), 200);
}
