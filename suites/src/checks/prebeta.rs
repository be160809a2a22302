//! enterprise-pre-beta: what a NextGen reviewer looks at in the SUT's
//! Enterprise API traffic before a beta submission.

use simulator::enterprise::routes::RouteUseReport;
use simulator::journal::{Entry, Surface};

use super::{Verdict, fail};
use crate::engine::Evidence;

/// List routes whose unfiltered answer is a default 7-day window.
pub const WINDOWED_ROUTES: &[&str] = &["/appointments", "/appointments/slots", "/persons"];

/// Session set-up and token routes, which carry no session header by design.
const NO_SESSION_NEEDED: &[&str] = &["/users/me/login-defaults"];

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    match id {
        "prebeta.session-header" => session_header(ev),
        "prebeta.routes-declared" => routes_declared(ev),
        "prebeta.odata-filter" => odata_filter(ev),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn note<'a>(e: &'a Entry, k: &str) -> Option<&'a str> {
    e.http()?
        .notes
        .iter()
        .find(|n| n.k == k)
        .map(|n| n.v.as_str())
}

/// The route template relative to the API base.
fn template<'a>(ev: &Evidence, e: &'a Entry) -> &'a str {
    let h = e.http().expect("enterprise entries are HTTP");
    let base = ev
        .sync
        .profile
        .as_ref()
        .map_or("", |p| p.enterprise.api_base.as_str());
    h.route.strip_prefix(base).unwrap_or(&h.route)
}

fn session_header(ev: &Evidence) -> Verdict {
    let data: Vec<&Entry> = ev
        .sync
        .sut_on(Surface::Enterprise)
        .filter(|e| e.http().is_some() && !NO_SESSION_NEEDED.contains(&template(ev, e)))
        .map(AsRef::as_ref)
        .collect();
    if data.is_empty() {
        return Verdict::Skip("the SUT called no Enterprise data route".into());
    }
    let bad: Vec<&&Entry> = data
        .iter()
        .filter(|e| note(e, "session-header") == Some("absent"))
        .collect();
    match bad.first() {
        None => Verdict::Pass,
        Some(e) => {
            let h = e.http().expect("filtered to HTTP");
            fail(
                format!(
                    "{} of {} Enterprise data requests had no x-ng-sessionid; first: {} {}",
                    bad.len(),
                    data.len(),
                    h.method,
                    h.path
                ),
                bad.iter().map(|e| e.seq).collect(),
            )
        }
    }
}

fn routes_declared(ev: &Evidence) -> Verdict {
    let Some(declared) = ev.sync.declared_routes.as_deref() else {
        return Verdict::Skip("the SUT declares no Enterprise route list".into());
    };
    let (Some(gsa), Some(profile)) = (&ev.sync.gsa_client, &ev.sync.profile) else {
        return Verdict::Skip("the SUT uses no GSA account".into());
    };
    let entries: Vec<Entry> = ev
        .sync
        .sut_on(Surface::Enterprise)
        .map(|e| (**e).clone())
        .collect();
    if entries.is_empty() {
        return Verdict::Skip("the SUT made no Enterprise request".into());
    }
    let report = RouteUseReport::from_journal(&entries, Some(declared), profile);
    let Some(c) = report.clients.iter().find(|c| &c.client_id == gsa) else {
        return Verdict::Skip("the SUT made no authenticated Enterprise request".into());
    };
    // Writes are judged by `scopes.writes-declared`; this check covers reads.
    let bad: Vec<&String> = c
        .undeclared_used
        .iter()
        .filter(|r| !super::scopes::is_write(r))
        .collect();
    match bad.first() {
        None => Verdict::Pass,
        Some(first) => {
            let seqs = entries
                .iter()
                .filter(|e| {
                    e.http().is_some_and(|h| {
                        bad.contains(&&format!(
                            "{} {}",
                            h.method.to_ascii_uppercase(),
                            template(ev, e)
                        ))
                    })
                })
                .map(|e| e.seq)
                .collect();
            fail(
                format!("{} routes read but not declared; first: {first}", bad.len()),
                seqs,
            )
        }
    }
}

fn odata_filter(ev: &Evidence) -> Verdict {
    let windowed: Vec<&Entry> = ev
        .sync
        .sut_on(Surface::Enterprise)
        .filter(|e| {
            e.http().is_some_and(|h| h.method == "GET")
                && WINDOWED_ROUTES.contains(&template(ev, e))
        })
        .map(AsRef::as_ref)
        .collect();
    if windowed.is_empty() {
        return Verdict::Skip("the SUT called no windowed list route".into());
    }
    let bad: Vec<&&Entry> = windowed
        .iter()
        .filter(|e| note(e, "odata-filter").is_none())
        .collect();
    match bad.first() {
        None => Verdict::Pass,
        Some(e) => fail(
            format!(
                "{} calls to windowed list routes relied on the default 7-day window (no $filter); first: GET {}",
                bad.len(),
                template(ev, e)
            ),
            bad.iter().map(|e| e.seq).collect(),
        ),
    }
}
