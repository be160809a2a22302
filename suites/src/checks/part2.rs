//! part2-segmentation: what the SUT forwards to its downstream recipients
//! (scanned for the practice's Part 2 canaries) and how it asks NextGen for
//! data. Every Part 2 record the simulator renders carries a canary token, so a
//! leak is caught whatever the payload's format.

use std::collections::BTreeMap;

use simulator::journal::{Detail, HttpExchange, Surface};
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
    bad.extend(other_client(ev));
    findings("requests try to get around Part 2 withholding", bad)
}

/// The patient a FHIR or Bulk request was about: its patient context, its
/// `patient` search parameter, or the id of a `Patient/{id}` read.
fn patient_of(h: &HttpExchange) -> Option<String> {
    if let Some(p) = &h.patient {
        return Some(p.clone());
    }
    let q = h.query.as_deref().unwrap_or("");
    if let Some((_, v)) =
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "patient" || k == "subject")
    {
        return Some(v.trim_start_matches("Patient/").to_owned());
    }
    let (_, id) = h.path.rsplit_once("/Patient/")?;
    Some(id.split('/').next().unwrap_or(id).to_owned())
}

/// Requests for a patient whose Part 2 records had been withheld from the
/// SUT's own client, made afterwards with another client registration (one
/// that might be consented, or might have a patient context that is).
fn other_client(ev: &Evidence) -> Vec<(u64, String)> {
    let mut withheld: BTreeMap<String, u64> = BTreeMap::new();
    for e in ev
        .sync
        .by_sut()
        .filter(|e| matches!(e.surface, Surface::Fhir | Surface::Bulk))
    {
        let Some(h) = e.http() else { continue };
        if h.notes.iter().any(|n| n.k == "part2" && n.v == "withheld") {
            if let Some(p) = patient_of(h) {
                withheld.entry(p).or_insert(e.seq);
            }
        }
    }
    let own = [
        ev.sync.smart_client.as_deref(),
        ev.sync.gsa_client.as_deref(),
    ];
    let mut bad = Vec::new();
    for e in &ev.sync.entries {
        if !matches!(e.surface, Surface::Fhir | Surface::Bulk) {
            continue;
        }
        let Some(h) = e.http() else { continue };
        let Some(client) = h.client_id.as_deref() else {
            continue;
        };
        if own.contains(&Some(client)) {
            continue;
        }
        let Some(p) = patient_of(h) else { continue };
        if withheld.get(&p).is_some_and(|first| *first < e.seq) {
            bad.push((
                e.seq,
                format!(
                    "{} {} asks, as client `{client}`, for patient {p}, whose Part 2 records were withheld from the SUT's own client",
                    h.method, h.path
                ),
            ));
        }
    }
    bad
}
