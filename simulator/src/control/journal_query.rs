//! `GET /_ngsim/journal`: entries filtered by surface, client and sequence;
//! with `wait_ms`, a long poll that answers as soon as a matching entry exists.
//! `POST /_ngsim/journal`: record an exchange made outside the simulator (the
//! runner journals the HL7 it sends to a system under test this way, so one
//! sequence orders everything).

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ControlError, bad_request};
use crate::journal::{Detail, Entry, Surface};
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
    /// Long poll: wait up to this many milliseconds (at most 30 s) for a
    /// matching entry before answering.
    wait_ms: Option<u64>,
}

/// The longest long poll.
const MAX_WAIT: Duration = Duration::from_secs(30);

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
    let wanted = |e: &Entry| {
        surface.is_none_or(|s| e.surface == s)
            && q.client.as_deref().is_none_or(|c| e.client_id() == Some(c))
    };
    if let Some(ms) = q.wait_ms {
        let wait = Duration::from_millis(ms).min(MAX_WAIT);
        let _ = state.journal.wait_for(q.since, wait, wanted).await;
    }
    let entries = state.journal.entries(q.since, limit, wanted);
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

/// What `POST /_ngsim/journal` records: an entry without `seq` and times
/// (serde's `flatten` rules out `deny_unknown_fields` here).
#[derive(Debug, Deserialize)]
pub(super) struct NewEntry {
    surface: Surface,
    #[serde(default)]
    peer: Option<compact_str::CompactString>,
    #[serde(flatten)]
    detail: Detail,
}

pub(super) async fn post_entry(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ControlError> {
    let new: NewEntry = serde_json::from_slice(&body).map_err(bad_request)?;
    if matches!(new.detail, Detail::Http(_)) {
        // HTTP exchanges are the simulator's own record; only MLLP exchanges
        // and events come from outside.
        return Err(bad_request("only `mllp` and `event` entries can be posted"));
    }
    let seq = state.journal.record(new.surface, new.peer, new.detail);
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({ "seq": seq })),
    ))
}
