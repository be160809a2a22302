//! Export jobs: what to export ([`Spec`]), the planning pass that counts
//! resources and cuts files ([`Plan`]), and the lazy NDJSON generators that
//! serve each file.
//!
//! Memory never scales with the population: the planning pass renders one
//! chart at a time (bypassing the FHIR render cache) and keeps only counters
//! and one cursor per output file; a download re-renders its file's charts
//! from the file's cursor, one chart at a time, into bounded chunks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::{Duration, Instant};

use crate::fhir::render;
use crate::fhir::search::Criterion;
use crate::practice::{Chart, ChartParts, ConsentState, List, PatientIndex, Practice};

/// Chunk size handed to the HTTP body.
const CHUNK: usize = 128 * 1024;

/// Which patients an export covers.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Patients `0..n` (system and patient level).
    All(u32),
    /// These patients, in order (a Group, or a `patient` list).
    List(Arc<Vec<PatientIndex>>),
}

impl Selection {
    /// Number of patients.
    pub fn len(&self) -> usize {
        match self {
            Selection::All(n) => *n as usize,
            Selection::List(l) => l.len(),
        }
    }

    /// Whether no patient is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The patient at position `pos`.
    pub fn get(&self, pos: usize) -> Option<PatientIndex> {
        match self {
            Selection::All(n) => (pos < *n as usize).then_some(PatientIndex(pos as u32)),
            Selection::List(l) => l.get(pos).copied(),
        }
    }
}

/// What an export job writes. Fixed at kick-off.
#[derive(Debug)]
pub struct Spec {
    /// Resource types, in output order.
    pub types: Vec<String>,
    /// Practice-wide types exported from the directory (system level only).
    pub directory_types: Vec<String>,
    /// `_since`.
    pub since: Option<OffsetDateTime>,
    /// `_until` (STU3).
    pub until: Option<OffsetDateTime>,
    /// `_elements`: `(type or every type, root element)`; `None` exports
    /// whole resources.
    pub elements: Option<Vec<(Option<String>, String)>>,
    /// `includeAssociatedData=LatestProvenanceResources`: the Organization
    /// id that authors the Provenance exported for every kept resource (then
    /// `types` ends with `Provenance`).
    pub provenance_org: Option<String>,
    /// Per type, alternatives (any) of criteria (all): `_typeFilter`.
    pub type_filters: BTreeMap<String, Vec<Vec<Criterion>>>,
    /// Per type, alternatives of the granted `system/` scopes' granular
    /// parameters (an empty alternative allows everything).
    pub scope_filters: BTreeMap<String, Vec<Vec<Criterion>>>,
    /// Patients.
    pub patients: Selection,
    /// Whether Part 2 records are withheld unless consented (profile mode).
    pub part2_withhold: bool,
    /// Whether the client's registration carries Part 2 consent.
    pub part2_consent: bool,
    /// "Now" for relative date criteria (Unix seconds at kick-off).
    pub now: i64,
}

fn any_all(alts: Option<&Vec<Vec<Criterion>>>, v: &Value, now: i64) -> bool {
    alts.is_none_or(|alts| alts.iter().any(|all| all.iter().all(|c| c.matches(v, now))))
}

/// Whether a rendered resource carries the 42 CFR Part 2 label.
pub fn is_part2(v: &Value) -> bool {
    v["meta"]
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|c| c["code"] == "42CFRPart2"))
}

impl Spec {
    /// Whether `v` (of type `ty`) passes `_since`, `_typeFilter` and the scopes.
    pub fn keeps(&self, ty: &str, v: &Value) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let updated = v["meta"]["lastUpdated"]
                .as_str()
                .and_then(super::params::parse_instant);
            if let Some(u) = updated {
                if self.since.is_some_and(|s| u <= s) || self.until.is_some_and(|t| u > t) {
                    return false;
                }
            }
        }
        any_all(self.type_filters.get(ty), v, self.now)
            && any_all(self.scope_filters.get(ty), v, self.now)
    }

    /// Whether `ty` resources can skip the JSON tree: no `_elements`, no
    /// `_typeFilter` for it, and a scope alternative without criteria.
    pub fn typed(&self, ty: &str) -> bool {
        super::ndjson::TYPED.contains(&ty)
            && self.elements.is_none()
            && !self.type_filters.contains_key(ty)
            && self
                .scope_filters
                .get(ty)
                .is_none_or(|alts| alts.iter().any(Vec::is_empty))
    }

    /// `_since` and `_until` on a record's last update.
    fn in_window(&self, updated: OffsetDateTime) -> bool {
        self.since.is_none_or(|s| updated > s) && self.until.is_none_or(|u| updated <= u)
    }

    /// Whether patient `i`'s Part 2 records are withheld from this job.
    pub fn withholds(&self, practice: &Practice, i: PatientIndex) -> bool {
        self.part2_withhold
            && !(self.part2_consent && practice.consent_state(i) == ConsentState::Granted)
    }
}

