//! The check catalogue: every check the runner can judge, with a stable id, a
//! title, a severity and the requirement it enforces. Ids never change meaning;
//! a retired check keeps its id reserved.

use serde::Serialize;

/// How strongly the requirement binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A SHALL / MUST in the cited text, or a legal obligation.
    Shall,
    /// A SHOULD: best practice a NextGen reviewer will ask about.
    Should,
}

/// One check's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDef {
    /// Stable id, `family.name`.
    pub id: &'static str,
    /// Family (the scenario group that feeds it).
    pub family: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The requirement: spec section or regulation citation.
    pub requirement: &'static str,
}

macro_rules! checks {
    ($( $id:literal, $family:literal, $sev:ident, $req:literal, $title:literal; )*) => {
        /// Every check, in catalogue order.
        pub const CATALOG: &[CheckDef] = &[
            $( CheckDef { id: $id, family: $family, severity: Severity::$sev, requirement: $req, title: $title }, )*
        ];
    };
}

checks! {
    "ack.msa2-echoes-msh10", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.14.8.2 (MSA-2)",
        "MSA-2 of every ACK equals the MSH-10 of the message it acknowledges";
    "ack.msh-swapped", "ack-semantics", Should, "HL7 v2.5.1 ch.2 §2.9.2 (response MSH)",
        "The ACK's MSH-3/4 are the inbound MSH-5/6, and its MSH-5/6 the inbound MSH-3/4";
    "ack.msh9-ack-trigger", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.14.9.9, table 0076",
        "The ACK's MSH-9 is ACK^<inbound trigger>";
    "ack.control-id-unique", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.14.9.10 (MSH-10 uniquely identifies the message)",
        "Every ACK carries its own unique MSH-10";
    "ack.aa-for-valid", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.9.2, table 0008",
        "A valid, supported message is accepted with AA (or CA then AA in enhanced mode)";
    "ack.ar-for-unsupported", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.9.2, table 0008; ERR-3 table 0357 (200/203)",
        "An unsupported message type or version is rejected with AR";
    "ack.ae-for-structural-error", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.9.2, table 0008; ERR-3 table 0357 (100-102)",
        "A structurally broken message gets AE (or AR), never AA";
    "ack.enhanced-mode", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.9.3, table 0155 (MSH-15/16)",
        "When MSH-15/16 request enhanced mode, the accept ACK is CA (and no ACK for NE)";
    "ack.within-timeout", "ack-semantics", Shall, "HL7 MLLP Release 1 (a response per message); profile ack-timeout",
        "Every message is acknowledged within the timeout";
    "ack.framing-robust", "ack-semantics", Shall, "HL7 MLLP Release 1 (framing independent of TCP segments)",
        "Frames split across writes and frames sent back-to-back are each acknowledged";
    "ack.duplicate-not-reprocessed", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.10.1 (sequence/duplicate handling)",
        "A resent message with the same MSH-10 is acknowledged but not processed twice";
    // part2-segmentation, write-back-scopes, enterprise-pre-beta: the SUT syncing.
    "part2.no-leak-to-unconsented", "part2-segmentation", Shall, "42 CFR §2.13(a), §2.31(a) (disclose only as the written consent permits); §2.12(d)",
        "No Part 2 record (no canary) reaches a downstream recipient the consent does not name";
    "part2.notice-and-consent", "part2-segmentation", Shall, "42 CFR §2.32(a)-(b) (notice and copy of consent accompany each disclosure); HL7 DS4P security labels",
        "Each disclosure of Part 2 records carries the §2.32 notice, the consent, and the records' security labels";
    "part2.revocation-honoured", "part2-segmentation", Shall, "42 CFR §2.31(a)(6) (consent revocable); §2.13(a)",
        "After the patient revokes consent, later syncs disclose none of their Part 2 records";
    "part2.no-circumvention", "part2-segmentation", Shall, "42 CFR §2.13(a), §2.12(d) (restrictions bind whoever holds the records)",
        "The SUT does not try to get around withholding (`_security` filters, reads of withheld records)";
    "scopes.least-privilege", "write-back-scopes", Shall, "SMART App Launch 2.x scopes; US Core 7 §Scopes (least privilege); ONC HTI-1",
        "Requested scopes are no broader than declared: no `*` resource wildcards, nothing beyond the declared need";
    "scopes.within-grant", "write-back-scopes", Shall, "SMART App Launch 2.x (access limited to the granted scopes)",
        "No request reaches beyond the scopes its token was granted";
    "scopes.no-retry-storm-on-403", "write-back-scopes", Should, "RFC 9110 §15.5.4 (403: the client SHOULD NOT repeat the request with the same credentials)",
        "A 403 is not retried in a storm (at most 3 identical requests)";
    "scopes.writes-declared", "write-back-scopes", Shall, "NextGen API program: per-client route approval (declared route list)",
        "Enterprise writes go only to routes in the declared route list";
    "scopes.no-gsa-prohibited", "write-back-scopes", Shall, "NextGen Enterprise API: GSA-prohibited routes (profile `gsa-prohibited-routes`)",
        "No GSA-prohibited route is called under a GSA token";
    "prebeta.session-header", "enterprise-pre-beta", Shall, "NextGen Enterprise API: `x-ng-sessionid` from PUT /users/me/login-defaults, required on data routes",
        "Every Enterprise data request carries the `x-ng-sessionid` session header";
    "prebeta.routes-declared", "enterprise-pre-beta", Shall, "NextGen API beta submission: declared route list",
        "Every Enterprise route read is in the declared route list";
    "prebeta.odata-filter", "enterprise-pre-beta", Should, "NextGen Enterprise API: default 7-day windows on /appointments, /appointments/slots, /persons",
        "Windowed list routes are called with an OData `$filter`, not left to their default 7-day window";
    // ack-semantics with the SUT as sender (profiles/scenarios/ack-sender.toml).
    "ack-sender.resends-same-id", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.10.1 (retry with the original MSH-10); HL7 MLLP Release 1",
        "After an ACK timeout, a garbled ACK or a dropped connection the message is resent with the same MSH-10";
    "ack-sender.no-resend-on-reject", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.9.2, table 0008 (AE/AR: the receiver has judged the message)",
        "A message answered AE or AR is not resent unchanged";
    "ack-sender.per-patient-order", "ack-semantics", Shall, "HL7 v2.5.1 ch.2 §2.10.1 (sequential delivery); NextGen Rosetta interface ordering",
        "A failed message is delivered before any later message for the same patient";
    "ack-sender.backoff", "ack-semantics", Should, "HL7 MLLP Release 1 (no retry flood); profile retry guidance",
        "After a failed exchange the sender waits before sending again (no immediate retry flood)";
    // resilience (profiles/scenarios/resilience.toml).
    "resilience.retry-after-honoured", "resilience", Shall, "RFC 9110 §10.2.3 (Retry-After); RFC 6585 §4 (429)",
        "After a 429 the next request waits at least the Retry-After";
    "resilience.backoff-5xx", "resilience", Should, "RFC 9110 §15.6 (5xx); NextGen API rate-limit guidance",
        "After a 5xx the client pauses before retrying (no retry flood)";
    "resilience.paging-to-end", "resilience", Shall, "FHIR R4 §3.1.1.3 (Bundle.link next); FHIR R4 search paging; NextGen Enterprise API list envelope (nextPageLink)",
        "Search results and Enterprise lists are read to the end by following Bundle.link[next] and nextPageLink";
    // bulk-client (profiles/scenarios/bulk-client.toml).
    "bulk-client.retry-after-honoured", "bulk-client", Shall, "FHIR Bulk Data IG STU2 §Bulk Data Status Request (Retry-After); RFC 9110 §10.2.3",
        "Status polls wait at least the Retry-After of the previous answer";
    "bulk-client.transient-retried", "bulk-client", Shall, "FHIR Bulk Data IG STU2 §Bulk Data Status Request (transient errors)",
        "A 429 or 503 on a status poll is retried on the same job";
    "bulk-client.fatal-not-retried", "bulk-client", Shall, "FHIR Bulk Data IG STU2 §Bulk Data Kick-off / Status Request (error responses)",
        "A kick-off refused with a 4xx, or a failed job, is not retried";
    "bulk-client.token-on-downloads", "bulk-client", Shall, "FHIR Bulk Data IG STU2 §File Request (requiresAccessToken)",
        "Output files are downloaded with the access token when the manifest requires it";
    "bulk-client.cancels-abandoned", "bulk-client", Should, "FHIR Bulk Data IG STU2 §Bulk Data Delete Request",
        "An export the client abandons is cancelled with DELETE on its status URL";
    // smart-client (profiles/scenarios/smart-client.toml).
    "smart-client.pkce-s256-and-state", "smart-client", Shall, "SMART App Launch 2.x §App Protection (PKCE S256 required; state required)",
        "Every authorize request uses PKCE S256 and carries a state";
    "smart-client.assertion-jti-exp", "smart-client", Shall, "SMART Backend Services §Protocol details (jti unique; exp no more than 5 minutes ahead)",
        "Every client assertion is accepted: a fresh jti, an exp at most 5 minutes ahead";
    "smart-client.refresh-no-loop", "smart-client", Shall, "SMART App Launch 2.x §Refresh access token; RFC 6749 §6",
        "An expired token is refreshed once and used, not refreshed in a loop or retried dead";
    "smart-client.no-token-in-url", "smart-client", Shall, "RFC 6750 §2.3 and §5.3 (no bearer tokens in page URLs); SMART App Launch 2.x",
        "No access, refresh or id token appears in a URL query string";
    "smart-client.endpoints-discovered", "smart-client", Shall, "SMART App Launch 2.x §Discovery of Server Capabilities (.well-known/smart-configuration)",
        "The authorize and token endpoints come from .well-known/smart-configuration, not hard-coded paths";
}

/// A check by id.
pub fn lookup(id: &str) -> Option<&'static CheckDef> {
    CATALOG.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CATALOG {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let (prefix, rest) = c.id.split_once('.').expect("family.name");
            assert!(!prefix.is_empty() && !rest.is_empty());
            assert!(
                c.id.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "-.".contains(ch))
            );
            assert!(!c.requirement.is_empty() && !c.title.is_empty());
        }
    }
}
