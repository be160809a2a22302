//! write-back-scopes: what the SUT asks to be granted, whether it stays inside
//! its grant, how it takes a 403, and where it writes on the Enterprise API.

use std::collections::BTreeMap;

use simulator::auth::{Scope, ScopeSet};
use simulator::enterprise::routes::{RouteClass, RouteUseReport};
use simulator::journal::{Entry, Surface};

use super::{Verdict, fail, findings};
use crate::engine::Evidence;

/// More identical requests answered 403 than this is a storm.
pub const MAX_IDENTICAL_403: usize = 3;

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    match id {
        "scopes.least-privilege" => least_privilege(ev),
        "scopes.within-grant" => within_grant(ev),
        "scopes.no-retry-storm-on-403" => retry_storm(ev),
        "scopes.writes-declared" => writes_declared(ev),
        "scopes.no-gsa-prohibited" => gsa_prohibited(ev),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn least_privilege(ev: &Evidence) -> Verdict {
    let declared = match ScopeSet::parse(&ev.sync.declared_scopes.join(" ")) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                format!("the manifest declares an invalid scope: {e}"),
                vec![],
            );
        }
    };
    let mut judged = 0;
    let mut bad = Vec::new();
    for e in ev.sync.sut_on(Surface::Oauth) {
        let Some(granted) = e.http().and_then(|h| h.scopes.as_deref()) else {
            continue;
        };
        judged += 1;
        for token in granted.split_whitespace() {
            let Ok(Scope::Resource(r)) = Scope::parse(token) else {
                continue;
            };
            if r.resource.is_none() {
                bad.push((
                    e.seq,
                    format!("`{token}` is a wildcard over every resource type"),
                ));
            } else if !declared.resources().any(|d| d.covers(&r)) {
                bad.push((e.seq, format!("`{token}` is beyond the declared scopes")));
            }
        }
    }
    if judged == 0 {
        return Verdict::Skip("the SUT obtained no token".into());
    }
    findings("requested scopes are broader than declared", bad)
}

fn within_grant(ev: &Evidence) -> Verdict {
    let mut judged = 0;
    let mut bad = Vec::new();
    for e in ev
        .sync
        .by_sut()
        .filter(|e| matches!(e.surface, Surface::Fhir | Surface::Bulk))
    {
        let Some(h) = e.http() else { continue };
        judged += 1;
        let denied = h
            .notes
            .iter()
            .any(|n| n.k == "scope" && (n.v == "denied" || n.v == "outside"));
        if h.fault.is_none() && (denied || h.status == 403) {
            bad.push((e.seq, format!("{} {} → {}", h.method, h.path, h.status)));
        }
    }
    if judged == 0 {
        return Verdict::Skip("the SUT made no FHIR request".into());
    }
    findings("requests reached beyond the granted scopes", bad)
}

fn request_key(e: &Entry) -> Option<String> {
    let h = e.http()?;
    Some(format!(
        "{} {}?{}",
        h.method,
        h.path,
        h.query.as_deref().unwrap_or("")
    ))
}

fn retry_storm(ev: &Evidence) -> Verdict {
    let mut by_request: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for e in ev.sync.by_sut() {
        if e.http().is_some_and(|h| h.status == 403) {
            if let Some(k) = request_key(e) {
                by_request.entry(k).or_default().push(e.seq);
            }
        }
    }
    if by_request.is_empty() {
        return Verdict::Skip("the SUT got no 403".into());
    }
    let storms: Vec<(&String, &Vec<u64>)> = by_request
        .iter()
        .filter(|(_, seqs)| seqs.len() > MAX_IDENTICAL_403)
        .collect();
    match storms.first() {
        None => Verdict::Pass,
        Some((k, seqs)) => fail(
            format!(
                "`{k}` was sent {} times after a 403 (at most {MAX_IDENTICAL_403} allowed)",
                seqs.len()
            ),
            storms.iter().flat_map(|(_, s)| s.iter().copied()).collect(),
        ),
    }
}

/// The route-use report of the SUT's GSA client, with the declared list.
fn report(ev: &Evidence) -> Option<(RouteUseReport, String)> {
    let gsa = ev.sync.gsa_client.clone()?;
    let profile = ev.sync.profile.as_ref()?;
    let entries: Vec<Entry> = ev
        .sync
        .sut_on(Surface::Enterprise)
        .map(|e| (**e).clone())
        .collect();
    Some((
        RouteUseReport::from_journal(&entries, ev.sync.declared_routes.as_deref(), profile),
        gsa,
    ))
}

/// Seqs of the SUT's Enterprise entries whose route is `route` (`METHOD /template`).
fn seqs_of(ev: &Evidence, report: &RouteUseReport, routes: &[String]) -> Vec<u64> {
    ev.sync
        .sut_on(Surface::Enterprise)
        .filter(|e| {
            e.http().is_some_and(|h| {
                let t = h.route.strip_prefix(&report.api_base).unwrap_or(&h.route);
                let t = if h.route == "(unmatched)" {
                    h.path.strip_prefix(&report.api_base).unwrap_or(&h.path)
                } else {
                    t
                };
                routes.contains(&format!("{} {}", h.method.to_ascii_uppercase(), t))
            })
        })
        .map(|e| e.seq)
        .collect()
}

pub(super) fn is_write(route: &str) -> bool {
    !route.starts_with("GET ") && route != "PUT /users/me/login-defaults"
}

fn writes_declared(ev: &Evidence) -> Verdict {
    if ev.sync.declared_routes.is_none() {
        return Verdict::Skip("the SUT declares no Enterprise route list".into());
    }
    let Some((report, gsa)) = report(ev) else {
        return Verdict::Skip("the SUT made no Enterprise request".into());
    };
    let Some(c) = report.clients.iter().find(|c| c.client_id == gsa) else {
        return Verdict::Skip("the SUT made no Enterprise request".into());
    };
    if !c.routes.iter().any(|r| is_write(&r.route)) {
        return Verdict::Skip("the SUT wrote nothing through the Enterprise API".into());
    }
    let bad: Vec<String> = c
        .undeclared_used
        .iter()
        .filter(|r| is_write(r))
        .cloned()
        .collect();
    match bad.first() {
        None => Verdict::Pass,
        Some(first) => fail(
            format!(
                "{} write routes used but not declared; first: {first}",
                bad.len()
            ),
            seqs_of(ev, &report, &bad),
        ),
    }
}

fn gsa_prohibited(ev: &Evidence) -> Verdict {
    let Some((report, gsa)) = report(ev) else {
        return Verdict::Skip("the SUT made no Enterprise request".into());
    };
    let Some(c) = report.clients.iter().find(|c| c.client_id == gsa) else {
        return Verdict::Skip("the SUT made no Enterprise request".into());
    };
    let used: Vec<String> = c
        .routes
        .iter()
        .filter(|r| r.class == RouteClass::GsaProhibited)
        .map(|r| r.route.clone())
        .collect();
    match used.first() {
        None => Verdict::Pass,
        Some(first) => fail(
            format!(
                "{} GSA-prohibited routes called under a GSA token; first: {first}",
                used.len()
            ),
            seqs_of(ev, &report, &used),
        ),
    }
}
