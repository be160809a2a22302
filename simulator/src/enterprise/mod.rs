//! The NextGen Enterprise JSON API surface.
//!
//! - [`auth`]: GSA (`client_credentials`) and EAL (`authorization_code`) tokens,
//!   the token table, and the request extractors.
//! - [`session`]: `PUT users/me/login-defaults` and the `x-ng-sessionid` format.
//! - [`odata`] and [`envelope`]: `$filter`/`$orderby`/paging and the list envelope.
//! - [`error`]: NextGen's error shapes.
//! - [`routes`]: the route-use report built from a journal.
//! - `quota`: the daily quota (an empty `200` once it is used up).
//!
//! Every route renders the shared practice (`AppState::practice`): a person's `id` is the FHIR
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
mod quota;
mod render;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post, put};
use parking_lot::RwLock;
use tower::ServiceExt;

use crate::faults::FaultKind;
use crate::journal::Surface;
use crate::server::{AppState, NoteSlot, with_journal};

pub use auth::{Authed, Ctx, Grant, GrantKind, Tokens};
pub use error::ApiError;
pub use session::Session;

/// Enterprise API state kept in the shared [`crate::server::StateInner`] (the
/// practice itself is `StateInner::practice`, shared with every surface).
#[derive(Debug)]
pub struct EnterpriseState {
    /// Issued tokens and EAL codes.
    pub tokens: Tokens,
    appt_index: RwLock<Option<(u64, std::sync::Arc<appointments::Index>)>>,
    /// Rate-limit counters for `rate_limits.enterprise`.
    rate: crate::ratelimit::RateLimiter,
}

impl EnterpriseState {
    /// Empty state: no tokens, no writes.
    pub fn new() -> EnterpriseState {
        EnterpriseState {
            tokens: Tokens::default(),
            appt_index: RwLock::new(None),
            rate: crate::ratelimit::RateLimiter::new(),
        }
    }

    /// Forget tokens and cached indexes (with a practice reset).
    pub fn reset(&self) {
        self.tokens.clear();
        *self.appt_index.write() = None;
        self.rate.clear();
    }
}

impl Default for EnterpriseState {
    fn default() -> Self {
        EnterpriseState::new()
    }
}

