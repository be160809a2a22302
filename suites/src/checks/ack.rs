//! ack-semantics with the SUT as receiver. Each check looks only at the
//! variants that exist to provoke it, so one misbehaviour fails one check.

use super::Verdict;
use crate::engine::{AckExchange, Evidence};
use crate::scenario::Variant;

/// Variants whose ACKs carry ordinary header semantics (every variant except
/// the framing probes, which `ack.framing-robust` judges on its own).
const HEADER: &[Variant] = &[
    Variant::Valid,
    Variant::Duplicate,
    Variant::UnsupportedType,
    Variant::UnsupportedVersion,
    Variant::BrokenSegment,
    Variant::MissingSegment,
    Variant::EnhancedAl,
    Variant::EnhancedNeAl,
];

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    match id {
        "ack.msa2-echoes-msh10" => each_ack(ev, HEADER, |x, a| {
            (a.msa2.as_deref() != Some(x.control_id.as_str())).then(|| {
                format!(
                    "MSA-2 is {:?}, expected {:?} (MSH-10 of the {})",
                    a.msa2.as_deref().unwrap_or(""),
                    x.control_id,
                    x.message_type
                )
            })
        }),
        "ack.msh-swapped" => each_ack(ev, HEADER, |x, a| {
            let [s3, s4, s5, s6] = &x.msh3_6;
            let want = [s5, s6, s3, s4];
            let got = &a.msh3_6;
            (got.iter().zip(want).any(|(g, w)| g != w)).then(|| {
                format!(
                    "ACK MSH-3..6 are {got:?}, expected {want:?} (inbound MSH-5/6 then MSH-3/4)"
                )
            })
        }),
        "ack.msh9-ack-trigger" => each_ack(ev, HEADER, |x, a| {
            (a.msh9.0 != "ACK" || a.msh9.1 != x.trigger).then(|| {
                format!(
                    "ACK MSH-9 is {}^{}, expected ACK^{}",
                    a.msh9.0, a.msh9.1, x.trigger
                )
            })
        }),
        "ack.control-id-unique" => control_ids_unique(ev),
        "ack.aa-for-valid" => codes(
            ev,
            &[Variant::Valid, Variant::Duplicate],
            &["AA"],
            "a valid, supported message",
        ),
        "ack.ar-for-unsupported" => codes(
            ev,
            &[Variant::UnsupportedType, Variant::UnsupportedVersion],
            &["AR"],
            "an unsupported message type or version",
        ),
        "ack.ae-for-structural-error" => codes(
            ev,
            &[Variant::BrokenSegment, Variant::MissingSegment],
            &["AE", "AR"],
            "a structurally broken message",
        ),
        "ack.enhanced-mode" => enhanced(ev),
        "ack.within-timeout" => within_timeout(ev),
        "ack.framing-robust" => framing(ev),
        "ack.duplicate-not-reprocessed" => duplicates(ev),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn fail(message: String, seqs: Vec<u64>) -> Verdict {
    Verdict::Fail { message, seqs }
}

fn exchange_seq(x: &AckExchange) -> Vec<u64> {
    x.acks.iter().map(|a| a.journal_seq).collect()
}

/// Apply `bad` to every parsed ACK of the given variants; the first problem fails.
fn each_ack(
    ev: &Evidence,
    variants: &[Variant],
    bad: impl Fn(&AckExchange, &crate::engine::ReceivedAck) -> Option<String>,
) -> Verdict {
    let mut judged = 0;
    let mut problems = Vec::new();
    let mut seqs = Vec::new();
    for x in ev.acks_of(variants) {
        for a in x.acks.iter().filter(|a| a.problem.is_none()) {
            judged += 1;
            if let Some(p) = bad(x, a) {
                problems.push(p);
                seqs.push(a.journal_seq);
            }
        }
    }
    match (judged, problems.first()) {
        (0, _) => Verdict::Skip("no ACK was received to judge".into()),
        (_, None) => Verdict::Pass,
        (_, Some(first)) => fail(
            format!("{} of {judged} ACKs: {first}", problems.len()),
            seqs,
        ),
    }
}

fn control_ids_unique(ev: &Evidence) -> Verdict {
    let mut seen: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for x in ev.acks_of(HEADER) {
        for a in x.acks.iter().filter(|a| a.problem.is_none()) {
            if a.msh10.is_empty() {
                return fail("an ACK has an empty MSH-10".into(), vec![a.journal_seq]);
            }
            if let Some(first) = seen.insert(&a.msh10, a.journal_seq) {
                return fail(
                    format!("MSH-10 {:?} is used by more than one ACK", a.msh10),
                    vec![first, a.journal_seq],
                );
            }
        }
    }
    if seen.is_empty() {
        Verdict::Skip("no ACK was received to judge".into())
    } else {
        Verdict::Pass
    }
}

/// The first ACK of each exchange of `variants` must carry one of `allowed`.
fn codes(ev: &Evidence, variants: &[Variant], allowed: &[&str], what: &str) -> Verdict {
    let mut judged = 0;
    for x in ev.acks_of(variants) {
        let Some(a) = x.acks.first() else { continue };
        judged += 1;
        let code = a.code.as_deref().unwrap_or("(unreadable)");
        if !allowed.contains(&code) {
            return fail(
                format!(
                    "{what} ({}, MSH-10 {}) was answered {code}, expected {}",
                    x.message_type,
                    x.control_id,
                    allowed.join(" or ")
                ),
                exchange_seq(x),
            );
        }
    }
    if judged == 0 {
        Verdict::Skip("no ACK was received to judge".into())
    } else {
        Verdict::Pass
    }
}

fn enhanced(ev: &Evidence) -> Verdict {
    let mut judged = 0;
    for x in ev.acks_of(&[Variant::EnhancedAl, Variant::EnhancedNeAl]) {
        let Some(first) = x.acks.first() else {
            continue;
        };
        judged += 1;
        let code = first.code.as_deref().unwrap_or("");
        let ok = match x.variant {
            // MSH-15 = AL asks for an accept (commit) ACK first.
            Variant::EnhancedAl => code == "CA",
            // MSH-15 = NE forbids the accept ACK; only the application ACK comes.
            _ => !code.starts_with('C'),
        };
        if !ok {
            let want = if x.variant == Variant::EnhancedAl {
                "CA (accept ACK)"
            } else {
                "no accept ACK (MSH-15 = NE)"
            };
            return fail(
                format!("MSH-15/16 asked for enhanced mode, got {code} first; expected {want}"),
                exchange_seq(x),
            );
        }
    }
    if judged == 0 {
        Verdict::Skip("no enhanced-mode message was acknowledged".into())
    } else {
        Verdict::Pass
    }
}

fn within_timeout(ev: &Evidence) -> Verdict {
    let timed_out: Vec<&AckExchange> = ev.acks_of(HEADER).filter(|x| x.timed_out).collect();
    match timed_out.first() {
        None => Verdict::Pass,
        Some(x) => fail(
            format!(
                "{} of {} messages got no ACK within the timeout (first: {} MSH-10 {})",
                timed_out.len(),
                ev.acks_of(HEADER).count(),
                x.message_type,
                x.control_id
            ),
            vec![],
        ),
    }
}

fn framing(ev: &Evidence) -> Verdict {
    let probes: Vec<&AckExchange> = ev
        .acks_of(&[Variant::SplitFrame, Variant::BackToBack])
        .collect();
    if probes.is_empty() {
        return Verdict::Skip("no framing probe was sent".into());
    }
    for x in probes {
        // Each framed message must get its own readable ACK; what the ACK
        // says is judged by the header checks.
        let ok = x.acks.first().is_some_and(|a| a.problem.is_none());
        if !ok {
            let how = if x.variant == Variant::SplitFrame {
                "a frame split across writes"
            } else {
                "the second of two back-to-back frames"
            };
            let got = if x.acks.is_empty() {
                "no ACK".to_owned()
            } else {
                format!("an ACK for {:?}", x.acks[0].msa2)
            };
            return fail(
                format!("{how} (MSH-10 {}) got {got}", x.control_id),
                exchange_seq(x),
            );
        }
    }
    Verdict::Pass
}

fn duplicates(ev: &Evidence) -> Verdict {
    let Some(processed) = &ev.processed else {
        return Verdict::Skip(
            "the SUT manifest has no `processed` hook to report processed control ids".into(),
        );
    };
    let dups: Vec<&AckExchange> = ev.acks_of(&[Variant::Duplicate]).collect();
    if dups.is_empty() {
        return Verdict::Skip("no duplicate was sent".into());
    }
    for x in dups {
        let n = processed.iter().filter(|id| **id == x.control_id).count();
        if n > 1 {
            return fail(
                format!(
                    "MSH-10 {} was sent twice and processed {n} times",
                    x.control_id
                ),
                exchange_seq(x),
            );
        }
    }
    Verdict::Pass
}
