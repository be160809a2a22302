//! Fault injection: rules from the profile plus rules set at runtime through the
//! control API. Surfaces ask [`Faults::pick`] at their decision points; every
//! injected fault is named in the journal entry of the exchange it changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::journal::Surface;

/// One fault rule: where it applies, what it does, and how often.
// No `deny_unknown_fields` here: serde does not support it together with
// `flatten`. Unknown keys still fail, because they reach the flattened kind,
// whose variants deny them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FaultRule {
    /// Optional name, echoed in the journal (defaults to the kind).
    #[serde(default)]
    pub name: Option<String>,
    /// Surface the rule applies to.
    pub surface: Surface,
    /// Only requests whose path or route contains this text (HTTP), or whose
    /// MSH-9 equals it (MLLP).
    #[serde(default)]
    pub matching: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Skip the first `after` matching exchanges.
    #[serde(default)]
    pub after: u32,
    /// Fire on every `every`-th matching exchange after that (1 = every one).
    #[serde(default = "one")]
    pub every: u32,
    /// Fire at most this many times (absent: unlimited).
    #[serde(default)]
    pub times: Option<u32>,
}

fn one() -> u32 {
    1
}

/// What a fault does. Each surface honours the kinds that make sense for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum FaultKind {
    /// Answer 429 with `Retry-After` in delta-seconds.
    RateLimit {
        /// Seconds in `Retry-After`.
        retry_after_secs: u32,
    },
    /// Answer with an error status (5xx); `transient` marks the OperationOutcome issue.
    Status {
        /// HTTP status to return.
        status: u16,
        /// Whether the issue code is `transient`.
        #[serde(default)]
        transient: bool,
    },
    /// Add latency before answering.
    Latency {
        /// Milliseconds added.
        ms: u64,
    },
    /// Issue tokens with this lifetime instead of the profile's.
    TokenLifetime {
        /// Seconds.
        secs: u64,
    },
    /// Bulk: the job fails.
    BulkJobFails,
    /// Bulk: these resource types fail to generate (`error` entries).
    BulkFileErrors {
        /// Types whose files fail.
        types: Vec<String>,
    },
    /// Bulk: output files are already expired when the manifest is fetched.
    BulkExpireFiles,
    /// MLLP: delay the ACK.
    AckDelay {
        /// Milliseconds.
        ms: u64,
    },
    /// MLLP: answer AE (or AR) instead of the real ACK.
    Nak {
        /// `AE` or `AR`.
        code: String,
    },
    /// MLLP: close the connection (optionally in the middle of a frame).
    DropConnection {
        /// Close after writing half an ACK frame.
        #[serde(default)]
        mid_frame: bool,
    },
    /// MLLP: write frames in chunks of this many bytes.
    SplitWrites {
        /// Chunk size.
        chunk: usize,
    },
    /// MLLP: put a wrong control id in MSA-2.
    WrongMsa2,
    /// MLLP outbound: send the same message twice.
    DuplicateSend,
    /// MLLP: answer with a Release 2 commit ACK block before the HL7 ACK.
    CommitAck,
}

impl FaultKind {
    /// Stable kebab-case name of the kind, for the journal.
    pub fn label(&self) -> &'static str {
        match self {
            FaultKind::RateLimit { .. } => "rate-limit",
            FaultKind::Status { .. } => "status",
            FaultKind::Latency { .. } => "latency",
            FaultKind::TokenLifetime { .. } => "token-lifetime",
            FaultKind::BulkJobFails => "bulk-job-fails",
            FaultKind::BulkFileErrors { .. } => "bulk-file-errors",
            FaultKind::BulkExpireFiles => "bulk-expire-files",
            FaultKind::AckDelay { .. } => "ack-delay",
            FaultKind::Nak { .. } => "nak",
            FaultKind::DropConnection { .. } => "drop-connection",
            FaultKind::SplitWrites { .. } => "split-writes",
            FaultKind::WrongMsa2 => "wrong-msa2",
            FaultKind::DuplicateSend => "duplicate-send",
            FaultKind::CommitAck => "commit-ack",
        }
    }
}

/// A fault that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    /// The rule's name, or its kind's label.
    pub name: String,
    /// What to do.
    pub kind: FaultKind,
}

#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    seen: AtomicU64,
    fired: AtomicU64,
}

/// The active fault set. Cheap to clone; replaced atomically.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<RwLock<Arc<Vec<Armed>>>>,
}

impl Faults {
    /// A fault set armed with `rules`.
    pub fn new(rules: Vec<FaultRule>) -> Faults {
        let f = Faults::default();
        f.replace(rules);
        f
    }

