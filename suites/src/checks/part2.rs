//! part2-segmentation: what the SUT forwards to its downstream recipients
//! (scanned for the practice's Part 2 canaries) and how it asks NextGen for
//! data. Every Part 2 record the simulator renders carries a canary token, so a
//! leak is caught whatever the payload's format.

use simulator::journal::{Detail, Surface};
use simulator::sinks::Delivery;

use super::{Verdict, fail, findings};
use crate::engine::Evidence;

/// Fragments of the §2.32(a) notice; either statement satisfies the check.
const NOTICE_FRAGMENTS: &[&str] = &[
    "protected by federal confidentiality rules (42 cfr part 2)",
    "42 cfr part 2 prohibits unauthorized use or disclosure",
];

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    match id {
        "part2.no-leak-to-unconsented" => no_leak(ev),
        "part2.notice-and-consent" => notice(ev),
        "part2.revocation-honoured" => revocation(ev),
        "part2.no-circumvention" => circumvention(ev),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn no_leak(ev: &Evidence) -> Verdict {
    let d = &ev.sync.deliveries;
    if !d.iter().any(|x| !x.consented) {
        return Verdict::Skip("nothing reached a non-consented sink".into());
    }
    let leaks: Vec<&Delivery> = d
        .iter()
        .filter(|x| !x.consented && !x.canaries.is_empty())
        .map(AsRef::as_ref)
        .collect();
    match leaks.first() {
        None => Verdict::Pass,
        Some(first) => fail(
            format!(
                "{} deliveries to non-consented sinks carried Part 2 records; first: {} canaries in {} to `{}`",
                leaks.len(),
                first.canaries.len(),
                first.what,
                first.sink
            ),
            leaks.iter().map(|x| x.seq).collect(),
        ),
    }
}

/// What a disclosure is missing of the §2.32 notice, the consent and the labels.
fn missing(d: &Delivery) -> Vec<&'static str> {
    let text = d.text().to_ascii_lowercase();
    let mut out = Vec::new();
    if !NOTICE_FRAGMENTS.iter().any(|f| text.contains(f)) {
        out.push("the §2.32 notice");
    }
    if !(text.contains("\"resourcetype\":\"consent\"")
        || text.contains("\"resourcetype\": \"consent\"")
        || text.contains("consent/"))
    {
        out.push("the consent (or a reference to it)");
    }
    if !text.contains("42cfrpart2") {
        out.push("the 42CFRPart2 security label");
    }
    out
}

fn notice(ev: &Evidence) -> Verdict {
    let disclosures: Vec<&Delivery> = ev
        .sync
        .deliveries
        .iter()
        .filter(|x| x.consented && !x.canaries.is_empty())
        .map(AsRef::as_ref)
        .collect();
    if disclosures.is_empty() {
        return Verdict::Skip("no Part 2 record was disclosed to a consented sink".into());
    }
    let bad: Vec<(&Delivery, Vec<&str>)> = disclosures
        .iter()
        .map(|d| (*d, missing(d)))
        .filter(|(_, m)| !m.is_empty())
        .collect();
    match bad.first() {
        None => Verdict::Pass,
        Some((d, m)) => fail(
            format!(
                "{} of {} Part 2 disclosures lack {}; first: {} to `{}`",
                bad.len(),
                disclosures.len(),
                m.join(", "),
                d.what,
                d.sink
            ),
            bad.iter().map(|(d, _)| d.seq).collect(),
        ),
    }
}

/// Sequence number of the first consent revocation in the scenario.
fn revoked_at(ev: &Evidence) -> Option<u64> {
    ev.sync.entries.iter().find_map(|e| match &e.detail {
        Detail::Event { name, notes }
            if e.surface == Surface::Control
                && name == "consent-set"
                && notes.iter().any(|n| n.k == "state" && n.v == "revoked") =>
        {
            Some(e.seq)
        }
        _ => None,
    })
}

fn revocation(ev: &Evidence) -> Verdict {
    let Some(at) = revoked_at(ev) else {
        return Verdict::Skip("the scenario revokes no consent".into());
    };
    let after: Vec<&Delivery> = ev
        .sync
        .deliveries
        .iter()
        .filter(|d| d.seq > at)
        .map(AsRef::as_ref)
        .collect();
    if after.is_empty() {
        return Verdict::Skip("nothing reached a sink after the revocation".into());
    }
    let bad: Vec<&&Delivery> = after.iter().filter(|d| !d.canaries.is_empty()).collect();
    match bad.first() {
        None => Verdict::Pass,
        Some(d) => fail(
            format!(
                "{} deliveries after consent was revoked (journal entry {at}) still carried Part 2 records; first: {} canaries to `{}`",
                bad.len(),
                d.canaries.len(),
                d.sink
            ),
            bad.iter().map(|d| d.seq).collect(),
        ),
    }
}

fn circumvention(ev: &Evidence) -> Verdict {
    let mut judged = 0;
    let mut bad = Vec::new();
    for e in ev
        .sync
        .by_sut()
        .filter(|e| matches!(e.surface, Surface::Fhir | Surface::Bulk))
    {
        let Some(h) = e.http() else { continue };
        judged += 1;
        let query = h.query.as_deref().unwrap_or("").to_ascii_lowercase();
        // A search that had records withheld is normal; a read by id of a
        // withheld record is probing for it.
        let probing = h.route.ends_with("/{id}")
            && h.notes.iter().any(|n| n.k == "part2" && n.v == "withheld");
        if query.contains("_security") {
            bad.push((
                e.seq,
                format!(
                    "{} {}?{} filters on security labels",
                    h.method, h.path, query
                ),
            ));
        } else if probing {
            bad.push((
                e.seq,
                format!(
                    "{} {} reads a record withheld under Part 2",
                    h.method, h.path
                ),
            ));
        }
    }
    if judged == 0 {
        return Verdict::Skip("the SUT made no FHIR request".into());
    }
    findings("requests try to get around Part 2 withholding", bad)
}
