//! The Bulk Data flow at every kick-off level: kick-off → status → manifest →
//! download; cancel; concurrency; the async rules (Prefer, Retry-After,
//! X-Progress, export duration on tokio's clock).

mod bulk_support;
mod support;

use bulk_support::*;
use serde_json::{Value, json};
use support::{backend_token, http, patient_id};

/// The manifest with the volatile parts (port, job id, instant) made stable.
fn stable(sim: &simulator::RunningSimulator, status_url: &str, m: &Value) -> Value {
    let job = status_url.rsplit(['/', '=']).next().unwrap();
    let text = m
        .to_string()
        .replace(sim.base_url(), "http://[sim]")
        .replace(job, "[job]");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn group_export_kickoff_status_manifest_and_files() {
    let sim = quick(6).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let r = kickoff(&sim, &token, "Group/all-patients/$export").await;
    let status_url = content_location(&r);
    assert!(
        status_url.starts_with("http://127.0.0.1:"),
        "absolute: {status_url}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");

    let done = wait(&status_url, &token).await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        done.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert!(done.headers().contains_key("expires"));
    let m: Value = done.json().await.unwrap();
    for k in [
        "transactionTime",
        "request",
        "requiresAccessToken",
        "output",
        "error",
    ] {
        assert!(m.get(k).is_some(), "manifest key {k}");
    }
    assert_eq!(
        m["request"],
        bulk_url(&sim, "Group/all-patients/$export").as_str()
    );
    assert_eq!(m["requiresAccessToken"], true);
    assert_eq!(m["error"], json!([]));
    insta::assert_json_snapshot!("group_manifest", stable(&sim, &status_url, &m), {
        ".transactionTime" => "[instant]",
    });

    let resources = all_resources(&m, &token).await;
    let patients: Vec<&str> = resources
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..6).map(|i| patient_id(&sim, i)).collect();
    assert_eq!(patients, expected);
    // Every compartment resource names one of the group's patients.
    for r in &resources {
        let text = r.to_string();
        assert!(
            expected.iter().any(|p| text.contains(p.as_str())),
            "{}/{} is outside the group",
            r["resourceType"],
            r["id"]
        );
    }

    // The journal names the client and the job on every bulk exchange.
    let job = status_url.rsplit('/').next().unwrap();
    let entries = bulk_journal(&sim);
    let http_entries: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "http").collect();
    assert!(http_entries.len() >= 3);
    for e in http_entries {
        assert_eq!(e["client_id"], "demo-backend", "{e}");
        assert!(e["notes"].to_string().contains(job), "{e}");
    }
    assert!(entries.iter().any(|e| e["name"] == "bulk-job-started"));
}

