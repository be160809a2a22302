//! Read and search: bearer check, faults and rate limits, scope enforcement,
//! 42 CFR Part 2 disclosure, search semantics, paging and Bundle assembly.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::guard::Guard;
use super::include::{self, Include};
use super::outcome::{FhirError, fhir_response};
use super::search::{Criterion, CriterionError, Kind};
use super::store::{ChartSet, Entry, Store};
use super::{read_only, render, store};
use crate::auth::scopes::perm;
use crate::auth::{Access, Bearer, Grant};
use crate::journal::Surface;
use crate::practice::{ConsentState, PatientIndex};
use crate::profile::{FhirResource, NoticeStyle, Part2Mode, Profile, UnknownParams};
use crate::server::{AppState, NoteSlot};

/// The §2.32 abbreviated statement.
pub const NOTICE_ABBREVIATED: &str =
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records.";
/// ngsim's wording of the full §2.32 notice.
pub const NOTICE_FULL: &str = "These records are disclosed to you from a program covered by the federal \
confidentiality rules for substance use disorder patient records (42 CFR part 2). Those rules forbid any \
further use or disclosure of these records unless the patient's written consent expressly permits it or \
42 CFR part 2 otherwise allows it. A general authorization to release medical or other information does \
not satisfy this requirement. The rules also bar using these records to investigate or prosecute the \
patient for a criminal offense. A copy of the patient's consent, or a clear description of its scope, \
accompanies this disclosure.";

/// Types rendered practice-wide rather than per chart.
const DIRECTORY_TYPES: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Group",
];

fn not_served(ty: &str) -> Response {
    FhirError::new(
        StatusCode::NOT_FOUND,
        "not-supported",
        format!("Resource type {ty} is not served by this server"),
    )
    .into_response()
}

fn interaction<'a>(
    p: &'a Profile,
    ty: &str,
    what: &str,
) -> Result<&'a FhirResource, Box<Response>> {
    let res = p
        .fhir
        .resources
        .get(ty)
        .ok_or_else(|| Box::new(not_served(ty)))?;
    if !res.interactions.iter().any(|i| i == what) {
        let mut r = FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!("The {what} interaction is not supported for {ty}"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return Err(Box::new(r));
    }
    Ok(res)
}

fn forbidden(msg: String) -> Response {
    FhirError::new(StatusCode::FORBIDDEN, "forbidden", msg).into_response()
}

/// Injected faults and the profile's rate limit, before any work.
async fn guard(
    state: &AppState,
    p: &Profile,
    slot: &NoteSlot,
    parts: &Parts,
    grant: &Grant,
) -> Option<Response> {
    Guard {
        surface: Surface::Fhir,
        subject: parts.uri.path(),
        limit: p.rate_limits.fhir.as_ref(),
        limiter: &store(state).rate,
        client_id: &grant.client_id,
    }
    .check(state, slot, parts)
    .await
}

/// Scope alternatives compiled for one resource type: `(patient_only,
/// granular criteria)`; an alternative whose granular parameters do not
/// parse for the type can never match and is dropped.
type Alts = Vec<(bool, Vec<Criterion>)>;

fn compile_alts(ty: &str, alts: Vec<(bool, Vec<(String, String)>)>) -> Alts {
    alts.into_iter()
        .filter_map(|(patient_only, params)| {
            let crits: Result<Vec<Criterion>, _> = params
                .iter()
                .map(|(k, v)| Criterion::parse(ty, k, v))
                .collect();
            crits.ok().map(|c| (patient_only, c))
        })
        .collect()
}

