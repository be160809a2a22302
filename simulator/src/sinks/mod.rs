//! Recipient sinks: named endpoints that stand in for the downstream systems a
//! system under test forwards data to (a billing system, an HIE, an analytics
//! store). Each sink is marked consented or not for 42 CFR Part 2.
//!
//! A sink accepts:
//! - `POST /sinks/{name}` and `POST /sinks/{name}/{*path}` with any body;
//! - a FHIR base: `POST /sinks/{name}/fhir/{Type}` (a resource of that type) and
//!   `POST /sinks/{name}/fhir` (a `Bundle`);
//! - HL7 v2 over MLLP on its own listener, answering every message with AA.
//!
//! Every delivery is scanned for the practice's Part 2 canaries, kept in memory
//! (bounded, for the runner to read) and journaled on the `sink` surface with
//! the sink name and consent flag. Sinks are created through the control API
//! (`POST /_ngsim/sinks`) or [`Sinks::create`].

mod http;
mod mllp;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use http::router;

use crate::journal::{Detail, Note, Surface};
use crate::server::AppState;

/// Deliveries kept per sink; older ones are dropped first.
pub const MAX_DELIVERIES_PER_SINK: usize = 10_000;

/// What the runner (or the control API) asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SinkSpec {
    /// Name, used in URLs: `[a-z0-9-]+`.
    pub name: String,
    /// Whether the patients' Part 2 consent names this recipient.
    #[serde(default)]
    pub consented: bool,
    /// Also open an MLLP listener for this sink.
    #[serde(default)]
    pub mllp: bool,
}

/// A sink as created: where it listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SinkInfo {
    /// Name.
    pub name: String,
    /// Part 2 consent flag.
    pub consented: bool,
    /// Base URL for HTTP deliveries (`…/sinks/{name}`).
    pub http_url: String,
    /// FHIR base URL (`…/sinks/{name}/fhir`).
    pub fhir_base: String,
    /// MLLP listener, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mllp_addr: Option<SocketAddr>,
}

/// How a delivery arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Plain HTTP POST.
    Http,
    /// POST to the sink's FHIR base.
    Fhir,
    /// An HL7 v2 frame over MLLP.
    Mllp,
}

/// One payload a sink received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Journal sequence number of the exchange.
    pub seq: u64,
    /// Sink name.
    pub sink: String,
    /// The sink's consent flag at delivery.
    pub consented: bool,
    /// How it arrived.
    pub protocol: Protocol,
    /// Request path (HTTP) or MSH-9 (MLLP).
    pub what: String,
    /// The bytes received.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Part 2 canary tokens found in the body.
    pub canaries: Vec<String>,
}

impl Delivery {
    /// The body as text (lossy).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Why a sink could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The name is empty or not `[a-z0-9-]+`.
    #[error("sink name {0:?} must be 1-64 characters of a-z, 0-9 and '-'")]
    BadName(String),
    /// A sink of that name exists with different settings.
    #[error("sink `{0}` already exists with different settings")]
    Conflict(String),
    /// The MLLP listener could not be bound.
    #[error("cannot bind the MLLP listener of sink `{0}`: {1}")]
    Bind(String, std::io::Error),
}

#[derive(Debug)]
struct Sink {
    spec: SinkSpec,
    info: SinkInfo,
    received: Mutex<std::collections::VecDeque<Arc<Delivery>>>,
}

