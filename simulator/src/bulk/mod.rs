//! FHIR Bulk Data Access (IG STU2) `$export`: kick-off at system, patient and
//! group level, status polling (standard opaque URLs or NextGen Office's
//! `$export-poll-status?_jobId=`), manifests, cancel, and streamed NDJSON files.
//!
//! Routing: [`surfaces`] wraps the FHIR fallback. A request under the active
//! profile's `bulk.base_path` that names a bulk interaction (or any request
//! under a bulk base distinct from the FHIR base) is journaled as `bulk` and
//! handled here; everything else goes on to FHIR.
//!
//! Scope rule (IG STU2, "Bulk Data Kick-off Request" and the Backend Services
//! authorization section): a kick-off needs a backend-services token with
//! `system/` read scopes. A type named explicitly in `_type` that the scopes
//! do not cover is refused with **403** (`forbidden`) before any work, so the
//! client learns at once that its registration is wrong; when `_type` is
//! absent, types the scopes do not cover are silently left out (the export is
//! "all the data the client may see").
//!
//! Expired files answer **410 Gone** (not 404): the URL did exist, and 410
//! tells the client that re-running the export (not fixing the URL) is the cure.

pub mod job;
pub mod ndjson;
pub mod params;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::auth::scopes::{Context, perm};
use crate::auth::{Access, Bearer, Grant};
use crate::faults::FaultKind;
use crate::fhir::guard::{Guard, too_many};
use crate::fhir::outcome::{FhirError, fhir_response};
use crate::fhir::search::Criterion;
use crate::fhir::strip_base;
use crate::journal::{Detail, Note, Surface};
use crate::profile::{BulkStatusStyle, NoticeStyle, Part2Mode, Profile};
use crate::ratelimit::RateLimiter;
use crate::server::{AppState, NoteSlot, with_journal};
use job::{Job, Phase, Plan, Selection, Spec};

/// NDJSON media type of the files.
pub const NDJSON: &str = "application/fhir+ndjson";

/// Bulk state in [`AppState`]: jobs and rate-limit counters.
#[derive(Debug, Default)]
pub struct BulkState {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    rate: RateLimiter,
}

impl BulkState {
    /// A job by id.
    pub fn job(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.lock().get(id).cloned()
    }

    /// Forget every job (control-API reset).
    pub fn clear(&self) {
        for j in self.jobs.lock().values() {
            j.cancelled.store(true, Ordering::Relaxed);
        }
        self.jobs.lock().clear();
        self.rate.clear();
    }
}

/// Whether `path` is a bulk interaction under the active profile.
fn is_bulk(state: &AppState, path: &str) -> bool {
    let p = state.profile();
    if !p.bulk.enabled {
        return false;
    }
    let Some(rest) = strip_base(path, &p.bulk.base_path) else {
        return false;
    };
    if !p.bulk.base_path.eq_ignore_ascii_case(&p.fhir.base_path) {
        return true;
    }
    let segs = segments(rest);
    matches!(
        segs.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["$export"]
            | ["Patient", "$export"]
            | ["Group", _, "$export"]
            | ["$export-poll-status"]
            | ["$export-status", _]
            | ["$export-file", _, _]
    )
}

fn segments(rest: &str) -> Vec<String> {
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// The bulk surface in front of `next` (the FHIR and SMART fallback).
pub fn surfaces(state: AppState, next: Router) -> Router {
    let bulk = with_journal(
        Router::new().fallback(dispatch).with_state(state.clone()),
        &state,
        Surface::Bulk,
    );
    Router::new()
        .fallback(move |State(state): State<AppState>, req: Request| {
            let (bulk, next) = (bulk.clone(), next.clone());
            async move {
                let routed = if is_bulk(&state, req.uri().path()) {
                    bulk.oneshot(req).await
                } else {
                    next.oneshot(req).await
                };
                match routed {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            }
        })
        .with_state(state)
}

/// Which kick-off.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    System,
    Patient,
    Group(String),
}

impl Level {
    fn name(&self) -> &'static str {
        match self {
            Level::System => "system",
            Level::Patient => "patient",
            Level::Group(_) => "group",
        }
    }
}