/// Whether `e` passes one of the scope alternatives.
fn scope_allows(alts: &Alts, e: &Entry, grant_patient: Option<PatientIndex>, now: i64) -> bool {
    alts.iter().any(|(patient_only, crits)| {
        let compartment_ok = !patient_only
            || e.patient.is_none()
            || (grant_patient.is_some() && e.patient == grant_patient);
        compartment_ok && crits.iter().all(|c| c.matches(&e.json, now))
    })
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn withheld(p: &Profile, grant: &Grant, chart: &ChartSet) -> bool {
    p.part2.mode == Part2Mode::Withhold
        && !(grant.part2_consent && chart.consent == ConsentState::Granted)
}

fn grant_patient(s: &Store, grant: &Grant) -> Option<PatientIndex> {
    grant.patient.as_deref().and_then(|id| s.patient_index(id))
}

/// `GET [base]/[type]/[id]`.
pub(super) async fn instance_level(
    state: &AppState,
    p: &Profile,
    slot: &NoteSlot,
    ty: &str,
    id: &str,
    req: Request,
) -> Response {
    if req.method() != Method::GET {
        return read_only(req.method());
    }
    if let Err(r) = interaction(p, ty, "read") {
        return *r;
    }
    let (parts, _) = req.into_parts();
    let grant = match Bearer::from_parts(&parts, state) {
        Ok(b) => b.0,
        Err(e) => return e.into_response(),
    };
    if let Some(r) = guard(state, p, slot, &parts, &grant).await {
        return r;
    }
    let alts = match grant.scopes.access(ty, perm::R) {
        Access::Denied => {
            slot.note("scope", "denied");
            return forbidden(format!(
                "The granted scopes do not allow reading {ty} resources"
            ));
        }
        Access::Allowed(a) => compile_alts(ty, a),
    };
    let s = store(state);
    let not_found = || {
        FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("Resource {ty}/{id} is not known"),
        )
        .into_response()
    };
    let entry = if ty == "Patient" {
        s.patient_index(id).and_then(|i| s.patient(i))
    } else if DIRECTORY_TYPES.contains(&ty) {
        s.directory().get(ty, id).cloned()
    } else {
        let Some(i) = s.owner_of(id) else {
            return not_found();
        };
        let Some(chart) = s.chart(i) else {
            return not_found();
        };
        let found = if ty == "Provenance" {
            id.strip_prefix("prov-")
                .and_then(|t| chart.entries.iter().find(|e| e.id == t))
                .map(|t| provenance_entry(s, t))
        } else {
            chart.get(ty, id).cloned()
        };
        if let Some(e) = &found {
            if e.part2 && withheld(p, &grant, &chart) {
                slot.note("part2", "withheld");
                return not_found();
            }
        }
        found
    };
    let Some(entry) = entry else {
        return not_found();
    };
    if !scope_allows(&alts, &entry, grant_patient(s, &grant), now_unix()) {
        slot.note("scope", "outside");
        return forbidden(format!(
            "{ty}/{id} is outside the granted scopes or patient context"
        ));
    }
    slot.with(|n| n.resource_ids.push(entry.id.clone()));
    if entry.part2 {
        slot.note("part2", "disclosed");
    }
    fhir_response(StatusCode::OK, entry.bytes.clone())
}

fn provenance_entry(s: &Store, target: &Entry) -> Arc<Entry> {
    let org = s.practice().enterprise().guid.to_string();
    Entry::new(render::provenance(&target.json, &org), target.patient)
}

/// A parsed search request.
struct SearchRequest {
    criteria: Vec<Criterion>,
    count: usize,
    offset: usize,
    /// Supported `_include`s.
    includes: Vec<Include>,
    /// Supported `_revinclude`s.
    revincludes: Vec<Include>,
    /// Unsupported `_include`/`_revinclude` values ignored under lenient handling.
    ignored_includes: Vec<String>,
    /// Accepted parameters, echoed in links (paging excluded).
    echo: Vec<(String, String)>,
}

/// How unknown or unsupported parameters are handled: the client's
/// `Prefer: handling=strict|lenient` (FHIR R4 search §3.1.1.4.1), else the
/// profile's default.
fn handling(p: &Profile, headers: &axum::http::HeaderMap) -> UnknownParams {
    for v in headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for pref in v.split(',').map(str::trim) {
            match pref.to_ascii_lowercase().as_str() {
                "handling=strict" => return UnknownParams::Error,
                "handling=lenient" => return UnknownParams::Ignore,
                _ => {}
            }
        }
    }
    p.fhir.unknown_params
}

