//! HL7 control routes: scripted practice events for the outbound feeds, the
//! outbound queue state, and batch-file import/export.
//!
//! - `POST /_ngsim/events`: `{"kind": "appointment-booked", "patient": "<person id>"}`
//!   or `{"script": "clinic-day", "patients": N}`.
//! - `GET /_ngsim/hl7/queues`: every destination's [`QueueState`](crate::mllp::QueueState).
//! - `POST /_ngsim/hl7/batch`: `{"direction": "in"|"out", "dir": "/path", "mode": "batch"|"files"}`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, bad_request, event};
use crate::events::ChangeKind;
use crate::journal::Note;
use crate::mllp::{batch, script};
use crate::server::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventRequest {
    kind: Option<ChangeKind>,
    patient: Option<String>,
    script: Option<String>,
    patients: Option<u32>,
}

pub(super) async fn post_event(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: EventRequest = serde_json::from_slice(&body).map_err(bad_request)?;
    let changes = match (req.kind, req.patient, req.script.as_deref()) {
        (Some(kind), Some(patient), None) => {
            let i = state
                .practice
                .find_patient_by_id(&patient)
                .ok_or_else(|| bad_request(format!("unknown patient {patient:?}")))?;
            let change = script::write(&state.practice, kind, i, "control")
                .ok_or_else(|| bad_request("nothing to change for this patient"))?;
            state.events.publish(change.clone());
            vec![change]
        }
        (None, None, Some("clinic-day")) => {
            let n = req.patients.unwrap_or(5).min(500);
            script::clinic_day(&state, n)
        }
        _ => {
            return Err(bad_request(
                "give {\"kind\", \"patient\"} or {\"script\": \"clinic-day\", \"patients\": N}",
            ));
        }
    };
    event(
        &state,
        "hl7-events",
        vec![Note::new("changes", changes.len().to_string())],
    );
    Ok(Json(json!({ "published": changes })))
}

pub(super) async fn get_queues(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "queues": state.mllp.outbound.queues() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchRequest {
    direction: String,
    dir: std::path::PathBuf,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    kinds: Vec<ChangeKind>,
    #[serde(default)]
    patients: Vec<String>,
}

pub(super) async fn post_batch(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: BatchRequest = serde_json::from_slice(&body).map_err(bad_request)?;
    let mode = match req.mode.as_deref() {
        None | Some("batch") => batch::Layout::Batch,
        Some("files") => batch::Layout::OnePerFile,
        Some(m) => return Err(bad_request(format!("unknown mode {m:?}"))),
    };
    let result = match req.direction.as_str() {
        "in" => {
            let st = state.clone();
            let dir = req.dir.clone();
            let r = tokio::task::spawn_blocking(move || batch::import_dir(&st, &dir))
                .await
                .map_err(bad_request)?
                .map_err(bad_request)?;
            json!(r)
        }
        "out" => {
            let mut changes = Vec::new();
            for p in &req.patients {
                let i = state
                    .practice
                    .find_patient_by_id(p)
                    .ok_or_else(|| bad_request(format!("unknown patient {p:?}")))?;
                for &k in &req.kinds {
                    changes.extend(script::write(&state.practice, k, i, "batch"));
                }
            }
            let r = batch::export(&state, &changes, &req.dir, mode).map_err(bad_request)?;
            json!(r)
        }
        d => {
            return Err(bad_request(format!(
                "direction must be in or out, not {d:?}"
            )));
        }
    };
    event(
        &state,
        "hl7-batch",
        vec![Note::new("direction", &req.direction)],
    );
    Ok(Json(result))
}
