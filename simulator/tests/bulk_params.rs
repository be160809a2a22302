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

fn instant(s: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

/// Export every Observation, then again with `param` set to the median
/// `lastUpdated`: `(all count, the second export, the median)`.
async fn observations_split_at_median(
    sim: &simulator::RunningSimulator,
    token: &str,
    param: &str,
) -> (usize, Vec<Value>, time::OffsetDateTime) {
    let url = start_export(sim, token, "Patient/$export?_type=Observation").await;
    let all = all_resources(&manifest(&url, token).await, token).await;
    let mut stamps: Vec<String> = all
        .iter()
        .map(|r| r["meta"]["lastUpdated"].as_str().unwrap().to_owned())
        .collect();
    stamps.sort();
    let pivot = stamps[stamps.len() / 2].clone();
    let q = format!(
        "Patient/$export?_type=Observation&{param}={}",
        pivot.replace('+', "%2B")
    );
    let url = start_export(sim, token, &q).await;
    let part = all_resources(&manifest(&url, token).await, token).await;
    assert!(!part.is_empty() && part.len() < all.len(), "{param}");
    (all.len(), part, instant(&pivot))
}

fn last_updated(r: &Value) -> time::OffsetDateTime {
    instant(r["meta"]["lastUpdated"].as_str().unwrap())
}

#[tokio::test]
async fn since_keeps_only_resources_updated_after_it() {
    let sim = quick(5).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let (_, newer, since) = observations_split_at_median(&sim, &token, "_since").await;
    for r in &newer {
        assert!(last_updated(r) > since);
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
    let r = kickoff(&sim, &token, "$export?organizeOutputBy=Patient").await;
    assert_eq!(r.status(), 400);
    let oo: Value = r.json().await.unwrap();
    let diag = oo["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diag.contains("organizeOutputBy"), "{diag}");
    assert_eq!(oo["issue"][0]["code"], "not-supported");
    let r = http()
        .get(bulk_url(
            &sim,
            "$export?organizeOutputBy=Patient&_type=Patient",
        ))
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
    assert!(body.contains("organizeOutputBy"), "{body}");
}

#[tokio::test]
async fn elements_subset_resources_and_tag_them() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(
        &sim,
        &token,
        "Patient/$export?_type=Patient,Observation&_elements=Observation.value%5Bx%5D,gender",
    )
    .await;
    let all = all_resources(&manifest(&url, &token).await, &token).await;
    let obs: Vec<&Value> = all
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    assert!(!obs.is_empty());
    for o in &obs {
        let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        for k in &keys {
            assert!(
                ["resourceType", "id", "meta", "status", "code"].contains(k)
                    || k.starts_with("value"),
                "unexpected {k} in a subset Observation"
            );
        }
        assert!(o.get("subject").is_none());
        let tags = o["meta"]["tag"].as_array().unwrap();
        assert!(tags.iter().any(|t| t["code"] == "SUBSETTED"
            && t["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"));
    }
    let pts: Vec<&Value> = all
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .collect();
    assert_eq!(pts.len(), 3);
    for p in pts {
        assert!(p.get("gender").is_some() && p.get("name").is_none());
    }
    // Not a root element.
    let r = kickoff(&sim, &token, "$export?_elements=Observation.code.text").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn associated_provenance_is_exported_for_every_resource() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let url = start_export(
        &sim,
        &token,
        "Patient/$export?_type=Condition,Immunization&includeAssociatedData=LatestProvenanceResources",
    )
    .await;
    let m = manifest(&url, &token).await;
    assert_eq!(
        output_types(&m),
        ["Condition", "Immunization", "Provenance"]
    );
    let all = all_resources(&m, &token).await;
    let targets: Vec<String> = all
        .iter()
        .filter(|r| r["resourceType"] != "Provenance")
        .map(|r| {
            format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            )
        })
        .collect();
    let mut provs: Vec<String> = all
        .iter()
        .filter(|r| r["resourceType"] == "Provenance")
        .map(|r| r["target"][0]["reference"].as_str().unwrap().to_owned())
        .collect();
    let mut want = targets.clone();
    want.sort();
    provs.sort();
    assert_eq!(provs, want, "one Provenance per exported resource");
    // A value the server does not serve: refused, or ignored when lenient.
    let r = kickoff(
        &sim,
        &token,
        "$export?includeAssociatedData=RelevantProvenanceResources",
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = kickoff(&sim, &token, "$export?includeAssociatedData=Everything").await;
    assert_eq!(r.status(), 400);
    // Without Provenance scope: refused.
    let narrow = backend_token(&sim, "system/Condition.rs").await;
    let r = kickoff(
        &sim,
        &narrow,
        "$export?_type=Condition&includeAssociatedData=LatestProvenanceResources",
    )
    .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn until_bounds_last_updated() {
    let sim = quick(3).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let (_, older, until) = observations_split_at_median(&sim, &token, "_until").await;
    for r in &older {
        assert!(last_updated(r) <= until);
    }
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
