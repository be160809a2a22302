//! `_include` and `_revinclude` beyond `X:patient`: every reference parameter
//! the profile declares is followed from the shared table, included entries
//! carry `search.mode = include` and pass the scopes, and unsupported values
//! follow the FHIR handling rules (400 under strict handling, ignored with an
//! OperationOutcome under lenient handling).

mod support;

use serde_json::{Value, json};
use support::*;

async fn declare(sim: &simulator::RunningSimulator, resources: Value) {
    let r = http()
        .patch(format!("{}/_ngsim/quirks", sim.base_url()))
        .json(&json!({"fhir": {"resources": resources}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn entries<'a>(b: &'a Value, mode: &str) -> Vec<&'a Value> {
    b["entry"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter(|e| e["search"]["mode"] == mode)
                .map(|e| &e["resource"])
                .collect()
        })
        .unwrap_or_default()
}

fn refs(v: &Value, path: &[&str]) -> Vec<String> {
    let mut nodes = vec![v];
    for seg in path {
        nodes = nodes
            .into_iter()
            .flat_map(|n| match &n[*seg] {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                Value::Null => Vec::new(),
                other => vec![other],
            })
            .collect();
    }
    nodes
        .iter()
        .filter_map(|n| n["reference"].as_str().map(str::to_owned))
        .collect()
}

fn key(r: &Value) -> String {
    format!(
        "{}/{}",
        r["resourceType"].as_str().unwrap(),
        r["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn declared_reference_includes_are_followed_once() {
    let sim = start("nge-5.9.2").await;
    declare(
        &sim,
        json!({"Encounter": {"include": ["Encounter:practitioner", "Encounter:location", "Encounter:patient"]}}),
    )
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 1);
    let b = fhir_json(
        &sim,
        &token,
        &format!(
            "Encounter?patient={pid}&_include=Encounter:practitioner&_include=Encounter:location&_include=Encounter:patient"
        ),
        200,
    )
    .await;
    let matches = entries(&b, "match");
    assert!(!matches.is_empty());
    let included: Vec<String> = entries(&b, "include").into_iter().map(key).collect();
    let mut want: Vec<String> = matches
        .iter()
        .flat_map(|e| {
            let mut r = refs(e, &["participant", "individual"]);
            r.extend(refs(e, &["location", "location"]));
            r.extend(refs(e, &["subject"]));
            r
        })
        .collect();
    want.sort();
    want.dedup();
    let mut got = included.clone();
    got.sort();
    assert_eq!(got, want, "each referenced resource included exactly once");
    assert!(included.contains(&format!("Patient/{pid}")));
    assert!(included.iter().any(|k| k.starts_with("Practitioner/")));
    assert!(included.iter().any(|k| k.starts_with("Location/")));
    // The self link keeps the includes.
    assert!(b["link"][0]["url"].as_str().unwrap().contains("_include="));
}

#[tokio::test]
async fn wildcard_and_typed_includes() {
    let sim = start("nge-office").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 2);
    declare(&sim, json!({"Observation": {"include": ["*"]}})).await;
    let b = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&_include=*&_count=50"),
        200,
    )
    .await;
    let included: Vec<String> = entries(&b, "include").into_iter().map(key).collect();
    assert!(included.contains(&format!("Patient/{pid}")));
    let performers: Vec<String> = entries(&b, "match")
        .iter()
        .flat_map(|o| refs(o, &["performer"]))
        .collect();
    for p in &performers {
        assert!(included.contains(p), "{p} not included by *");
    }
    declare(
        &sim,
        json!({"Observation": {"include": ["Observation:performer"]}}),
    )
    .await;
    let b = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&_include=Observation:performer:Organization&_count=50"),
        200,
    )
    .await;
    assert!(
        entries(&b, "include").is_empty(),
        "performers are Practitioners"
    );
}

#[tokio::test]
async fn revinclude_from_the_table() {
    let sim = start("nge-5.9.2").await;
    declare(
        &sim,
        json!({"Encounter": {"revinclude": ["Provenance:target", "Observation:encounter"]}}),
    )
    .await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    let b = fhir_json(
        &sim,
        &token,
        &format!("Encounter?patient={pid}&_revinclude=Observation:encounter&_revinclude=Provenance:target"),
        200,
    )
    .await;
    let encounters: Vec<String> = entries(&b, "match").into_iter().map(key).collect();
    let included = entries(&b, "include");
    let obs: Vec<&&Value> = included
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    let provs = included
        .iter()
        .filter(|r| r["resourceType"] == "Provenance")
        .count();
    assert_eq!(provs, encounters.len());
    for o in &obs {
        let e = o["encounter"]["reference"].as_str().unwrap();
        assert!(encounters.iter().any(|k| k == e), "{e}");
    }
}

#[tokio::test]
async fn included_resources_obey_the_scopes() {
    let sim = start("nge-5.9.2").await;
    declare(
        &sim,
        json!({"Encounter": {"include": ["Encounter:practitioner"]}}),
    )
    .await;
    let token = backend_token(&sim, "system/Encounter.rs").await;
    let pid = patient_id(&sim, 1);
    let b = fhir_json(
        &sim,
        &token,
        &format!("Encounter?patient={pid}&_include=Encounter:practitioner"),
        200,
    )
    .await;
    assert!(!entries(&b, "match").is_empty());
    assert!(entries(&b, "include").is_empty());
}

#[tokio::test]
async fn unsupported_includes_follow_the_handling_preference() {
    let sim = start("nge-office").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 1);
    // Declared by Office's CapabilityStatement but not a reference parameter.
    let rel = format!("CarePlan?patient={pid}&_include=CarePlan:category");
    let get = |prefer: Option<&'static str>| {
        let mut rq = http()
            .get(format!("{}/{rel}", sim.fhir_base_url()))
            .bearer_auth(&token);
        if let Some(p) = prefer {
            rq = rq.header("prefer", p);
        }
        rq.send()
    };
    let strict = get(Some("handling=strict")).await.unwrap();
    assert_eq!(strict.status(), 400);
    let oo: Value = strict.json().await.unwrap();
    assert!(
        oo["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("_include=CarePlan:category")
    );
    let lenient = get(Some("handling=lenient")).await.unwrap();
    assert_eq!(lenient.status(), 200);
    let b: Value = lenient.json().await.unwrap();
    let outcomes: Vec<&Value> = entries(&b, "outcome")
        .into_iter()
        .filter(|o| o["id"] == "ignored-includes")
        .collect();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["issue"][0]["severity"], "warning");
    assert!(
        outcomes[0]["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("CarePlan:category")
    );
    assert!(entries(&b, "include").is_empty());
    // No preference: the profile's default (Office refuses).
    assert_eq!(get(None).await.unwrap().status(), 400);
    // An undeclared include on NGE (no searchInclude at all).
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let r = fhir_get(
        &sim,
        &token,
        &format!("MedicationRequest?patient={pid}&_include=MedicationRequest:medication"),
    )
    .await;
    assert_eq!(r.status(), 400);
}
