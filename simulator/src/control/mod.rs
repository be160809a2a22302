//! The `/_ngsim/` control API: health, journal, profile and quirk swaps, faults
//! and reset. It answers loopback peers only, unless a control token is set and
//! presented as `Authorization: Bearer <token>`.

mod clients;
mod consent;
mod guard;
mod hl7;
mod journal_query;
mod sinks;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::FaultRule;
use crate::journal::{Detail, Note, Surface};
use crate::profile::{Profile, ProfileLoader};
use crate::server::AppState;

/// The control router (paths under `/_ngsim/`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_ngsim/health", get(health))
        .route(
            "/_ngsim/journal",
            get(journal_query::get_journal).post(journal_query::post_entry),
        )
        .route("/_ngsim/clients", post(clients::post_clients))
        .route("/_ngsim/profile", get(get_profile).put(put_profile))
        .route("/_ngsim/quirks", axum::routing::patch(patch_quirks))
        .route(
            "/_ngsim/faults",
            get(get_faults)
                .put(put_faults)
                .post(post_fault)
                .delete(delete_faults),
        )
        .route("/_ngsim/reset", post(reset))
        .route("/_ngsim/events", post(hl7::post_event))
        .route("/_ngsim/hl7/queues", get(hl7::get_queues))
        .route("/_ngsim/hl7/batch", post(hl7::post_batch))
        .route(
            "/_ngsim/sinks",
            get(sinks::get_sinks)
                .post(sinks::post_sink)
                .delete(sinks::delete_sinks),
        )
        .route("/_ngsim/sinks/{name}/received", get(sinks::get_received))
        .route("/_ngsim/consent", axum::routing::put(consent::put_consent))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::loopback_or_token,
        ))
        .with_state(state)
}

/// A control-API error: `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ControlError(pub StatusCode, pub &'static str, pub String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1, "message": self.2 }))).into_response()
    }
}

fn bad_request(msg: impl ToString) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, "invalid_request", msg.to_string())
}

fn event(state: &AppState, name: &str, notes: Vec<Note>) {
    state.journal.record(
        Surface::Control,
        None,
        Detail::Event {
            name: name.into(),
            notes,
        },
    );
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let p = state.profile();
    Json(json!({
        "status": "ok",
        "profile": p.name,
        "practice": {
            "seed": state.practice.config().seed,
            "patients": state.practice.patient_count(),
            "as_of": state.practice.as_of().to_string(),
            "generation": state.practice.generation(),
        },
        "journal": state.journal.stats(),
        "urls": {
            "http": state.urls.http_base,
            "fhir": state.urls.http(&p.fhir.base_path),
            "enterprise": state.urls.http(&p.enterprise.api_base),
            "mllp": state.urls.mllp_addr.map(|a| a.to_string()),
        }
    }))
}

async fn get_profile(State(state): State<AppState>) -> Json<Profile> {
    Json((*state.profile()).clone())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSwap {
    /// A built-in profile name.
    name: Option<String>,
    /// Or a whole profile file's TOML text.
    toml: Option<String>,
}

async fn put_profile(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let swap: ProfileSwap = serde_json::from_slice(&body).map_err(bad_request)?;
    let loader = ProfileLoader::default();
    let profile = match (swap.name, swap.toml) {
        (Some(n), None) => loader.load(&n),
        (None, Some(t)) => loader.load_str("(control API)", &t),
        _ => return Err(bad_request("give exactly one of `name` or `toml`")),
    }
    .map_err(bad_request)?;
    let name = profile.name.clone();
    state.set_profile(profile);
    event(&state, "profile-set", vec![Note::new("profile", &name)]);
    Ok(Json(json!({ "profile": name })))
}

/// Deep-merge a JSON fragment (kebab-case keys, as in the TOML) over the active
/// profile, validate the result, and swap it in.
async fn patch_quirks(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Profile>, ControlError> {
    let patch: Value = serde_json::from_slice(&body).map_err(bad_request)?;
    if !patch.is_object() {
        return Err(bad_request(
            "the body must be a JSON object of profile keys",
        ));
    }
    let mut current = serde_json::to_value(&*state.profile()).map_err(bad_request)?;
    merge_json(&mut current, patch.clone());
    let profile: Profile = serde_path_to_error::deserialize(current)
        .map_err(|e| bad_request(format!("key `{}`: {}", e.path(), e.inner())))?;
    state.set_profile(profile.clone());
    event(
        &state,
        "quirks-set",
        vec![Note::new("patch", patch.to_string())],
    );
    Ok(Json(profile))
}

fn merge_json(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge_json(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

async fn get_faults(State(state): State<AppState>) -> Json<Vec<FaultRule>> {
    Json(state.faults.rules())
}

async fn put_faults(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Vec<FaultRule>>, ControlError> {
    let rules: Vec<FaultRule> = serde_json::from_slice(&body).map_err(bad_request)?;
    state.faults.replace(rules.clone());
    event(
        &state,
        "faults-set",
        vec![Note::new("count", rules.len().to_string())],
    );
    Ok(Json(rules))
}

async fn post_fault(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<FaultRule>), ControlError> {
    let rule: FaultRule = serde_json::from_slice(&body).map_err(bad_request)?;
    state.faults.add(rule.clone());
    let name = rule
        .name
        .clone()
        .unwrap_or_else(|| rule.kind.label().to_owned());
    event(
        &state,
        "fault-added",
        vec![
            Note::new("fault", name),
            Note::new("surface", rule.surface.as_str()),
        ],
    );
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn delete_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.replace(Vec::new());
    event(&state, "faults-cleared", vec![]);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetQuery {
    /// Keep runtime faults instead of re-arming the profile's (default false).
    #[serde(default)]
    keep_faults: bool,
}

async fn reset(State(state): State<AppState>, Query(q): Query<ResetQuery>) -> Json<Value> {
    // Back to a freshly started simulator: the practice overlay, and every
    // token, code, launch and remembered jti on the SMART and Enterprise sides.
    // Sinks keep their addresses (a SUT is configured with them) but forget
    // what they received.
    state.practice.reset();
    state.sinks.forget_deliveries();
    state.enterprise.reset();
    state.auth.clear();
    state.bulk.clear();
    state.mllp.dedupe.clear();
    if !q.keep_faults {
        state.faults.replace(state.profile().faults.clone());
    }
    event(&state, "reset", vec![]);
    Json(json!({ "reset": true }))
}