/// Resources of type `ty` in one chart, in `render::chart_resources` order,
/// rendering only that type.
pub fn render_type(p: &Practice, c: &Chart, ty: &str) -> Vec<Value> {
    match ty {
        "Patient" => vec![render::patient(p, &c.patient)],
        "Encounter" => c
            .encounters
            .iter()
            .map(|e| render::encounter(p, e))
            .collect(),
        "Condition" => c.conditions.iter().map(render::condition).collect(),
        "MedicationRequest" => c
            .medications
            .iter()
            .map(render::medication_request)
            .collect(),
        "MedicationStatement" => c
            .medications
            .iter()
            .map(render::medication_statement)
            .collect(),
        "AllergyIntolerance" => c.allergies.iter().map(render::allergy).collect(),
        "Observation" => {
            let mut v: Vec<Value> = c.observations.iter().map(render::observation).collect();
            v.extend(render::sdoh_observations(&c.patient));
            v
        }
        "DiagnosticReport" => c.lab_panels.iter().map(render::diagnostic_report).collect(),
        "Immunization" => c.immunizations.iter().map(render::immunization).collect(),
        "Procedure" => c.procedures.iter().map(render::procedure).collect(),
        "DocumentReference" => c.documents.iter().map(render::document).collect(),
        "CarePlan" => c.care_plans.iter().map(render::care_plan).collect(),
        "CareTeam" => c.care_team.iter().map(render::care_team).collect(),
        "Goal" => c.goals.iter().map(render::goal).collect(),
        "Coverage" => c.coverages.iter().map(render::coverage).collect(),
        "Device" => c.devices.iter().map(render::device).collect(),
        "ServiceRequest" => c.lab_panels.iter().map(render::service_request).collect(),
        "Specimen" => c.lab_panels.iter().map(render::specimen).collect(),
        "Consent" => c.consent.iter().map(|x| render::consent(p, x)).collect(),
        "Appointment" => c.appointments.iter().map(render::appointment).collect(),
        _ => Vec::new(),
    }
}

/// The chart lists [`render_type`] renders `ty` from (none for `Patient`,
/// which is the demographics alone, and for types no chart holds).
pub fn lists_of(ty: &str) -> ChartParts {
    let list = match ty {
        "Encounter" => List::Encounters,
        "Condition" => List::Conditions,
        "MedicationRequest" | "MedicationStatement" => List::Medications,
        "AllergyIntolerance" => List::Allergies,
        "Observation" => List::Observations,
        "DiagnosticReport" | "ServiceRequest" | "Specimen" => List::LabPanels,
        "Immunization" => List::Immunizations,
        "Procedure" => List::Procedures,
        "DocumentReference" => List::Documents,
        "CarePlan" => List::CarePlans,
        "CareTeam" => List::CareTeam,
        "Goal" => List::Goals,
        "Coverage" => List::Coverages,
        "Device" => List::Devices,
        "Consent" => List::Consent,
        "Appointment" => List::Appointments,
        _ => return ChartParts::NONE,
    };
    ChartParts::NONE.with(list)
}