fn parse_search(
    p: &Profile,
    res: &FhirResource,
    ty: &str,
    pairs: Vec<(String, String)>,
    mode: UnknownParams,
) -> Result<SearchRequest, Box<Response>> {
    let paging = p.fhir.paging_param.as_str();
    let mut q = SearchRequest {
        criteria: Vec::new(),
        count: p.fhir.default_page_size as usize,
        offset: 0,
        includes: Vec::new(),
        revincludes: Vec::new(),
        ignored_includes: Vec::new(),
        echo: Vec::new(),
    };
    let mut unsupported_includes = Vec::new();
    let mut unknown = Vec::new();
    let bad = |msg: String| {
        Box::new(FhirError::new(StatusCode::BAD_REQUEST, "invalid", msg).into_response())
    };
    for (k, v) in pairs {
        match k.as_str() {
            _ if k == paging => {
                let n: usize = v
                    .parse()
                    .map_err(|_| bad(format!("{paging} must be a non-negative integer")))?;
                q.count = n.min(p.fhir.max_page_size as usize);
                continue;
            }
            "_offset" => {
                q.offset = v
                    .parse()
                    .map_err(|_| bad("_offset must be a non-negative integer".into()))?;
                continue;
            }
            "_format" => {}
            "_revinclude" => match include::parse_revinclude(ty, &v, &res.revinclude) {
                Some(inc) => q.revincludes.push(inc),
                None => {
                    unsupported_includes.push(format!("_revinclude={v}"));
                    continue;
                }
            },
            "_include" => match include::parse_include(ty, &v, &res.include) {
                Some(incs) => q.includes.extend(incs),
                None => {
                    unsupported_includes.push(format!("_include={v}"));
                    continue;
                }
            },
            _ => {
                let base = k.split(':').next().unwrap_or(&k);
                if !res.search_params.iter().any(|d| d == base) {
                    unknown.push(k.clone());
                    continue;
                }
                match Criterion::parse(ty, &k, &v) {
                    Ok(c) => q.criteria.push(c),
                    Err(CriterionError::Unknown) => {
                        unknown.push(k.clone());
                        continue;
                    }
                    Err(CriterionError::Modifier(m)) => {
                        return Err(bad(format!(
                            "Modifier :{m} is not supported for search parameter {base}"
                        )));
                    }
                    Err(CriterionError::Value(val)) => {
                        return Err(bad(format!(
                            "Invalid value '{val}' for search parameter {base}"
                        )));
                    }
                }
            }
        }
        q.echo.push((k, v));
    }
    if mode == UnknownParams::Ignore {
        q.ignored_includes = unsupported_includes;
    } else {
        unknown.extend(unsupported_includes);
    }
    if !unknown.is_empty() && mode == UnknownParams::Error {
        let mut r = FhirError::new(
            StatusCode::BAD_REQUEST,
            "not-supported",
            format!(
                "Unknown or unsupported search parameter(s) for {ty}: {}",
                unknown.join(", ")
            ),
        )
        .into_response();
        r.headers_mut().insert(
            header::HeaderName::from_static("x-ngsim-unknown-params"),
            HeaderValue::from_str(&unknown.join(",")).unwrap_or(HeaderValue::from_static("?")),
        );
        return Err(Box::new(r));
    }
    Ok(q)
}

