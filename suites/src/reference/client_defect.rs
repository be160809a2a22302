//! The defects of the reference integration's client side (the SUT as HL7
//! sender, SMART app, Bulk client, FHIR reader). Kept apart from the receiver's
//! [`Defect`](super::Defect)s because they are proven by other scenarios.

use std::fmt;
use std::str::FromStr;

/// One deliberate client misbehaviour, and the check that must catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientDefect {
    /// A failed message is resent with a fresh MSH-10 (`ack-sender.resends-same-id`).
    ResendNewId,
    /// A message answered AE or AR is resent (`ack-sender.no-resend-on-reject`).
    ResendOnReject,
    /// A failed message goes to the back of the queue (`ack-sender.per-patient-order`).
    Reorder,
    /// A failed message is resent at once (`ack-sender.backoff`).
    NoBackoff,
    /// A 429 is retried after the 5xx pause, not its `Retry-After`
    /// (`resilience.retry-after-honoured`).
    IgnoreRetryAfter,
    /// A 5xx is retried at once (`resilience.backoff-5xx`).
    NoBackoff5xx,
    /// Only the first page of a search is read (`resilience.paging-to-end`).
    FirstPageOnly,
    /// Bulk status is polled on a short fixed period, not per `Retry-After`
    /// (`bulk-client.retry-after-honoured`).
    BulkIgnoreRetryAfter,
    /// A 429 on a status poll is retried after the client's own short backoff,
    /// not its `Retry-After` (`bulk-client.retry-after-honoured`).
    BulkIgnore429RetryAfter,
    /// A 503 on a status poll is taken for a dead job: cancel and start over
    /// (`bulk-client.transient-retried`).
    BulkRestartOnTransient,
    /// A refused kick-off and a failed job are retried (`bulk-client.fatal-not-retried`).
    BulkRetryFatal,
    /// Files are downloaded without the access token (`bulk-client.token-on-downloads`).
    BulkNoDownloadToken,
    /// An abandoned export is left running (`bulk-client.cancels-abandoned`).
    BulkNoCancel,
    /// The app tries PKCE `plain` before S256 (`smart-client.pkce-s256-and-state`).
    PkcePlain,
    /// The app sends no `state` (`smart-client.pkce-s256-and-state`).
    NoState,
    /// A backend assertion is sent twice (`smart-client.assertion-jti-exp`).
    ReusedJti,
    /// A backend assertion's `exp` is ten minutes ahead (`smart-client.assertion-jti-exp`).
    LongAssertionExp,
    /// After a 401 the app refreshes again and again (`smart-client.refresh-no-loop`).
    RefreshLoop,
    /// After a 401 the app never refreshes: it retries with the expired token
    /// (`smart-client.refresh-no-loop`).
    NoRefresh,
    /// The access token also goes in the query string (`smart-client.no-token-in-url`).
    TokenInUrl,
    /// The app uses NextGen's usual OAuth paths instead of discovering them
    /// (`smart-client.endpoints-discovered`).
    HardCodedEndpoints,
}

impl ClientDefect {
    /// Every client defect.
    pub const ALL: [ClientDefect; 21] = [
        ClientDefect::ResendNewId,
        ClientDefect::ResendOnReject,
        ClientDefect::Reorder,
        ClientDefect::NoBackoff,
        ClientDefect::IgnoreRetryAfter,
        ClientDefect::NoBackoff5xx,
        ClientDefect::FirstPageOnly,
        ClientDefect::BulkIgnoreRetryAfter,
        ClientDefect::BulkIgnore429RetryAfter,
        ClientDefect::BulkRestartOnTransient,
        ClientDefect::BulkRetryFatal,
        ClientDefect::BulkNoDownloadToken,
        ClientDefect::BulkNoCancel,
        ClientDefect::PkcePlain,
        ClientDefect::NoState,
        ClientDefect::ReusedJti,
        ClientDefect::LongAssertionExp,
        ClientDefect::RefreshLoop,
        ClientDefect::NoRefresh,
        ClientDefect::TokenInUrl,
        ClientDefect::HardCodedEndpoints,
    ];