/// The Enterprise API (journaled as `enterprise`) and its OAuth endpoints
/// (journaled as `oauth`) in front of `next`, at the base paths of the profile
/// active when each request arrives. A swap through `/_ngsim/profile` or
/// `/_ngsim/quirks` that moves `api-base` or `oauth-base` remounts the routes
/// on the first request after it, and the old paths fall through to `next`.
pub fn surfaces(state: AppState, next: Router) -> Router {
    let mounted = Arc::new(RwLock::new(Arc::new(Mounted::at(&state))));
    Router::new()
        .fallback(move |State(state): State<AppState>, req: Request| {
            let (mounted, next) = (mounted.clone(), next.clone());
            async move {
                let target = Mounted::route(&mounted, &state, req.uri().path());
                let routed = match target {
                    Some(surface) => surface.oneshot(req).await,
                    None => next.oneshot(req).await,
                };
                match routed {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            }
        })
        .with_state(state)
}

/// The two routers mounted at one pair of base paths.
struct Mounted {
    api_base: String,
    oauth_base: String,
    api: Router,
    oauth: Router,
}

impl Mounted {
    /// Mount at the active profile's base paths.
    fn at(state: &AppState) -> Mounted {
        let p = state.profile();
        let (api_base, oauth_base) = (&p.enterprise.api_base, &p.enterprise.oauth_base);
        Mounted {
            api: with_journal(router(state.clone(), api_base), state, Surface::Enterprise),
            oauth: with_journal(
                oauth_router(state.clone(), oauth_base),
                state,
                Surface::Oauth,
            ),
            api_base: api_base.clone(),
            oauth_base: oauth_base.clone(),
        }
    }

    /// The router for `path` under the active profile, remounting first if
    /// its base paths moved; `None` when the path is not an Enterprise one.
    fn route(slot: &RwLock<Arc<Mounted>>, state: &AppState, path: &str) -> Option<Router> {
        let p = state.profile();
        let e = &p.enterprise;
        let is_api = path
            .strip_prefix(e.api_base.as_str())
            .is_some_and(|rest| rest.starts_with('/'));
        let is_oauth = path
            .strip_prefix(e.oauth_base.as_str())
            .is_some_and(|rest| rest == "/token" || rest == "/authorize");
        if !is_api && !is_oauth {
            return None;
        }
        let current = slot.read().clone();
        let m = if current.api_base == e.api_base && current.oauth_base == e.oauth_base {
            current
        } else {
            let fresh = Arc::new(Mounted::at(state));
            *slot.write() = fresh.clone();
            fresh
        };
        Some(if is_api {
            m.api.clone()
        } else {
            m.oauth.clone()
        })
    }
}

/// `{oauth_base}/token` and `{oauth_base}/authorize`.
fn oauth_router(state: AppState, base: &str) -> Router {
    Router::new()
        .route(&format!("{base}/token"), post(auth::token))
        .route(&format!("{base}/authorize"), get(auth::authorize))
        .with_state(state)
}

/// Every `{api_base}` route.
fn router(state: AppState, base: &str) -> Router {
    let t = Table {
        base: base.to_owned(),
        router: Router::new(),
        allow: HashMap::new(),
    }
    .at("/users/me/login-defaults", "PUT", put(auth::login_defaults))
    .at("/core/version", "GET", get(master::version))
    .at("/master/practices", "GET", get(master::practices))
    .at("/master/enterprises", "GET", get(master::enterprises))
    .at("/master/locations", "GET", get(master::locations))
    .at("/master/practitioners", "GET", get(master::practitioners))
    .at("/master/payers", "GET", get(master::payers))
    .at("/master/events", "GET", get(master::events))
    .at("/persons/lookup", "GET", get(persons::lookup))
    .at(
        "/persons",
        "GET,POST",
        get(persons::list).post(persons::create),
    )
    .at(
        "/persons/{personId}",
        "GET,PUT,PATCH",
        get(persons::read)
            .put(persons::replace)
            .patch(persons::patch),
    )
    .at(
        "/persons/{personId}/insurances",
        "GET",
        get(persons::insurances),
    )
    .at(
        "/persons/{personId}/external-ids",
        "GET",
        get(persons::external_ids),
    )
    .at(
        "/persons/{personId}/appointments",
        "GET",
        get(appointments::of_person),
    )
    .at(
        "/persons/{personId}/chart/encounters/{encounterId}",
        "GET",
        get(chart::encounter),
    )
    .at(
        "/persons/{personId}/chart/encounters/{encounterId}/screening-tools/phq9",
        "GET",
        get(chart::phq9),
    )
    .at(
        "/persons/{personId}/chart/documents/{documentId}/plain-text",
        "GET",
        get(chart::document_text),
    )
    .at(
        "/appointments",
        "GET,POST",
        get(appointments::list_all).post(appointments::create),
    )
    .at("/appointments/slots", "GET", get(appointments::slots))
    .at(
        "/appointments/{appointmentId}",
        "GET",
        get(appointments::read),
    )
    .at(
        "/appointments/{appointmentId}/cancel",
        "POST",
        post(appointments::cancel),
    )
    .at(
        "/appointments/{appointmentId}/kept",
        "PUT",
        put(appointments::kept),
    )
    .at(
        "/appointments/{appointmentId}/reschedule",
        "POST",
        post(appointments::reschedule),
    );
    let t = chart::list_routes().fold(t, |t, (path, methods, mr)| t.at(&path, methods, mr));
    let allow = Arc::new(t.allow);
    t.router
        .route(&format!("{base}/{{*rest}}"), any(unknown_route))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            quota::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), allow),
            api_layer,
        ))
        .with_state(state)
}

/// Routes with the methods each allows (axum's own `Allow` is lost under the
/// layers, so NextGen's 405 takes it from here).
struct Table {
    base: String,
    router: Router<AppState>,
    allow: HashMap<String, &'static str>,
}

impl Table {
    fn at(mut self, path: &str, methods: &'static str, mr: MethodRouter<AppState>) -> Table {
        let full = format!("{}{path}", self.base);
        self.allow.insert(full.clone(), methods);
        self.router = self.router.route(&full, mr);
        self
    }
}

/// An unknown route under the API base. The token is checked only to record
/// who called (NextGen routes before it authenticates).
async fn unknown_route(
    State(state): State<AppState>,
    _caller: Result<Authed, ApiError>,
    uri: axum::http::Uri,
) -> Response {
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
async fn api_layer(
    State((state, allow_table)): State<(AppState, Arc<HashMap<String, &'static str>>)>,
    req: Request,
    next: Next,
) -> Response {
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
    if let Some(limit) = &profile.rate_limits.enterprise {
        let client = limit
            .per_client
            .then(|| {
                req.headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim()))
                    .and_then(|t| state.enterprise.tokens.lookup(t))
                    .map(|g| g.client_id)
            })
            .flatten();
        let key = crate::ratelimit::key(limit, client.as_deref(), req.extensions());
        if let Some(wait) = state.enterprise.rate.check(limit, &key) {
            slot.note("rate-limited", wait.to_string());
            let mut r = error::message(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "API calls quota exceeded! maximum admitted {} per {}s.",
                    limit.requests,
                    limit.per.as_secs()
                ),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return r;
        }
    }
    let method = req.method().to_string();
    let allowed = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .and_then(|m| allow_table.get(m.as_str()).copied())
        .unwrap_or("");
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
        resp = ApiError::MethodNotAllowed {
            method,
            allow: allowed.to_owned(),
        }
        .into_response();
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
