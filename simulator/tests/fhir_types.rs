//! Every type a profile serves returns data from the practice, except the
//! ones listed here for which the practice has no facts; and the lab order
//! resources (ServiceRequest, Specimen) agree with the DiagnosticReport.

mod support;

use serde_json::Value;
use support::*;

/// Served types ngsim has no practice facts for (searches return empty Bundles).
const NO_DATA_NGE: &[&str] = &[
    "Endpoint",
    "MedicationDispense",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
];

async fn empty_types(profile: &str) -> Vec<String> {
    let sim = start(profile).await;
    let token = backend_token(&sim, "system/*.rs").await;
    let p = sim.state().profile();
    let mut empty = Vec::new();
    for (ty, res) in &p.fhir.resources {
        // Provenance exists for every resource (see the _revinclude tests);
        // a bare Provenance search scans the whole practice.
        if !res.interactions.iter().any(|i| i == "search-type") || ty == "Provenance" {
            continue;
        }
        let mut found = false;
        for i in 0..8 {
            let rel = if res.search_params.iter().any(|s| s == "patient") {
                format!("{ty}?patient={}", patient_id(&sim, i))
            } else {
                ty.clone()
            };
            let b = fhir_json(&sim, &token, &rel, 200).await;
            if !match_ids(&b).is_empty() {
                found = true;
                break;
            }
        }
        if !found {
            // Sparse types (Device, Consent): the whole practice.
            let all = fhir_json(&sim, &token, ty, 200).await;
            if match_ids(&all).is_empty() {
                empty.push(ty.clone());
            }
        }
    }
    empty
}

#[tokio::test]
async fn only_the_listed_types_lack_data() {
    assert_eq!(empty_types("nge-5.9.2").await, NO_DATA_NGE);
    // Office serves the same practice; its 20 requests a minute make a
    // sweep there slow. It adds MedicationAdministration and
    // OperationDefinition to this list.
}

#[tokio::test]
async fn lab_orders_and_specimens_match_their_reports() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let mut checked = 0;
    for i in 0..8 {
        let pid = patient_id(&sim, i);
        let reports = fhir_json(
            &sim,
            &token,
            &format!("DiagnosticReport?patient={pid}"),
            200,
        )
        .await;
        for id in match_ids(&reports) {
            let dr = fhir_json(&sim, &token, &format!("DiagnosticReport/{id}"), 200).await;
            let sr = fhir_json(&sim, &token, &format!("ServiceRequest/{id}-order"), 200).await;
            let sp = fhir_json(&sim, &token, &format!("Specimen/{id}-specimen"), 200).await;
            assert_eq!(sr["code"], dr["code"]);
            assert_eq!(sr["subject"], dr["subject"]);
            assert_eq!(sr["identifier"], dr["identifier"]);
            assert_eq!(sp["accessionIdentifier"], dr["identifier"][0]);
            assert_eq!(
                sp["request"][0]["reference"],
                Value::String(format!("ServiceRequest/{id}-order"))
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