/// `GET [base]/[type]?…` and `POST [base]/[type]/_search`.
pub(super) async fn type_level(
    state: &AppState,
    p: &Profile,
    slot: &NoteSlot,
    ty: &str,
    post_search: bool,
    req: Request,
) -> Response {
    let method = req.method().clone();
    if !((method == Method::GET && !post_search) || (method == Method::POST && post_search)) {
        return read_only(&method);
    }
    let res = match interaction(p, ty, "search-type") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let (parts, body) = req.into_parts();
    let grant = match Bearer::from_parts(&parts, state) {
        Ok(b) => b.0,
        Err(e) => return e.into_response(),
    };
    if let Some(r) = guard(state, p, slot, &parts, &grant).await {
        return r;
    }
    let mut pairs = super::request::query_pairs(&parts.uri);
    if post_search {
        match super::request::limited_body(body, p.fhir.max_body_bytes).await {
            Ok(b) => pairs.extend(url::form_urlencoded::parse(&b).into_owned()),
            Err(e) => return e.into_response(),
        }
    }
    let alts = match grant.scopes.access(ty, perm::S) {
        Access::Denied => {
            slot.note("scope", "denied");
            return forbidden(format!(
                "The granted scopes do not allow searching {ty} resources"
            ));
        }
        Access::Allowed(a) => compile_alts(ty, a),
    };
    let q = match parse_search(p, res, ty, pairs, handling(p, &parts.headers)) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    search(state, p, slot, ty, &grant, &alts, q)
}

#[allow(clippy::too_many_arguments)]
fn search(
    state: &AppState,
    p: &Profile,
    slot: &NoteSlot,
    ty: &str,
    grant: &Grant,
    alts: &Alts,
    q: SearchRequest,
) -> Response {
    let s = store(state);
    let gp = grant_patient(s, grant);
    let now = now_unix();
    let criteria_ok = |e: &Entry| q.criteria.iter().all(|c| c.matches(&e.json, now));
    let in_scope = |e: &Entry| scope_allows(alts, e, gp, now);
    let keep = |e: &Entry| e.ty == ty && criteria_ok(e) && in_scope(e);
    // Criteria not judged against the clock are memoised per chart, one by
    // one, so a new combination of known criteria is an intersection.
    let (memoised, dated): (Vec<&Criterion>, Vec<&Criterion>) =
        q.criteria.iter().partition(|c| c.kind != Kind::Date);
    let mut matched: Vec<Arc<Entry>> = Vec::new();
    let mut part2_withheld = false;
    let mut part2_disclosed_consents: Vec<String> = Vec::new();
    if DIRECTORY_TYPES.contains(&ty) {
        let dir = s.directory();
        matched.extend(dir.entries.iter().filter(|e| keep(e)).cloned());
    } else {
        // Which patients to look at: those named by `patient` (or `_id` on
        // Patient), else the token's patient when every scope is patient-bound,
        // else everyone.
        let named: Option<Vec<PatientIndex>> = q
            .criteria
            .iter()
            .find(|c| {
                c.name == "patient" || (ty == "Patient" && c.name == "_id") || c.name == "subject"
            })
            .map(|c| {
                c.values
                    .iter()
                    .filter_map(|v| s.patient_index(v.rsplit('/').next().unwrap_or(v)))
                    .collect()
            });
        let all_patient_bound = alts.iter().all(|(po, _)| *po);
        // A type the practice renders no resources of (Endpoint,
        // Questionnaire, …) is empty without scanning every chart.
        let rendered = ty == "Provenance" || crate::bulk::job::COMPARTMENT_TYPES.contains(&ty);
        let patients: Vec<PatientIndex> = match (named, all_patient_bound) {
            _ if !rendered => Vec::new(),
            (Some(n), _) => n,
            (None, true) => gp.into_iter().collect(),
            (None, false) => s.practice().patient_indices().collect(),
        };
        for i in patients {
            if ty == "Patient" {
                if let Some(e) = s.patient(i) {
                    if keep(&e) {
                        matched.push(e);
                    }
                }
                continue;
            }
            let Some(chart) = s.chart(i) else { continue };
            let hide = withheld(p, grant, &chart);
            // `push` takes resources that already passed the criteria.
            let mut push = |e: Arc<Entry>| {
                if !in_scope(&e) {
                    return;
                }
                if e.part2 {
                    if hide {
                        part2_withheld = true;
                        return;
                    }
                    if let Some(c) = &chart.consent_id {
                        if !part2_disclosed_consents.contains(c) {
                            part2_disclosed_consents.push(c.clone());
                        }
                    }
                }
                matched.push(e);
            };
            if ty == "Provenance" {
                for t in &chart.entries {
                    let e = provenance_entry(s, t);
                    if criteria_ok(&e) {
                        push(e);
                    }
                }
            } else {
                for n in candidates(&chart, ty, &memoised, now) {
                    let e = &chart.entries[n as usize];
                    if dated.iter().all(|c| c.matches(&e.json, now)) {
                        push(e.clone());
                    }
                }
            }
        }
    }
    let total = matched.len();
    let page: Vec<Arc<Entry>> = matched.into_iter().skip(q.offset).take(q.count).collect();
    slot.with(|n| {
        n.resource_ids.extend(page.iter().map(|e| e.id.clone()));
    });
    slot.note("total", total.to_string());
    let mut inc = Included::new(s, p, grant);
    inc.resolve(&page, &q.includes, &q.revincludes);
    part2_withheld |= inc.part2_withheld;
    let includes = inc.out;
    let notice = if part2_withheld || !part2_disclosed_consents.is_empty() {
        slot.note(
            "part2",
            if part2_withheld {
                "withheld"
            } else {
                "disclosed"
            },
        );
        Some(part2_notice(p, part2_withheld, &part2_disclosed_consents))
    } else {
        None
    };
    let base = state.urls.http(&p.fhir.base_path);
    let ignored = (!q.ignored_includes.is_empty()).then(|| ignored_notice(&q.ignored_includes));
    let outcomes: Vec<&Value> = notice.iter().chain(ignored.iter()).collect();
    let body = bundle(p, &base, ty, total, &q, &page, &includes, &outcomes);
    fhir_response(StatusCode::OK, body)
}

