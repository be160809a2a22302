//! The route-use report: which Enterprise API routes each client used, how they
//! are classified for a NextGen beta submission, and how that compares with the
//! routes the client declared.
//!
//! Input is the journal (in memory, or a JSONL file read with [`read_journal`])
//! and, optionally, a declared `routes.txt` ([`parse_declared`]): one
//! `METHOD /template` per line, `#` starts a comment, templates may carry the
//! API base, `{param}` or Postman-style `:param` placeholders (parameter names do
//! not matter when comparing).
//!
//! Classes:
//! - `gsa-prohibited`: a route in the profile's `gsa-prohibited-routes` used
//!   under a GSA token (NextGen refuses it with 403);
//! - `write`: any other non-GET route;
//! - `uscdi-get`: a GET serving USCDI v1 data (persons and demographics,
//!   allergies, problems, diagnoses, medications, immunizations, lab results,
//!   vitals, procedures, documents and notes, encounters, social history,
//!   care plans and teams, goals, health concerns, devices, assessments);
//! - `other-get`: every other GET (master files, appointments, charges,
//!   balances, insurances, `/core/version`), and the session set-up
//!   `PUT /users/me/login-defaults`, which reads and writes no data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::journal::{Entry, Surface};
use crate::profile::Profile;

/// How a route counts for a beta submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteClass {
    /// A GET serving USCDI v1 data.
    UscdiGet,
    /// Any other GET.
    OtherGet,
    /// A create, update or action.
    Write,
    /// A GSA-prohibited route used under a GSA token.
    GsaProhibited,
}

impl RouteClass {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::UscdiGet => "uscdi-get",
            RouteClass::OtherGet => "other-get",
            RouteClass::Write => "write",
            RouteClass::GsaProhibited => "gsa-prohibited",
        }
    }
}

/// One route as one client used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteUse {
    /// `METHOD /template`, relative to the API base.
    pub route: String,
    /// Classification.
    pub class: RouteClass,
    /// Calls.
    pub count: u64,
    /// Calls made with a GSA token.
    pub gsa_calls: u64,
    /// Calls made with an EAL user token.
    pub eal_calls: u64,
    /// Calls without a valid token.
    pub unauthenticated_calls: u64,
    /// Calls without `x-ng-sessionid`.
    pub without_session_header: u64,
    /// Calls that used `$filter`.
    pub with_filter: u64,
    /// Response statuses and their counts.
    pub statuses: BTreeMap<u16, u64>,
    /// The path matched no route (the template is the literal path).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

/// Everything one client did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRoutes {
    /// Client id (`(none)` for calls without a recognised token).
    pub client_id: String,
    /// Routes used, sorted by route.
    pub routes: Vec<RouteUse>,
    /// Used but not declared (only with a declared list).
    pub undeclared_used: Vec<String>,
    /// Declared but never used (only with a declared list).
    pub declared_unused: Vec<String>,
    /// GSA-prohibited routes used under a GSA token.
    pub prohibited_used: Vec<String>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteUseReport {
    /// Profile the routes were classified against.
    pub profile: String,
    /// API base stripped from journal routes.
    pub api_base: String,
    /// Whether a declared list was given.
    pub declared_given: bool,
    /// The declared routes, normalised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<String>,
    /// Per client, sorted by client id.
    pub clients: Vec<ClientRoutes>,
    /// Calls counted in each class, over all clients.
    pub totals: BTreeMap<RouteClass, u64>,
}

const USCDI_CHART: &[&str] = &[
    "allergies",
    "problems",
    "diagnoses",
    "medications",
    "immunizations",
    "lab",
    "encounters",
    "vitals",
    "procedures",
    "documents",
    "patient-documents",
    "clinical-notes",
    "social-history",
    "care-plan",
    "care-team-members",
    "goals",
    "health-concerns",
    "devices",
    "assessments",
    "medical-history",
    "family-history",
];