/// What the job exports of type `ty` from one chart, before filtering:
/// [`render_type`], or for the associated `Provenance` the Provenance of
/// every kept resource of the job's other types.
pub fn job_resources(p: &Practice, c: &Chart, spec: &Spec, ty: &str) -> Vec<Value> {
    match &spec.provenance_org {
        Some(org) if ty == "Provenance" => spec
            .types
            .iter()
            .filter(|t| *t != "Provenance")
            .flat_map(|t| {
                render_type(p, c, t)
                    .into_iter()
                    .filter(|v| spec.keeps(t, v))
                    .map(|v| render::provenance(&v, org))
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => render_type(p, c, ty),
    }
}

/// The `SUBSETTED` tag (FHIR R4 `v3-ObservationValue`) a subset resource carries.
pub const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// Root elements FHIR R4 makes mandatory (min 1) for the exported types:
/// `_elements` never removes them, so a subset stays a valid resource.
fn mandatory(ty: &str) -> &'static [&'static str] {
    match ty {
        "Observation" | "DiagnosticReport" => &["status", "code"],
        "Condition" | "Procedure" => &["subject", "status"],
        "Encounter" => &["status", "class"],
        "MedicationRequest" => &["status", "intent", "medication", "subject"],
        "MedicationStatement" => &["status", "medication", "subject"],
        "AllergyIntolerance" => &["patient"],
        "Immunization" => &["status", "vaccineCode", "patient", "occurrence"],
        "DocumentReference" => &["status", "content"],
        "CarePlan" => &["status", "intent", "subject"],
        "Goal" => &["lifecycleStatus", "description", "subject"],
        "Coverage" => &["status", "beneficiary", "payor"],
        "Consent" => &["status", "scope", "category"],
        "Appointment" => &["status", "participant"],
        "Provenance" => &["target", "recorded", "agent"],
        "ServiceRequest" => &["status", "intent", "subject"],
        "Group" => &["type", "actual"],
        _ => &[],
    }
}

/// Apply `_elements` to a resource of type `ty`: keep `resourceType`, `id`,
/// `meta`, the mandatory elements and the listed ones (a choice element
/// `value[x]` is named `value`), and tag `meta` with `SUBSETTED`.
pub fn subset(elements: &[(Option<String>, String)], ty: &str, v: &mut Value) {
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    let listed = |k: &str| {
        elements.iter().any(|(t, e)| {
            t.as_deref().is_none_or(|t| t == ty)
                && (e == k || e.strip_suffix("[x]").is_some_and(|b| choice_of(k, b)))
        })
    };
    let required = mandatory(ty);
    let before = obj.len();
    obj.retain(|k, _| {
        matches!(k.as_str(), "resourceType" | "id" | "meta")
            || listed(k)
            || required.iter().any(|r| *r == k || choice_of(k, r))
            || elements
                .iter()
                .any(|(t, e)| t.as_deref().is_none_or(|t| t == ty) && choice_of(k, e))
    });
    if obj.len() == before {
        return;
    }
    let meta = obj
        .entry("meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(m) = meta.as_object_mut() {
        let tags = m.entry("tag").or_insert_with(|| Value::Array(Vec::new()));
        if let Some(a) = tags.as_array_mut() {
            a.push(serde_json::json!({"system": SUBSETTED_SYSTEM, "code": "SUBSETTED"}));
        }
    }
}

/// Whether JSON key `k` is choice element `base[x]` (`valueQuantity` of `value`).
fn choice_of(k: &str, base: &str) -> bool {
    k.strip_prefix(base)
        .is_some_and(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

/// Types found in a patient's compartment (what `render_type` knows).
pub const COMPARTMENT_TYPES: &[&str] = &[
    "Patient",
    "Encounter",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Observation",
    "DiagnosticReport",
    "Immunization",
    "Procedure",
    "DocumentReference",
    "CarePlan",
    "CareTeam",
    "Goal",
    "Coverage",
    "Device",
    "ServiceRequest",
    "Specimen",
    "Consent",
    "Appointment",
];

/// Practice-wide types a system-level export adds.
pub const DIRECTORY_TYPES: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
];

/// Where a file starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At selection position `pos`, after `skip` kept resources of the type there.
    Patients {
        /// Selection position.
        pos: usize,
        /// Kept resources of the type to skip in that chart.
        skip: usize,
    },
    /// In the practice directory, after `skip` kept resources of the type.
    Directory {
        /// Kept resources to skip.
        skip: usize,
    },
}

/// One output file.
#[derive(Debug, Clone)]
pub struct FilePlan {
    /// Resource type.
    pub ty: String,
    /// File name in URLs (`Observation-2.ndjson`).
    pub name: String,
    /// Where it starts.
    pub start: Start,
    /// Resources in it.
    pub count: usize,
}

/// The outcome of the planning pass.
#[derive(Debug, Default)]
pub struct Plan {
    /// Output files, by type then part.
    pub files: Vec<FilePlan>,
    /// Part 2 records left out (no consent).
    pub withheld: u64,
    /// Part 2 records exported (consented).
    pub disclosed: u64,
}

/// Where a job is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Counting and cutting files.
    Planning,
    /// Files are known; served once the export duration has passed.
    Planned(Arc<Plan>),
    /// The job failed.
    Failed(String),
    /// The client deleted it.
    Cancelled,
}

