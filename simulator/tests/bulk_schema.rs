//! Every line of a small system-level export validates against the official
//! FHIR R4 JSON Schema (the shared, pinned download), as do the notices.

mod bulk_support;
mod support;

use std::collections::BTreeMap;

use bulk_support::*;
use support::{backend_token, fhir_schema};

#[tokio::test]
async fn every_exported_line_is_valid_fhir_r4() {
    let (key, reg) = one_backend("consented-backend", true);
    let sim = sim_with_clients("nge-5.9.2", 30, reg, |p| {
        p.bulk.export_duration = std::time::Duration::ZERO;
    })
    .await;
    let practice = support::practice(&sim);
    for i in practice.patient_indices().collect::<Vec<_>>() {
        if practice.is_part2(i) {
            practice.set_consent(i, simulator::practice::ConsentState::Granted);
        }
    }
    let schema = fhir_schema::schema();
    let mut validators = BTreeMap::new();
    let mut errors = Vec::new();
    let mut lines = 0;
    for token in [
        backend_token(&sim, "system/*.rs").await,
        support::backend_token_with(&sim, "consented-backend", &key, "system/*.rs").await,
    ] {
        let url = start_export(&sim, &token, "$export").await;
        let m = manifest(&url, &token).await;
        let mut resources = all_resources(&m, &token).await;
        for e in m["error"].as_array().unwrap() {
            let (_, _, body) = download(e["url"].as_str().unwrap(), Some(&token)).await;
            resources.extend(body.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
        for r in &resources {
            let ty = r["resourceType"].as_str().unwrap().to_owned();
            let v = validators
                .entry(ty.clone())
                .or_insert_with(|| fhir_schema::validator_for(&schema, &ty));
            errors.extend(
                v.iter_errors(r)
                    .take(3)
                    .map(|e| format!("{ty}/{} at {}: {e}", r["id"], e.instance_path())),
            );
        }
        lines += resources.len();
    }
    assert!(lines > 1000, "a real export ({lines} lines)");
    assert!(validators.len() >= 15, "types: {:?}", validators.keys());
    assert!(
        errors.is_empty(),
        "{} errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
