//! resilience: how the SUT reads FHIR when the server pushes back (429 with
//! `Retry-After`, 5xx) and when results come in pages. Judged from the FHIR
//! journal: each request's arrival is its entry's time minus its latency.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use simulator::faults::FaultKind;
use simulator::journal::Surface;

use super::{Verdict, passed_unless_nothing_judged};
use crate::engine::Evidence;

/// The least pause after a 5xx that counts as backing off.
pub const BACKOFF_FLOOR: Duration = Duration::from_millis(100);
/// Clock slack allowed against `Retry-After`.
const SLACK_US: u64 = 20_000;

#[derive(Debug)]
struct Request<'a> {
    seq: u64,
    arrived_us: u64,
    answered_us: u64,
    h: &'a simulator::journal::HttpExchange,
}

fn requests(ev: &Evidence) -> Vec<Request<'_>> {
    let mut out: Vec<Request<'_>> = ev
        .journal
        .iter()
        .filter(|e| e.surface == Surface::Fhir)
        .filter_map(|e| {
            let h = e.http()?;
            Some(Request {
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

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    let all = requests(ev);
    if all.is_empty() {
        return Verdict::Skip("the SUT made no FHIR request".into());
    }
    match id {
        "resilience.retry-after-honoured" => retry_after(ev, &all),
        "resilience.backoff-5xx" => backoff_5xx(&all),
        "resilience.paging-to-end" => paging(&all),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

/// `Retry-After` of the fault named `name` (rules are named, or go by kind).
fn retry_after_of(ev: &Evidence, name: &str) -> Option<u64> {
    ev.faults.iter().find_map(|r| {
        let rule_name = r.name.as_deref().unwrap_or(r.kind.label());
        match &r.kind {
            FaultKind::RateLimit { retry_after_secs } if rule_name == name => {
                Some(u64::from(*retry_after_secs))
            }
            _ => None,
        }
    })
}

/// The first request after `i` (by arrival).
fn next_after<'a>(all: &'a [Request<'a>], i: usize) -> Option<&'a Request<'a>> {
    all.get(i + 1..)?
        .iter()
        .find(|r| r.arrived_us >= all[i].arrived_us)
}

fn retry_after(ev: &Evidence, all: &[Request<'_>]) -> Verdict {
    let mut judged = 0;
    for (i, r) in all.iter().enumerate().filter(|(_, r)| r.h.status == 429) {
        let Some(secs) = r.h.fault.as_deref().and_then(|f| retry_after_of(ev, f)) else {
            continue;
        };
        judged += 1;
        let Some(next) = next_after(all, i) else {
            continue;
        };
        let gap = next.arrived_us.saturating_sub(r.answered_us);
        if gap + SLACK_US < secs * 1_000_000 {
            return Verdict::Fail {
                message: format!(
                    "{} {} answered 429 with Retry-After: {secs}, and the next request came {} ms later",
                    r.h.method,
                    r.h.path,
                    gap / 1000
                ),
                seqs: vec![r.seq, next.seq],
            };
        }
    }
    passed_unless_nothing_judged(judged, "no 429 with Retry-After was injected")
}

fn backoff_5xx(all: &[Request<'_>]) -> Verdict {
    let floor = u64::try_from(BACKOFF_FLOOR.as_micros()).unwrap_or(u64::MAX);
    let mut judged = 0;
    for (i, r) in all.iter().enumerate().filter(|(_, r)| r.h.status >= 500) {
        judged += 1;
        let Some(next) = next_after(all, i) else {
            continue;
        };
        let gap = next.arrived_us.saturating_sub(r.answered_us);
        if gap < floor {
            return Verdict::Fail {
                message: format!(
                    "{} {} answered {}, and the next request came {} ms later (at least {} ms expected)",
                    r.h.method,
                    r.h.path,
                    r.h.status,
                    gap / 1000,
                    BACKOFF_FLOOR.as_millis()
                ),
                seqs: vec![r.seq, next.seq],
            };
        }
    }
    passed_unless_nothing_judged(judged, "no 5xx was answered")
}

/// Every search read to its end: the distinct ids returned by a search route
/// add up to the total it reported.
fn paging(all: &[Request<'_>]) -> Verdict {
    let mut by_route: BTreeMap<&str, (usize, BTreeSet<&str>, Vec<u64>)> = BTreeMap::new();
    for r in all
        .iter()
        .filter(|r| r.h.method == "GET" && r.h.status == 200)
    {
        let Some(total) =
            r.h.notes
                .iter()
                .find(|n| n.k == "total")
                .and_then(|n| n.v.parse::<usize>().ok())
        else {
            continue;
        };
        let slot = by_route.entry(r.h.route.as_str()).or_default();
        slot.0 = slot.0.max(total);
        slot.1.extend(r.h.resource_ids.iter().map(String::as_str));
        slot.2.push(r.seq);
    }
    if by_route.is_empty() {
        return Verdict::Skip("the SUT made no FHIR search".into());
    }
    for (route, (total, ids, seqs)) in by_route {
        if ids.len() < total {
            return Verdict::Fail {
                message: format!(
                    "a search of {route} reported {total} results, and only {} were read (Bundle.link[next] not followed to the end)",
                    ids.len()
                ),
                seqs,
            };
        }
    }
    Verdict::Pass
}
