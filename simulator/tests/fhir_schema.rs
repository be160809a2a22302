//! Valid FHIR, proven: every resource type the practice renders, and every
//! Bundle, OperationOutcome and CapabilityStatement the server returns,
//! validate against the official FHIR R4 JSON Schema.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use simulator::practice::PatientIndex;
use support::fhir_schema;
use support::*;

struct Validators {
    schema: Value,
    compiled: BTreeMap<String, jsonschema::Validator>,
}

impl Validators {
    fn new() -> Validators {
        Validators {
            schema: fhir_schema::schema(),
            compiled: BTreeMap::new(),
        }
    }

    fn errors(&mut self, resource: &Value) -> Vec<String> {
        let ty = resource["resourceType"].as_str().unwrap_or("?").to_owned();
        let v = self
            .compiled
            .entry(ty.clone())
            .or_insert_with(|| fhir_schema::validator_for(&self.schema, &ty));
        v.iter_errors(resource)
            .take(5)
            .map(|e| format!("{ty}/{} at {}: {e}", resource["id"], e.instance_path()))
            .collect()
    }
}

#[tokio::test]
async fn every_rendered_resource_and_every_response_is_valid_fhir_r4() {
    let sim = start("nge-5.9.2").await;
    let mut v = Validators::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let store = simulator::fhir::store(sim.state());

    // Resources: the directory, and the charts of enough patients to include
    // Part 2 records, consents and every chart section.
    let mut resources: Vec<Value> = store
        .directory()
        .entries
        .iter()
        .map(|e| e.json.clone())
        .collect();
    let p = store.practice();
    let mut part2_patients = 0;
    for i in p.patient_indices().take(80) {
        let chart = store.chart(i).unwrap();
        if p.is_part2(i) {
            part2_patients += 1;
        }
        for e in &chart.entries {
            resources.push(e.json.clone());
        }
        if i == PatientIndex(0) {
            let org = p.enterprise().guid.to_string();
            for e in chart.entries.iter().take(5) {
                resources.push(simulator::fhir::render::provenance(&e.json, &org));
            }
        }
    }
    assert!(part2_patients > 0, "the sample includes Part 2 patients");
    for r in &resources {
        let ty = r["resourceType"].as_str().unwrap().to_owned();
        let n = seen.entry(ty).or_default();
        *n += 1;
        if *n <= 40 {
            errors.extend(v.errors(r));
        }
    }
    for ty in [
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Encounter",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationStatement",
        "AllergyIntolerance",
        "Procedure",
        "Immunization",
        "DiagnosticReport",
        "DocumentReference",
        "CarePlan",
        "CareTeam",
        "Goal",
        "Coverage",
        "Device",
        "Provenance",
        "Consent",
        "Group",
        "Appointment",
    ] {
        assert!(seen.contains_key(ty), "the practice renders {ty}");
    }

    // Responses: search Bundles (with includes and a Part 2 notice), errors,
    // the CapabilityStatement.
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    let mut responses = vec![
        get_json(&format!("{}/metadata", sim.fhir_base_url())).await,
        fhir_json(
            &sim,
            &token,
            &format!("Observation?patient={pid}&_maxresults=5&_revinclude=Provenance:target"),
            200,
        )
        .await,
        fhir_json(&sim, &token, "Patient?_maxresults=3", 200).await,
        fhir_json(&sim, &token, "Group", 200).await,
        fhir_json(
            &sim,
            &token,
            &format!("Observation?patient={pid}&bogus=1"),
            400,
        )
        .await,
        fhir_json(&sim, &token, "Patient/nope", 404).await,
        fhir_json(&sim, "bad-token", "Patient", 401).await,
    ];
    let part2 = p
        .patient_indices()
        .find(|i| p.is_part2(*i))
        .and_then(|i| p.patient(i))
        .unwrap();
    responses.push(
        fhir_json(
            &sim,
            &token,
            &format!("Condition?patient={}", part2.id.as_str()),
            200,
        )
        .await,
    );
    for r in &responses {
        errors.extend(v.errors(r));
        if r["resourceType"] == "Bundle" {
            for e in r["entry"].as_array().into_iter().flatten() {
                errors.extend(v.errors(&e["resource"]));
            }
        }
    }
    assert!(
        responses.iter().any(|b| b["entry"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["search"]["mode"] == "outcome"))),
        "a Part 2 notice was validated"
    );
    assert!(
        errors.is_empty(),
        "{} schema errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
