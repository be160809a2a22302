//! bulk-client: how the SUT runs a Bulk Data export, judged from the `bulk`
//! journal. Kick-offs carry a `level` note, every request about a job a `job`
//! note, and status answers a `bulk` note (`in-progress`, `complete`,
//! `failed`, `cancelled`).

use std::collections::BTreeSet;

use simulator::journal::Surface;

use super::http_journal::{Req, SLACK_US, rate_limit_secs, requests};
use super::{Verdict, passed_unless_nothing_judged};
use crate::engine::Evidence;

impl Req<'_> {
    fn is_kickoff(&self) -> bool {
        self.note("level").is_some()
    }
    fn is_poll(&self) -> bool {
        self.h.method == "GET"
            && !self.is_kickoff()
            && self.note("file").is_none()
            && self.note("job").is_some()
    }
    fn is_file(&self) -> bool {
        self.note("file").is_some()
    }
}

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    let all = requests(ev, Surface::Bulk);
    if all.is_empty() {
        return Verdict::Skip("the SUT made no Bulk Data request".into());
    }
    match id {
        "bulk-client.retry-after-honoured" => retry_after(ev, &all),
        "bulk-client.transient-retried" => transient_retried(&all),
        "bulk-client.fatal-not-retried" => fatal_not_retried(&all),
        "bulk-client.token-on-downloads" => token_on_downloads(&all),
        "bulk-client.cancels-abandoned" => cancels_abandoned(&all),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn fail(message: String, seqs: Vec<u64>) -> Verdict {
    Verdict::Fail { message, seqs }
}

/// Later polls of the same job.
fn later_polls<'a>(all: &'a [Req<'a>], i: usize) -> impl Iterator<Item = &'a Req<'a>> + 'a {
    let job = all[i].note("job");
    all[i + 1..]
        .iter()
        .filter(move |r| r.is_poll() && r.note("job") == job)
}

fn retry_after(ev: &Evidence, all: &[Req<'_>]) -> Verdict {
    let mut judged = 0;
    for (i, r) in all.iter().enumerate().filter(|(_, r)| r.is_poll()) {
        let secs = match r.h.status {
            202 => u64::from(ev.bulk_retry_after_secs.max(1)),
            429 => match r.h.fault.as_deref().and_then(|f| rate_limit_secs(ev, f)) {
                Some(s) => s,
                None => continue,
            },
            _ => continue,
        };
        judged += 1;
        let Some(next) = later_polls(all, i).next() else {
            continue;
        };
        let gap = next.arrived_us.saturating_sub(r.answered_us);
        if gap + SLACK_US < secs * 1_000_000 {
            return fail(
                format!(
                    "a status poll was answered {} with Retry-After: {secs}, and the next poll came {} ms later",
                    r.h.status,
                    gap / 1000
                ),
                vec![r.seq, next.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "no status poll was answered 202 or 429")
}

fn transient_retried(all: &[Req<'_>]) -> Verdict {
    let mut judged = 0;
    for (i, r) in all.iter().enumerate() {
        if !r.is_poll() || !matches!(r.h.status, 429 | 503) {
            continue;
        }
        judged += 1;
        if later_polls(all, i).next().is_none() {
            return fail(
                format!(
                    "a status poll of job {} was answered {} (transient), and the job was never polled again",
                    r.note("job").unwrap_or("?"),
                    r.h.status
                ),
                vec![r.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "no status poll was answered 429 or 503")
}

fn fatal_not_retried(all: &[Req<'_>]) -> Verdict {
    let mut judged = 0;
    for (i, r) in all.iter().enumerate() {
        let failed_job = r.is_poll() && r.note("bulk") == Some("failed");
        let refused = r.is_kickoff() && (400..500).contains(&r.h.status) && r.h.status != 429;
        if failed_job {
            judged += 1;
            if let Some(again) = later_polls(all, i).next() {
                return fail(
                    format!(
                        "job {} failed, and its status was polled again",
                        r.note("job").unwrap_or("?")
                    ),
                    vec![r.seq, again.seq],
                );
            }
        } else if refused {
            judged += 1;
            if let Some(again) = all[i + 1..].iter().find(|x| x.is_kickoff()) {
                return fail(
                    format!(
                        "a kick-off was refused with {}, and the SUT kicked off again",
                        r.h.status
                    ),
                    vec![r.seq, again.seq],
                );
            }
        }
    }
    passed_unless_nothing_judged(judged, "no kick-off was refused and no job failed")
}

fn token_on_downloads(all: &[Req<'_>]) -> Verdict {
    let files: Vec<&Req<'_>> = all.iter().filter(|r| r.is_file()).collect();
    if files.is_empty() {
        return Verdict::Skip("no Bulk file was downloaded".into());
    }
    let refused: Vec<u64> = files
        .iter()
        .filter(|r| r.h.status == 401)
        .map(|r| r.seq)
        .collect();
    if refused.is_empty() {
        Verdict::Pass
    } else {
        fail(
            format!(
                "{} of {} file downloads carried no valid access token (the manifest says requiresAccessToken)",
                refused.len(),
                files.len()
            ),
            refused,
        )
    }
}

fn cancels_abandoned(all: &[Req<'_>]) -> Verdict {
    let started: Vec<(&str, u64)> = all
        .iter()
        .filter(|r| r.is_kickoff() && r.h.status == 202)
        .filter_map(|r| r.note("job").map(|j| (j, r.seq)))
        .collect();
    if started.is_empty() {
        return Verdict::Skip("no export was started".into());
    }
    let ended: BTreeSet<&str> = all
        .iter()
        .filter(|r| {
            matches!(r.note("bulk"), Some("complete" | "failed" | "cancelled"))
                || (r.h.method == "DELETE" && r.h.status < 300)
        })
        .filter_map(|r| r.note("job"))
        .collect();
    match started.iter().find(|(j, _)| !ended.contains(j)) {
        None => Verdict::Pass,
        Some((job, seq)) => fail(
            format!(
                "job {job} was started, neither finished nor failed, and never cancelled with DELETE"
            ),
            vec![*seq],
        ),
    }
}
