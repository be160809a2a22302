//! ack-semantics with the SUT as sender: judged from the simulator listener's
//! journal. Each `listener-fault` step names its fault in the journal entry of
//! the exchange it changed; every attempt the SUT made is an `mllp-in` entry.
//!
//! Attempts are ordered by arrival (the entry's time minus its latency), since
//! an exchange whose ACK was held back is journaled only when the ACK is written.

use std::time::Duration;

use simulator::journal::Surface;

use super::{Verdict, passed_unless_nothing_judged};
use crate::engine::Evidence;
use crate::scenario::ListenerFault;

/// The least pause, after the SUT learnt of a failure, that counts as backing off.
pub const BACKOFF_FLOOR: Duration = Duration::from_millis(100);

/// One message the SUT sent, as the listener saw it.
#[derive(Debug, Clone)]
struct Attempt {
    seq: u64,
    /// Arrival, µs on the simulator clock.
    arrived_us: u64,
    /// When the listener answered (or closed), µs.
    answered_us: u64,
    msh9: String,
    msh10: String,
    patient: String,
    ack_code: Option<String>,
    fault: Option<ListenerFault>,
}

fn attempts(ev: &Evidence) -> Vec<Attempt> {
    let mut out: Vec<Attempt> = ev
        .journal
        .iter()
        .filter(|e| e.surface == Surface::MllpIn)
        .filter_map(|e| {
            let m = e.mllp()?;
            let msh10 = m.msh10.as_deref()?.to_owned();
            Some(Attempt {
                seq: e.seq,
                arrived_us: e.t_us.saturating_sub(m.latency_us),
                answered_us: e.t_us,
                msh9: m.msh9.as_deref().unwrap_or_default().to_owned(),
                msh10,
                patient: m
                    .notes
                    .iter()
                    .find(|n| n.k == "patient")
                    .map(|n| n.v.to_string())
                    .unwrap_or_default(),
                ack_code: m.ack_code.as_deref().map(str::to_owned),
                fault: m.fault.as_deref().and_then(ListenerFault::from_name),
            })
        })
        .collect();
    out.sort_by_key(|a| (a.arrived_us, a.seq));
    out
}

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    let all = attempts(ev);
    match id {
        "ack-sender.resends-same-id" => resends_same_id(&all),
        "ack-sender.no-resend-on-reject" => no_resend_on_reject(&all),
        "ack-sender.per-patient-order" => per_patient_order(&all),
        "ack-sender.backoff" => backoff(&all),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn fail(message: String, seqs: Vec<u64>) -> Verdict {
    Verdict::Fail { message, seqs }
}

fn transient(all: &[Attempt]) -> impl Iterator<Item = (usize, &Attempt)> {
    all.iter()
        .enumerate()
        .filter(|(_, a)| a.fault.is_some_and(ListenerFault::is_transient))
}

fn nothing_sent(all: &[Attempt]) -> Option<Verdict> {
    all.is_empty()
        .then(|| Verdict::Skip("the SUT sent no HL7 to the simulator's listener".into()))
}

fn resends_same_id(all: &[Attempt]) -> Verdict {
    if let Some(v) = nothing_sent(all) {
        return v;
    }
    let mut judged = 0;
    for (i, f) in transient(all) {
        judged += 1;
        if !all[i + 1..].iter().any(|a| a.msh10 == f.msh10) {
            let fault = f.fault.map_or("", ListenerFault::name);
            return fail(
                format!(
                    "{} MSH-10 {} met `{fault}` and was never resent with the same MSH-10",
                    f.msh9, f.msh10
                ),
                vec![f.seq],
            );
        }
    }
    passed_unless_nothing_judged(
        judged,
        "no timeout, garbled ACK or dropped connection was injected",
    )
}

fn no_resend_on_reject(all: &[Attempt]) -> Verdict {
    if let Some(v) = nothing_sent(all) {
        return v;
    }
    let mut judged = 0;
    for (i, r) in all.iter().enumerate() {
        let code = r.ack_code.as_deref().unwrap_or("");
        if !matches!(code, "AE" | "AR") || r.fault.is_some_and(ListenerFault::is_transient) {
            continue;
        }
        judged += 1;
        if let Some(again) = all[i + 1..].iter().find(|a| a.msh10 == r.msh10) {
            return fail(
                format!(
                    "{} MSH-10 {} was answered {code} and resent unchanged",
                    r.msh9, r.msh10
                ),
                vec![r.seq, again.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "no message was answered AE or AR")
}

fn per_patient_order(all: &[Attempt]) -> Verdict {
    if let Some(v) = nothing_sent(all) {
        return v;
    }
    let mut judged = 0;
    for (i, f) in transient(all) {
        if f.patient.is_empty() {
            continue;
        }
        judged += 1;
        // The next message for this patient must be the failed one again
        // (same MSH-9; whether it kept its MSH-10 is the resend check's job).
        let next = all[i + 1..].iter().find(|a| a.patient == f.patient);
        if let Some(next) = next {
            if next.msh9 != f.msh9 {
                return fail(
                    format!(
                        "{} MSH-10 {} for patient {} failed, and {} MSH-10 {} for the same patient was sent before it was delivered",
                        f.msh9, f.msh10, f.patient, next.msh9, next.msh10
                    ),
                    vec![f.seq, next.seq],
                );
            }
        }
    }
    passed_unless_nothing_judged(judged, "no failed message carried a patient (PID-3)")
}

fn backoff(all: &[Attempt]) -> Verdict {
    if let Some(v) = nothing_sent(all) {
        return v;
    }
    let floor = u64::try_from(BACKOFF_FLOOR.as_micros()).unwrap_or(u64::MAX);
    let mut judged = 0;
    // Only failures the SUT learns of at a moment the listener knows: a
    // garbled ACK (written) or a dropped connection (closed). A timeout's
    // moment is the SUT's own clock.
    for (i, f) in transient(all).filter(|(_, a)| a.fault != Some(ListenerFault::AckTimeout)) {
        judged += 1;
        let Some(next) = all[i + 1..]
            .iter()
            .filter(|a| a.arrived_us >= f.arrived_us)
            .find(|a| a.seq != f.seq)
        else {
            continue;
        };
        let gap = next.arrived_us.saturating_sub(f.answered_us);
        if gap < floor {
            return fail(
                format!(
                    "{} MSH-10 {} met `{}`, and the next message came {} ms later (at least {} ms expected)",
                    f.msh9,
                    f.msh10,
                    f.fault.map_or("", ListenerFault::name),
                    gap / 1000,
                    BACKOFF_FLOOR.as_millis()
                ),
                vec![f.seq, next.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "no garbled ACK or dropped connection was injected")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seq: u64, t: u64, msh9: &str, msh10: &str, fault: Option<ListenerFault>) -> Attempt {
        Attempt {
            seq,
            arrived_us: t,
            answered_us: t + 10,
            msh9: msh9.into(),
            msh10: msh10.into(),
            patient: "P1".into(),
            ack_code: Some("AA".into()),
            fault,
        }
    }

    #[test]
    fn a_resend_after_a_drop_with_the_same_id_and_a_pause_passes() {
        let all = vec![
            at(1, 0, "ADT^A04", "1", Some(ListenerFault::DroppedConnection)),
            at(2, 200_000, "ADT^A04", "1", None),
            at(3, 300_000, "ADT^A08", "2", None),
        ];
        assert_eq!(resends_same_id(&all), Verdict::Pass);
        assert_eq!(per_patient_order(&all), Verdict::Pass);
        assert_eq!(backoff(&all), Verdict::Pass);
    }

    #[test]
    fn new_ids_reordering_and_floods_fail() {
        let new_id = vec![
            at(1, 0, "ADT^A04", "1", Some(ListenerFault::GarbledAck)),
            at(2, 200_000, "ADT^A04", "9", None),
        ];
        assert!(matches!(resends_same_id(&new_id), Verdict::Fail { .. }));
        let reordered = vec![
            at(1, 0, "ADT^A04", "1", Some(ListenerFault::GarbledAck)),
            at(2, 200_000, "ADT^A08", "2", None),
            at(3, 400_000, "ADT^A04", "1", None),
        ];
        assert!(matches!(
            per_patient_order(&reordered),
            Verdict::Fail { .. }
        ));
        let flood = vec![
            at(1, 0, "ADT^A04", "1", Some(ListenerFault::GarbledAck)),
            at(2, 1_000, "ADT^A04", "1", None),
        ];
        assert!(matches!(backoff(&flood), Verdict::Fail { .. }));
    }
}
