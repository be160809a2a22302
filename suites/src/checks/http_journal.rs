//! HTTP exchanges of one surface as the client made them: ordered by arrival
//! (the entry's time minus its latency), for checks that judge pauses between
//! a client's requests.

use simulator::faults::FaultKind;
use simulator::journal::{HttpExchange, Surface};

use crate::engine::Evidence;

/// Clock slack allowed against a `Retry-After`.
pub(super) const SLACK_US: u64 = 20_000;

/// One request.
#[derive(Debug)]
pub(super) struct Req<'a> {
    /// Journal sequence number.
    pub seq: u64,
    /// Arrival, µs on the simulator clock.
    pub arrived_us: u64,
    /// When the answer was made, µs.
    pub answered_us: u64,
    /// The exchange.
    pub h: &'a HttpExchange,
}

impl Req<'_> {
    /// The value of note `k`.
    pub fn note(&self, k: &str) -> Option<&str> {
        self.h.notes.iter().find(|n| n.k == k).map(|n| n.v.as_str())
    }
}

/// The requests on `surface`, by arrival.
pub(super) fn requests(ev: &Evidence, surface: Surface) -> Vec<Req<'_>> {
    let mut out: Vec<Req<'_>> = ev
        .journal
        .iter()
        .filter(|e| e.surface == surface)
        .filter_map(|e| {
            let h = e.http()?;
            Some(Req {
                seq: e.seq,
                arrived_us: e.t_us.saturating_sub(h.latency_us),
                answered_us: e.t_us,
                h,
            })
        })
        .collect();
    out.sort_by_key(|r| (r.arrived_us, r.seq));
    out
}

/// The `Retry-After` of the scenario's rate-limit fault named `name` (rules
/// are named, or go by their kind's label).
pub(super) fn rate_limit_secs(ev: &Evidence, name: &str) -> Option<u64> {
    ev.faults.iter().find_map(|r| match &r.kind {
        FaultKind::RateLimit { retry_after_secs }
            if r.name.as_deref().unwrap_or(r.kind.label()) == name =>
        {
            Some(u64::from(*retry_after_secs))
        }
        _ => None,
    })
}
