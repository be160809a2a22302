//! The control API's access rule: loopback peers, or the configured token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ControlError;
use crate::server::AppState;

pub(super) async fn loopback_or_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    let token_ok = state.control_token.as_deref().is_some_and(|expected| {
        req.headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|got| constant_time_eq(got.as_bytes(), expected.as_bytes()))
    });
    if loopback || token_ok {
        next.run(req).await
    } else {
        ControlError(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the control API answers loopback peers only (start with --control-token to allow others)".into(),
        )
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
