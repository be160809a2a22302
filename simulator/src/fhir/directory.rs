//! Patient and practitioner look-ups the authorization server needs
//! (default patient, hint validation, the approve page's picker).

use crate::practice::PatientIndex;
use crate::server::AppState;

/// The configured default patient (patient index 0).
pub fn default_patient(state: &AppState) -> Option<String> {
    let p = super::store(state).practice();
    p.patient(PatientIndex(0)).map(|pt| pt.id.to_string())
}

/// Whether a FHIR Patient id exists.
pub fn patient_exists(state: &AppState, id: &str) -> bool {
    super::store(state).patient_index(id).is_some()
}

/// Up to `n` patients as `(id, "Family, Given")` for the approve page.
pub fn patient_choices(state: &AppState, n: usize) -> Vec<(String, String)> {
    let p = super::store(state).practice();
    p.patient_indices()
        .take(n)
        .filter_map(|i| p.patient(i))
        .map(|pt| {
            (
                pt.id.to_string(),
                format!("{}, {} ({})", pt.name.family, pt.name.given, pt.birth_date),
            )
        })
        .collect()
}

/// The default practitioner (index 0), as the `fhirUser` of EHR launches.
pub fn default_practitioner(state: &AppState) -> Option<String> {
    let p = super::store(state).practice();
    p.practitioners().first().map(|pr| pr.id.to_string())
}
