//! What the runner saw while a scenario ran: the raw material checks judge.

use crate::scenario::Variant;

/// One ACK read back from the system under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAck {
    /// The frame payload.
    pub raw: Vec<u8>,
    /// MSA-1, if the ACK parsed.
    pub code: Option<String>,
    /// MSA-2.
    pub msa2: Option<String>,
    /// MSH-3, MSH-4, MSH-5, MSH-6 of the ACK.
    pub msh3_6: [String; 4],
    /// MSH-9.1 and MSH-9.2 of the ACK.
    pub msh9: (String, String),
    /// MSH-10 of the ACK.
    pub msh10: String,
    /// Why it could not be read, if it could not.
    pub problem: Option<String>,
    /// Microseconds from the last byte sent to this ACK.
    pub latency_us: u64,
    /// Journal sequence number of the recorded exchange.
    pub journal_seq: u64,
}

/// One message sent to the SUT and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckExchange {
    /// Index of the scenario step.
    pub step: usize,
    /// How the message was shaped.
    pub variant: Variant,
    /// MSH-9 as sent, e.g. `ADT^A04`.
    pub message_type: String,
    /// MSH-9.2 as sent.
    pub trigger: String,
    /// MSH-10 as sent.
    pub control_id: String,
    /// MSH-3, MSH-4, MSH-5, MSH-6 as sent.
    pub msh3_6: [String; 4],
    /// The ACKs read for it, in order.
    pub acks: Vec<ReceivedAck>,
    /// Whether the wait for an ACK ran out.
    pub timed_out: bool,
    /// A transport problem (connect refused, reset), if any.
    pub transport_error: Option<String>,
}

/// Everything gathered during one scenario.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// HL7 exchanges with the SUT as receiver.
    pub acks: Vec<AckExchange>,
    /// Control ids the SUT reports having processed (from its `processed` hook),
    /// or `None` when it has no such hook.
    pub processed: Option<Vec<String>>,
    /// The SUT's requests to the simulator and what reached its sinks.
    pub sync: super::SyncEvidence,
    /// Step failures that make checks unjudgeable (an unreachable SUT, a hook that failed).
    pub errors: Vec<String>,
    /// Every journal entry recorded while the scenario ran (what the SUT did
    /// to the simulator), in sequence order.
    pub journal: Vec<std::sync::Arc<simulator::journal::Entry>>,
    /// Fault rules the scenario's `fault` steps added (to read their parameters,
    /// e.g. a 429's `Retry-After`, by the name the journal gives).
    pub faults: Vec<simulator::faults::FaultRule>,
    /// The `Retry-After` the simulator's profile puts on Bulk status answers.
    pub bulk_retry_after_secs: u32,
}

impl Evidence {
    /// Exchanges of the given variants.
    pub fn acks_of<'a>(
        &'a self,
        variants: &'a [Variant],
    ) -> impl Iterator<Item = &'a AckExchange> + 'a {
        self.acks
            .iter()
            .filter(move |x| variants.contains(&x.variant))
    }
}