const USCDI_PERSON: &[&str] = &["races", "ethnicities", "gender-identities"];

/// Classify `METHOD /template` (relative to the API base).
pub fn classify(route: &str, prohibited: &[String], under_gsa: bool) -> RouteClass {
    let (method, template) = route.split_once(' ').unwrap_or(("GET", route));
    if under_gsa && prohibited.iter().any(|p| same_route(p, route)) {
        return RouteClass::GsaProhibited;
    }
    if template.eq_ignore_ascii_case("/users/me/login-defaults") {
        return RouteClass::OtherGet;
    }
    if !method.eq_ignore_ascii_case("GET") {
        return RouteClass::Write;
    }
    let segs: Vec<&str> = template.trim_matches('/').split('/').collect();
    let uscdi = match segs.as_slice() {
        ["persons"] | ["persons", "lookup"] => true,
        ["persons", p] if is_param(p) => true,
        ["persons", p, what, ..] if is_param(p) && USCDI_PERSON.contains(what) => true,
        ["persons", p, "chart", section, rest @ ..] if is_param(p) => {
            USCDI_CHART.contains(section)
                || rest.iter().any(|s| {
                    matches!(
                        *s,
                        "vitals" | "diagnoses" | "procedures" | "screening-tools"
                    )
                })
        }
        _ => false,
    };
    if uscdi {
        RouteClass::UscdiGet
    } else {
        RouteClass::OtherGet
    }
}

fn is_param(seg: &str) -> bool {
    seg.starts_with('{') || seg.starts_with(':')
}

/// `METHOD /template` with placeholders reduced to `{}` and the path lower-cased,
/// for comparing routes whose parameter names differ.
pub fn route_shape(route: &str) -> String {
    let (method, template) = route.trim().split_once(' ').unwrap_or(("GET", route));
    let path: Vec<String> = template
        .trim()
        .trim_end_matches('/')
        .split('/')
        .map(|s| {
            if is_param(s) {
                "{}".to_owned()
            } else {
                s.to_ascii_lowercase()
            }
        })
        .collect();
    format!("{} {}", method.trim().to_ascii_uppercase(), path.join("/"))
}

fn same_route(a: &str, b: &str) -> bool {
    route_shape(a) == route_shape(b)
}

/// A declared-routes file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DeclaredError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Parse a declared `routes.txt`: one `METHOD /template` per line, `#` comments,
/// blank lines ignored. `api_base`, when the template starts with it, is removed.
pub fn parse_declared(text: &str, api_base: &str) -> Result<Vec<String>, DeclaredError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |m: &str| DeclaredError {
            line: n + 1,
            message: m.to_owned(),
        };
        let mut parts = line.split_whitespace();
        let (Some(method), Some(template), None) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(err("expected `METHOD /template`"));
        };
        let method = method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(err(&format!("unknown method `{method}`")));
        }
        let template = template.split('?').next().unwrap_or(template);
        let template = template.strip_prefix(api_base).unwrap_or(template);
        let template = if template.starts_with('/') {
            template.to_owned()
        } else {
            format!("/{template}")
        };
        let template = template.trim_end_matches('/').to_owned();
        let route = format!(
            "{method} {}",
            if template.is_empty() { "/" } else { &template }
        );
        if !out.contains(&route) {
            out.push(route);
        }
    }
    Ok(out)
}

/// A journal file line that is not an entry.
#[derive(Debug, thiserror::Error)]
#[error("journal line {line}: {source}")]
pub struct JournalLineError {
    /// 1-based line.
    pub line: usize,
    /// Parse error.
    #[source]
    pub source: serde_json::Error,
}

/// Read a JSONL journal (blank lines skipped).
pub fn read_journal(text: &str) -> Result<Vec<Entry>, JournalLineError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str::<Entry>(l).map_err(|source| JournalLineError {
                line: n + 1,
                source,
            })
        })
        .collect()
}