/// Positions of the chart's `ty` resources that pass every criterion of
/// `memoised` (none judged against the clock), in chart order: each
/// criterion's matches come from the chart's memo ([`ChartSet::matching`]),
/// and are intersected.
fn candidates(chart: &ChartSet, ty: &str, memoised: &[&Criterion], now: i64) -> Vec<u32> {
    let mut out: Option<Vec<u32>> = None;
    for c in memoised {
        let m = chart.matching(Some(memo_key(ty, c)), ty, |e| c.matches(&e.json, now));
        out = Some(match out {
            None => m.to_vec(),
            Some(prev) => intersect(&prev, &m),
        });
    }
    out.unwrap_or_else(|| chart.matching(Some(ty.to_owned()), ty, |_| true).to_vec())
}

/// The common elements of two ascending lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().min(b.len())));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The memo key of criterion `c` on `ty`: everything its answer depends on
/// (name, `:exact`, values; the paths and kind follow from type and name).
fn memo_key(ty: &str, c: &Criterion) -> String {
    let mut key = format!("{ty}?{}{}=", c.name, if c.exact { ":exact" } else { "" });
    for v in &c.values {
        // Length-prefixed, so no value can be read as two.
        key.push_str(&v.len().to_string());
        key.push(':');
        key.push_str(v);
    }
    key
}

/// The warning for `_include`/`_revinclude` values ignored under lenient handling.
fn ignored_notice(ignored: &[String]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "id": "ignored-includes",
        "issue": [{
            "severity": "warning",
            "code": "not-supported",
            "diagnostics": format!(
                "Unsupported include parameter(s) ignored: {}",
                ignored.join(", ")
            ),
        }],
    })
}

/// Resources pulled in by `_include` and `_revinclude`, checked against
/// the scopes and Part 2 like matches, each once, and never a match again.
struct Included<'a> {
    s: &'a Store,
    p: &'a Profile,
    grant: &'a Grant,
    gp: Option<PatientIndex>,
    now: i64,
    alts: std::collections::HashMap<String, Option<Alts>>,
    seen: std::collections::HashSet<(String, String)>,
    out: Vec<Arc<Entry>>,
    part2_withheld: bool,
}