#[tokio::test]
async fn group_is_readable_in_fhir_and_unknown_groups_are_404() {
    let sim = quick(4).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let g = support::fhir_json(&sim, &token, "Group/medicaid", 200).await;
    assert_eq!(g["resourceType"], "Group");
    let r = kickoff(&sim, &token, "Group/nope/$export").await;
    assert_eq!(r.status(), 404);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn every_group_exports_its_members_only() {
    let sim = quick(40).await;
    let token = backend_token(&sim, "system/Patient.rs").await;
    let groups = simulator::fhir::group_defs(support::practice(&sim));
    assert!(groups.iter().any(|g| g.id.starts_with("panel-")));
    for g in groups.iter().filter(|g| !g.members.is_empty()).take(4) {
        let url = start_export(&sim, &token, &format!("Group/{}/$export", g.id)).await;
        let m = manifest(&url, &token).await;
        let ids: Vec<String> = all_resources(&m, &token)
            .await
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = g.members.iter().map(|i| patient_id(&sim, i.0)).collect();
        assert_eq!(ids, want, "group {}", g.id);
    }
}

#[tokio::test]
async fn system_and_patient_level_exports() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "$export").await;
    let m = manifest(&url, &token).await;
    let types = output_types(&m);
    for t in [
        "Practitioner",
        "Organization",
        "Location",
        "Patient",
        "Observation",
    ] {
        assert!(
            types.contains(&t.to_owned()),
            "system export has {t}: {types:?}"
        );
    }
    assert!(!types.contains(&"Group".to_owned()));
    all_resources(&m, &token).await;

    let url = start_export(&sim, &token, "Patient/$export").await;
    let m = manifest(&url, &token).await;
    let types = output_types(&m);
    assert!(types.contains(&"Patient".to_owned()));
    assert!(!types.contains(&"Practitioner".to_owned()), "{types:?}");
    let n = all_resources(&m, &token)
        .await
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .count();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn post_kickoff_with_a_parameters_body() {
    let sim = quick(5).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 2);
    let body = json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient,Condition"},
            {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
            {"name": "patient", "valueReference": {"reference": format!("Patient/{pid}")}},
        ]
    });
    let r = http()
        .post(bulk_url(&sim, "Patient/$export"))
        .bearer_auth(&token)
        .header("prefer", "respond-async")
        .header("content-type", "application/fhir+json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let url = content_location(&r);
    let m = manifest(&url, &token).await;
    assert_eq!(m["request"], bulk_url(&sim, "Patient/$export").as_str());
    let all = all_resources(&m, &token).await;
    let pts: Vec<&Value> = all
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .collect();
    assert_eq!(pts.len(), 1);
    assert_eq!(pts[0]["id"], pid.as_str());
    assert!(
        all.iter()
            .all(|r| r["resourceType"] == "Patient" || r["resourceType"] == "Condition")
    );
}

#[tokio::test]
async fn kickoff_without_prefer_respond_async_is_400() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let r = http()
        .get(bulk_url(&sim, "Group/all-patients/$export"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let oo: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("no_prefer_outcome", oo);
    // No token at all: 401.
    let r = http()
        .get(bulk_url(&sim, "$export"))
        .header("prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn app_tokens_without_system_scopes_are_refused() {
    let sim = quick(2).await;
    let app = support::app_token(&sim, "launch/patient patient/*.rs").await;
    let token = app["access_token"].as_str().unwrap();
    let r = kickoff(&sim, token, "Patient/$export").await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn running_job_sends_progress_and_retry_after_until_the_duration_passes() {
    let sim = sim_with("nge-5.9.2", 3, |p| {
        p.bulk.export_duration = std::time::Duration::from_secs(100);
        p.bulk.retry_after_secs = 30;
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Group/all-patients/$export").await;
    tokio::time::pause();
    let r = poll(&url, &token).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["retry-after"], "30");
    let progress = r.headers()["x-progress"].to_str().unwrap().to_owned();
    assert!(
        progress.len() < 100 && progress.ends_with("% exported"),
        "{progress}"
    );
    tokio::time::advance(std::time::Duration::from_secs(50)).await;
    assert_eq!(poll(&url, &token).await.status(), 202);
    tokio::time::advance(std::time::Duration::from_secs(51)).await;
    let r = wait(&url, &token).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn delete_cancels_and_later_polls_are_404() {
    let sim = sim_with("nge-5.9.2", 3, |p| {
        p.bulk.export_duration = std::time::Duration::from_secs(3600);
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "$export").await;
    let r = http()
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = poll(&url, &token).await;
    assert_eq!(r.status(), 404);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(
        bulk_journal(&sim)
            .iter()
            .any(|e| e["name"] == "bulk-job-cancelled")
    );
    // The cancelled job no longer counts against the concurrency limit.
    start_export(&sim, &token, "$export").await;
    start_export(&sim, &token, "$export").await;
    // The third concurrent one does.
    let r = kickoff(&sim, &token, "$export").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["issue"][0]["code"], "throttled");
}

#[tokio::test]
async fn another_client_cannot_poll_a_job() {
    let (key, reg) = one_backend("other-backend", false);
    let sim = sim_with_clients("nge-5.9.2", 2, reg, |p| {
        p.bulk.export_duration = std::time::Duration::ZERO;
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let other = support::backend_token_with(&sim, "other-backend", &key, "system/*.rs").await;
    let url = start_export(&sim, &token, "$export").await;
    assert_eq!(poll(&url, &other).await.status(), 403);
}