/// Every sink of a simulator. Cheap to share (lives in [`AppState`]).
#[derive(Debug, Default)]
pub struct Sinks {
    sinks: Mutex<BTreeMap<String, Arc<Sink>>>,
    stop: Mutex<CancellationToken>,
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Sinks {
    /// Create a sink (idempotent for the same spec). Binds its MLLP listener
    /// on loopback port 0 when `spec.mllp`.
    pub async fn create(&self, state: &AppState, spec: SinkSpec) -> Result<SinkInfo, SinkError> {
        if !valid_name(&spec.name) {
            return Err(SinkError::BadName(spec.name));
        }
        if let Some(s) = self.sinks.lock().get(&spec.name) {
            return if s.spec == spec {
                Ok(s.info.clone())
            } else {
                Err(SinkError::Conflict(spec.name))
            };
        }
        let mllp_addr = if spec.mllp {
            let stop = self.stop.lock().clone();
            Some(
                mllp::spawn(state.clone(), spec.name.clone(), stop)
                    .await
                    .map_err(|e| SinkError::Bind(spec.name.clone(), e))?,
            )
        } else {
            None
        };
        let http_url = state.urls.http(&format!("/sinks/{}", spec.name));
        let info = SinkInfo {
            name: spec.name.clone(),
            consented: spec.consented,
            fhir_base: format!("{http_url}/fhir"),
            http_url,
            mllp_addr,
        };
        let mut map = self.sinks.lock();
        let sink = map.entry(spec.name.clone()).or_insert_with(|| {
            Arc::new(Sink {
                spec,
                info: info.clone(),
                received: Mutex::new(Default::default()),
            })
        });
        Ok(sink.info.clone())
    }

    /// Every sink, by name.
    pub fn list(&self) -> Vec<SinkInfo> {
        self.sinks.lock().values().map(|s| s.info.clone()).collect()
    }

    /// A sink's settings.
    pub fn get(&self, name: &str) -> Option<SinkInfo> {
        self.sinks.lock().get(name).map(|s| s.info.clone())
    }

    /// Every delivery to every sink with a journal sequence `>= since`, in order.
    pub fn deliveries(&self, since: u64) -> Vec<Arc<Delivery>> {
        let mut out: Vec<Arc<Delivery>> = self
            .sinks
            .lock()
            .values()
            .flat_map(|s| {
                s.received
                    .lock()
                    .iter()
                    .filter(|d| d.seq >= since)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort_by_key(|d| d.seq);
        out
    }

    /// Forget every delivery received so far; the sinks themselves (and the
    /// MLLP ports a SUT was configured with) stay. `POST /_ngsim/reset`.
    pub fn forget_deliveries(&self) {
        for s in self.sinks.lock().values() {
            s.received.lock().clear();
        }
    }

    /// Remove every sink and stop their MLLP listeners.
    pub fn clear(&self) {
        let mut stop = self.stop.lock();
        stop.cancel();
        *stop = CancellationToken::new();
        self.sinks.lock().clear();
    }

    /// Record a delivery: scan it for canaries, journal it, keep it. Returns
    /// the delivery, or `None` for an unknown sink.
    pub(crate) fn deliver(
        &self,
        state: &AppState,
        name: &str,
        protocol: Protocol,
        what: String,
        body: Vec<u8>,
        exchange: impl FnOnce(Vec<Note>) -> (Option<compact_str::CompactString>, Detail),
    ) -> Option<Arc<Delivery>> {
        let sink = self.sinks.lock().get(name).cloned()?;
        let canaries: Vec<String> = state
            .practice
            .canaries_in(&body)
            .into_iter()
            .map(|h| h.token)
            .collect();
        let notes = vec![
            Note::new("sink", name),
            Note::new("consented", sink.spec.consented.to_string()),
            Note::new("canaries", canaries.len().to_string()),
        ];
        let (peer, detail) = exchange(notes);
        let seq = state.journal.record(Surface::Sink, peer, detail);
        let d = Arc::new(Delivery {
            seq,
            sink: name.to_owned(),
            consented: sink.spec.consented,
            protocol,
            what,
            body,
            canaries,
        });
        let mut r = sink.received.lock();
        if r.len() >= MAX_DELIVERIES_PER_SINK {
            r.pop_front();
        }
        r.push_back(d.clone());
        Some(d)
    }
}

impl Drop for Sinks {
    fn drop(&mut self) {
        self.stop.lock().cancel();
    }
}
