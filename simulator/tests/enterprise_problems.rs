//! A problem written through the Enterprise API is one record on every
//! surface: the Enterprise problems list, FHIR `Condition` (read and search),
//! and the outbound HL7 feed (ADT^A08 with DG1), over real sockets.

mod enterprise_support;
#[path = "mllp_support.rs"]
mod mllp_support;
mod support;

use enterprise_support::Nge;
use reqwest::Method;
use serde_json::{Value, json};
use simulator::hl7::Message;

/// The FHIR R4 JSON Schema, fetched once per test binary (two tests fetching it
/// at once would race on its cache file).
static SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(support::fhir_schema::schema);

fn valid(resource: &Value) {
    assert_eq!(
        support::fhir_schema::validate(&SCHEMA, resource),
        Vec::<String>::new()
    );
}

fn field(m: &[u8], path: &str) -> String {
    let m = Message::parse(m).expect("HL7");
    String::from_utf8_lossy(m.get(path).expect("path").unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn a_problem_reaches_fhir_and_the_hl7_feed() {
    let (addr, inbox) = mllp_support::aa_destination().await;
    let n = Nge::start_built(
        "nge-5.9.2",
        |_| {},
        |b| b.mllp_destinations([simulator::mllp::Destination::new(addr)]),
    )
    .await;
    let pid = n.person_where(|_| true);
    let eal = n.eal_token().await;
    let body = json!({"Icd10Code": "E11.9", "Description": "Type 2 diabetes mellitus without complications",
                      "SnomedConceptId": "44054006", "OnsetDate": "2026-05-04", "Status": "active"});
    let r = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/problems"),
            Some((&eal, None)),
            Some(body),
        )
        .await;
    assert_eq!(r.status(), 200);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("persons/{pid}/chart/problems/{id}"));
    // The Location is a route: it reads the problem back.
    let item = n
        .call(
            Method::GET,
            &format!("/{location}"),
            Some((&eal, None)),
            None,
        )
        .await;
    assert_eq!(item.status(), 200);
    let item: Value = item.json().await.unwrap();
    assert_eq!(item["id"], created["id"]);
    let missing = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/problems/00000000-0000-4000-8000-000000000000"),
            Some((&eal, None)),
            None,
        )
        .await;
    assert_eq!(missing.status(), 404);
    let bad = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/problems/not-a-guid"),
            Some((&eal, None)),
            None,
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(created["icd10Code"], "E11.9");
    assert_eq!(created["onsetDate"], "2026-05-04T00:00:00");
    assert_eq!(created["category"], "problem-list-item");

    // The Enterprise list has it, once.
    let list: Value = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/problems?$top=1000"),
            Some((&eal, None)),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let mine: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(*mine[0], created);

    // FHIR: read by id, and in the patient's problem-list search.
    let token = support::backend_token(&n.sim, "system/Condition.rs").await;
    let c = support::fhir_json(&n.sim, &token, &format!("Condition/{id}"), 200).await;
    assert_eq!(c["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(c["code"]["coding"][0]["code"], "E11.9");
    assert_eq!(c["code"]["coding"][1]["code"], "44054006");
    assert_eq!(c["onsetDateTime"], "2026-05-04");
    assert_eq!(c["category"][0]["coding"][0]["code"], "problem-list-item");
    valid(&c);
    let bundle = support::fhir_json(
        &n.sim,
        &token,
        &format!("Condition?patient={pid}&category=problem-list-item&_maxresults=500"),
        200,
    )
    .await;
    assert!(support::match_ids(&bundle).contains(&id), "{bundle}");

    // HL7: an ADT^A08 for the same patient carrying the problem as DG1.
    mllp_support::eventually(|| !inbox.lock().is_empty()).await;
    let msg = inbox.lock()[0].clone();
    let pr = n.practice();
    let mrn = pr
        .patient(pr.find_patient_by_id(&pid).unwrap())
        .unwrap()
        .mrn;
    assert_eq!(field(&msg, "MSH-9.1"), "ADT");
    assert_eq!(field(&msg, "MSH-9.2"), "A08");
    assert_eq!(field(&msg, "PID-3.1"), mrn);
    assert_eq!(field(&msg, "DG1-3.1"), "E11.9");
    assert_eq!(field(&msg, "DG1-3.3"), "I10");
    assert_eq!(field(&msg, "DG1-5"), "20260504");
    assert_eq!(field(&msg, "DG1-21"), "A", "2.5.1 carries the action code");
    // ADT_A01 order: DG1 before GT1/IN1.
    let text = String::from_utf8_lossy(&msg).into_owned();
    let ids: Vec<&str> = text.split('\r').filter_map(|s| s.get(..3)).collect();
    let dg1 = ids.iter().position(|s| *s == "DG1").unwrap();
    for after in ["GT1", "IN1"] {
        if let Some(i) = ids.iter().position(|s| *s == after) {
            assert!(dg1 < i, "{ids:?}");
        }
    }

    // A practice reset forgets it everywhere.
    n.practice().reset();
    support::fhir_json(&n.sim, &token, &format!("Condition/{id}"), 404).await;
}

#[tokio::test]
async fn problem_without_snomed_and_bad_encounter() {
    let n = Nge::start().await;
    let pid = n.person_where(|_| true);
    let eal = n.eal_token().await;
    let problems = format!("/persons/{pid}/chart/problems");
    let post = |body: Value| n.call(Method::POST, &problems, Some((&eal, None)), Some(body));
    let r = post(json!({"Icd10Code": "J45.909", "Description": "Asthma"})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["snomedConceptId"], Value::Null);
    let id = v["id"].as_str().unwrap().to_owned();
    let token = support::backend_token(&n.sim, "system/Condition.rs").await;
    let c = support::fhir_json(&n.sim, &token, &format!("Condition/{id}"), 200).await;
    let codings = c["code"]["coding"].as_array().unwrap();
    assert_eq!(codings.len(), 1, "no empty SNOMED coding: {c}");
    valid(&c);

    // An encounter written through the API is a FHIR Encounter too, and a
    // problem may point at it.
    let pr = n.practice();
    let loc = &pr.locations()[0];
    let body = json!({"EncounterDate": "2026-07-01T09:00:00", "LocationId": loc.id,
                      "RenderingProviderId": pr.practitioners()[0].id});
    let r = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/encounters"),
            Some((&eal, None)),
            Some(body),
        )
        .await;
    assert_eq!(r.status(), 200);
    let enc: Value = r.json().await.unwrap();
    let eid = enc["id"].as_str().unwrap().to_owned();
    let token = support::backend_token(&n.sim, "system/Encounter.rs system/Condition.rs").await;
    let e = support::fhir_json(&n.sim, &token, &format!("Encounter/{eid}"), 200).await;
    assert_eq!(e["subject"]["reference"], format!("Patient/{pid}"));
    let r =
        post(json!({"Icd10Code": "J45.909", "Description": "Asthma", "EncounterId": eid})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let c = support::fhir_json(
        &n.sim,
        &token,
        &format!("Condition/{}", v["id"].as_str().unwrap()),
        200,
    )
    .await;
    assert_eq!(c["encounter"]["reference"], format!("Encounter/{eid}"));

    // An encounter that is not this person's is refused, naming the field.
    let r = post(json!({"Icd10Code": "J45.909", "Description": "Asthma",
                        "EncounterId": "00000000-0000-0000-0000-000000000000"}))
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("EncounterId"),
        "{v}"
    );
}