/// One export job.
#[derive(Debug)]
pub struct Job {
    /// Opaque id.
    pub id: String,
    /// The client that started it; only it may poll and download.
    pub client_id: String,
    /// The kick-off URL (for POST, without the parameters).
    pub request: String,
    /// `transactionTime`.
    pub transaction_time: String,
    /// Kick-off instant (tokio clock).
    pub started: Instant,
    /// Simulated export duration.
    pub duration: Duration,
    /// When files stop being downloadable.
    pub files_expire: Instant,
    /// `requiresAccessToken`.
    pub requires_token: bool,
    /// Absolute URL prefix of this job's files (ends with `/`).
    pub file_base: String,
    /// What to export.
    pub spec: Arc<Spec>,
    /// Injected: the job fails (fault name).
    pub fails: Option<String>,
    /// Injected: these types' files fail.
    pub file_errors: Vec<String>,
    /// Parameters ignored under lenient handling.
    pub ignored: Vec<String>,
    /// Phase.
    pub phase: Mutex<Phase>,
    /// Planning progress (selection positions done).
    pub progress: AtomicUsize,
    /// Set on cancel; stops the planning pass.
    pub cancelled: AtomicBool,
}

impl Job {
    /// Whether the job still counts against the concurrency limit.
    pub fn running(&self, now: Instant) -> bool {
        match &*self.phase.lock() {
            Phase::Planning => true,
            Phase::Planned(_) => now < self.started + self.duration,
            Phase::Failed(_) | Phase::Cancelled => false,
        }
    }
}

/// The chart of patient `pos` of the selection, uncached, with the lists
/// rendering `types` reads ([`lists_of`]; a `Provenance` reads those of the
/// job's other types). A `Patient` file, or a `Consent` file of a patient
/// who cannot have a consent, reads no list: the demographics alone.
fn chart_at(
    practice: &Practice,
    spec: &Spec,
    types: &[&str],
    pos: usize,
) -> Option<(PatientIndex, Chart)> {
    let i = spec.patients.get(pos)?;
    let lists = |ty: &str| match ty {
        "Consent" if !practice.may_have_consent(i) => ChartParts::NONE,
        _ => lists_of(ty),
    };
    let mut parts = ChartParts::NONE;
    for ty in types {
        parts = parts.union(match *ty {
            "Provenance" => spec
                .types
                .iter()
                .filter(|t| *t != "Provenance")
                .fold(ChartParts::NONE, |p, t| p.union(lists(t))),
            ty => lists(ty),
        });
    }
    practice.chart_with(i, parts).map(|c| (i, c))
}

struct Cutter {
    max: usize,
    files: Vec<FilePlan>,
    open: BTreeMap<String, (Start, usize, usize)>,
}

impl Cutter {
    fn add(&mut self, ty: &str, start: Start) {
        let e = self.open.entry(ty.to_owned()).or_insert((start, 0, 0));
        if e.1 == 0 {
            e.0 = start;
        }
        e.1 += 1;
        if e.1 == self.max {
            e.2 += 1;
            let part = e.2;
            self.files.push(FilePlan {
                ty: ty.to_owned(),
                name: format!("{ty}-{part}.ndjson"),
                start: e.0,
                count: e.1,
            });
            e.1 = 0;
        }
    }

    fn finish(mut self, order: &[String]) -> Vec<FilePlan> {
        for (ty, (start, n, part)) in std::mem::take(&mut self.open) {
            if n > 0 {
                self.files.push(FilePlan {
                    name: format!("{ty}-{}.ndjson", part + 1),
                    ty,
                    start,
                    count: n,
                });
            }
        }
        let rank = |t: &str| order.iter().position(|o| o == t).unwrap_or(usize::MAX);
        self.files
            .sort_by_key(|f| (rank(&f.ty), f.name.len(), f.name.clone()));
        self.files
    }
}

/// Patients per worker per round of the parallel passes.
const ROUND: usize = 16;

