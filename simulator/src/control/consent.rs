//! Part 2 consent control: grant or revoke patients' consent at run time, so a
//! scenario can check that later syncs stop disclosing.
//!
//! `PUT /_ngsim/consent`: `{"state": "revoked", "patients": ["<person id>", …]}`
//! or `{"state": "revoked", "all": true}` (every Part 2 patient). Answers the
//! number of patients changed; each change is published as `consent-changed`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, bad_request, event};
use crate::journal::Note;
use crate::practice::ConsentState;
use crate::server::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Wanted {
    Granted,
    Revoked,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsentRequest {
    state: Wanted,
    #[serde(default)]
    patients: Vec<String>,
    #[serde(default)]
    all: bool,
}

pub(super) async fn put_consent(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: ConsentRequest = serde_json::from_slice(&body).map_err(bad_request)?;
    if req.all != req.patients.is_empty() {
        return Err(bad_request("give exactly one of `patients` or `all: true`"));
    }
    let to = match req.state {
        Wanted::Granted => ConsentState::Granted,
        Wanted::Revoked => ConsentState::Revoked,
    };
    let practice = &state.practice;
    let targets: Vec<_> = if req.all {
        practice
            .patient_indices()
            .filter(|i| practice.is_part2(*i))
            .collect()
    } else {
        req.patients
            .iter()
            .map(|id| {
                practice
                    .find_patient_by_id(id)
                    .ok_or_else(|| bad_request(format!("unknown patient {id:?}")))
            })
            .collect::<Result<_, _>>()?
    };
    let mut changed = 0u64;
    for i in targets {
        if practice.consent_state(i) != to {
            practice.set_consent(i, to);
            changed += 1;
        }
    }
    let label = match to {
        ConsentState::Granted => "granted",
        _ => "revoked",
    };
    event(
        &state,
        "consent-set",
        vec![
            Note::new("state", label),
            Note::new("changed", changed.to_string()),
        ],
    );
    Ok(Json(json!({ "state": label, "changed": changed })))
}
