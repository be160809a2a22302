//! Check implementations, one module per family. Each check judges the
//! scenario's [`Evidence`](crate::engine::Evidence) and returns a verdict with
//! the journal entries that support it.

pub mod ack;
pub mod ack_sender;
pub mod bulk;
mod http_journal;
pub mod part2;
pub mod prebeta;
pub mod resilience;
pub mod scopes;
pub mod smart;

use reports::{CheckResult, Outcome};

use crate::catalog::{self, CheckDef, Severity};
use crate::engine::Evidence;

/// A check's verdict before it is dressed as a report row.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The behaviour is right.
    Pass,
    /// The behaviour is wrong: what was expected, what happened, and where.
    Fail {
        /// What is wrong, in one sentence.
        message: String,
        /// Journal sequence numbers of the offending exchanges.
        seqs: Vec<u64>,
    },
    /// Nothing to judge (e.g. the SUT offers no hook for it).
    Skip(String),
}

/// A failing verdict.
pub(crate) fn fail(message: String, seqs: Vec<u64>) -> Verdict {
    Verdict::Fail { message, seqs }
}

/// Pass when there are no findings; otherwise fail with their count, `what`
/// they are, and the first one, pointing at every finding's journal entry.
pub(crate) fn findings(what: &str, found: Vec<(u64, String)>) -> Verdict {
    match found.first() {
        None => Verdict::Pass,
        Some((_, first)) => fail(
            format!("{} {what}; first: {first}", found.len()),
            found.iter().map(|(s, _)| *s).collect(),
        ),
    }
}

/// Pass when something was judged (and nothing failed), else skip with `why`.
fn passed_unless_nothing_judged(judged: usize, why: &str) -> Verdict {
    if judged == 0 {
        Verdict::Skip(why.into())
    } else {
        Verdict::Pass
    }
}

/// Judge one check by id.
pub fn judge(id: &str, evidence: &Evidence) -> Verdict {
    match id.split_once('.').map(|(family, _)| family) {
        Some("ack") => ack::judge(id, evidence),
        Some("part2") => part2::judge(id, evidence),
        Some("scopes") => scopes::judge(id, evidence),
        Some("prebeta") => prebeta::judge(id, evidence),
        Some("ack-sender") => ack_sender::judge(id, evidence),
        Some("resilience") => resilience::judge(id, evidence),
        Some("bulk-client") => bulk::judge(id, evidence),
        Some("smart-client") => smart::judge(id, evidence),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

/// Judge `id` and turn the verdict into a report row.
pub fn evaluate(def: &CheckDef, evidence: &Evidence) -> CheckResult {
    let severity = match def.severity {
        Severity::Shall => reports::Severity::Shall,
        Severity::Should => reports::Severity::Should,
    };
    let (outcome, seqs) = if evidence.errors.is_empty() {
        match judge(def.id, evidence) {
            Verdict::Pass => (Outcome::Passed, Vec::new()),
            Verdict::Fail { message, seqs } => (Outcome::failed(message), seqs),
            Verdict::Skip(reason) => (Outcome::skipped(reason), Vec::new()),
        }
    } else {
        (Outcome::errored(evidence.errors.join("; ")), Vec::new())
    };
    let mut row = CheckResult::new(def.id, def.title, severity, def.requirement, outcome);
    for seq in seqs.into_iter().take(20) {
        row = row.with_evidence(Some(seq), format!("journal entry {seq}"));
    }
    row
}

/// The definition of a catalogued check (panics on an unknown id: scenarios
/// are validated against the catalogue when they load).
pub fn def(id: &str) -> &'static CheckDef {
    catalog::lookup(id).unwrap_or_else(|| panic!("check `{id}` is not in the catalogue"))
}
