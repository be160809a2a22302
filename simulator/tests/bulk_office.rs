//! NextGen Office shapes: Group export only, under `/api/bulkfhir/r4`, with
//! status at `$export-poll-status?_jobId=…`.

mod bulk_support;
mod support;

use bulk_support::*;
use serde_json::Value;
use support::{backend_token, http};

#[tokio::test]
async fn office_group_export_and_poll_status() {
    let sim = sim_with("nge-office", 3, |p| {
        p.bulk.export_duration = std::time::Duration::ZERO;
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Group/all-patients/$export").await;
    let prefix = format!(
        "{}/api/bulkfhir/r4/$export-poll-status?_jobId=",
        sim.base_url()
    );
    assert!(url.starts_with(&prefix), "{url}");
    let m = manifest(&url, &token).await;
    assert_eq!(
        m["request"],
        format!(
            "{}/api/bulkfhir/r4/Group/all-patients/$export",
            sim.base_url()
        )
        .as_str()
    );
    all_resources(&m, &token).await;
    // Only Group-level export.
    let r = kickoff(&sim, &token, "$export").await;
    assert_eq!(r.status(), 404);
    let r = kickoff(&sim, &token, "Patient/$export").await;
    assert_eq!(r.status(), 404);
    // Group read at the bulk base.
    let r = http()
        .get(bulk_url(&sim, "Group/medicaid"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["resourceType"], "Group");
    // DELETE on the poll-status URL cancels.
    let r = http()
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(poll(&url, &token).await.status(), 404);
    // The standard status path does not exist on Office.
    let job = url.rsplit('=').next().unwrap();
    let r = poll(&bulk_url(&sim, &format!("$export-status/{job}")), &token).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn office_allows_one_job_at_a_time() {
    let sim = sim_with("nge-office", 3, |p| {
        p.bulk.export_duration = std::time::Duration::from_secs(3600);
    })
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    start_export(&sim, &token, "Group/all-patients/$export").await;
    let r = kickoff(&sim, &token, "Group/medicaid/$export").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
