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
    // The sync behaviour (`reference::sync`).
    /// Part 2 records are forwarded to every sink, consented or not (`part2.no-leak-to-unconsented`).
    LeakPart2,
    /// Disclosures to consented sinks omit the §2.32 notice (`part2.notice-and-consent`).
    DropNotice,
    /// Part 2 records cached before a revocation are forwarded again (`part2.revocation-honoured`).
    IgnoreRevocation,
    /// Searches ask for `_security:not=42CFRPart2` to get around withholding (`part2.no-circumvention`).
    SecurityNot,
    /// Part 2 records withheld from its own client are fetched again through
    /// another registration, the demo patient app (`part2.no-circumvention`).
    OtherClient,
    /// The token request asks for `system/*.read` (`scopes.least-privilege`).
    WildcardScope,
    /// MedicationRequest is searched without a scope for it (`scopes.within-grant`).
    ReadBeyondGrant,
    /// A 403 is retried ten times (`scopes.no-retry-storm-on-403`).
    RetryStormOn403,
    /// A person is PATCHed through a route not in the declared list (`scopes.writes-declared`).
    UndeclaredWrite,
    /// A problem is written with POST …/chart/problems under GSA (`scopes.no-gsa-prohibited`).
    GsaProhibitedRoute,
    /// Enterprise data routes are called without `x-ng-sessionid` (`prebeta.session-header`).
    NoSessionHeader,
    /// Allergies are read through a route not in the declared list (`prebeta.routes-declared`).
    UndeclaredReadRoute,
    /// `GET /appointments` without `$filter` (`prebeta.odata-filter`).
    NoOdataFilter,
    /// Enterprise lists are read one page only, `nextPageLink` ignored
    /// (`resilience.paging-to-end`).
    EnterpriseFirstPageOnly,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 25] = [
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
        Defect::LeakPart2,
        Defect::DropNotice,
        Defect::IgnoreRevocation,
        Defect::SecurityNot,
        Defect::OtherClient,
        Defect::WildcardScope,
        Defect::ReadBeyondGrant,
        Defect::RetryStormOn403,
        Defect::UndeclaredWrite,
        Defect::GsaProhibitedRoute,
        Defect::NoSessionHeader,
        Defect::UndeclaredReadRoute,
        Defect::NoOdataFilter,
        Defect::EnterpriseFirstPageOnly,
    ];

    /// Whether this defect breaks the sync behaviour (`reference::sync`),
    /// judged by the part2, scopes and prebeta families.
    pub fn is_sync(self) -> bool {
        self == Defect::EnterpriseFirstPageOnly
            || matches!(
                self.caught_by().split_once('.').map(|(family, _)| family),
                Some("part2" | "scopes" | "prebeta")
            )
    }

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
            Defect::LeakPart2 => "leak-part2",
            Defect::DropNotice => "drop-notice",
            Defect::IgnoreRevocation => "ignore-revocation",
            Defect::SecurityNot => "security-not",
            Defect::OtherClient => "other-client",
            Defect::WildcardScope => "wildcard-scope",
            Defect::ReadBeyondGrant => "read-beyond-grant",
            Defect::RetryStormOn403 => "retry-storm-on-403",
            Defect::UndeclaredWrite => "undeclared-write",
            Defect::GsaProhibitedRoute => "gsa-prohibited-route",
            Defect::NoSessionHeader => "no-session-header",
            Defect::UndeclaredReadRoute => "undeclared-read-route",
            Defect::NoOdataFilter => "no-odata-filter",
            Defect::EnterpriseFirstPageOnly => "enterprise-first-page-only",
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
            Defect::LeakPart2 => "part2.no-leak-to-unconsented",
            Defect::DropNotice => "part2.notice-and-consent",
            Defect::IgnoreRevocation => "part2.revocation-honoured",
            Defect::SecurityNot | Defect::OtherClient => "part2.no-circumvention",
            Defect::WildcardScope => "scopes.least-privilege",
            Defect::ReadBeyondGrant => "scopes.within-grant",
            Defect::RetryStormOn403 => "scopes.no-retry-storm-on-403",
            Defect::UndeclaredWrite => "scopes.writes-declared",
            Defect::GsaProhibitedRoute => "scopes.no-gsa-prohibited",
            Defect::NoSessionHeader => "prebeta.session-header",
            Defect::UndeclaredReadRoute => "prebeta.routes-declared",
            Defect::NoOdataFilter => "prebeta.odata-filter",
            Defect::EnterpriseFirstPageOnly => "resilience.paging-to-end",
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