/// The client of calls without a recognised token; no declared-route findings
/// are computed for it.
pub const NO_CLIENT: &str = "(none)";

#[derive(Default)]
struct Acc {
    routes: BTreeMap<String, RouteUse>,
}

impl RouteUseReport {
    /// Build the report from journal entries (only `enterprise` HTTP exchanges count).
    pub fn from_journal(
        entries: &[Entry],
        declared: Option<&[String]>,
        profile: &Profile,
    ) -> RouteUseReport {
        let base = profile.enterprise.api_base.as_str();
        let prohibited = &profile.enterprise.gsa_prohibited_routes;
        let mut clients: BTreeMap<String, Acc> = BTreeMap::new();
        for e in entries.iter().filter(|e| e.surface == Surface::Enterprise) {
            let Some(h) = e.http() else { continue };
            let note = |k: &str| h.notes.iter().find(|n| n.k == k).map(|n| n.v.as_str());
            let auth = note("auth").unwrap_or("none");
            let unknown = h.route == "(unmatched)" || h.route.contains("{*");
            let template = if unknown {
                h.path.strip_prefix(base).unwrap_or(&h.path).to_owned()
            } else {
                h.route.strip_prefix(base).unwrap_or(&h.route).to_owned()
            };
            let route = format!("{} {}", h.method.to_ascii_uppercase(), template);
            let client = h.client_id.clone().unwrap_or_else(|| NO_CLIENT.to_owned());
            let acc = clients.entry(client).or_default();
            let u = acc.routes.entry(route.clone()).or_insert_with(|| RouteUse {
                route: route.clone(),
                class: classify(&route, prohibited, false),
                count: 0,
                gsa_calls: 0,
                eal_calls: 0,
                unauthenticated_calls: 0,
                without_session_header: 0,
                with_filter: 0,
                statuses: BTreeMap::new(),
                unknown,
            });
            u.count += 1;
            match auth {
                "gsa" => u.gsa_calls += 1,
                "eal" => u.eal_calls += 1,
                _ => u.unauthenticated_calls += 1,
            }
            if note("session-header") == Some("absent") {
                u.without_session_header += 1;
            }
            if note("odata-filter").is_some() {
                u.with_filter += 1;
            }
            *u.statuses.entry(h.status).or_default() += 1;
            if auth == "gsa" {
                u.class = classify(&route, prohibited, true);
            }
        }
        let declared_shapes: Option<Vec<String>> =
            declared.map(|d| d.iter().map(|r| route_shape(r)).collect());
        let mut totals: BTreeMap<RouteClass, u64> = BTreeMap::new();
        let clients = clients
            .into_iter()
            .map(|(client_id, acc)| {
                let routes: Vec<RouteUse> = acc.routes.into_values().collect();
                for r in &routes {
                    *totals.entry(r.class).or_default() += r.count;
                }
                let prohibited_used = routes
                    .iter()
                    .filter(|r| r.class == RouteClass::GsaProhibited)
                    .map(|r| r.route.clone())
                    .collect();
                let (undeclared_used, declared_unused) = match (declared, &declared_shapes) {
                    (Some(d), Some(shapes)) if client_id != NO_CLIENT => {
                        let used: Vec<String> =
                            routes.iter().map(|r| route_shape(&r.route)).collect();
                        (
                            routes
                                .iter()
                                .filter(|r| !shapes.contains(&route_shape(&r.route)))
                                .map(|r| r.route.clone())
                                .collect(),
                            d.iter()
                                .filter(|r| !used.contains(&route_shape(r)))
                                .cloned()
                                .collect(),
                        )
                    }
                    _ => (Vec::new(), Vec::new()),
                };
                ClientRoutes {
                    client_id,
                    routes,
                    undeclared_used,
                    declared_unused,
                    prohibited_used,
                }
            })
            .collect();
        RouteUseReport {
            profile: profile.name.clone(),
            api_base: base.to_owned(),
            declared_given: declared.is_some(),
            declared: declared.map(<[String]>::to_vec).unwrap_or_default(),
            clients,
            totals,
        }
    }

