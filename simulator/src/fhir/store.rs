//! Rendered resources, cached per chart and practice generation.
//!
//! The practice is a pure function, so a chart's FHIR rendering only changes
//! when the practice's overlay does (its generation number moves). A chart is
//! rendered once into [`Entry`]s holding both the JSON value (for search
//! evaluation) and the serialized bytes (sent as-is), so reads and searches
//! never serialize resources on the hot path.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};

use super::render;
use crate::practice::{ConsentState, PatientIndex, PayerKind, Practice};

/// One rendered resource.
#[derive(Debug)]
pub struct Entry {
    /// `resourceType`.
    pub ty: String,
    /// `id`.
    pub id: String,
    /// The resource.
    pub json: Value,
    /// The resource serialized.
    pub bytes: Bytes,
    /// The patient whose compartment it is in.
    pub patient: Option<PatientIndex>,
    /// Whether it carries the 42 CFR Part 2 labels.
    pub part2: bool,
}

impl Entry {
    /// Wrap a rendered resource.
    pub fn new(json: Value, patient: Option<PatientIndex>) -> Arc<Entry> {
        let ty = json["resourceType"].as_str().unwrap_or_default().to_owned();
        let id = json["id"].as_str().unwrap_or_default().to_owned();
        let part2 = json["meta"]
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|c| c["code"] == "42CFRPart2"));
        let bytes = Bytes::from(serde_json::to_vec(&json).unwrap_or_default());
        Arc::new(Entry {
            ty,
            id,
            json,
            bytes,
            patient,
            part2,
        })
    }
}

/// One patient's rendered chart.
#[derive(Debug)]
pub struct ChartSet {
    generation: u64,
    /// The patient.
    pub patient: PatientIndex,
    /// Every resource, the Patient first, in a stable order.
    pub entries: Vec<Arc<Entry>>,
    by_id: HashMap<String, usize>,
    /// The patient's Part 2 consent state.
    pub consent: ConsentState,
    /// The patient's Consent resource id, when one exists.
    pub consent_id: Option<String>,
    /// Search results over `entries`, by [`ChartSet::matching`] key.
    matches: Mutex<HashMap<String, Arc<[u32]>>>,
}

/// Most memoised searches kept per chart.
const MAX_MEMO: usize = 32;

/// A resource by type and id through an id index.
fn lookup<'a>(
    by_id: &HashMap<String, usize>,
    entries: &'a [Arc<Entry>],
    ty: &str,
    id: &str,
) -> Option<&'a Arc<Entry>> {
    by_id.get(id).map(|&i| &entries[i]).filter(|e| e.ty == ty)
}

impl ChartSet {
    /// A resource of this chart by type and id.
    pub fn get(&self, ty: &str, id: &str) -> Option<&Arc<Entry>> {
        lookup(&self.by_id, &self.entries, ty, id)
    }

    /// Positions in `entries` of the resources of type `ty` that `pred`
    /// accepts, in chart order. With a `key` (which must name `ty` and
    /// everything `pred` depends on) the answer is memoised: a chart set is
    /// immutable, and an overlay write replaces the whole set, so a memo can
    /// never outlive the resources it was computed from.
    pub fn matching(
        &self,
        key: Option<String>,
        ty: &str,
        pred: impl Fn(&Entry) -> bool,
    ) -> Arc<[u32]> {
        if let Some(hit) = key
            .as_ref()
            .and_then(|k| self.matches.lock().get(k).cloned())
        {
            return hit;
        }
        let found: Arc<[u32]> = self
            .entries
            .iter()
            .zip(0u32..)
            .filter(|(e, _)| e.ty == ty && pred(e))
            .map(|(_, n)| n)
            .collect();
        if let Some(k) = key {
            let mut memo = self.matches.lock();
            if memo.len() >= MAX_MEMO {
                memo.clear();
            }
            memo.insert(k, found.clone());
        }
        found
    }
}

