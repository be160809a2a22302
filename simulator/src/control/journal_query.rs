//! `GET /_ngsim/journal`: entries filtered by surface, client and sequence.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ControlError, bad_request};
use crate::journal::Surface;
use crate::server::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JournalQuery {
    /// Only this surface (`fhir`, `oauth`, `enterprise`, `bulk`, `mllp-in`, …).
    surface: Option<String>,
    /// Only this client id.
    client: Option<String>,
    /// Only entries with `seq >= since`.
    #[serde(default)]
    since: u64,
    /// At most this many entries (default 1000).
    limit: Option<usize>,
    /// `json` (default) or `jsonl`.
    format: Option<String>,
}

pub(super) async fn get_journal(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
) -> Result<Response, ControlError> {
    let surface = match q.surface.as_deref() {
        None => None,
        Some(s) => Some(Surface::parse(s).ok_or_else(|| {
            bad_request(format!(
                "unknown surface `{s}` (known: fhir, oauth, enterprise, bulk, mllp-in, mllp-out, sink, control)"
            ))
        })?),
    };
    let limit = q.limit.unwrap_or(1000);
    let entries = state.journal.entries(q.since, limit, |e| {
        surface.is_none_or(|s| e.surface == s)
            && q.client.as_deref().is_none_or(|c| e.client_id() == Some(c))
    });
    match q.format.as_deref() {
        None | Some("json") => {
            let stats = state.journal.stats();
            let body = serde_json::json!({
                "first_seq": stats.first_seq,
                "next_seq": stats.next_seq,
                "evicted": stats.evicted,
                "capacity": stats.capacity,
                "entries": entries,
            });
            Ok(axum::Json(body).into_response())
        }
        Some("jsonl") => {
            let mut out = Vec::with_capacity(entries.len() * 256);
            for e in &entries {
                serde_json::to_writer(&mut out, &**e).map_err(bad_request)?;
                out.push(b'\n');
            }
            Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
        }
        Some(other) => Err(bad_request(format!(
            "unknown format `{other}` (known: json, jsonl)"
        ))),
    }
}
