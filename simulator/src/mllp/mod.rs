//! The Rosetta-style MLLP peer: the simulator's HL7 v2 listener (integrations
//! send to "NextGen") and its outbound sender (NextGen sends feeds to
//! integrations).
//!
//! One concept per file:
//! - [`listener`]: accept loop, connection cap, per-connection read loop
//!   (idle timeout, frame limit, fault actions, journal).
//! - [`policy`]: which ACKs a message gets under the active profile
//!   (original/enhanced mode, Mirth's MSH-15 gate, AR for unsupported
//!   MSH-9/MSH-12, AE for processing errors).
//! - [`apply`]: an accepted inbound message → a practice write and a
//!   [`PracticeChange`](crate::events::PracticeChange).
//! - [`header`]: the MSH fields the listener reads, split out of MSH once.
//! - [`dedupe`]: duplicate MSH-10 detection per sender with the stored ACK bytes.
//! - [`render`]: practice → outbound NextGen-shaped message with the profile's quirks.
//! - [`destination`]: outbound destinations (MLLP or MLLPS, their TLS trust).
//! - [`sender`]: per-destination ordered queues, retry policy.
//! - [`conn`]: socket helpers shared by both directions (timestamps, split writes, TLS).
//! - [`script`]: scripted practice changes (one event, a day in the clinic).
//! - [`batch`]: FHS/BHS batch files and one-message-per-file directories.

pub mod apply;
pub mod batch;
pub mod conn;
pub mod dedupe;
pub mod destination;
pub mod header;
pub mod listener;
pub mod policy;
pub mod render;
pub mod script;
pub mod sender;

use std::time::Duration;

pub use destination::{ClientTls, Destination, TlsFiles};
pub use listener::Listener;
pub use sender::{Outbound, QueueState};

/// Per-listener socket limits (not profile keys: they protect the process,
/// they are not NextGen quirks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MllpLimits {
    /// Connections served at once; past it a new connection is closed at once
    /// and journaled.
    pub max_connections: usize,
    /// A connection with no complete read for this long is closed
    /// (half-open peers, slowloris senders).
    pub idle_timeout: Duration,
    /// A single write (ACK) that does not complete in this time closes the
    /// connection (a peer that never reads).
    pub write_timeout: Duration,
    /// A frame must be complete this long after its start block arrived,
    /// however often bytes trickle in (slowloris senders that keep the idle
    /// timer alive).
    pub frame_timeout: Duration,
    /// Largest frame payload in bytes; `None`: the profile's
    /// `max-frame-bytes`. A larger frame is answered with an AR NAK (when
    /// its MSH is readable) and the connection is closed.
    pub max_frame_bytes: Option<u32>,
}

impl Default for MllpLimits {
    fn default() -> Self {
        MllpLimits {
            max_connections: 256,
            idle_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(30),
            frame_timeout: Duration::from_secs(60),
            max_frame_bytes: None,
        }
    }
}

/// MLLP state shared by every listener and the sender (lives in
/// [`AppState`](crate::server::AppState) as `state.mllp`).
#[derive(Debug)]
pub struct MllpState {
    /// Stored ACKs for duplicate detection.
    pub dedupe: dedupe::Dedupe,
    /// Outbound destinations and their queues.
    pub outbound: Outbound,
    /// Control ids of the ACKs the listener writes (`NGA1`, `NGA2`, …).
    pub ack_ids: conn::IdSource,
    connections: std::sync::atomic::AtomicU64,
}

impl Default for MllpState {
    fn default() -> Self {
        MllpState {
            dedupe: dedupe::Dedupe::default(),
            outbound: Outbound::default(),
            ack_ids: conn::IdSource::new("NGA"),
            connections: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl MllpState {
    /// A new connection number (shared by every listener, from 1).
    pub fn next_connection(&self) -> u64 {
        self.connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }
}
