//! resilience: how the SUT reads FHIR when the server pushes back (429 with
//! `Retry-After`, 5xx) and when results come in pages (FHIR `Bundle.link` and
//! the Enterprise API's `nextPageLink`). Judged from the journal: each
//! request's arrival is its entry's time minus its latency.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use simulator::journal::Surface;

use super::http_journal::{Req, SLACK_US, rate_limit_secs, requests};
use super::{Verdict, passed_unless_nothing_judged};
use crate::engine::Evidence;

/// The least pause after a 5xx that counts as backing off.
pub const BACKOFF_FLOOR: Duration = Duration::from_millis(100);

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    if id == "resilience.paging-to-end" {
        let mut paged = requests(ev, Surface::Fhir);
        paged.extend(requests(ev, Surface::Enterprise));
        return paging(&paged);
    }
    let all = requests(ev, Surface::Fhir);
    if all.is_empty() {
        return Verdict::Skip("the SUT made no FHIR request".into());
    }
    match id {
        "resilience.retry-after-honoured" => retry_after(ev, &all),
        "resilience.backoff-5xx" => backoff_5xx(&all),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

/// The first request after `i` (by arrival).
fn next_after<'a>(all: &'a [Req<'a>], i: usize) -> Option<&'a Req<'a>> {
    all.get(i + 1..)?
        .iter()
        .find(|r| r.arrived_us >= all[i].arrived_us)
}

fn retry_after(ev: &Evidence, all: &[Req<'_>]) -> Verdict {
    let mut judged = 0;
    for (i, r) in all.iter().enumerate().filter(|(_, r)| r.h.status == 429) {
        let Some(secs) = r.h.fault.as_deref().and_then(|f| rate_limit_secs(ev, f)) else {
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

fn backoff_5xx(all: &[Req<'_>]) -> Verdict {
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

/// Every paged read to its end: the distinct ids returned by a FHIR search
/// route or an Enterprise list route add up to the total it reported (the
/// journal's `total` note).
fn paging(all: &[Req<'_>]) -> Verdict {
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
        return Verdict::Skip("the SUT made no FHIR search and read no Enterprise list".into());
    }
    for (route, (total, ids, seqs)) in by_route {
        if ids.len() < total {
            return Verdict::Fail {
                message: format!(
                    "a search of {route} reported {total} results, and only {} were read (Bundle.link[next] or nextPageLink not followed to the end)",
                    ids.len()
                ),
                seqs,
            };
        }
    }
    Verdict::Pass
}