impl<'a> Included<'a> {
    fn new(s: &'a Store, p: &'a Profile, grant: &'a Grant) -> Included<'a> {
        Included {
            s,
            p,
            grant,
            gp: grant_patient(s, grant),
            now: now_unix(),
            alts: std::collections::HashMap::new(),
            seen: std::collections::HashSet::new(),
            out: Vec::new(),
            part2_withheld: false,
        }
    }

    fn resolve(&mut self, page: &[Arc<Entry>], incs: &[Include], revs: &[Include]) {
        for e in page {
            self.seen.insert((e.ty.clone(), e.id.clone()));
        }
        for e in page {
            for inc in incs {
                for (ty, id) in include::references(&e.json, inc.param) {
                    if inc.follows(ty) {
                        let (ty, id) = (ty.to_owned(), id.to_owned());
                        self.add_ref(&ty, &id);
                    }
                }
            }
        }
        for e in page {
            for rev in revs {
                self.add_revinclude(e, rev);
            }
        }
    }

    fn allowed(&mut self, e: &Entry) -> bool {
        let grant = self.grant;
        let alts = self.alts.entry(e.ty.clone()).or_insert_with(|| {
            match grant.scopes.access(&e.ty, perm::R) {
                Access::Denied => None,
                Access::Allowed(a) => Some(compile_alts(&e.ty, a)),
            }
        });
        alts.as_ref()
            .is_some_and(|a| scope_allows(a, e, self.gp, self.now))
    }

    fn push(&mut self, e: Arc<Entry>, hide: bool) {
        if !self.seen.insert((e.ty.clone(), e.id.clone())) {
            return;
        }
        if e.part2 && hide {
            self.part2_withheld = true;
            return;
        }
        if self.allowed(&e) {
            self.out.push(e);
        }
    }

    fn add_ref(&mut self, ty: &str, id: &str) {
        if self.seen.contains(&(ty.to_owned(), id.to_owned())) {
            return;
        }
        let s = self.s;
        if ty == "Patient" {
            if let Some(e) = s.patient_index(id).and_then(|i| s.patient(i)) {
                self.push(e, false);
            }
        } else if DIRECTORY_TYPES.contains(&ty) {
            if let Some(e) = s.directory().get(ty, id).cloned() {
                self.push(e, false);
            }
        } else if let Some(chart) = s.owner_of(id).and_then(|i| s.chart(i)) {
            let hide = withheld(self.p, self.grant, &chart);
            if let Some(e) = chart.get(ty, id).cloned() {
                self.push(e, hide);
            }
        }
    }

    fn add_revinclude(&mut self, target: &Arc<Entry>, rev: &Include) {
        let s = self.s;
        if rev.param.source == "Provenance" && rev.param.name == "target" {
            self.push(provenance_entry(s, target), false);
            return;
        }
        let Some(chart) = target.patient.and_then(|i| s.chart(i)) else {
            return;
        };
        let hide = withheld(self.p, self.grant, &chart);
        for e in chart.entries.iter().filter(|e| e.ty == rev.param.source) {
            if include::references(&e.json, rev.param)
                .iter()
                .any(|(t, i)| *t == target.ty && *i == target.id)
            {
                self.push(e.clone(), hide);
            }
        }
    }
}

/// The §2.32 notice as an OperationOutcome (with the Consent reference when
/// records were disclosed under it).
fn part2_notice(p: &Profile, withheld: bool, consents: &[String]) -> Value {
    let text = match p.part2.notice {
        NoticeStyle::Abbreviated => NOTICE_ABBREVIATED,
        NoticeStyle::Full => NOTICE_FULL,
    };
    let mut issue = json!({
        "severity": "information",
        "code": if withheld { "suppressed" } else { "informational" },
        "details": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}],
            "text": text,
        },
        "diagnostics": if withheld {
            format!("Records protected by 42 CFR part 2 were withheld: no consent covers this client. {text}")
        } else {
            text.to_owned()
        },
    });
    if !consents.is_empty() {
        issue["extension"] = consents
            .iter()
            .map(|c| json!({
                "url": "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-related-artifact",
                "valueReference": {"reference": format!("Consent/{c}")},
            }))
            .collect();
    }
    json!({"resourceType": "OperationOutcome", "id": "part2-notice", "issue": [issue]})
}

fn link(base: &str, ty: &str, params: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let qs = ser.finish();
    if qs.is_empty() {
        format!("{base}/{ty}")
    } else {
        format!("{base}/{ty}?{qs}")
    }
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).unwrap_or_default();
}

