//! The NextGen Enterprise JSON API surface.
//!
//! - [`auth`]: GSA (`client_credentials`) and EAL (`authorization_code`) tokens,
//!   the token table, and the request extractors.
//! - [`session`]: `PUT users/me/login-defaults` and the `x-ng-sessionid` format.
//! - [`odata`] and [`envelope`]: `$filter`/`$orderby`/paging and the list envelope.
//! - [`error`]: NextGen's error shapes.
//! - [`routes`]: the route-use report built from a journal.
//!
//! Every route renders the shared [`Practice`]: a person's `id` is the FHIR
//! `Patient.id`, and accepted writes go to the practice overlay and are
//! announced on the event bus.

pub mod auth;
pub mod body;
pub mod envelope;
pub mod error;
pub mod odata;
pub mod routes;
pub mod schemas;
pub mod session;

mod appointments;
mod chart;
mod master;
mod persons;
mod render;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use parking_lot::RwLock;
use serde_json::Value;

use crate::faults::FaultKind;
use crate::journal::Surface;
use crate::practice::{Practice, PracticeConfig};
use crate::server::{AppState, NoteSlot};

pub use auth::{Authed, Ctx, Grant, GrantKind, Tokens};
pub use error::ApiError;
pub use session::Session;

/// Enterprise API state kept in the shared [`crate::server::StateInner`].
#[derive(Debug)]
pub struct EnterpriseState {
    /// Issued tokens and EAL codes.
    pub tokens: Tokens,
    /// The practice the routes render.
    pub practice: Practice,
    /// Chart records written through the Enterprise API that the practice
    /// overlay has no slot for (encounters, problems), by person id.
    pub(crate) chart_writes: RwLock<BTreeMap<String, ChartWrites>>,
    appt_index: RwLock<Option<(u64, std::sync::Arc<appointments::Index>)>>,
}

/// Encounters and problems created through the Enterprise API, as rendered JSON.
#[derive(Debug, Default, Clone)]
pub(crate) struct ChartWrites {
    pub encounters: Vec<Value>,
    pub problems: Vec<Value>,
}

impl EnterpriseState {
    /// State rendering `practice`.
    pub fn new(practice: Practice) -> EnterpriseState {
        EnterpriseState {
            tokens: Tokens::default(),
            practice,
            chart_writes: RwLock::new(BTreeMap::new()),
            appt_index: RwLock::new(None),
        }
    }

    /// Forget tokens and Enterprise-only chart writes (with a practice reset).
    pub fn reset(&self) {
        self.tokens.clear();
        self.chart_writes.write().clear();
        *self.appt_index.write() = None;
    }
}

impl Default for EnterpriseState {
    fn default() -> Self {
        EnterpriseState::new(Practice::new(PracticeConfig::default()))
    }
}

/// `{oauth_base}/token` and `{oauth_base}/authorize`, journaled as `oauth`.
pub fn oauth_router(state: AppState) -> Router {
    let base = state.profile().enterprise.oauth_base.clone();
    Router::new()
        .route(&format!("{base}/token"), post(auth::token))
        .route(&format!("{base}/authorize"), get(auth::authorize))
        .with_state(state)
}

