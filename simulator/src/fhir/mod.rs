//! The FHIR R4 API: discovery, CapabilityStatement, and read/search of the
//! US Core types rendered from the synthetic practice, shaped by the active
//! profile.
//!
//! Routing is dynamic: [`surfaces`] is the HTTP router's fallback and matches
//! each request against the *active* profile's FHIR base (either case of the
//! trailing `/r4`) and SMART endpoint paths. A runtime profile swap through the
//! control API therefore moves every endpoint at once, with no rebuild. Fixed
//! routes of other surfaces (control, Enterprise, Bulk) are matched first.

pub mod directory;
pub mod discovery;
pub(crate) mod guard;
pub mod include;
pub mod outcome;
pub mod render;
pub(crate) mod request;
pub mod search;
pub mod store;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use crate::journal::Surface;
use crate::server::{AppState, NoteSlot, with_journal};
use outcome::{FhirError, fhir_response};

/// The part of `path` after the FHIR base `base`, if `path` is under it. The
/// base matches case-insensitively (NGE clients spell it `/r4` and `/R4`).
pub fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let head = path.get(..base.len())?;
    if !head.eq_ignore_ascii_case(base) {
        return None;
    }
    let rest = &path[base.len()..];
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The fallback service holding the authorization server (journaled as
/// `oauth`) and the FHIR API (journaled as `fhir`); anything else is a 404.
pub fn surfaces(state: AppState) -> Router {
    let oauth = with_journal(crate::auth::router(state.clone()), &state, Surface::Oauth);
    let fhir = with_journal(router(state.clone()), &state, Surface::Fhir);
    Router::new()
        .fallback(move |State(state): State<AppState>, req: Request| {
            let (oauth, fhir) = (oauth.clone(), fhir.clone());
            async move {
                let path = req.uri().path();
                let routed = if crate::auth::handles(&state, path) {
                    oauth.oneshot(req).await
                } else if strip_base(path, &state.profile().fhir.base_path).is_some() {
                    fhir.oneshot(req).await
                } else {
                    return crate::server::unmatched(req.uri().clone())
                        .await
                        .into_response();
                };
                match routed {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            }
        })
        .with_state(state)
}

/// Whether `path` reaches the FHIR API through [`surfaces`] and no other
/// surface before it: under the FHIR base, not a SMART endpoint, not under an
/// Enterprise base, and not a Bulk interaction. The Bulk test is deliberately
/// coarse (any `export` or percent-escape under the Bulk base is left to the
/// Bulk router), so a `true` here never takes a request from another surface.
/// The fixed routes (control API, sinks) were matched before this is asked.
pub(crate) fn is_plain_fhir(state: &AppState, path: &str) -> bool {
    let p = state.profile();
    if strip_base(path, &p.fhir.base_path).is_none() || crate::auth::handles_under(&p, path) {
        return false;
    }
    let e = &p.enterprise;
    if path.starts_with(e.api_base.as_str()) || path.starts_with(e.oauth_base.as_str()) {
        return false;
    }
    let bulk = &p.bulk;
    !(bulk.enabled
        && strip_base(path, &bulk.base_path).is_some()
        && (!bulk.base_path.eq_ignore_ascii_case(&p.fhir.base_path)
            || path.contains("export")
            || path.contains('%')))
}

/// A FHIR request journaled as `fhir`: what [`surfaces`] does for a path
/// [`is_plain_fhir`] accepts, without the router hops.
pub(crate) async fn serve(state: &AppState, req: Request) -> Response {
    crate::server::journaled(state, Surface::Fhir, req, |req, slot| {
        dispatch(State(state.clone()), slot, req)
    })
    .await
}

/// The FHIR router (journaled by the caller); it dispatches on the active profile.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(State(state): State<AppState>, slot: NoteSlot, req: Request) -> Response {
    let p = state.profile();
    // A `Uri` clone shares its bytes, so the path outlives `req` (moved into
    // the handlers below) without copying it on every request.
    let uri = req.uri().clone();
    let path = uri.path();
    let Some(rest) = strip_base(path, &p.fhir.base_path) else {
        return FhirError::new(StatusCode::NOT_FOUND, "not-found", "not a FHIR path")
            .into_response();
    };
    let base = &p.fhir.base_path;
    let parsed = segments(rest);
    // More segments than any interaction has: no arm but the last matches
    // an empty slice, which is where such a path belongs.
    let segs: &[&str] = parsed.as_ref().map_or(&[], |(s, n)| &s[..*n]);
    let method = req.method().clone();
    match segs {
        [".well-known", "smart-configuration"] => {
            slot.with(|n| n.route = Some(format!("{base}/.well-known/smart-configuration")));
            if method != Method::GET {
                return read_only(&method);
            }
            let body = discovery::smart_configuration(&state, &p).to_string();
            crate::auth::json_response(StatusCode::OK, body)
        }
        ["metadata"] => {
            slot.with(|n| n.route = Some(format!("{base}/metadata")));
            if method != Method::GET {
                return read_only(&method);
            }
            fhir_response(StatusCode::OK, store(&state).capability.get(&state, &p))
        }
        [ty] | [ty, "_search"] => {
            slot.with(|n| n.route = Some([base.as_str(), "/", ty].concat()));
            api::type_level(&state, &p, &slot, ty, segs.len() == 2, req).await
        }
        [ty, id] => {
            slot.with(|n| n.route = Some([base.as_str(), "/", ty, "/{id}"].concat()));
            api::instance_level(&state, &p, &slot, ty, id, req).await
        }
        _ => {
            slot.with(|n| n.route = Some(format!("{base}/(unknown)")));
            FhirError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no FHIR interaction at {path}"),
            )
            .into_response()
        }
    }
}

/// The non-empty `/`-separated segments of `rest`, without allocating a
/// `Vec` per request; `None` when there are more than [`MAX_SEGS`], which no
/// FHIR interaction has.
fn segments(rest: &str) -> Option<([&str; MAX_SEGS], usize)> {
    let mut segs = [""; MAX_SEGS];
    let mut n = 0;
    for s in rest.split('/').filter(|s| !s.is_empty()) {
        *segs.get_mut(n)? = s;
        n += 1;
    }
    Some((segs, n))
}

/// The most path segments below the base of any FHIR interaction we route.
const MAX_SEGS: usize = 2;

/// 405 for writes: NextGen's FHIR is read-only.
pub fn read_only(method: &Method) -> Response {
    let mut r = FhirError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "not-supported",
        format!("{method} is not supported: this FHIR server is read-only (read and search)"),
    )
    .into_response();
    r.headers_mut().insert(
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static("GET"),
    );
    r
}

mod api;

pub use api::{NOTICE_ABBREVIATED, NOTICE_FULL};
pub use store::{GroupDef, group_defs};

/// The FHIR store (rendered practice) of a simulator.
pub fn store(state: &AppState) -> &store::Store {
    &state.auth.fhir
}