/// `s` escaped as the inside of a JSON string (no quotes). JSON escapes
/// character by character, so fragments written one after another give the
/// bytes of their concatenation escaped: a Bundle writes each `fullUrl` from
/// its parts without building it. Text with nothing to escape (every id
/// ngsim renders) is copied as it is.
fn push_json_fragment(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(s.as_bytes());
    } else {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        let inner = quoted.get(1..quoted.len().saturating_sub(1));
        out.extend_from_slice(inner.unwrap_or_default().as_bytes());
    }
}

#[allow(clippy::too_many_arguments)]
fn bundle(
    p: &Profile,
    base: &str,
    ty: &str,
    total: usize,
    q: &SearchRequest,
    page: &[Arc<Entry>],
    includes: &[Arc<Entry>],
    outcomes: &[&Value],
) -> Vec<u8> {
    let paging = p.fhir.paging_param.as_str().to_owned();
    let mut self_params = q.echo.clone();
    self_params.push((paging.clone(), q.count.to_string()));
    if q.offset > 0 {
        self_params.push(("_offset".into(), q.offset.to_string()));
    }
    let mut out = Vec::with_capacity(512 + page.iter().map(|e| e.bytes.len() + 160).sum::<usize>());
    out.extend_from_slice(b"{\"resourceType\":\"Bundle\",\"id\":");
    push_json_str(&mut out, &uuid::Uuid::new_v4().to_string());
    out.extend_from_slice(b",\"meta\":{\"lastUpdated\":");
    push_json_str(&mut out, &render::instant(time::OffsetDateTime::now_utc()));
    out.extend_from_slice(b"},\"type\":\"searchset\",\"total\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"link\":[{\"relation\":\"self\",\"url\":");
    push_json_str(&mut out, &link(base, ty, &self_params));
    out.push(b'}');
    let next = q.offset + q.count;
    if q.count > 0 && next < total {
        let mut np = q.echo.clone();
        np.push((paging, q.count.to_string()));
        np.push(("_offset".into(), next.to_string()));
        out.extend_from_slice(b",{\"relation\":\"next\",\"url\":");
        push_json_str(&mut out, &link(base, ty, &np));
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"entry\":[");
    let mut base_escaped = Vec::with_capacity(base.len());
    push_json_fragment(&mut base_escaped, base);
    let mut first = true;
    let mut entry = |out: &mut Vec<u8>, e_ty: &str, id: &str, body: &[u8], mode: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"fullUrl\":\"");
        out.extend_from_slice(&base_escaped);
        for part in ["/", e_ty, "/", id] {
            push_json_fragment(out, part);
        }
        out.push(b'"');
        out.extend_from_slice(b",\"resource\":");
        out.extend_from_slice(body);
        out.extend_from_slice(b",\"search\":{\"mode\":\"");
        out.extend_from_slice(mode.as_bytes());
        out.extend_from_slice(b"\"}}");
    };
    for e in page {
        entry(&mut out, &e.ty, &e.id, &e.bytes, "match");
    }
    for e in includes {
        entry(&mut out, &e.ty, &e.id, &e.bytes, "include");
    }
    for n in outcomes {
        let body = serde_json::to_vec(n).unwrap_or_default();
        let id = n["id"].as_str().unwrap_or_default();
        entry(&mut out, "OperationOutcome", id, &body, "outcome");
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{push_json_fragment, push_json_str};

    proptest! {
        /// Fragments escaped one by one, in quotes, give the bytes of their
        /// concatenation escaped as one JSON string.
        #[test]
        fn fragments_escape_like_the_whole(parts in proptest::collection::vec(any::<String>(), 0..5)) {
            let mut by_parts = vec![b'"'];
            for p in &parts {
                push_json_fragment(&mut by_parts, p);
            }
            by_parts.push(b'"');
            let mut whole = Vec::new();
            push_json_str(&mut whole, &parts.concat());
            prop_assert_eq!(by_parts, whole);
        }
    }
}