    /// Whether anything needs attention: prohibited routes used, or (with a
    /// declared list) undeclared routes used.
    pub fn has_findings(&self) -> bool {
        self.clients
            .iter()
            .any(|c| !c.prohibited_used.is_empty() || !c.undeclared_used.is_empty())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// A Markdown rendering for CI summaries.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Enterprise API route use\n");
        let _ = writeln!(
            s,
            "Profile `{}`, API base `{}`.\n",
            self.profile, self.api_base
        );
        if self.clients.is_empty() {
            let _ = writeln!(s, "No Enterprise API calls were recorded.");
        }
        let totals: Vec<String> = self
            .totals
            .iter()
            .map(|(k, v)| format!("{} {v}", k.as_str()))
            .collect();
        if !totals.is_empty() {
            let _ = writeln!(s, "Calls by class: {}.\n", totals.join(", "));
        }
        for c in &self.clients {
            let _ = writeln!(s, "## Client `{}`\n", c.client_id);
            let _ = writeln!(
                s,
                "| Route | Class | Calls | GSA | EAL | No session header | $filter | Statuses |"
            );
            let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---|");
            for r in &c.routes {
                let statuses: Vec<String> =
                    r.statuses.iter().map(|(k, v)| format!("{k}×{v}")).collect();
                let _ = writeln!(
                    s,
                    "| `{}`{} | {} | {} | {} | {} | {} | {} | {} |",
                    r.route,
                    if r.unknown { " (no such route)" } else { "" },
                    r.class.as_str(),
                    r.count,
                    r.gsa_calls,
                    r.eal_calls,
                    r.without_session_header,
                    r.with_filter,
                    statuses.join(" ")
                );
            }
            let _ = writeln!(s);
            list(
                &mut s,
                "GSA-prohibited routes used under GSA",
                &c.prohibited_used,
            );
            if self.declared_given {
                list(&mut s, "Used but not declared", &c.undeclared_used);
                list(&mut s, "Declared but not used", &c.declared_unused);
            }
        }
        s
    }
}

fn list(s: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(s, "**{title}:** none.\n");
        return;
    }
    let _ = writeln!(s, "**{title}:**\n");
    for i in items {
        let _ = writeln!(s, "- `{i}`");
    }
    let _ = writeln!(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let p = vec!["POST /persons/{personId}/chart/encounters".to_owned()];
        assert_eq!(
            classify("GET /persons/{personId}/chart/allergies", &p, true),
            RouteClass::UscdiGet
        );
        assert_eq!(
            classify("GET /persons/{id}/chart/encounters/{e}/vitals", &p, true),
            RouteClass::UscdiGet
        );
        assert_eq!(
            classify("GET /master/practices", &p, true),
            RouteClass::OtherGet
        );
        assert_eq!(
            classify("GET /persons/{personId}/chart/charges", &p, true),
            RouteClass::OtherGet
        );
        assert_eq!(
            classify("POST /persons/{x}/chart/encounters", &p, true),
            RouteClass::GsaProhibited
        );
        assert_eq!(
            classify("POST /persons/{x}/chart/encounters", &p, false),
            RouteClass::Write
        );
    }

    #[test]
    fn declared_parsing() {
        let d = parse_declared(
            "# routes\nget /persons/:personId # demographics\n\nPOST /nge/prod/nge-api/api/appointments/\n",
            "/nge/prod/nge-api/api",
        )
        .unwrap();
        assert_eq!(d, vec!["GET /persons/:personId", "POST /appointments"]);
        assert!(same_route(
            "GET /persons/:personId",
            "GET /persons/{personId}"
        ));
        let e = parse_declared("GET /a\nFETCH /b\n", "").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse_declared("GET\n", "").is_err());
    }
}
