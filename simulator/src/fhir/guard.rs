//! The guard in front of every FHIR and Bulk interaction: injected faults
//! (429, 5xx, latency) first, then the profile's rate limit through the shared
//! [`RateLimiter`]. A refusal is a 429 with `Retry-After` in delta-seconds and
//! a `throttled` OperationOutcome; each one is noted for the journal.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::outcome::FhirError;
use crate::faults::FaultKind;
use crate::journal::Surface;
use crate::profile::RateLimit;
use crate::ratelimit::{self, RateLimiter};
use crate::server::{AppState, NoteSlot};

/// What the guard checks for one request.
pub(crate) struct Guard<'a> {
    /// The journal surface, whose fault rules apply.
    pub surface: Surface,
    /// What fault rules match against (path, or path and query).
    pub subject: &'a str,
    /// The profile's limit for this surface, if any.
    pub limit: Option<&'a RateLimit>,
    /// The surface's counters.
    pub limiter: &'a RateLimiter,
    /// The authenticated client.
    pub client_id: &'a str,
}

/// A 429 with `Retry-After: secs`.
pub(crate) fn too_many(secs: u64, why: &str) -> Response {
    let mut r = FhirError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "throttled",
        format!("{why}; retry after {secs} seconds"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

impl Guard<'_> {
    /// `Some(response)` when the request must be refused or failed.
    pub(crate) async fn check(
        &self,
        state: &AppState,
        slot: &NoteSlot,
        parts: &Parts,
    ) -> Option<Response> {
        if state.faults.any_for(self.surface) {
            let hit = state.faults.pick(self.surface, self.subject, |k| {
                matches!(
                    k,
                    FaultKind::RateLimit { .. }
                        | FaultKind::Status { .. }
                        | FaultKind::Latency { .. }
                )
            });
            if let Some(inj) = hit {
                slot.with(|n| n.fault = Some(inj.name.clone()));
                match inj.kind {
                    FaultKind::Latency { ms } => {
                        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                    }
                    FaultKind::RateLimit { retry_after_secs } => {
                        return Some(too_many(
                            u64::from(retry_after_secs),
                            &format!("Too many requests (injected fault: {})", inj.name),
                        ));
                    }
                    FaultKind::Status { status, transient } => {
                        let status =
                            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                        let code = if transient { "transient" } else { "exception" };
                        return Some(
                            FhirError::new(status, code, format!("Injected fault: {}", inj.name))
                                .into_response(),
                        );
                    }
                    _ => {}
                }
            }
        }
        let limit = self.limit?;
        let key = ratelimit::key(limit, Some(self.client_id), &parts.extensions);
        let secs = self.limiter.check(limit, &key)?;
        slot.with(|n| n.fault = Some("rate-limit (profile)".into()));
        Some(too_many(
            secs,
            &format!(
                "Too many requests: at most {} per {}s",
                limit.requests,
                limit.per.as_secs()
            ),
        ))
    }
}