    /// Replace every rule at once (counters start again).
    pub fn replace(&self, rules: Vec<FaultRule>) {
        let armed = rules
            .into_iter()
            .map(|rule| Armed {
                rule,
                seen: AtomicU64::new(0),
                fired: AtomicU64::new(0),
            })
            .collect();
        *self.rules.write() = Arc::new(armed);
    }

    /// Add one rule.
    pub fn add(&self, rule: FaultRule) {
        let mut rules = self.rules().clone();
        rules.push(rule);
        self.replace(rules);
    }

    /// The rules, as configured.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.rules.read().iter().map(|a| a.rule.clone()).collect()
    }

    /// Whether any rule exists for `surface` (a cheap pre-check for hot paths).
    pub fn any_for(&self, surface: Surface) -> bool {
        self.rules.read().iter().any(|a| a.rule.surface == surface)
    }

    /// Count an exchange on `surface` described by `subject` (path, route or
    /// MSH-9) and return the first rule that fires for it, if any. `accept`
    /// filters the kinds the caller can honour at this decision point.
    pub fn pick(
        &self,
        surface: Surface,
        subject: &str,
        accept: impl Fn(&FaultKind) -> bool,
    ) -> Option<Injected> {
        let rules = self.rules.read().clone();
        for armed in rules.iter() {
            let r = &armed.rule;
            if r.surface != surface || !accept(&r.kind) {
                continue;
            }
            if let Some(m) = &r.matching {
                if !subject.contains(m.as_str()) {
                    continue;
                }
            }
            let n = armed.seen.fetch_add(1, Ordering::Relaxed);
            if n < u64::from(r.after) {
                continue;
            }
            let every = u64::from(r.every.max(1));
            if (n - u64::from(r.after)) % every != 0 {
                continue;
            }
            if let Some(times) = r.times {
                let fired = armed.fired.fetch_add(1, Ordering::Relaxed);
                if fired >= u64::from(times) {
                    continue;
                }
            }
            let name = r.name.clone().unwrap_or_else(|| r.kind.label().to_owned());
            return Some(Injected {
                name,
                kind: r.kind.clone(),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(after: u32, every: u32, times: Option<u32>) -> FaultRule {
        FaultRule {
            name: None,
            surface: Surface::Fhir,
            matching: Some("/Patient".into()),
            kind: FaultKind::RateLimit {
                retry_after_secs: 2,
            },
            after,
            every,
            times,
        }
    }

    fn fired(f: &Faults, n: usize, subject: &str) -> Vec<bool> {
        (0..n)
            .map(|_| f.pick(Surface::Fhir, subject, |_| true).is_some())
            .collect()
    }

    #[test]
    fn after_every_times_are_honoured() {
        let f = Faults::new(vec![rule(1, 2, Some(2))]);
        assert_eq!(
            fired(&f, 7, "/r4/Patient/1"),
            [false, true, false, true, false, false, false]
        );
    }

    #[test]
    fn matching_and_surface_filter() {
        let f = Faults::new(vec![rule(0, 1, None)]);
        assert!(f.pick(Surface::Fhir, "/r4/Observation", |_| true).is_none());
        assert!(
            f.pick(Surface::Enterprise, "/r4/Patient", |_| true)
                .is_none()
        );
        assert!(
            f.pick(Surface::Fhir, "/r4/Patient", |k| !matches!(
                k,
                FaultKind::RateLimit { .. }
            ))
            .is_none()
        );
        let hit = f
            .pick(Surface::Fhir, "/r4/Patient", |_| true)
            .expect("fires");
        assert_eq!(hit.name, "rate-limit");
    }

    #[test]
    fn rules_parse_from_toml() {
        let r: FaultRule = toml::from_str(
            "surface = \"bulk\"\nkind = \"status\"\nstatus = 503\ntransient = true\ntimes = 1\n",
        )
        .unwrap();
        assert_eq!(
            r.kind,
            FaultKind::Status {
                status: 503,
                transient: true
            }
        );
        assert_eq!(r.every, 1);
        let r: FaultRule = serde_json::from_str(
            r#"{"surface": "mllp-in", "kind": "drop-connection", "mid-frame": true, "after": 3}"#,
        )
        .unwrap();
        assert_eq!(r.kind, FaultKind::DropConnection { mid_frame: true });
        let r: FaultRule = serde_json::from_str(
            r#"{"surface": "fhir", "kind": "rate-limit", "retry-after-secs": 3}"#,
        )
        .unwrap();
        assert_eq!(
            r.kind,
            FaultKind::RateLimit {
                retry_after_secs: 3
            }
        );
    }
}