/// Map `f` over `range` on the available cores, handing the results to `sink`
/// in order; stops when `sink` returns `false` (and returns `false`).
///
/// The workers are spawned once per call (not per round): worker `k` maps
/// rounds `k, k + workers, …` of [`ROUND`] positions and hands each round over
/// a one-slot channel, so production overlaps `sink` and at most two rounds
/// per worker are held at a time, whatever the range.
fn ordered<T: Send>(
    range: std::ops::Range<usize>,
    f: impl Fn(usize) -> T + Sync,
    mut sink: impl FnMut(usize, T) -> bool,
) -> bool {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 8);
    if workers == 1 || range.len() <= ROUND {
        return range.into_iter().all(|pos| sink(pos, f(pos)));
    }
    let (start, end) = (range.start, range.end);
    let f = &f;
    std::thread::scope(|s| {
        let rxs: Vec<_> = (0..workers)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(1);
                s.spawn(move || {
                    let mut from = start + k * ROUND;
                    while from < end {
                        let round = (from..(from + ROUND).min(end)).map(f).collect();
                        if tx.send(round).is_err() {
                            return; // the sink stopped
                        }
                        from += ROUND * workers;
                    }
                });
                rx
            })
            .collect();
        let mut pos = start;
        for rx in rxs.iter().cycle() {
            if pos >= end {
                break;
            }
            // A worker that panicked drops its sender; the scope re-raises it.
            let Ok(round) = rx.recv() else {
                return false;
            };
            for t in round {
                if !sink(pos, t) {
                    return false;
                }
                pos += 1;
            }
        }
        true
    })
}

/// The planning pass: count every kept resource, cut files at `max` resources.
/// Returns `None` when cancelled. Runs on a blocking thread.
pub fn plan(
    practice: &Practice,
    directory: &[Arc<crate::fhir::store::Entry>],
    job: &Job,
    max: usize,
) -> Option<Plan> {
    let spec = &job.spec;
    let mut cut = Cutter {
        max: max.max(1),
        files: Vec::new(),
        open: BTreeMap::new(),
    };
    let mut out = Plan::default();
    for ty in &spec.directory_types {
        let mut k = 0;
        for e in directory.iter().filter(|e| e.ty == *ty) {
            if spec.keeps(ty, &e.json) {
                cut.add(ty, Start::Directory { skip: k });
                k += 1;
            }
        }
    }
    let types: Vec<&str> = spec.types.iter().map(String::as_str).collect();
    // Per patient: kept resources per type (in `spec.types` order), withheld, disclosed.
    let count = |pos: usize| -> (Vec<usize>, u64, u64) {
        let mut kept = vec![0; spec.types.len()];
        let (mut withheld, mut disclosed) = (0, 0);
        let Some((i, chart)) = chart_at(practice, spec, &types, pos) else {
            return (kept, 0, 0);
        };
        let withhold = spec.withholds(practice, i);
        for (n, ty) in spec.types.iter().enumerate() {
            if spec.typed(ty) {
                super::ndjson::each_record(&chart, ty, |updated, part2| {
                    if !spec.in_window(updated) {
                        return;
                    }
                    if part2 {
                        if withhold {
                            withheld += 1;
                            return;
                        }
                        disclosed += 1;
                    }
                    kept[n] += 1;
                });
                continue;
            }
            for v in job_resources(practice, &chart, spec, ty) {
                if !spec.keeps(ty, &v) {
                    continue;
                }
                if is_part2(&v) {
                    if withhold {
                        withheld += 1;
                        continue;
                    }
                    disclosed += 1;
                }
                kept[n] += 1;
            }
        }
        (kept, withheld, disclosed)
    };
    let finished = ordered(0..spec.patients.len(), count, |pos, (kept, w, d)| {
        if job.cancelled.load(Ordering::Relaxed) {
            return false;
        }
        job.progress.store(pos, Ordering::Relaxed);
        out.withheld += w;
        out.disclosed += d;
        for (ty, n) in spec.types.iter().zip(kept) {
            for skip in 0..n {
                cut.add(ty, Start::Patients { pos, skip });
            }
        }
        true
    });
    if !finished {
        return None;
    }
    job.progress.store(spec.patients.len(), Ordering::Relaxed);
    let mut order = spec.directory_types.clone();
    order.extend(spec.types.iter().cloned());
    out.files = cut.finish(&order);
    Some(out)
}

