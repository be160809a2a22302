//! Before judging, let delayed exchanges land in the journal: an `ack-timeout`
//! listener fault holds its ACK for twice the SUT's timeout, and the listener
//! journals the exchange only when that late ACK has been written. Waiting for
//! it is protocol time, not a sleep: the wait wakes on the journal entry.

use std::time::Duration;

use simulator::journal::Surface;

use super::RunContext;
use crate::scenario::{ListenerFault, Scenario, Step};

/// Wait (bounded) until every fired `ack-timeout` fault has been journaled.
pub(super) async fn delayed_acks(scenario: &Scenario, ctx: &RunContext, since: u64) {
    let Some(sender) = &ctx.manifest.mllp_sender else {
        return;
    };
    let wanted = scenario.steps.iter().any(|s| {
        matches!(
            s,
            Step::ListenerFault {
                fault: ListenerFault::AckTimeout,
                ..
            }
        )
    });
    if !wanted {
        return;
    }
    // Only faults that fired can be pending: a fired one is visible as a
    // duplicate resend or, if the SUT never resent, not at all. Wait for the
    // first `ack-timeout` entry, up to the delay plus a margin.
    let limit = sender.ack_timeout * 2 + Duration::from_secs(1);
    let _ = ctx
        .sim
        .wait_for(since, Surface::MllpIn, limit, |e| {
            e.mllp()
                .is_some_and(|m| m.fault.as_deref() == Some(ListenerFault::AckTimeout.name()))
        })
        .await;
}
