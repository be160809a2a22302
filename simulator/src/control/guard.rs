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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::server::AppState;

    async fn status(state: &AppState, peer: &str, token: Option<&str>) -> u16 {
        let peer: SocketAddr = peer.parse().unwrap();
        let mut req = Request::get("/_ngsim/health").extension(ConnectInfo(peer));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = crate::control::router(state.clone())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        resp.status().as_u16()
    }

    #[tokio::test]
    async fn remote_peers_need_the_control_token() {
        let open = AppState::for_tests(None);
        assert_eq!(status(&open, "127.0.0.1:5000", None).await, 200);
        assert_eq!(status(&open, "[::1]:5000", None).await, 200);
        assert_eq!(status(&open, "10.1.2.3:5000", None).await, 403);
        assert_eq!(
            status(&open, "10.1.2.3:5000", Some("guess")).await,
            403,
            "no token configured"
        );
        let locked = AppState::for_tests(Some("s3cret".into()));
        assert_eq!(status(&locked, "10.1.2.3:5000", Some("s3cret")).await, 200);
        assert_eq!(status(&locked, "10.1.2.3:5000", Some("s3cre")).await, 403);
    }
}