/// A Group definition shared with Bulk export.
#[derive(Debug, Clone)]
pub struct GroupDef {
    /// `Group.id`.
    pub id: String,
    /// `Group.name`.
    pub name: String,
    /// Members.
    pub members: Vec<PatientIndex>,
}

/// The Groups ngsim serves: all patients, one panel per PCP, the Medicaid
/// cohort and the UDS special-populations cohort.
pub fn group_defs(p: &Practice) -> Vec<GroupDef> {
    let mut all = Vec::new();
    let mut medicaid = Vec::new();
    let mut uds = Vec::new();
    let mut panels: Vec<(String, String, Vec<PatientIndex>)> = p
        .practitioners()
        .iter()
        .filter(|pr| pr.is_pcp)
        .map(|pr| {
            (
                pr.id.to_string(),
                format!("Panel of {} {}, {}", pr.given, pr.family, pr.credentials),
                Vec::new(),
            )
        })
        .collect();
    let medicaid_payers: Vec<String> = p
        .payers()
        .iter()
        .filter(|py| py.kind == PayerKind::Medicaid)
        .map(|py| py.id.to_string())
        .collect();
    for i in p.patient_indices() {
        let Some(pt) = p.patient(i) else { continue };
        all.push(i);
        if medicaid_payers.iter().any(|m| *m == *pt.primary_payer_id) {
            medicaid.push(i);
        }
        let u = &pt.uds;
        if !u.homeless.starts_with("not")
            || !u.agricultural_worker.starts_with("not")
            || u.veteran
            || u.public_housing
        {
            uds.push(i);
        }
        if let Some(panel) = panels.iter_mut().find(|x| x.0 == *pt.pcp_id) {
            panel.2.push(i);
        }
    }
    let mut out = vec![
        GroupDef {
            id: "all-patients".into(),
            name: "All patients".into(),
            members: all,
        },
        GroupDef {
            id: "medicaid".into(),
            name: "Medicaid cohort".into(),
            members: medicaid,
        },
        GroupDef {
            id: "uds-special-populations".into(),
            name: "UDS special populations cohort".into(),
            members: uds,
        },
    ];
    out.extend(panels.into_iter().map(|(id, name, members)| GroupDef {
        id: format!("panel-{id}"),
        name,
        members,
    }));
    out
}

fn group_resource(p: &Practice, g: &GroupDef, updated: &str) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .filter_map(|i| p.patient(*i))
        .map(|pt| json!({"entity": {"reference": format!("Patient/{}", pt.id.as_str())}}))
        .collect();
    json!({
        "resourceType": "Group",
        "id": g.id,
        "meta": {"lastUpdated": updated},
        "type": "person",
        "actual": true,
        "name": g.name,
        "quantity": members.len(),
        "member": members,
    })
}

/// Practice-wide resources (Practitioner, PractitionerRole, Organization,
/// Location, Group).
#[derive(Debug)]
pub struct Directory {
    generation: u64,
    /// Every resource.
    pub entries: Vec<Arc<Entry>>,
    by_id: HashMap<String, usize>,
}

impl Directory {
    /// A resource by type and id.
    pub fn get(&self, ty: &str, id: &str) -> Option<&Arc<Entry>> {
        lookup(&self.by_id, &self.entries, ty, id)
    }
}

/// Most charts kept rendered at once.
const MAX_CHARTS: usize = 512;

/// The FHIR store over the practice.
#[derive(Debug)]
pub struct Store {
    practice: Practice,
    charts: RwLock<HashMap<u32, Arc<ChartSet>>>,
    patients: RwLock<HashMap<u32, (u64, Arc<Entry>)>>,
    directory: RwLock<Option<Arc<Directory>>>,
    /// FHIR rate-limit counters.
    pub(crate) rate: crate::ratelimit::RateLimiter,
    /// The CapabilityStatement, built once per profile.
    pub(crate) capability: super::discovery::CapabilityCache,
}