/// Produce file `f` as NDJSON chunks of about [`CHUNK`] bytes, calling `emit`
/// for each; stops early when `emit` returns `false` (the client went away).
pub fn produce(
    practice: &Practice,
    directory: &[Arc<crate::fhir::store::Entry>],
    spec: &Spec,
    f: &FilePlan,
    mut emit: impl FnMut(Bytes) -> bool,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 16 * 1024);
    let mut left = f.count;
    let mut flush = |buf: &mut Vec<u8>, force: bool| -> bool {
        if buf.len() >= CHUNK || (force && !buf.is_empty()) {
            let chunk = Bytes::from(std::mem::replace(
                buf,
                Vec::with_capacity(CHUNK + 16 * 1024),
            ));
            return emit(chunk);
        }
        true
    };
    match f.start {
        Start::Directory { skip } => {
            for e in directory
                .iter()
                .filter(|e| e.ty == f.ty && spec.keeps(&f.ty, &e.json))
                .skip(skip)
                .take(left)
            {
                buf.extend_from_slice(&e.bytes);
                buf.push(b'\n');
            }
        }
        Start::Patients { pos, skip } => {
            let mut skip = skip;
            // Per patient: its kept lines of the type, and where each ends.
            let lines = |pos: usize| -> (Vec<u8>, Vec<usize>) {
                let mut bytes = Vec::with_capacity(16 * 1024);
                let mut ends = Vec::with_capacity(64);
                if let Some((i, chart)) = chart_at(practice, spec, &[f.ty.as_str()], pos) {
                    let withhold = spec.withholds(practice, i);
                    let typed = spec.typed(&f.ty)
                        && super::ndjson::write_lines(
                            &mut bytes,
                            &mut ends,
                            practice,
                            &chart,
                            &f.ty,
                            |updated, part2| spec.in_window(updated) && !(withhold && part2),
                        );
                    let rest = if typed {
                        Vec::new()
                    } else {
                        job_resources(practice, &chart, spec, &f.ty)
                    };
                    for mut v in rest {
                        if !spec.keeps(&f.ty, &v) || (withhold && is_part2(&v)) {
                            continue;
                        }
                        if let Some(el) = &spec.elements {
                            subset(el, &f.ty, &mut v);
                        }
                        if serde_json::to_writer(&mut bytes, &v).is_ok() {
                            bytes.push(b'\n');
                            ends.push(bytes.len());
                        }
                    }
                }
                (bytes, ends)
            };
            let open = ordered(pos..spec.patients.len(), lines, |_, (bytes, ends)| {
                let used = skip.min(ends.len());
                let from = if used == 0 { 0 } else { ends[used - 1] };
                skip -= used;
                let take = (ends.len() - used).min(left);
                let to = if take == 0 {
                    from
                } else {
                    ends[used + take - 1]
                };
                buf.extend_from_slice(&bytes[from..to]);
                left -= take;
                left > 0 && flush(&mut buf, false)
            });
            if !open && left > 0 {
                return;
            }
        }
    }
    flush(&mut buf, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One file holding every `ty` resource of `s`'s patients, unsplit.
    pub(super) fn whole_file(p: &Practice, s: &Spec, ty: &str) -> Vec<u8> {
        let f = FilePlan {
            ty: ty.to_owned(),
            name: String::new(),
            start: Start::Patients { pos: 0, skip: 0 },
            count: usize::MAX,
        };
        let mut got = Vec::new();
        produce(p, &[], s, &f, |b| {
            got.extend_from_slice(&b);
            true
        });
        got
    }
    use crate::practice::PracticeConfig;

    #[test]
    fn subset_keeps_listed_and_mandatory_elements_and_tags() {
        let mut v = serde_json::json!({
            "resourceType": "Observation", "id": "o1", "meta": {"lastUpdated": "2026-01-01T00:00:00Z"},
            "status": "final", "code": {"text": "x"}, "subject": {"reference": "Patient/p"},
            "valueQuantity": {"value": 1}, "effectiveDateTime": "2026-01-01", "category": [],
        });
        let el = vec![
            (Some("Observation".to_owned()), "value[x]".to_owned()),
            (None, "effective".to_owned()),
            (Some("Patient".to_owned()), "subject".to_owned()),
        ];
        subset(&el, "Observation", &mut v);
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "code",
                "effectiveDateTime",
                "id",
                "meta",
                "resourceType",
                "status",
                "valueQuantity"
            ]
        );
        assert_eq!(v["meta"]["tag"][0]["code"], "SUBSETTED");
        // Nothing removed: no tag.
        let mut g = serde_json::json!({"resourceType": "Group", "id": "g", "type": "person", "actual": true});
        subset(&el, "Group", &mut g);
        assert!(g.get("meta").is_none());
    }

    #[test]
    fn render_type_matches_the_full_chart_rendering() {
        let p = Practice::new(PracticeConfig {
            patients: 12,
            ..PracticeConfig::default()
        });
        for i in p.patient_indices() {
            let c = p.chart(i).unwrap();
            let full = render::chart_resources(&p, &c, true);
            let mut by_type: Vec<Value> = Vec::new();
            for ty in COMPARTMENT_TYPES {
                by_type.extend(render_type(&p, &c, ty));
            }
            assert_eq!(full.len(), by_type.len(), "patient {i:?}");
            for v in &full {
                let ty = v["resourceType"].as_str().unwrap();
                assert!(COMPARTMENT_TYPES.contains(&ty), "{ty} is not exported");
                assert!(render_type(&p, &c, ty).contains(v));
            }
        }
    }
    /// A `Patient` file is produced from the demographics alone and every
    /// other file from a chart of the lists it reads; each chart list, and
    /// each file's lines, must equal the full chart's, for generated, patched and
    /// created patients alike (run-time observations and consents included),
    /// and `Practice::chart` must be unchanged by generating the demographics
    /// once.
    #[test]
    fn files_from_partial_charts_equal_the_full_chart() {
        use crate::practice::{NewPatient, PatientPatch, Sex};
        let p = Practice::new(PracticeConfig {
            patients: 300,
            ..PracticeConfig::default()
        });
        let pristine = Practice::new(p.config().clone());
        let before = p.chart(PatientIndex(7)).unwrap();
        p.update_patient(
            PatientIndex(7),
            PatientPatch {
                family: Some("Renamed".into()),
                birth_date: Some(time::macros::date!(1950 - 01 - 02)),
                ..Default::default()
            },
        )
        .unwrap();
        // Consent set at run time on a patient without Part 2 records.
        let plain = p.patient_indices().find(|&i| !p.is_part2(i)).unwrap();
        p.set_consent(plain, crate::practice::ConsentState::Granted);
        assert!(p.may_have_consent(plain));
        let created = p.create_patient(NewPatient::new(
            "Testperson",
            "Alex",
            Sex::F,
            time::macros::date!(1990 - 04 - 02),
        ));
        let first = p.chart(PatientIndex(3)).unwrap().observations[0].clone();
        p.add_observation(
            PatientIndex(3),
            crate::practice::NewObservation {
                encounter_id: first.encounter_id,
                category: first.category,
                code: first.code,
                value: first.value,
                reference_range: None,
                interpretation: None,
                effective: first.effective,
                performer_id: None,
                note: Some("added at run time".into()),
                status: "final",
            },
        )
        .unwrap();
        let patched = p.chart(PatientIndex(7)).unwrap();
        assert_eq!(patched.patient.name.family, "Renamed");
        // Records follow the generated demographics, not the patch.
        let records = |c: &Chart| {
            let v = serde_json::to_value(c).unwrap();
            v.as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "patient")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(records(&patched), records(&before));
        for i in p.patient_indices() {
            let full = p.chart(i).unwrap();
            let demo = p.demographics_chart(i).unwrap();
            assert_eq!(demo.patient, full.patient, "patient {i:?}");
            assert!(demo.encounters.is_empty() && demo.observations.is_empty());
            assert_eq!(
                render_type(&p, &demo, "Patient"),
                render_type(&p, &full, "Patient"),
                "patient {i:?}"
            );
            if !p.may_have_consent(i) {
                assert!(full.consent.is_none(), "patient {i:?}");
            }
            // A chart of no list is the demographics chart; a chart of one
            // list holds the full chart's list, and only it.
            assert_eq!(
                serde_json::to_value(p.chart_with(i, ChartParts::NONE).unwrap()).unwrap(),
                serde_json::to_value(&demo).unwrap(),
                "patient {i:?}"
            );
            let full_value = serde_json::to_value(&full).unwrap();
            for l in List::ALL {
                let one = p.chart_with(i, ChartParts::NONE.with(l)).unwrap();
                let one = serde_json::to_value(&one).unwrap();
                for (field, got) in one.as_object().unwrap() {
                    if field == l.field() || field == "patient" {
                        assert_eq!(got, &full_value[field], "{field} of patient {i:?}");
                    } else if field != "balance" {
                        let empty = got.is_null() || got.as_array().is_some_and(Vec::is_empty);
                        assert!(empty, "{field} of patient {i:?} built for {l:?}");
                    }
                }
            }
            if i != PatientIndex(3) && i != PatientIndex(7) && i != created.index && i != plain {
                assert_eq!(
                    serde_json::to_value(&full).unwrap(),
                    serde_json::to_value(pristine.chart(i).unwrap()).unwrap(),
                    "patient {i:?}"
                );
            }
        }
        let mut consents = 0;
        // Each type alone, and the Provenance of two jobs of several types.
        let jobs = COMPARTMENT_TYPES.iter().map(|ty| (*ty, vec![*ty])).chain([
            ("Provenance", vec!["Condition", "Observation", "Provenance"]),
            ("Provenance", vec!["Patient", "CarePlan", "Provenance"]),
        ]);
        for (ty, types) in jobs {
            let s = Spec {
                types: types.iter().map(|t| (*t).to_owned()).collect(),
                directory_types: Vec::new(),
                since: None,
                until: None,
                elements: None,
                provenance_org: Some("Organization/test".into()),
                type_filters: Default::default(),
                scope_filters: Default::default(),
                patients: Selection::All(p.patient_count()),
                part2_withhold: false,
                part2_consent: false,
                now: 0,
            };
            let got = whole_file(&p, &s, ty);
            let mut want = Vec::new();
            for i in p.patient_indices() {
                for v in job_resources(&p, &p.chart(i).unwrap(), &s, ty) {
                    serde_json::to_writer(&mut want, &v).unwrap();
                    want.push(b'\n');
                    consents += usize::from(ty == "Consent");
                }
            }
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap(),
                "{ty}"
            );
        }
        // The run-time consent and some generated Part 2 ones.
        assert!(consents >= 3, "only {consents} Consent lines compared");
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;
    use crate::practice::PracticeConfig;

    fn spec(n: u32, since: Option<OffsetDateTime>, consent: bool) -> Spec {
        Spec {
            types: super::super::ndjson::TYPED
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            directory_types: Vec::new(),
            since,
            until: None,
            elements: None,
            provenance_org: None,
            type_filters: BTreeMap::new(),
            scope_filters: BTreeMap::new(),
            patients: Selection::All(n),
            part2_withhold: true,
            part2_consent: consent,
            now: 0,
        }
    }

    /// For every typed type, the typed fast path produces exactly the bytes
    /// of serializing the `Value` rendering (Part 2 withholding and `_since`
    /// included), and the planning pass counts exactly those lines.
    #[test]
    fn produce_matches_the_value_rendering() {
        let n = 250;
        let p = Practice::new(PracticeConfig {
            patients: n,
            ..PracticeConfig::default()
        });
        let since = OffsetDateTime::now_utc() - time::Duration::days(400);
        for s in [
            spec(n, None, false),
            spec(n, Some(since), false),
            spec(n, None, true),
        ] {
            let job = Job {
                id: String::new(),
                client_id: String::new(),
                request: String::new(),
                transaction_time: String::new(),
                started: Instant::now(),
                duration: Duration::ZERO,
                files_expire: Instant::now(),
                requires_token: false,
                file_base: String::new(),
                spec: Arc::new(s),
                fails: None,
                file_errors: Vec::new(),
                ignored: Vec::new(),
                phase: Mutex::new(Phase::Planning),
                progress: AtomicUsize::new(0),
                cancelled: AtomicBool::new(false),
            };
            let s = &job.spec;
            let plan = plan(&p, &[], &job, usize::MAX).unwrap();
            for ty in &s.types {
                assert!(s.typed(ty));
                let mut want = Vec::new();
                let mut lines = 0;
                for i in p.patient_indices() {
                    let c = p.chart(i).unwrap();
                    let withhold = s.withholds(&p, i);
                    for v in render::chart_resources(&p, &c, true) {
                        if v["resourceType"] == ty.as_str()
                            && s.keeps(ty, &v)
                            && !(withhold && is_part2(&v))
                        {
                            serde_json::to_writer(&mut want, &v).unwrap();
                            want.push(b'\n');
                            lines += 1;
                        }
                    }
                }
                let got = super::tests::whole_file(&p, s, ty);
                // Implanted devices and consents are rare; a 400-day `_since` leaves
                // some types (allergies, old problems, consents) no record at all, so
                // the floors are for the full files.
                let floor = match (ty.as_str(), s.since.is_some()) {
                    (_, true) => 0,
                    ("Device" | "Consent", false) => 1_000,
                    _ => 10_000,
                };
                assert!(want.len() >= floor, "{ty}: {} bytes", want.len());
                assert!(
                    got == want,
                    "typed {ty} NDJSON differs from the Value rendering"
                );
                let planned: usize = plan
                    .files
                    .iter()
                    .filter(|f| f.ty == *ty)
                    .map(|f| f.count)
                    .sum();
                assert_eq!(planned, lines, "{ty}: planned count");
            }
        }
    }
}
