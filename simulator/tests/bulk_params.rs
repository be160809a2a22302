//! Each kick-off parameter's effect: `_type`, `_since`, `_typeFilter`,
//! `patient`, `_outputFormat` spellings, unsupported parameters and lenient
//! handling, and the scope rule for `_type`.

mod bulk_support;
mod support;

use bulk_support::*;
use serde_json::{Value, json};
use support::{backend_token, http, patient_id};

#[tokio::test]
async fn type_limits_the_output_and_repeats_merge() {
    let sim = quick(4).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(
        &sim,
        &token,
        "$export?_type=Patient&_type=Condition,Patient",
    )
    .await;
    let m = manifest(&url, &token).await;
    assert_eq!(output_types(&m), ["Patient", "Condition"]);
    let r = kickoff(&sim, &token, "$export?_type=Basic").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn since_keeps_only_resources_updated_after_it() {
    let sim = quick(5).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(&sim, &token, "Patient/$export?_type=Observation").await;
    let all = all_resources(&manifest(&url, &token).await, &token).await;
    let mut stamps: Vec<String> = all
        .iter()
        .map(|r| r["meta"]["lastUpdated"].as_str().unwrap().to_owned())
        .collect();
    stamps.sort();
    let since = stamps[stamps.len() / 2].clone();
    let q = format!(
        "Patient/$export?_type=Observation&_since={}",
        since.replace('+', "%2B")
    );
    let url = start_export(&sim, &token, &q).await;
    let newer = all_resources(&manifest(&url, &token).await, &token).await;
    assert!(!newer.is_empty() && newer.len() < all.len());
    let since_t =
        time::OffsetDateTime::parse(&since, &time::format_description::well_known::Rfc3339)
            .unwrap();
    for r in &newer {
        let t = time::OffsetDateTime::parse(
            r["meta"]["lastUpdated"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!(t > since_t);
    }
    // Far future: nothing, and the manifest omits every type.
    let url = start_export(&sim, &token, "$export?_since=2999-01-01T00:00:00Z").await;
    let m = manifest(&url, &token).await;
    assert_eq!(m["output"], json!([]));
    // Not an instant.
    assert_eq!(
        kickoff(&sim, &token, "$export?_since=2020-01-01")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn type_filter_narrows_its_type_only() {
    let sim = quick(5).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(
        &sim,
        &token,
        "Patient/$export?_type=Patient,Observation&_typeFilter=Observation%3Fcategory%3Dlaboratory",
    )
    .await;
    let res = all_resources(&manifest(&url, &token).await, &token).await;
    let obs: Vec<&Value> = res
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    assert!(!obs.is_empty());
    for o in &obs {
        assert!(
            o["category"].to_string().contains("laboratory"),
            "{}",
            o["id"]
        );
    }
    assert_eq!(
        res.iter()
            .filter(|r| r["resourceType"] == "Patient")
            .count(),
        5
    );
    let url = start_export(&sim, &token, "Patient/$export?_type=Observation").await;
    let every = all_resources(&manifest(&url, &token).await, &token).await;
    assert!(every.len() > obs.len());
    // Unknown search parameter in a filter: 400.
    let r = kickoff(&sim, &token, "$export?_typeFilter=Observation%3Fnope%3D1").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn patient_narrows_on_post_and_is_refused_on_get() {
    let sim = quick(6).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let (a, b) = (patient_id(&sim, 1), patient_id(&sim, 4));
    let body = json!({"resourceType": "Parameters", "parameter": [
        {"name": "patient", "valueReference": {"reference": format!("Patient/{a}")}},
        {"name": "patient", "valueReference": {"reference": format!("Patient/{b}")}},
        {"name": "_type", "valueString": "Patient"},
    ]});
    let r = http()
        .post(bulk_url(&sim, "Group/all-patients/$export"))
        .bearer_auth(&token)
        .header("prefer", "respond-async")
        .json(&body)
        .send()
        .await
        .unwrap();
    let url = content_location(&r);
    let ids: Vec<String> = all_resources(&manifest(&url, &token).await, &token)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [a.clone(), b]);
    let r = kickoff(
        &sim,
        &token,
        &format!("Patient/$export?patient=Patient/{a}"),
    )
    .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn output_format_spellings() {
    let sim = quick(1).await;
    let token = backend_token(&sim, "system/*.rs").await;
    for f in ["application/fhir%2Bndjson", "application/ndjson", "ndjson"] {
        let r = kickoff(&sim, &token, &format!("Patient/$export?_outputFormat={f}")).await;
        assert_eq!(r.status(), 202, "{f}");
        // Cancel so the concurrency limit is not reached.
        let url = content_location(&r);
        http().delete(url).bearer_auth(&token).send().await.unwrap();
    }
    let r = kickoff(&sim, &token, "Patient/$export?_outputFormat=text/csv").await;
    assert_eq!(r.status(), 400);
    let oo: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("bad_output_format", oo);
}

#[tokio::test]
async fn unsupported_parameters_fail_unless_lenient() {
    let sim = quick(2).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let r = kickoff(&sim, &token, "$export?_elements=id").await;
    assert_eq!(r.status(), 400);
    let r = http()
        .get(bulk_url(&sim, "$export?_elements=id&_type=Patient"))
        .bearer_auth(&token)
        .header("prefer", "respond-async, handling=lenient")
        .send()
        .await
        .unwrap();
    let url = content_location(&r);
    let m = manifest(&url, &token).await;
    let err = m["error"][0]["url"].as_str().expect("a notices file");
    let (status, _, body) = download(err, Some(&token)).await;
    assert_eq!(status, 200);
    assert!(body.contains("_elements"), "{body}");
}

#[tokio::test]
async fn scopes_decide_types_explicit_ones_are_refused() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/Patient.rs").await;
    let url = start_export(&sim, &token, "Patient/$export").await;
    let m = manifest(&url, &token).await;
    assert_eq!(output_types(&m), ["Patient"]);
    let r = kickoff(&sim, &token, "Patient/$export?_type=Patient,Observation").await;
    assert_eq!(r.status(), 403);
    let oo: Value = r.json().await.unwrap();
    assert_eq!(oo["issue"][0]["code"], "forbidden");
}
