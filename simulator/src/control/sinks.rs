//! Sink control routes: create, list and read the recipient sinks.
//!
//! - `POST /_ngsim/sinks`: `{"name": "billing", "consented": false, "mllp": true}` →
//!   201 with the sink's URLs (and MLLP address).
//! - `GET /_ngsim/sinks`: every sink.
//! - `GET /_ngsim/sinks/{name}/received`: what it received (path, canaries,
//!   and the body as text).
//! - `DELETE /_ngsim/sinks`: remove every sink.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ControlError, bad_request, event};
use crate::journal::Note;
use crate::server::AppState;
use crate::sinks::{SinkError, SinkInfo, SinkSpec};

pub(super) async fn post_sink(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<SinkInfo>), ControlError> {
    let spec: SinkSpec = serde_json::from_slice(&body).map_err(bad_request)?;
    let info = state
        .sinks
        .create(&state, spec)
        .await
        .map_err(|e| match e {
            SinkError::Conflict(_) => ControlError(StatusCode::CONFLICT, "conflict", e.to_string()),
            SinkError::Bind(..) => ControlError(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            ),
            _ => bad_request(e),
        })?;
    event(
        &state,
        "sink-created",
        vec![
            Note::new("sink", &info.name),
            Note::new("consented", info.consented.to_string()),
        ],
    );
    Ok((StatusCode::CREATED, Json(info)))
}

pub(super) async fn get_sinks(State(state): State<AppState>) -> Json<Vec<SinkInfo>> {
    Json(state.sinks.list())
}

pub(super) async fn delete_sinks(State(state): State<AppState>) -> StatusCode {
    state.sinks.clear();
    event(&state, "sinks-cleared", vec![]);
    StatusCode::NO_CONTENT
}

pub(super) async fn get_received(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ControlError> {
    if state.sinks.get(&name).is_none() {
        return Err(ControlError(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no sink named `{name}`"),
        ));
    }
    let received: Vec<Value> = state
        .sinks
        .deliveries(0)
        .iter()
        .filter(|d| d.sink == name)
        .map(|d| {
            json!({
                "seq": d.seq,
                "protocol": d.protocol,
                "what": d.what,
                "canaries": d.canaries,
                "body": d.text(),
            })
        })
        .collect();
    Ok(Json(json!({ "sink": name, "received": received })))
}
