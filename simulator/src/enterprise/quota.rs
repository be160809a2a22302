//! NextGen's daily API quota (`enterprise.daily-quota`).
//!
//! Per nextgen.md §1.7 (second-hand, citing the developer portal's
//! "intro-to-api-dev-portal" page), a client past its daily quota gets `200`
//! with an **empty payload**, not a 429. Neither the number nor when the day
//! starts is public: ngsim counts every call made with a valid token, per
//! client, over a 24-hour window from the client's first counted call, on
//! tokio's clock (so tests can advance it). Calls without a valid token are
//! not counted; they get their 401 as usual.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::profile::RateLimit;
use crate::server::{AppState, NoteSlot};

/// Length of a quota day.
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Middleware: count the call against its client's daily quota and answer an
/// empty `200` once the quota is used up.
pub(super) async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(quota) = state.profile().enterprise.daily_quota else {
        return next.run(req).await;
    };
    let client = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim()))
        .and_then(|t| state.enterprise.tokens.lookup(t))
        .map(|g| g.client_id);
    let Some(client) = client else {
        return next.run(req).await;
    };
    let day = RateLimit {
        requests: quota,
        per: DAY,
        per_client: true,
    };
    // The shared fixed-window limiter of `rate-limits.enterprise`, under its own key.
    if state
        .enterprise
        .rate
        .check(&day, &format!("daily-quota:{client}"))
        .is_none()
    {
        return next.run(req).await;
    }
    if let Some(slot) = req.extensions().get::<NoteSlot>() {
        slot.note("daily-quota", "exceeded");
    }
    StatusCode::OK.into_response()
}
