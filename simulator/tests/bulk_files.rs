//! File downloads: token rules, splitting at `file_max_resources`, expiry,
//! and files without tokens when the profile says so.

mod bulk_support;
mod support;

use std::time::Duration;

use bulk_support::*;
use serde_json::Value;
use support::{backend_token, backend_token_with};

#[tokio::test]
async fn downloads_need_the_same_clients_valid_token() {
    let (key, reg) = one_backend("other-backend", false);
    let sim = sim_with_clients("nge-5.9.2", 2, reg, |p| {
        p.bulk.export_duration = Duration::ZERO;
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let other = backend_token_with(&sim, "other-backend", &key, "system/*.rs").await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Patient").await;
    let m = manifest(&url, &token).await;
    let file = m["output"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(download(&file, Some(&token)).await.0, 200);
    assert_eq!(download(&file, None).await.0, 401);
    assert_eq!(download(&file, Some(&other)).await.0, 403);
    assert_eq!(download(&file, Some("not-a-token")).await.0, 401);
    // Expired token (backend tokens live 5 minutes; files for an hour).
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(301)).await;
    let (status, _, body) = download(&file, Some(&token)).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn files_split_at_file_max_resources() {
    let sim = quick(8).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Observation,Patient").await;
    let whole: Vec<String> = all_resources(&manifest(&url, &token).await, &token)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();

    let mut p = (*sim.state().profile()).clone();
    p.bulk.file_max_resources = 7;
    sim.state().set_profile(p);
    let url = start_export(&sim, &token, "Patient/$export?_type=Observation,Patient").await;
    let m = manifest(&url, &token).await;
    let counts: Vec<u64> = m["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .collect();
    assert!(
        counts.len() > 2 && counts.iter().all(|c| *c <= 7),
        "{counts:?}"
    );
    let split: Vec<String> = all_resources(&m, &token)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(split, whole, "splitting keeps every resource, in order");
    let names: Vec<&str> = m["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["url"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names[0], "Observation-1.ndjson");
    assert_eq!(names[1], "Observation-2.ndjson");
    assert!(names.contains(&"Patient-2.ndjson"));
}

#[tokio::test]
async fn files_expire_with_410_after_file_expiry() {
    let sim = sim_with("nge-5.9.2", 2, |p| {
        p.bulk.export_duration = Duration::ZERO;
        p.bulk.file_expiry = Duration::from_secs(60);
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Patient").await;
    let m = manifest(&url, &token).await;
    let file = m["output"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(download(&file, Some(&token)).await.0, 200);
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(61)).await;
    let (status, _, body) = download(&file, Some(&token)).await;
    assert_eq!(status, 410);
    let oo: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(oo["issue"][0]["code"], "expired");
}

#[tokio::test]
async fn files_without_token_when_not_required() {
    let sim = sim_with("nge-5.9.2", 2, |p| {
        p.bulk.export_duration = Duration::ZERO;
        p.bulk.requires_access_token = false;
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Patient").await;
    let m = manifest(&url, &token).await;
    assert_eq!(m["requiresAccessToken"], false);
    let file = m["output"][0]["url"].as_str().unwrap();
    assert_eq!(download(file, None).await.0, 200);
}