async fn dispatch(State(state): State<AppState>, slot: NoteSlot, req: Request) -> Response {
    let p = state.profile();
    let path = req.uri().path().to_owned();
    let base = p.bulk.base_path.clone();
    let rest = strip_base(&path, &base).unwrap_or_default();
    let segs = segments(rest);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let route = |r: &str| slot.with(|n| n.route = Some(format!("{base}/{r}")));
    match segs.as_slice() {
        ["$export"] => {
            route("$export");
            kickoff(&state, &p, &slot, Level::System, req).await
        }
        ["Patient", "$export"] => {
            route("Patient/$export");
            kickoff(&state, &p, &slot, Level::Patient, req).await
        }
        ["Group", id, "$export"] => {
            route("Group/{id}/$export");
            kickoff(&state, &p, &slot, Level::Group((*id).to_owned()), req).await
        }
        ["$export-poll-status"] if p.bulk.status_style == BulkStatusStyle::PollStatus => {
            route("$export-poll-status");
            let id = req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "_jobId" || k == "jobId")
                    .map(|(_, v)| v.into_owned())
            });
            status(&state, &p, &slot, id.unwrap_or_default(), req).await
        }
        ["$export-status", id] if p.bulk.status_style == BulkStatusStyle::Standard => {
            route("$export-status/{job}");
            status(&state, &p, &slot, (*id).to_owned(), req).await
        }
        ["$export-file", id, name] => {
            route("$export-file/{job}/{file}");
            file(&state, &slot, id, name, req).await
        }
        ["Group", id] => {
            route("Group/{id}");
            group_read(&state, &slot, id, req)
        }
        _ => {
            route("(unknown)");
            FhirError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no Bulk Data interaction at {path}"),
            )
            .into_response()
        }
    }
}

/// Injected faults (rate limit, status, latency) and the profile's bulk rate limit.
async fn guard(
    state: &AppState,
    p: &Profile,
    slot: &NoteSlot,
    parts: &Parts,
    grant: &Grant,
) -> Option<Response> {
    let subject = match parts.uri.query() {
        Some(q) => format!("{}?{q}", parts.uri.path()),
        None => parts.uri.path().to_owned(),
    };
    Guard {
        surface: Surface::Bulk,
        subject: &subject,
        limit: p.rate_limits.bulk.as_ref(),
        limiter: &state.bulk.rate,
        client_id: &grant.client_id,
    }
    .check(state, slot, parts)
    .await
}

fn bad(code: &'static str, msg: impl Into<String>) -> Response {
    FhirError::new(StatusCode::BAD_REQUEST, code, msg).into_response()
}

fn forbidden(msg: impl Into<String>) -> Response {
    FhirError::new(StatusCode::FORBIDDEN, "forbidden", msg).into_response()
}

fn event(state: &AppState, name: &str, job: &Job, extra: Vec<Note>) {
    let mut notes = vec![
        Note::new("job", job.id.clone()),
        Note::new("client_id", job.client_id.clone()),
    ];
    notes.extend(extra);
    state.journal.record(
        Surface::Bulk,
        None,
        Detail::Event {
            name: name.to_owned(),
            notes,
        },
    );
}

/// Parsed `system/` scope alternatives for `ty`: `None` when not covered.
fn system_access(grant: &Grant, ty: &str) -> Option<Vec<Vec<Criterion>>> {
    let Access::Allowed(alts) = grant.scopes.access(ty, perm::R) else {
        return None;
    };
    let system: Vec<Vec<Criterion>> = grant
        .scopes
        .resources()
        .filter(|r| r.context == Context::System && r.names(ty) && r.verb.bits() & perm::R != 0)
        .map(|r| {
            r.params
                .iter()
                .filter_map(|(k, v)| Criterion::parse(ty, k, v).ok())
                .collect()
        })
        .collect();
    (!alts.is_empty() && !system.is_empty()).then_some(system)
}

