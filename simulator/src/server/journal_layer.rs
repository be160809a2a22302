//! HTTP journaling: one middleware records every exchange of a surface, with
//! facts that extractors and handlers add to the request's [`NoteSlot`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use compact_str::{CompactString, ToCompactString};
use parking_lot::Mutex;
use tokio::time::Instant;

use super::AppState;
use crate::journal::{Detail, HttpExchange, Note, Surface};

/// Facts about one HTTP exchange, filled in by extractors and handlers.
#[derive(Debug, Clone, Default)]
pub struct ExchangeNote {
    /// Authenticated client.
    pub client_id: Option<String>,
    /// Granted scopes of the token used.
    pub scopes: Option<String>,
    /// Patient in context.
    pub patient: Option<String>,
    /// Resource ids returned or touched.
    pub resource_ids: Vec<String>,
    /// Injected fault.
    pub fault: Option<String>,
    /// Other facts.
    pub notes: Vec<Note>,
    /// Route template override (for handlers that dispatch internally).
    pub route: Option<String>,
}

/// The per-request slot for [`ExchangeNote`], found in request extensions.
#[derive(Debug, Clone, Default)]
pub struct NoteSlot(Arc<Mutex<ExchangeNote>>);

impl NoteSlot {
    /// Change the note.
    pub fn with(&self, f: impl FnOnce(&mut ExchangeNote)) {
        f(&mut self.0.lock());
    }

    /// Add a fact.
    pub fn note(&self, k: impl Into<CompactString>, v: impl Into<CompactString>) {
        self.0.lock().notes.push(Note::new(k, v));
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NoteSlot {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        // Outside the journal layer (unit tests of a bare router) a fresh slot
        // is harmless: the facts simply go nowhere.
        Ok(parts
            .extensions
            .get::<NoteSlot>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The peer address of a connection as the journal writes it, formatted once
/// per connection by the accept loop and shared by its requests.
#[derive(Debug, Clone)]
pub(crate) struct PeerText(pub(crate) Arc<str>);

/// Query keys whose values are secrets and never reach the journal.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "token",
    "password",
];

/// The query string with secret values replaced by `[REDACTED]`; keys are kept,
/// so a check can still see that a token travelled in a URL.
pub fn redact_query(q: &str) -> String {
    // Built in place: this runs for every journaled request with a query.
    let mut out = String::with_capacity(q.len());
    for (n, pair) in q.split('&').enumerate() {
        if n > 0 {
            out.push('&');
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        if !v.is_empty() && SECRET_KEYS.iter().any(|s| key.eq_ignore_ascii_case(s)) {
            out.push_str(k);
            out.push_str("=[REDACTED]");
        } else {
            out.push_str(pair);
        }
    }
    out
}

/// Middleware recording every exchange of `surface` in the journal.
pub async fn record(
    State((state, surface)): State<(AppState, Surface)>,
    req: Request,
    next: Next,
) -> Response {
    journaled(&state, surface, req, |req, _| next.run(req)).await
}

/// Run `handle` on `req` and record the exchange as one journal entry of
/// `surface`, with the facts the handler added to the request's [`NoteSlot`]
/// (also passed to `handle` directly). The [`record`] middleware is this
/// around `Next`; the FHIR fast path in `server::router` calls it without a
/// middleware stack, so both journal exactly the same entry.
pub(crate) async fn journaled<F, Fut>(
    state: &AppState,
    surface: Surface,
    mut req: Request,
    handle: F,
) -> Response
where
    F: FnOnce(Request, NoteSlot) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let started = Instant::now();
    let slot = NoteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(redact_query);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    // The accept loop formats the peer once per connection; formatting a
    // `SocketAddr` was 6% of a read's instructions when done per request.
    let peer = match req.extensions().get::<PeerText>() {
        Some(p) => Some(CompactString::from(p.0.as_ref())),
        None => req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.to_compact_string()),
    };
    let resp = handle(req, slot.clone()).await;
    let note = std::mem::take(&mut *slot.0.lock());
    let exchange = HttpExchange {
        method,
        route: note
            .route
            .or(route)
            .unwrap_or_else(|| "(unmatched)".to_owned()),
        path,
        query,
        status: resp.status().as_u16(),
        client_id: note.client_id,
        scopes: note.scopes,
        patient: note.patient,
        resource_ids: note.resource_ids,
        fault: note.fault,
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        notes: note.notes,
    };
    state.journal.record(surface, peer, Detail::Http(exchange));
    resp
}

#[cfg(test)]
mod tests {
    use super::redact_query;

    #[test]
    fn secrets_are_redacted_but_keys_kept() {
        assert_eq!(
            redact_query("patient=1&access_token=abc.def.ghi&CODE=x&empty_code="),
            "patient=1&access_token=[REDACTED]&CODE=[REDACTED]&empty_code="
        );
        assert_eq!(
            redact_query("client%5Fsecret=s3"),
            "client%5Fsecret=[REDACTED]"
        );
    }
}