impl Store {
    /// A store over `practice`.
    pub fn new(practice: Practice) -> Store {
        Store {
            practice,
            charts: RwLock::default(),
            patients: RwLock::default(),
            directory: RwLock::default(),
            rate: crate::ratelimit::RateLimiter::new(),
            capability: super::discovery::CapabilityCache::default(),
        }
    }

    /// The practice.
    pub fn practice(&self) -> &Practice {
        &self.practice
    }

    /// The rendered Patient resource of patient `i`.
    pub fn patient(&self, i: PatientIndex) -> Option<Arc<Entry>> {
        let generation = self.practice.generation();
        if let Some((g, e)) = self.patients.read().get(&i.0) {
            if *g == generation {
                return Some(e.clone());
            }
        }
        let pt = self.practice.patient(i)?;
        let e = Entry::new(render::patient(&self.practice, &pt), Some(i));
        let mut w = self.patients.write();
        if w.len() > 100_000 {
            w.clear();
        }
        w.insert(i.0, (generation, e.clone()));
        Some(e)
    }

    /// Patient `i`'s rendered chart.
    pub fn chart(&self, i: PatientIndex) -> Option<Arc<ChartSet>> {
        let generation = self.practice.generation();
        if let Some(c) = self.charts.read().get(&i.0) {
            if c.generation == generation {
                return Some(c.clone());
            }
        }
        let chart = self.practice.chart(i)?;
        let mut entries: Vec<Arc<Entry>> = render::chart_resources(&self.practice, &chart, true)
            .into_iter()
            .map(|v| Entry::new(v, Some(i)))
            .collect();
        if let Some(p) = self.patient(i) {
            entries[0] = p;
        }
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(n, e)| (e.id.clone(), n))
            .collect();
        let set = Arc::new(ChartSet {
            generation,
            patient: i,
            entries,
            by_id,
            consent: self.practice.consent_state(i),
            consent_id: chart.consent.as_ref().map(|c| c.id.to_string()),
            matches: Mutex::default(),
        });
        let mut w = self.charts.write();
        if w.len() >= MAX_CHARTS {
            w.clear();
        }
        w.insert(i.0, set.clone());
        Some(set)
    }

    /// The practice-wide resources.
    pub fn directory(&self) -> Arc<Directory> {
        let generation = self.practice.generation();
        if let Some(d) = &*self.directory.read() {
            if d.generation == generation {
                return d.clone();
            }
        }
        let p = &self.practice;
        let updated = p
            .practitioners()
            .first()
            .map(|pr| pr.last_updated)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let updated_text = render::instant(updated);
        let mut values = Vec::new();
        values.extend(p.practitioners().iter().map(render::practitioner));
        values.extend(
            p.practitioners()
                .iter()
                .map(|pr| render::practitioner_role(p, pr)),
        );
        values.extend(render::organizations(p, updated));
        values.extend(
            p.locations()
                .iter()
                .map(|l| render::location(p, l, updated)),
        );
        values.extend(
            group_defs(p)
                .iter()
                .map(|g| group_resource(p, g, &updated_text)),
        );
        let entries: Vec<Arc<Entry>> = values.into_iter().map(|v| Entry::new(v, None)).collect();
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(n, e)| (e.id.clone(), n))
            .collect();
        let d = Arc::new(Directory {
            generation,
            entries,
            by_id,
        });
        *self.directory.write() = Some(d.clone());
        d
    }

    /// The patient index a FHIR Patient id (person GUID) names.
    pub fn patient_index(&self, id: &str) -> Option<PatientIndex> {
        self.practice.find_patient_by_id(id)
    }

    /// The patient whose compartment holds resource `id`, decoding the id.
    pub fn owner_of(&self, id: &str) -> Option<PatientIndex> {
        let base = id
            .strip_prefix("prov-")
            .unwrap_or(id)
            .get(..36)
            .unwrap_or(id);
        self.practice.find_record(base).and_then(|r| r.patient)
    }
}