#[allow(clippy::too_many_lines)]
async fn kickoff(
    state: &AppState,
    p: &Arc<Profile>,
    slot: &NoteSlot,
    level: Level,
    req: Request,
) -> Response {
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        let mut r = FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!("{method} is not supported for $export (use GET or POST)"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return r;
    }
    slot.note("level", level.name());
    if !p.bulk.levels.iter().any(|l| l == level.name()) {
        return FhirError::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!(
                "{}-level $export is not supported by this server",
                level.name()
            ),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let grant = match Bearer::from_parts(&parts, state) {
        Ok(b) => b.0,
        Err(e) => return e.into_response(),
    };
    if let Some(r) = guard(state, p, slot, &parts, &grant).await {
        return r;
    }
    if !grant
        .scopes
        .resources()
        .any(|r| r.context == Context::System)
    {
        slot.note("scope", "no-system-scope");
        return forbidden(
            "$export needs a backend-services token with system/ scopes (SMART Backend Services)",
        );
    }
    let prefer = parts
        .headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    if !prefer.contains("respond-async") {
        return bad(
            "invalid",
            "$export is asynchronous: send the header Prefer: respond-async",
        );
    }
    let lenient = prefer.contains("handling=lenient");
    let mut pairs = crate::fhir::request::query_pairs(&parts.uri);
    if method == Method::POST {
        let b = match crate::fhir::request::limited_body(body, p.fhir.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        };
        if !b.is_empty() {
            match params::pairs_from_parameters(&b) {
                Ok(more) => pairs.extend(more),
                Err(e) => return bad(e.code, e.msg),
            }
        }
    }
    let kp = match params::parse(&pairs, method == Method::POST, lenient) {
        Ok(k) => k,
        Err(e) => return bad(e.code, e.msg),
    };
    if !kp.ignored.is_empty() {
        slot.note("ignored-params", kp.ignored.join(","));
    }

    // Types: what this level exports, served by the FHIR profile, and covered
    // by the scopes.
    let served = |t: &str| p.fhir.resources.contains_key(t);
    let mut candidates: Vec<&str> = job::COMPARTMENT_TYPES
        .iter()
        .copied()
        .filter(|t| served(t))
        .collect();
    if level == Level::System {
        candidates.extend(job::DIRECTORY_TYPES.iter().copied().filter(|t| served(t)));
    }
    let mut scope_filters = BTreeMap::new();
    let mut types: Vec<String> = Vec::new();
    match &kp.types {
        Some(asked) => {
            for t in asked {
                if !candidates.contains(&t.as_str()) {
                    return bad(
                        "not-supported",
                        format!("_type {t} is not exported at {} level", level.name()),
                    );
                }
                match system_access(&grant, t) {
                    Some(f) => {
                        scope_filters.insert(t.clone(), f);
                        types.push(t.clone());
                    }
                    None => {
                        slot.note("scope", format!("denied:{t}"));
                        return forbidden(format!(
                            "_type {t} is not covered by the granted system/ scopes"
                        ));
                    }
                }
            }
        }
        None => {
            for t in &candidates {
                if let Some(f) = system_access(&grant, t) {
                    scope_filters.insert((*t).to_owned(), f);
                    types.push((*t).to_owned());
                }
            }
        }
    }
    let mut type_filters: BTreeMap<String, Vec<Vec<Criterion>>> = BTreeMap::new();
    for (t, c) in kp.type_filters {
        type_filters.entry(t).or_default().push(c);
    }
    let (directory_types, mut types): (Vec<String>, Vec<String>) = types
        .into_iter()
        .partition(|t| job::DIRECTORY_TYPES.contains(&t.as_str()));
    // includeAssociatedData=LatestProvenanceResources: a Provenance file
    // for the exported compartment resources, under the same scope rules.
    let provenance_org = if kp.associated_provenance {
        if !served("Provenance") {
            return bad(
                "not-supported",
                "includeAssociatedData=LatestProvenanceResources: this server serves no Provenance",
            );
        }
        match system_access(&grant, "Provenance") {
            Some(f) => {
                scope_filters.insert("Provenance".to_owned(), f);
                types.push("Provenance".to_owned());
            }
            None => {
                slot.note("scope", "denied:Provenance");
                return forbidden(
                    "includeAssociatedData=LatestProvenanceResources needs system/ read scope on Provenance",
                );
            }
        }
        Some(
            crate::fhir::store(state)
                .practice()
                .enterprise()
                .guid
                .to_string(),
        )
    } else {
        None
    };

    // Patients.
    let store = crate::fhir::store(state);
    let practice = store.practice().clone();
    let mut selection = match &level {
        Level::Group(id) => {
            let id = id.clone();
            let pr = practice.clone();
            let found = tokio::task::spawn_blocking(move || {
                crate::fhir::group_defs(&pr)
                    .into_iter()
                    .find(|g| g.id == id)
            })
            .await
            .ok()
            .flatten();
            match found {
                Some(g) => Selection::List(Arc::new(g.members)),
                None => {
                    return FhirError::new(
                        StatusCode::NOT_FOUND,
                        "not-found",
                        format!("Group/{} is not known", level_id(&level)),
                    )
                    .into_response();
                }
            }
        }
        _ => Selection::All(practice.patient_count()),
    };
    if let Some(refs) = &kp.patients {
        let mut wanted = Vec::new();
        for r in refs {
            let id = r.strip_prefix("Patient/").unwrap_or(r);
            match store.patient_index(id) {
                Some(i) => wanted.push(i),
                None => {
                    return bad("not-found", format!("patient {r} is not known"));
                }
            }
        }
        if let Selection::List(members) = &selection {
            wanted.retain(|i| members.contains(i));
        }
        selection = Selection::List(Arc::new(wanted));
    }

    // Concurrency.
    let now = Instant::now();
    let running = state
        .bulk
        .jobs
        .lock()
        .values()
        .filter(|j| j.client_id == grant.client_id && j.running(now))
        .count();
    if running >= p.bulk.max_concurrent_jobs as usize {
        slot.note("concurrent-jobs", running.to_string());
        return too_many(
            u64::from(p.bulk.retry_after_secs.max(1)),
            "Too many concurrent exports for this client",
        );
    }

    // Job-level faults.
    let path = parts.uri.path();
    let mut fired = Vec::new();
    let fails = state
        .faults
        .pick(Surface::Bulk, path, |k| {
            matches!(k, FaultKind::BulkJobFails)
        })
        .map(|i| i.name);
    fired.extend(fails.clone());
    let file_errors = match state.faults.pick(Surface::Bulk, path, |k| {
        matches!(k, FaultKind::BulkFileErrors { .. })
    }) {
        Some(inj) => {
            fired.push(inj.name);
            match inj.kind {
                FaultKind::BulkFileErrors { types } => types,
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let expire = state
        .faults
        .pick(Surface::Bulk, path, |k| {
            matches!(k, FaultKind::BulkExpireFiles)
        })
        .map(|i| i.name);
    fired.extend(expire.clone());
    if !fired.is_empty() {
        slot.with(|n| n.fault = Some(fired.join(",")));
    }

    let id = uuid::Uuid::new_v4().simple().to_string();
    let duration = p.bulk.export_duration;
    let files_expire = if expire.is_some() {
        now + duration
    } else {
        now + duration + p.bulk.file_expiry
    };
    let base_url = state.urls.http(&p.bulk.base_path);
    let request = format!(
        "{}{}",
        state.urls.http_base,
        if method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or(parts.uri.path(), |pq| pq.as_str())
        } else {
            parts.uri.path()
        }
    );
    let spec = Spec {
        types,
        directory_types,
        since: kp.since,
        until: kp.until,
        elements: kp.elements,
        provenance_org,
        type_filters,
        scope_filters,
        patients: selection,
        part2_withhold: p.part2.mode == Part2Mode::Withhold,
        part2_consent: grant.part2_consent,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let job = Arc::new(Job {
        id: id.clone(),
        client_id: grant.client_id.clone(),
        request,
        transaction_time: crate::fhir::render::instant(time::OffsetDateTime::now_utc()),
        started: now,
        duration,
        files_expire,
        requires_token: p.bulk.requires_access_token,
        file_base: format!("{base_url}/$export-file/{id}/"),
        spec: Arc::new(spec),
        fails,
        file_errors,
        ignored: kp.ignored,
        phase: Mutex::new(Phase::Planning),
        progress: AtomicUsize::new(0),
        cancelled: AtomicBool::new(false),
    });
    state.bulk.jobs.lock().insert(id.clone(), job.clone());
    slot.note("job", id.clone());
    event(
        state,
        "bulk-job-started",
        &job,
        vec![
            Note::new("level", level.name()),
            Note::new("patients", job.spec.patients.len().to_string()),
        ],
    );

    let max = p.bulk.file_max_resources as usize;
    let st = state.clone();
    let j = job.clone();
    tokio::task::spawn_blocking(move || {
        let store = crate::fhir::store(&st);
        let dir = if j.spec.directory_types.is_empty() {
            Vec::new()
        } else {
            store.directory().entries.clone()
        };
        let planned = job::plan(store.practice(), &dir, &j, max);
        if let Some(plan) = planned {
            let mut ph = j.phase.lock();
            if matches!(*ph, Phase::Planning) {
                *ph = Phase::Planned(Arc::new(plan));
            }
        }
    });

    let status_url = match p.bulk.status_style {
        BulkStatusStyle::Standard => format!("{base_url}/$export-status/{id}"),
        BulkStatusStyle::PollStatus => format!("{base_url}/$export-poll-status?_jobId={id}"),
    };
    let mut r = fhir_response(
        StatusCode::ACCEPTED,
        crate::fhir::outcome::json(
            "information",
            "informational",
            &format!("Export job {id} accepted"),
            None,
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&status_url) {
        r.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    r
}

fn level_id(l: &Level) -> &str {
    match l {
        Level::Group(id) => id,
        _ => "",
    }
}

fn not_found_job(id: &str) -> Response {
    FhirError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("No export job {id} (unknown, cancelled or removed)"),
    )
    .into_response()
}

/// Look up a job for this client: 404 when unknown or cancelled, 403 for another client.
fn owned_job(state: &AppState, grant: &Grant, id: &str) -> Result<Arc<Job>, Box<Response>> {
    let Some(job) = state.bulk.job(id) else {
        return Err(Box::new(not_found_job(id)));
    };
    if matches!(*job.phase.lock(), Phase::Cancelled) {
        return Err(Box::new(not_found_job(id)));
    }
    if job.client_id != grant.client_id {
        return Err(Box::new(forbidden(format!(
            "Export job {id} belongs to another client"
        ))));
    }
    Ok(job)
}

async fn status(
    state: &AppState,
    p: &Arc<Profile>,
    slot: &NoteSlot,
    id: String,
    req: Request,
) -> Response {
    let method = req.method().clone();
    if method != Method::GET && method != Method::DELETE {
        return FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!("{method} is not supported on a status URL (GET polls, DELETE cancels)"),
        )
        .into_response();
    }
    slot.note("job", id.clone());
    let (parts, _) = req.into_parts();
    let grant = match Bearer::from_parts(&parts, state) {
        Ok(b) => b.0,
        Err(e) => return e.into_response(),
    };
    if let Some(r) = guard(state, p, slot, &parts, &grant).await {
        return r;
    }
    let job = match owned_job(state, &grant, &id) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    if method == Method::DELETE {
        job.cancelled.store(true, Ordering::Relaxed);
        *job.phase.lock() = Phase::Cancelled;
        slot.note("bulk", "cancelled");
        event(state, "bulk-job-cancelled", &job, Vec::new());
        return fhir_response(
            StatusCode::ACCEPTED,
            crate::fhir::outcome::json(
                "information",
                "informational",
                &format!("Export job {id} cancelled; its files are removed"),
                None,
            ),
        );
    }
    let now = Instant::now();
    let phase = job.phase.lock().clone();
    let elapsed = now.duration_since(job.started);
    let done_time = elapsed >= job.duration;
    match phase {
        Phase::Cancelled => not_found_job(&id),
        Phase::Failed(msg) => {
            slot.note("bulk", "failed");
            FhirError::new(StatusCode::INTERNAL_SERVER_ERROR, "exception", msg).into_response()
        }
        Phase::Planned(plan) if done_time => {
            if let Some(name) = &job.fails {
                let msg = format!("The export job failed (injected fault: {name})");
                *job.phase.lock() = Phase::Failed(msg.clone());
                slot.with(|n| n.fault = Some(name.clone()));
                slot.note("bulk", "failed");
                event(
                    state,
                    "bulk-job-failed",
                    &job,
                    vec![Note::new("fault", name.clone())],
                );
                return FhirError::new(StatusCode::INTERNAL_SERVER_ERROR, "exception", msg)
                    .into_response();
            }
            slot.note("bulk", "complete");
            manifest(state, p, &job, &plan, now)
        }
        _ => {
            let total = job.spec.patients.len().max(1);
            let planned = job.progress.load(Ordering::Relaxed) * 100 / total;
            let timed = if job.duration.is_zero() {
                100
            } else {
                (elapsed.as_millis() * 100 / job.duration.as_millis()).min(100) as usize
            };
            let pct = planned.min(timed).min(99);
            slot.note("bulk", "in-progress");
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!("{pct}% exported")) {
                h.insert("x-progress", v);
            }
            if let Ok(v) = HeaderValue::from_str(&p.bulk.retry_after_secs.max(1).to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

fn http_date(at: Instant, now: Instant) -> String {
    let wall = std::time::SystemTime::now();
    let t = if at >= now {
        wall + (at - now)
    } else {
        wall - (now - at)
    };
    let t = time::OffsetDateTime::from(t);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

/// The notices file name (Part 2 and ignored parameters).
const NOTICES: &str = "notices.ndjson";

fn manifest(state: &AppState, p: &Profile, job: &Job, plan: &Plan, now: Instant) -> Response {
    let output: Vec<Value> = plan
        .files
        .iter()
        .filter(|f| !job.file_errors.contains(&f.ty))
        .map(|f| json!({"type": f.ty, "url": format!("{}{}", job.file_base, f.name), "count": f.count}))
        .collect();
    let mut error: Vec<Value> = Vec::new();
    let mut failed_types: Vec<&String> = plan
        .files
        .iter()
        .map(|f| &f.ty)
        .filter(|t| job.file_errors.contains(t))
        .collect();
    failed_types.dedup();
    for t in failed_types {
        error.push(json!({"type": "OperationOutcome", "url": format!("{}error-{t}.ndjson", job.file_base)}));
    }
    if plan.withheld > 0 || plan.disclosed > 0 || !job.ignored.is_empty() {
        error.push(
            json!({"type": "OperationOutcome", "url": format!("{}{NOTICES}", job.file_base)}),
        );
    }
    let _ = state;
    let body = json!({
        "transactionTime": job.transaction_time,
        "request": job.request,
        "requiresAccessToken": job.requires_token,
        "output": output,
        "error": error,
    });
    let _ = p;
    let mut r = Response::new(Body::from(body.to_string()));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&http_date(job.files_expire, now)) {
        h.insert(header::EXPIRES, v);
    }
    r
}

fn notice_text(p: &Profile) -> &'static str {
    match p.part2.notice {
        NoticeStyle::Abbreviated => crate::fhir::NOTICE_ABBREVIATED,
        NoticeStyle::Full => crate::fhir::NOTICE_FULL,
    }
}

/// The OperationOutcome lines of the notices file.
fn notices(p: &Profile, job: &Job, plan: &Plan) -> String {
    let text = notice_text(p);
    let coding = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}], "text": text});
    let mut lines = Vec::new();
    if plan.withheld > 0 {
        lines.push(json!({
            "resourceType": "OperationOutcome",
            "id": "part2-withheld",
            "issue": [{
                "severity": "information",
                "code": "suppressed",
                "details": coding,
                "diagnostics": format!("{} records withheld: they are protected by 42 CFR part 2 and no consent covers this client. {text}", plan.withheld),
            }],
        }));
    }
    if plan.disclosed > 0 {
        lines.push(json!({
            "resourceType": "OperationOutcome",
            "id": "part2-disclosed",
            "issue": [{
                "severity": "information",
                "code": "informational",
                "details": coding,
                "diagnostics": format!("{} records disclosed under 42 CFR part 2 consent. {text}", plan.disclosed),
            }],
        }));
    }
    if !job.ignored.is_empty() {
        lines.push(json!({
            "resourceType": "OperationOutcome",
            "id": "ignored-parameters",
            "issue": [{
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": format!("Ignored under Prefer: handling=lenient: {}", job.ignored.join(", ")),
            }],
        }));
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn ndjson_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    r
}

async fn file(state: &AppState, slot: &NoteSlot, id: &str, name: &str, req: Request) -> Response {
    if req.method() != Method::GET {
        return FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            "Bulk files are read with GET",
        )
        .into_response();
    }
    slot.note("job", id);
    slot.note("file", name);
    let p = state.profile();
    let (parts, _) = req.into_parts();
    let Some(job) = state.bulk.job(id) else {
        return not_found_job(id);
    };
    if job.requires_token {
        let grant = match Bearer::from_parts(&parts, state) {
            Ok(b) => b.0,
            Err(e) => return e.into_response(),
        };
        if grant.client_id != job.client_id {
            slot.note("auth", "other-client");
            return forbidden("This file belongs to an export started by another client");
        }
    } else {
        slot.with(|n| n.client_id = Some(job.client_id.clone()));
    }
    let plan = match &*job.phase.lock() {
        Phase::Planned(plan) => plan.clone(),
        _ => return not_found_job(id),
    };
    let now = Instant::now();
    if now < job.started + job.duration || job.fails.is_some() {
        return not_found_job(id);
    }
    if now >= job.files_expire {
        slot.note("bulk", "expired");
        return FhirError::new(
            StatusCode::GONE,
            "expired",
            format!("The files of export job {id} have expired; start a new export"),
        )
        .into_response();
    }
    if name == NOTICES {
        return ndjson_response(Body::from(notices(&p, &job, &plan)));
    }
    if let Some(t) = name
        .strip_prefix("error-")
        .and_then(|n| n.strip_suffix(".ndjson"))
    {
        if job.file_errors.iter().any(|x| x == t) {
            let line = crate::fhir::outcome::json(
                "error",
                "exception",
                &format!("Generating the {t} file failed (injected fault: bulk-file-errors)"),
                None,
            );
            return ndjson_response(Body::from(format!("{line}\n")));
        }
    }
    let Some(f) = plan
        .files
        .iter()
        .find(|f| f.name == name && !job.file_errors.contains(&f.ty))
        .cloned()
    else {
        return FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("Export job {id} has no file {name}"),
        )
        .into_response();
    };
    slot.note("count", f.count.to_string());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let st = state.clone();
    let spec = job.spec.clone();
    tokio::task::spawn_blocking(move || {
        let store = crate::fhir::store(&st);
        let dir = if matches!(f.start, job::Start::Directory { .. }) {
            store.directory().entries.clone()
        } else {
            Vec::new()
        };
        job::produce(store.practice(), &dir, &spec, &f, |b| {
            tx.blocking_send(b).is_ok()
        });
    });
    let stream = futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|o| o.map(Ok::<_, std::convert::Infallible>))
    });
    ndjson_response(Body::from_stream(stream))
}

fn group_read(state: &AppState, slot: &NoteSlot, id: &str, req: Request) -> Response {
    if req.method() != Method::GET {
        return crate::fhir::read_only(req.method());
    }
    let (parts, _) = req.into_parts();
    let grant = match Bearer::from_parts(&parts, state) {
        Ok(b) => b.0,
        Err(e) => return e.into_response(),
    };
    if matches!(grant.scopes.access("Group", perm::R), Access::Denied) {
        return forbidden("The granted scopes do not allow reading Group resources");
    }
    match crate::fhir::store(state).directory().get("Group", id) {
        Some(e) => {
            slot.with(|n| n.resource_ids.push(e.id.clone()));
            fhir_response(StatusCode::OK, e.bytes.clone())
        }
        None => FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("Resource Group/{id} is not known"),
        )
        .into_response(),
    }
}
