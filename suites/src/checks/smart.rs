//! smart-client: how the SUT's SMART app and backend service use OAuth,
//! judged from the `oauth` and `fhir` journal. The authorize request's query
//! is journaled with secret values redacted (`code_challenge_method` and
//! `state` are kept); token requests carry a `grant_type` note.

use simulator::journal::Surface;

use super::http_journal::{Req, requests};
use super::{Verdict, passed_unless_nothing_judged};
use crate::engine::Evidence;

pub(super) fn judge(id: &str, ev: &Evidence) -> Verdict {
    match id {
        "smart-client.pkce-s256-and-state" => pkce_and_state(ev),
        "smart-client.assertion-jti-exp" => assertions(ev),
        "smart-client.refresh-no-loop" => refresh(ev),
        "smart-client.no-token-in-url" => no_token_in_url(ev),
        "smart-client.endpoints-discovered" => endpoints_discovered(ev),
        _ => Verdict::Skip(format!("no implementation for `{id}`")),
    }
}

fn fail(message: String, seqs: Vec<u64>) -> Verdict {
    Verdict::Fail { message, seqs }
}

fn query_param(r: &Req<'_>, key: &str) -> Option<String> {
    let q = r.h.query.as_deref()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn pkce_and_state(ev: &Evidence) -> Verdict {
    let oauth = requests(ev, Surface::Oauth);
    let mut judged = 0;
    for r in oauth.iter().filter(|r| r.h.route.contains("authorize")) {
        judged += 1;
        let method = query_param(r, "code_challenge_method").unwrap_or_default();
        if method != "S256" {
            return fail(
                format!(
                    "an authorize request used code_challenge_method {:?}, not S256",
                    method
                ),
                vec![r.seq],
            );
        }
        if query_param(r, "state").is_none_or(|s| s.is_empty()) {
            return fail(
                "an authorize request carried no `state`".into(),
                vec![r.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "the SUT made no authorize request")
}

fn assertions(ev: &Evidence) -> Verdict {
    let oauth = requests(ev, Surface::Oauth);
    let mut judged = 0;
    for r in oauth
        .iter()
        .filter(|r| r.note("grant_type") == Some("client_credentials"))
    {
        judged += 1;
        if r.h.status != 200 {
            return fail(
                format!(
                    "a client_credentials request was refused ({}, {}): each assertion needs a fresh jti and an exp at most 5 minutes ahead",
                    r.h.status,
                    r.note("oauth_error").unwrap_or("no error code")
                ),
                vec![r.seq],
            );
        }
    }
    passed_unless_nothing_judged(judged, "the SUT made no client_credentials request")
}

/// OAuth and FHIR requests together, by arrival.
fn oauth_and_fhir(ev: &Evidence) -> Vec<Req<'_>> {
    let mut all = requests(ev, Surface::Oauth);
    all.extend(requests(ev, Surface::Fhir));
    all.sort_by_key(|r| (r.arrived_us, r.seq));
    all
}

fn refresh(ev: &Evidence) -> Verdict {
    let all = oauth_and_fhir(ev);
    let is_refresh = |r: &Req<'_>| r.note("grant_type") == Some("refresh_token");
    let mut judged = 0;
    let mut last_refresh: Option<&Req<'_>> = None;
    for r in &all {
        if is_refresh(r) {
            judged += 1;
            if let Some(prev) = last_refresh {
                return fail(
                    "the token was refreshed again before it was used: a refresh loop".into(),
                    vec![prev.seq, r.seq],
                );
            }
            last_refresh = Some(r);
        } else if r.h.route.contains("/fhir") || r.h.status == 401 {
            last_refresh = None;
        }
    }
    for (i, r) in all.iter().enumerate() {
        if r.h.status != 401 || is_refresh(r) {
            continue;
        }
        judged += 1;
        // After a 401 the next step must be a refresh (or stopping), not the
        // same request again with the same dead token.
        if let Some(next) = all[i + 1..].first() {
            if !is_refresh(next) && next.h.route == r.h.route && next.h.status == 401 {
                return fail(
                    format!(
                        "{} {} was answered 401 and retried without a refresh",
                        r.h.method, r.h.path
                    ),
                    vec![r.seq, next.seq],
                );
            }
        }
    }
    passed_unless_nothing_judged(judged, "no token expired and none was refreshed")
}

/// Every HTTP request the SUT made, on any surface.
fn every_http(ev: &Evidence) -> Vec<Req<'_>> {
    [
        Surface::Fhir,
        Surface::Oauth,
        Surface::Bulk,
        Surface::Enterprise,
    ]
    .into_iter()
    .flat_map(|s| requests(ev, s))
    .collect()
}

fn no_token_in_url(ev: &Evidence) -> Verdict {
    let all = every_http(ev);
    for r in &all {
        let q = r.h.query.as_deref().unwrap_or("");
        let leaked = url::form_urlencoded::parse(q.as_bytes())
            .any(|(k, _)| matches!(k.as_ref(), "access_token" | "refresh_token" | "id_token"));
        if leaked {
            return fail(
                format!(
                    "{} {} carried a token in its query string",
                    r.h.method, r.h.path
                ),
                vec![r.seq],
            );
        }
    }
    passed_unless_nothing_judged(all.len(), "the SUT made no HTTP request")
}

/// The SUT reached the advertised authorize and token endpoints, and sent
/// nothing to an `/authorize` or `/token` path the server does not serve.
fn endpoints_discovered(ev: &Evidence) -> Verdict {
    let stray = every_http(ev).into_iter().find(|r| {
        let p = r.h.path.trim_end_matches('/');
        r.h.status == 404 && (p.ends_with("/authorize") || p.ends_with("/token"))
    });
    let stray = stray.map(|r| (r.seq, r.h.path.clone()));
    if let Some((seq, path)) = stray {
        return fail(
            format!(
                "the SUT called {path}, which the server does not advertise (hard-coded endpoint?)"
            ),
            vec![seq],
        );
    }
    let oauth = requests(ev, Surface::Oauth);
    let authorize = oauth.iter().any(|r| r.h.route.contains("authorize"));
    let token = oauth.iter().any(|r| r.note("grant_type").is_some());
    if authorize && token {
        Verdict::Pass
    } else {
        fail(
            "the SUT never called the authorize and token endpoints advertised in .well-known/smart-configuration".into(),
            vec![],
        )
    }
}
