//! `listener-fault` steps: the simulator's MLLP listener misbehaves towards a
//! SUT that sends HL7, so the runner can judge how the SUT retries.
//!
//! Each fault becomes a fault rule on the `mllp-in` surface named after the
//! fault, so the journal entry of every exchange it changed says which it was.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use simulator::faults::{FaultKind, FaultRule};
use simulator::journal::Surface;

/// What the listener does to a message the SUT sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListenerFault {
    /// The ACK comes only after twice the SUT's declared ACK timeout.
    AckTimeout,
    /// The ACK acknowledges another control id (MSA-2 does not match).
    GarbledAck,
    /// The connection is closed instead of acknowledging.
    DroppedConnection,
    /// An application error (AE) instead of the real ACK.
    Ae,
    /// An application reject (AR) instead of the real ACK.
    Ar,
}

impl ListenerFault {
    /// Every fault.
    pub const ALL: [ListenerFault; 5] = [
        ListenerFault::AckTimeout,
        ListenerFault::GarbledAck,
        ListenerFault::DroppedConnection,
        ListenerFault::Ae,
        ListenerFault::Ar,
    ];

    /// The kebab-case name, also the fault rule's name in the journal.
    pub fn name(self) -> &'static str {
        match self {
            ListenerFault::AckTimeout => "ack-timeout",
            ListenerFault::GarbledAck => "garbled-ack",
            ListenerFault::DroppedConnection => "dropped-connection",
            ListenerFault::Ae => "ae",
            ListenerFault::Ar => "ar",
        }
    }

    /// A failure the sender cannot tell from a lost message, so it must resend.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ListenerFault::AckTimeout
                | ListenerFault::GarbledAck
                | ListenerFault::DroppedConnection
        )
    }

    /// The fault named `name` in a journal entry, if it is one of these.
    pub fn from_name(name: &str) -> Option<ListenerFault> {
        ListenerFault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The fault rule for `times` messages whose MSH-9 is `message`, given the
    /// SUT's ACK timeout.
    pub fn rule(self, message: &str, times: u32, sut_ack_timeout: Duration) -> FaultRule {
        let kind = match self {
            ListenerFault::AckTimeout => FaultKind::AckDelay {
                ms: u64::try_from(sut_ack_timeout.as_millis().saturating_mul(2))
                    .unwrap_or(u64::MAX),
            },
            ListenerFault::GarbledAck => FaultKind::WrongMsa2,
            ListenerFault::DroppedConnection => FaultKind::DropConnection { mid_frame: false },
            ListenerFault::Ae => FaultKind::Nak { code: "AE".into() },
            ListenerFault::Ar => FaultKind::Nak { code: "AR".into() },
        };
        FaultRule {
            name: Some(self.name().to_owned()),
            surface: Surface::MllpIn,
            matching: Some(message.to_owned()),
            kind,
            after: 0,
            every: 1,
            times: Some(times),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_outlasts_the_sut_and_names_itself() {
        let r = ListenerFault::AckTimeout.rule("ADT^A04", 1, Duration::from_millis(300));
        assert_eq!(r.kind, FaultKind::AckDelay { ms: 600 });
        assert_eq!(r.name.as_deref(), Some("ack-timeout"));
        for f in ListenerFault::ALL {
            assert_eq!(ListenerFault::from_name(f.name()), Some(f));
        }
        assert!(!ListenerFault::Ar.is_transient());
    }
}
