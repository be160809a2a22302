//! Journal entry types.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// The surface an exchange happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Surface {
    /// FHIR reads and searches.
    Fhir,
    /// SMART/OAuth authorization server, GSA and EAL token endpoints.
    Oauth,
    /// NextGen Enterprise JSON API.
    Enterprise,
    /// FHIR Bulk Data.
    Bulk,
    /// HL7 v2 received by the simulator (the SUT sends to NextGen).
    MllpIn,
    /// HL7 v2 sent by the simulator (NextGen sends to the SUT).
    MllpOut,
    /// Recipient sinks standing in for the SUT's downstream systems.
    Sink,
    /// The `/_ngsim/` control API.
    Control,
}

impl Surface {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Fhir => "fhir",
            Surface::Oauth => "oauth",
            Surface::Enterprise => "enterprise",
            Surface::Bulk => "bulk",
            Surface::MllpIn => "mllp-in",
            Surface::MllpOut => "mllp-out",
            Surface::Sink => "sink",
            Surface::Control => "control",
        }
    }

    /// Parse a kebab-case name.
    pub fn parse(s: &str) -> Option<Surface> {
        [
            Surface::Fhir,
            Surface::Oauth,
            Surface::Enterprise,
            Surface::Bulk,
            Surface::MllpIn,
            Surface::MllpOut,
            Surface::Sink,
            Surface::Control,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Monotonic sequence number, from 1, never reused.
    pub seq: u64,
    /// Wall-clock time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// Microseconds since the simulator started, on tokio's clock.
    pub t_us: u64,
    /// Surface.
    pub surface: Surface,
    /// Peer address (HTTP client or MLLP peer), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<CompactString>,
    /// What happened.
    #[serde(flatten)]
    pub detail: Detail,
}

impl Entry {
    /// The HTTP exchange, if this is one.
    pub fn http(&self) -> Option<&HttpExchange> {
        match &self.detail {
            Detail::Http(h) => Some(h),
            _ => None,
        }
    }

    /// The MLLP exchange, if this is one.
    pub fn mllp(&self) -> Option<&MllpExchange> {
        match &self.detail {
            Detail::Mllp(m) => Some(m),
            _ => None,
        }
    }

    /// The client id, for HTTP exchanges that carried one.
    pub fn client_id(&self) -> Option<&str> {
        self.http().and_then(|h| h.client_id.as_deref())
    }
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Detail {
    /// An HTTP request and its response.
    Http(HttpExchange),
    /// An MLLP frame and its acknowledgment.
    Mllp(MllpExchange),
    /// Anything else worth ordering against the exchanges (a control-API
    /// action, a scripted event, a bulk job state change, a sink delivery).
    Event {
        /// Short machine-readable name, e.g. `reset`, `fault-set`, `bulk-job-complete`.
        name: String,
        /// Facts about it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<Note>,
    },
}

/// A named fact attached to an exchange (e.g. `grant_type`, `jti`, `session-header`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Fact name.
    pub k: CompactString,
    /// Fact value (never a secret).
    pub v: CompactString,
}

impl Note {
    /// A note.
    pub fn new(k: impl Into<CompactString>, v: impl Into<CompactString>) -> Note {
        Note {
            k: k.into(),
            v: v.into(),
        }
    }
}

/// An HTTP request and its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// Request method.
    pub method: String,
    /// Route template, e.g. `/nge/prod/fhir-api-r4/fhir/r4/Patient/{id}`.
    pub route: String,
    /// Request path as sent.
    pub path: String,
    /// Query string with secret values redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Response status.
    pub status: u16,
    /// Authenticated client, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Scopes granted to the token used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// Patient in context, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// Resource ids returned or touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_ids: Vec<String>,
    /// Name of the fault injected into this exchange, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Time from request to response head, in microseconds.
    pub latency_us: u64,
    /// Surface-specific facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// An MLLP frame and its acknowledgment.
///
/// Its text fields (and [`Note`]s, and [`Entry::peer`]) are
/// [`CompactString`]s: control ids, codes, outcomes and peer addresses are
/// short, so they live inside the entry rather than in heap objects of their
/// own. The journal holds 100,000 entries; each new one evicts the oldest,
/// and freeing that entry's cold strings was a measured share of an MLLP
/// exchange (`benches/README.md`, "The journal's share").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MllpExchange {
    /// Connection number (per listener or destination), to tell connections apart.
    pub connection: u64,
    /// MSH-9 of the message (e.g. `ADT^A04`), when it parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msh9: Option<CompactString>,
    /// MSH-10 of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msh10: Option<CompactString>,
    /// MSH-3 sending application (the sender's identity for duplicates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<CompactString>,
    /// ACK code sent or received (`AA`, `AE`, `AR`, `CA`, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_code: Option<CompactString>,
    /// MSA-2 of that ACK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_control_id: Option<CompactString>,
    /// Time from frame to ACK (or from send to ACK), in microseconds.
    pub latency_us: u64,
    /// Frame size in bytes.
    pub bytes: u64,
    /// Outcome: `accepted`, `duplicate`, `rejected`, `error`, `queued`, `timeout`, …
    pub outcome: CompactString,
    /// Name of the fault injected, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<CompactString>,
    /// Extra facts (parse error offset, retry attempt, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}
