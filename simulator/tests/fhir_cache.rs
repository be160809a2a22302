//! The FHIR render cache and its search memo never serve a stale answer:
//! a search repeated after a practice write (the overlay HL7 and Enterprise
//! writes go through) sees the new resource, and a search with other
//! criteria on the same chart is not answered from the first one's memo.

mod support;

use std::borrow::Cow;

use simulator::practice::{
    Coding, LOINC, NewObservation, ObservationCategory, ObservationValue, PatientIndex,
};
use support::*;

const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
const VITALS: &str = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

#[tokio::test]
async fn a_repeated_search_sees_an_overlay_write() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 2);
    let search = |cat: &str| format!("Observation?patient={pid}&category={cat}&_maxresults=500");
    let labs = match_ids(&fhir_json(&sim, &token, &search(LAB), 200).await);
    let vitals = match_ids(&fhir_json(&sim, &token, &search(VITALS), 200).await);
    assert!(!labs.is_empty() && !vitals.is_empty());
    // Memoised: the same searches answer the same, and differently from each other.
    assert_eq!(
        match_ids(&fhir_json(&sim, &token, &search(LAB), 200).await),
        labs
    );
    assert_eq!(
        match_ids(&fhir_json(&sim, &token, &search(VITALS), 200).await),
        vitals
    );

    let added = sim
        .practice()
        .add_observation(
            PatientIndex(2),
            NewObservation {
                encounter_id: None,
                category: ObservationCategory::Laboratory,
                code: Coding::new(LOINC, "2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
                value: ObservationValue::Quantity {
                    value: 98.0,
                    unit: Cow::Borrowed("mg/dL"),
                    code: Cow::Borrowed("mg/dL"),
                },
                reference_range: None,
                interpretation: None,
                effective: time::OffsetDateTime::now_utc(),
                performer_id: None,
                note: None,
                status: "final",
            },
        )
        .expect("patient 2 exists")
        .id
        .to_string();

    let labs_after = match_ids(&fhir_json(&sim, &token, &search(LAB), 200).await);
    assert_eq!(labs_after.len(), labs.len() + 1);
    assert!(labs_after.contains(&added), "{added} in {labs_after:?}");
    let vitals_after = match_ids(&fhir_json(&sim, &token, &search(VITALS), 200).await);
    assert_eq!(vitals_after, vitals);
    // And the read agrees with the search.
    let r = fhir_json(&sim, &token, &format!("Observation/{added}"), 200).await;
    assert_eq!(r["id"], added.as_str());
}