    /// The kebab-case name used by `--defect`.
    pub fn name(self) -> &'static str {
        match self {
            ClientDefect::ResendNewId => "resend-new-id",
            ClientDefect::ResendOnReject => "resend-on-reject",
            ClientDefect::Reorder => "reorder",
            ClientDefect::NoBackoff => "no-backoff",
            ClientDefect::IgnoreRetryAfter => "ignore-retry-after",
            ClientDefect::NoBackoff5xx => "no-backoff-5xx",
            ClientDefect::FirstPageOnly => "first-page-only",
            ClientDefect::BulkIgnoreRetryAfter => "bulk-ignore-retry-after",
            ClientDefect::BulkIgnore429RetryAfter => "bulk-ignore-429-retry-after",
            ClientDefect::BulkRestartOnTransient => "bulk-restart-on-transient",
            ClientDefect::BulkRetryFatal => "bulk-retry-fatal",
            ClientDefect::BulkNoDownloadToken => "bulk-no-download-token",
            ClientDefect::BulkNoCancel => "bulk-no-cancel",
            ClientDefect::PkcePlain => "pkce-plain",
            ClientDefect::NoState => "no-state",
            ClientDefect::ReusedJti => "reused-jti",
            ClientDefect::LongAssertionExp => "long-assertion-exp",
            ClientDefect::RefreshLoop => "refresh-loop",
            ClientDefect::NoRefresh => "no-refresh",
            ClientDefect::TokenInUrl => "token-in-url",
            ClientDefect::HardCodedEndpoints => "hard-coded-endpoints",
        }
    }

    /// The check id this defect must fail (and no other).
    pub fn caught_by(self) -> &'static str {
        match self {
            ClientDefect::ResendNewId => "ack-sender.resends-same-id",
            ClientDefect::ResendOnReject => "ack-sender.no-resend-on-reject",
            ClientDefect::Reorder => "ack-sender.per-patient-order",
            ClientDefect::NoBackoff => "ack-sender.backoff",
            ClientDefect::IgnoreRetryAfter => "resilience.retry-after-honoured",
            ClientDefect::NoBackoff5xx => "resilience.backoff-5xx",
            ClientDefect::FirstPageOnly => "resilience.paging-to-end",
            ClientDefect::BulkIgnoreRetryAfter | ClientDefect::BulkIgnore429RetryAfter => {
                "bulk-client.retry-after-honoured"
            }
            ClientDefect::BulkRestartOnTransient => "bulk-client.transient-retried",
            ClientDefect::BulkRetryFatal => "bulk-client.fatal-not-retried",
            ClientDefect::BulkNoDownloadToken => "bulk-client.token-on-downloads",
            ClientDefect::BulkNoCancel => "bulk-client.cancels-abandoned",
            ClientDefect::PkcePlain | ClientDefect::NoState => "smart-client.pkce-s256-and-state",
            ClientDefect::ReusedJti | ClientDefect::LongAssertionExp => {
                "smart-client.assertion-jti-exp"
            }
            ClientDefect::RefreshLoop | ClientDefect::NoRefresh => "smart-client.refresh-no-loop",
            ClientDefect::TokenInUrl => "smart-client.no-token-in-url",
            ClientDefect::HardCodedEndpoints => "smart-client.endpoints-discovered",
        }
    }

    /// The shipped scenario that exercises it.
    pub fn scenario(self) -> &'static str {
        match self {
            ClientDefect::ResendNewId
            | ClientDefect::ResendOnReject
            | ClientDefect::Reorder
            | ClientDefect::NoBackoff => "ack-sender",
            ClientDefect::IgnoreRetryAfter
            | ClientDefect::NoBackoff5xx
            | ClientDefect::FirstPageOnly => "resilience",
            ClientDefect::BulkIgnoreRetryAfter
            | ClientDefect::BulkIgnore429RetryAfter
            | ClientDefect::BulkRestartOnTransient
            | ClientDefect::BulkRetryFatal
            | ClientDefect::BulkNoDownloadToken
            | ClientDefect::BulkNoCancel => "bulk-client",
            ClientDefect::PkcePlain
            | ClientDefect::NoState
            | ClientDefect::ReusedJti
            | ClientDefect::LongAssertionExp
            | ClientDefect::RefreshLoop
            | ClientDefect::NoRefresh
            | ClientDefect::TokenInUrl => "smart-client",
            ClientDefect::HardCodedEndpoints => "smart-discovery",
        }
    }
}

impl fmt::Display for ClientDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClientDefect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ClientDefect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ClientDefect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown client defect `{s}` (known: {})", known.join(", "))
            })
    }
}