/// Every `{api_base}` route, journaled as `enterprise`.
pub fn router(state: AppState) -> Router {
    let base = state.profile().enterprise.api_base.clone();
    let r = |p: &str| format!("{base}{p}");
    Router::new()
        .route(&r("/users/me/login-defaults"), put(auth::login_defaults))
        .route(&r("/core/version"), get(master::version))
        .route(&r("/master/practices"), get(master::practices))
        .route(&r("/master/enterprises"), get(master::enterprises))
        .route(&r("/master/locations"), get(master::locations))
        .route(&r("/master/practitioners"), get(master::practitioners))
        .route(&r("/master/payers"), get(master::payers))
        .route(&r("/master/events"), get(master::events))
        .route(&r("/persons/lookup"), get(persons::lookup))
        .route(&r("/persons"), get(persons::list).post(persons::create))
        .route(
            &r("/persons/{personId}"),
            get(persons::read)
                .put(persons::replace)
                .patch(persons::patch),
        )
        .route(
            &r("/persons/{personId}/insurances"),
            get(persons::insurances),
        )
        .route(
            &r("/persons/{personId}/external-ids"),
            get(persons::external_ids),
        )
        .route(
            &r("/persons/{personId}/appointments"),
            get(appointments::of_person),
        )
        .route(
            &r("/persons/{personId}/chart/allergies"),
            get(chart::allergies),
        )
        .route(
            &r("/persons/{personId}/chart/problems"),
            get(chart::problems).post(chart::create_problem),
        )
        .route(
            &r("/persons/{personId}/chart/diagnoses"),
            get(chart::diagnoses),
        )
        .route(
            &r("/persons/{personId}/chart/medications"),
            get(chart::medications),
        )
        .route(
            &r("/persons/{personId}/chart/encounters"),
            get(chart::encounters).post(chart::create_encounter),
        )
        .route(
            &r("/persons/{personId}/chart/encounters/{encounterId}"),
            get(chart::encounter),
        )
        .route(
            &r("/persons/{personId}/chart/encounters/{encounterId}/vitals"),
            get(chart::encounter_vitals),
        )
        .route(
            &r("/persons/{personId}/chart/encounters/{encounterId}/diagnoses"),
            get(chart::encounter_diagnoses),
        )
        .route(
            &r("/persons/{personId}/chart/encounters/{encounterId}/procedures"),
            get(chart::encounter_procedures),
        )
        .route(
            &r("/persons/{personId}/chart/encounters/{encounterId}/screening-tools/phq9"),
            get(chart::phq9),
        )
        .route(
            &r("/persons/{personId}/chart/procedures"),
            get(chart::procedures),
        )
        .route(
            &r("/persons/{personId}/chart/immunizations"),
            get(chart::immunizations),
        )
        .route(
            &r("/persons/{personId}/chart/lab/results"),
            get(chart::lab_results),
        )
        .route(
            &r("/persons/{personId}/chart/documents"),
            get(chart::documents),
        )
        .route(
            &r("/persons/{personId}/chart/documents/{documentId}/plain-text"),
            get(chart::document_text),
        )
        .route(
            &r("/persons/{personId}/chart/social-history"),
            get(chart::social_history),
        )
        .route(
            &r("/persons/{personId}/chart/charges"),
            get(chart::charges).post(chart::create_charge),
        )
        .route(
            &r("/persons/{personId}/chart/balances"),
            get(chart::balances),
        )
        .route(
            &r("/appointments"),
            get(appointments::list_all).post(appointments::create),
        )
        .route(&r("/appointments/slots"), get(appointments::slots))
        .route(&r("/appointments/{appointmentId}"), get(appointments::read))
        .route(
            &r("/appointments/{appointmentId}/cancel"),
            post(appointments::cancel),
        )
        .route(
            &r("/appointments/{appointmentId}/kept"),
            put(appointments::kept),
        )
        .route(
            &r("/appointments/{appointmentId}/reschedule"),
            post(appointments::reschedule),
        )
        .route(&r("/{*rest}"), any(unknown_route))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api_layer,
        ))
        .with_state(state)
}

async fn unknown_route(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    let url = state.urls.http(
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(uri.path()),
    );
    ApiError::NotFound(Some(format!(
        "No HTTP resource was found that matches the request URI '{url}'."
    )))
    .into_response()
}

/// Per-request work shared by every API route: the `enabled` switch, journal
/// facts (session header, `$filter`), faults, NextGen's 405 body, and the
/// headers every NextGen response carries.
async fn api_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let profile = state.profile();
    if !profile.enterprise.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    let slot = req
        .extensions()
        .get::<NoteSlot>()
        .cloned()
        .unwrap_or_default();
    let has_session = req.headers().contains_key(session::HEADER);
    slot.note(
        "session-header",
        if has_session { "present" } else { "absent" },
    );
    let query = req.uri().query().unwrap_or("");
    if query.contains("$filter=") || query.contains("%24filter=") {
        slot.note("odata-filter", "used");
    }
    let method = req.method().to_string();
    let fault = state
        .faults
        .pick(Surface::Enterprise, req.uri().path(), |k| {
            matches!(
                k,
                FaultKind::RateLimit { .. } | FaultKind::Status { .. } | FaultKind::Latency { .. }
            )
        });
    let mut resp = match fault {
        Some(f) => {
            slot.with(|n| n.fault = Some(f.name.clone()));
            match f.kind {
                FaultKind::RateLimit { retry_after_secs } => {
                    let mut r =
                        error::message(StatusCode::TOO_MANY_REQUESTS, "API calls quota exceeded.");
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                    r
                }
                FaultKind::Status { status, .. } => error::message(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "An error has occurred.",
                ),
                FaultKind::Latency { ms } => {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                    next.run(req).await
                }
                _ => next.run(req).await,
            }
        }
        None => next.run(req).await,
    };
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        resp = ApiError::MethodNotAllowed { method, allow }.into_response();
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&profile.enterprise.api_version) {
        h.insert("api-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-request-id", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    resp
}
