//! The defects the reference integration can be switched into.

use std::fmt;
use std::str::FromStr;

/// One deliberate misbehaviour, and the check that must catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// MSA-2 does not echo the inbound MSH-10 (`ack.msa2-echoes-msh10`).
    WrongMsa2,
    /// MSH-3/4 and MSH-5/6 are copied, not swapped (`ack.msh-swapped`).
    NoMshSwap,
    /// MSH-9 is a bare `ACK` without the trigger (`ack.msh9-ack-trigger`).
    WrongMsh9,
    /// Every ACK has MSH-10 `ACK`, as node-hl7-server does (`ack.control-id-unique`).
    ConstantAckId,
    /// Valid SIU messages are answered AE (`ack.aa-for-valid`).
    AeForValid,
    /// Unsupported types and versions are answered AA (`ack.ar-for-unsupported`).
    AaForUnsupported,
    /// Structurally broken messages are answered AA (`ack.ae-for-structural-error`).
    AaForGarbage,
    /// MSH-15/16 are ignored: original mode always (`ack.enhanced-mode`).
    NoEnhancedMode,
    /// SIU^S12 is acknowledged only after the sender's timeout (`ack.within-timeout`).
    SlowAck,
    /// Only the first frame of each read is handled (`ack.framing-robust`).
    FirstFrameOnly,
    /// A resent MSH-10 is processed again (`ack.duplicate-not-reprocessed`).
    ReprocessDuplicates,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 11] = [
        Defect::WrongMsa2,
        Defect::NoMshSwap,
        Defect::WrongMsh9,
        Defect::ConstantAckId,
        Defect::AeForValid,
        Defect::AaForUnsupported,
        Defect::AaForGarbage,
        Defect::NoEnhancedMode,
        Defect::SlowAck,
        Defect::FirstFrameOnly,
        Defect::ReprocessDuplicates,
    ];

    /// The kebab-case name used by `--defect`.
    pub fn name(self) -> &'static str {
        match self {
            Defect::WrongMsa2 => "wrong-msa2",
            Defect::NoMshSwap => "no-msh-swap",
            Defect::WrongMsh9 => "wrong-msh9",
            Defect::ConstantAckId => "constant-ack-id",
            Defect::AeForValid => "ae-for-valid",
            Defect::AaForUnsupported => "aa-for-unsupported",
            Defect::AaForGarbage => "aa-for-garbage",
            Defect::NoEnhancedMode => "no-enhanced-mode",
            Defect::SlowAck => "slow-ack",
            Defect::FirstFrameOnly => "first-frame-only",
            Defect::ReprocessDuplicates => "reprocess-duplicates",
        }
    }

    /// The check id this defect must fail (and no other).
    pub fn caught_by(self) -> &'static str {
        match self {
            Defect::WrongMsa2 => "ack.msa2-echoes-msh10",
            Defect::NoMshSwap => "ack.msh-swapped",
            Defect::WrongMsh9 => "ack.msh9-ack-trigger",
            Defect::ConstantAckId => "ack.control-id-unique",
            Defect::AeForValid => "ack.aa-for-valid",
            Defect::AaForUnsupported => "ack.ar-for-unsupported",
            Defect::AaForGarbage => "ack.ae-for-structural-error",
            Defect::NoEnhancedMode => "ack.enhanced-mode",
            Defect::SlowAck => "ack.within-timeout",
            Defect::FirstFrameOnly => "ack.framing-robust",
            Defect::ReprocessDuplicates => "ack.duplicate-not-reprocessed",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Defect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Defect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown defect `{s}` (known: {})", known.join(", "))
            })
    }
}
