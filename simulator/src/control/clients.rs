//! `POST /_ngsim/clients`: register clients at runtime (the conformance runner
//! attaching to a running simulator registers the system under test this way).
//!
//! The body is a client registry in JSON (`{"client": [...], "gsa": [...]}`,
//! the same keys as the `--clients` TOML file). A client whose id is already
//! registered is kept as it is; the answer lists the ids that were added.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ControlError, bad_request, event};
use crate::clients::ClientRegistry;
use crate::journal::Note;
use crate::server::AppState;

pub(super) async fn post_clients(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let add: ClientRegistry = serde_json::from_slice(&body).map_err(bad_request)?;
    let mut added = Vec::new();
    state.update_clients(|reg| {
        for c in add.smart {
            if reg.smart(&c.id).is_none() {
                added.push(c.id.clone());
                reg.smart.push(c);
            }
        }
        for g in add.gsa {
            if reg.gsa(&g.client_id).is_none() {
                added.push(g.client_id.clone());
                reg.gsa.push(g);
            }
        }
    });
    // Ids only: the journal holds no secrets.
    event(
        &state,
        "clients-added",
        vec![Note::new("clients", added.join(","))],
    );
    Ok(Json(json!({ "added": added })))
}
