//! The sinks' HTTP and FHIR endpoints.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::Protocol;
use crate::journal::{Detail, HttpExchange};
use crate::server::AppState;

/// The sink router: `POST /sinks/{name}[/{*path}]` and the FHIR base
/// `POST /sinks/{name}/fhir[/{Type}]`. Each handler journals its own exchange.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/sinks/{name}", post(any_body))
        .route("/sinks/{name}/fhir", post(fhir_bundle))
        .route("/sinks/{name}/fhir/{ty}", post(fhir_resource))
        .route("/sinks/{name}/{*rest}", post(any_body_at))
        .with_state(state)
}

struct Req {
    name: String,
    path: String,
    route: &'static str,
    peer: Option<String>,
    started: Instant,
}

fn fhir_error(status: StatusCode, code: &str, msg: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/fhir+json")],
        Json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": msg}]
        })),
    )
        .into_response()
}

fn unknown_sink(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": format!("no sink named `{name}`") })),
    )
        .into_response()
}

/// Journal and keep the delivery, then answer `ok` (or 404 for an unknown sink).
fn accept(
    state: &AppState,
    r: Req,
    protocol: Protocol,
    body: Vec<u8>,
    status: StatusCode,
    ok: impl FnOnce(u64) -> Response,
) -> Response {
    let latency_us = u64::try_from(r.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let delivered = state
        .sinks
        .deliver(state, &r.name, protocol, r.path.clone(), body, |notes| {
            (
                r.peer.as_deref().map(Into::into),
                Detail::Http(HttpExchange {
                    method: "POST".into(),
                    route: r.route.into(),
                    path: r.path.clone(),
                    status: status.as_u16(),
                    latency_us,
                    notes,
                    ..HttpExchange::default()
                }),
            )
        });
    match delivered {
        Some(d) => ok(d.seq),
        None => unknown_sink(&r.name),
    }
}

fn req(name: String, path: String, route: &'static str, peer: Option<SocketAddr>) -> Req {
    Req {
        name,
        path,
        route,
        peer: peer.map(|p| p.to_string()),
        started: Instant::now(),
    }
}

fn peer_of(c: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<SocketAddr> {
    c.map(|Extension(ConnectInfo(addr))| addr)
}

async fn any_body(
    State(state): State<AppState>,
    Path(name): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/sinks/{name}");
    generic(
        &state,
        req(name, path, "/sinks/{name}", peer_of(peer)),
        body,
    )
}

async fn any_body_at(
    State(state): State<AppState>,
    Path((name, rest)): Path<(String, String)>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/sinks/{name}/{rest}");
    let r = req(name, path, "/sinks/{name}/{*path}", peer_of(peer));
    generic(&state, r, body)
}

/// Any body at all: kept, answered 202 with the journal sequence number.
fn generic(state: &AppState, r: Req, body: axum::body::Bytes) -> Response {
    accept(
        state,
        r,
        Protocol::Http,
        body.to_vec(),
        StatusCode::ACCEPTED,
        |seq| (StatusCode::ACCEPTED, Json(json!({ "received": seq }))).into_response(),
    )
}

/// Parse a FHIR JSON body and check its `resourceType` (the error boxed:
/// a `Response` is large).
fn fhir_json(headers: &HeaderMap, body: &[u8], want: &str) -> Result<(), Box<Response>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.is_empty() && !ct.contains("json") {
        return Err(Box::new(fhir_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!("content type `{ct}` is not FHIR JSON"),
        )));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        Box::new(fhir_error(
            StatusCode::BAD_REQUEST,
            "structure",
            format!("body is not JSON: {e}"),
        ))
    })?;
    match v.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == want => Ok(()),
        Some(t) => Err(Box::new(fhir_error(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("resourceType `{t}` posted where `{want}` was expected"),
        ))),
        None => Err(Box::new(fhir_error(
            StatusCode::BAD_REQUEST,
            "required",
            "resourceType is missing".into(),
        ))),
    }
}

async fn fhir_bundle(
    State(state): State<AppState>,
    Path(name): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/sinks/{name}/fhir");
    let r = req(name, path, "/sinks/{name}/fhir", peer_of(peer));
    let status = match fhir_json(&headers, &body, "Bundle") {
        Ok(()) => StatusCode::OK,
        Err(resp) => return journal_rejected(&state, r, body.to_vec(), *resp),
    };
    accept(&state, r, Protocol::Fhir, body.to_vec(), status, |seq| {
        (
            status,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            Json(json!({
                "resourceType": "Bundle",
                "type": "transaction-response",
                "id": format!("sink-{seq}"),
            })),
        )
            .into_response()
    })
}

async fn fhir_resource(
    State(state): State<AppState>,
    Path((name, ty)): Path<(String, String)>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/sinks/{name}/fhir/{ty}");
    let location_base = path.clone();
    let r = req(name, path, "/sinks/{name}/fhir/{type}", peer_of(peer));
    if let Err(resp) = fhir_json(&headers, &body, &ty) {
        return journal_rejected(&state, r, body.to_vec(), *resp);
    }
    accept(
        &state,
        r,
        Protocol::Fhir,
        body.to_vec(),
        StatusCode::CREATED,
        |seq| {
            let location = format!("{location_base}/sink-{seq}");
            (
                StatusCode::CREATED,
                [
                    (header::CONTENT_TYPE, "application/fhir+json".to_owned()),
                    (header::LOCATION, location),
                ],
                Json(json!({ "resourceType": ty, "id": format!("sink-{seq}") })),
            )
                .into_response()
        },
    )
}

/// A malformed FHIR delivery is still a delivery (it may carry a leak): keep
/// and journal it with the error status, then answer the error.
fn journal_rejected(state: &AppState, r: Req, body: Vec<u8>, resp: Response) -> Response {
    let status = resp.status();
    accept(state, r, Protocol::Fhir, body, status, |_| resp)
}
