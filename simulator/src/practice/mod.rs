//! The synthetic practice behind every surface.
//!
//! The practice is a *function*, not a database: patient `i` of seed `s` and
//! every one of their records are computed from `(s, i)` alone, in O(1) and
//! without producing any other patient. Ids encode `(kind, patient, ordinal)`
//! so every lookup is a decode. Run-time writes (Enterprise API creates,
//! inbound HL7) go into a small overlay consulted before the generator.
//!
//! FHIR JSON, Enterprise JSON and HL7 v2 are renderings of these typed records
//! and live elsewhere. This module does no I/O.

mod catalog;
mod directory;
mod generate;
mod guid;
pub mod ids;
mod model;
mod overlay;
mod parts;
pub mod rng;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use serde::Serialize;
use time::{Date, Month};

pub use catalog::{CANARY_SYSTEM, CPT, CVX, ICD10CM, LOINC, NUCC, RXNORM, SNOMED};
pub use generate::{PART2_BASIS_POINTS, PRACTICE_OFFSET};
pub use ids::{CANARY_LEN, CANARY_PREFIX, RecordKind, npi_is_valid};
pub use model::*;
pub use overlay::{
    AppointmentPatch, NewAppointment, NewCharge, NewCondition, NewEncounter, NewImmunization,
    NewObservation, NewPatient, PatientPatch,
};
pub use parts::{ChartParts, List};

use generate::Generator;
use overlay::Overlay;

/// What practice to build. The same config always yields the same practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticeConfig {
    pub seed: u64,
    /// Number of generated patients. MRNs are unique up to 10,000,000
    /// patients (generated plus created), the range of the MRN bijection.
    pub patients: u32,
    /// The practice's "today"; every generated date is relative to it.
    #[serde(serialize_with = "serialize_date")]
    pub as_of: Date,
}

impl Default for PracticeConfig {
    fn default() -> Self {
        PracticeConfig {
            seed: 42,
            patients: 1000,
            as_of: DEFAULT_AS_OF,
        }
    }
}

fn serialize_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// 2026-07-01: fixed so that output never depends on wall time.
pub const DEFAULT_AS_OF: Date = match Date::from_calendar_date(2026, Month::July, 1) {
    Ok(d) => d,
    Err(_) => panic!("valid date"),
};

/// Any patient-scoped record, as returned by [`Practice::record`].
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
// Returned one at a time, never stored in bulk: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    Patient(Patient),
    Encounter(Encounter),
    Condition(Condition),
    Medication(MedicationRequest),
    Allergy(Allergy),
    Observation(Observation),
    LabPanel(LabPanel),
    Immunization(Immunization),
    Procedure(Procedure),
    Document(Document),
    Appointment(Appointment),
    Charge(Charge),
    Coverage(Coverage),
    CarePlan(CarePlan),
    CareTeam(CareTeam),
    Goal(Goal),
    Device(Device),
    Consent(Consent),
}

/// A Part 2 record's canary, as listed by [`Practice::canaries_of`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryRecord {
    pub kind: RecordKind,
    pub record_id: Guid,
    pub canary: String,
}

#[derive(Debug)]
struct Inner {
    cfg: PracticeConfig,
    gen_: Generator,
    overlay: RwLock<Overlay>,
    generation: AtomicU64,
}

/// The synthetic practice. Cheap to clone (an `Arc`), `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Practice {
    inner: Arc<Inner>,
}

impl Practice {
    pub fn new(cfg: PracticeConfig) -> Practice {
        let gen_ = Generator::new(cfg.seed, cfg.as_of);
        Practice {
            inner: Arc::new(Inner {
                cfg,
                gen_,
                overlay: RwLock::new(Overlay::default()),
                generation: AtomicU64::new(0),
            }),
        }
    }

    pub fn config(&self) -> &PracticeConfig {
        &self.inner.cfg
    }

    pub fn as_of(&self) -> Date {
        self.inner.cfg.as_of
    }

    fn g(&self) -> &Generator {
        &self.inner.gen_
    }

    pub fn enterprise(&self) -> &Enterprise {
        &self.g().dir.enterprise
    }

    pub fn locations(&self) -> &[Location] {
        &self.g().dir.locations
    }

    pub fn practitioners(&self) -> &[Practitioner] {
        &self.g().dir.practitioners
    }

    pub fn payers(&self) -> &[Payer] {
        &self.g().dir.payers
    }

    /// Scheduling events (NextGen `eventId` / `eventName`).
    pub fn events(&self) -> &[Event] {
        &self.g().dir.events
    }

    fn entity_index(&self, id: &str, kind: RecordKind, len: usize) -> Option<usize> {
        let p = self.g().keys.decode_guid(id)?;
        (p.kind == kind && (p.index as usize) < len && p.ordinal == 0 && !p.overlay)
            .then_some(p.index as usize)
    }

    pub fn location(&self, id: &str) -> Option<&Location> {
        self.entity_index(id, RecordKind::Location, self.locations().len())
            .map(|i| &self.locations()[i])
    }

    pub fn practitioner(&self, id: &str) -> Option<&Practitioner> {
        self.entity_index(id, RecordKind::Practitioner, self.practitioners().len())
            .map(|i| &self.practitioners()[i])
    }

    pub fn payer(&self, id: &str) -> Option<&Payer> {
        self.entity_index(id, RecordKind::Payer, self.payers().len())
            .map(|i| &self.payers()[i])
    }

    pub fn event(&self, id: &str) -> Option<&Event> {
        self.entity_index(id, RecordKind::Event, self.events().len())
            .map(|i| &self.events()[i])
    }

    /// A practice site by its 4-digit id.
    pub fn practice_site(&self, id: &str) -> Option<&PracticeSite> {
        self.enterprise().practices.iter().find(|p| p.id == id)
    }

    /// Generated plus overlay-created patients.
    pub fn patient_count(&self) -> u32 {
        self.inner.cfg.patients + self.inner.overlay.read().created.len() as u32
    }

    /// All patient indices, lazily; the count is taken when called.
    pub fn patient_indices(&self) -> impl Iterator<Item = PatientIndex> + '_ {
        (0..self.patient_count()).map(PatientIndex)
    }

    fn is_generated(&self, i: PatientIndex) -> bool {
        i.0 < self.inner.cfg.patients
    }

    /// Demographics with the overlay applied.
    pub fn patient(&self, i: PatientIndex) -> Option<Patient> {
        self.patient_in(&self.inner.overlay.read(), i)
    }

    /// A patient as seen through an overlay the caller already holds locked.
    fn patient_in(&self, ov: &Overlay, i: PatientIndex) -> Option<Patient> {
        match ov.patient(self.inner.cfg.patients, i) {
            Some(p) => Some(p.clone()),
            None => self.is_generated(i).then(|| self.g().patient(i.0)),
        }
    }

    /// Every record of one patient, overlay applied.
    pub fn chart(&self, i: PatientIndex) -> Option<Chart> {
        self.chart_with(i, ChartParts::FULL)
    }

    /// Patient `i`'s chart with only the record lists `parts` asks for; each
    /// list it holds equals [`Practice::chart`]'s, overlay included. Without
    /// lists it is [`Practice::demographics_chart`], generated without
    /// walking the records.
    pub fn chart_with(&self, i: PatientIndex, parts: ChartParts) -> Option<Chart> {
        if parts.is_empty() {
            return self.demographics_chart(i);
        }
        let ov = self.inner.overlay.read();
        let mut chart = match ov.patient(self.inner.cfg.patients, i) {
            // Patched: records still follow the generated demographics.
            Some(patched) if self.is_generated(i) => {
                let mut c = self.g().chart_with(self.g().patient(i.0), parts);
                c.patient = patched.clone();
                c
            }
            Some(created) => Generator::empty_chart(created.clone()),
            // Unpatched: the generated demographics are the chart's own, so
            // they are generated once, not once for the chart and once more.
            None if self.is_generated(i) => self.g().chart_with(self.g().patient(i.0), parts),
            None => return None,
        };
        ov.apply(self.g(), &mut chart, parts);
        Some(chart)
    }

    /// Patient `i`'s chart with only the demographics filled in and every
    /// record list empty: what a consumer of the `Patient` alone needs (a
    /// Bulk `Patient` file), without generating the records. `patient` is
    /// the same as [`Practice::chart`]'s.
    pub fn demographics_chart(&self, i: PatientIndex) -> Option<Chart> {
        self.patient(i).map(Generator::empty_chart)
    }

    /// Whether patient `i`'s chart can hold a `consent` record: only Part 2
    /// patients are generated one, and otherwise only a run-time
    /// [`Practice::set_consent`] adds one. When `false`, the chart's
    /// `consent` is `None` and [`Practice::demographics_chart`] suffices.
    pub fn may_have_consent(&self, i: PatientIndex) -> bool {
        self.is_part2(i) || self.inner.overlay.read().consents.contains_key(&i.0)
    }

    /// O(1): decode the GUID.
    pub fn find_patient_by_id(&self, person_id: &str) -> Option<PatientIndex> {
        let p = self.g().keys.decode_guid(person_id)?;
        if p.kind != RecordKind::Patient || p.ordinal != 0 {
            return None;
        }
        self.existing(p.index)
    }

    fn existing(&self, index: u64) -> Option<PatientIndex> {
        let i = u32::try_from(index).ok()?;
        (i < self.patient_count()).then_some(PatientIndex(i))
    }

    /// O(1): invert the affine MRN map.
    pub fn find_patient_by_mrn(&self, mrn: &str) -> Option<PatientIndex> {
        self.existing(u64::from(self.g().keys.mrn_to_index(mrn.trim())?))
    }

    pub fn find_patient_by_person_number(&self, pn: &str) -> Option<PatientIndex> {
        self.existing(u64::from(ids::person_number_to_index(pn.trim())?))
    }

    /// O(1): a numeric visit number (HL7 PV1-19) → (patient, encounter id).
    /// Like `find_record`, this decodes; `record()` confirms existence.
    pub fn find_encounter_by_visit_number(&self, v: &str) -> Option<(PatientIndex, Guid)> {
        let v: u64 = v.trim().parse().ok()?;
        let (patient, ordinal, overlay) = generate::visit_number_parts(v)?;
        let i = self.existing(u64::from(patient))?;
        if overlay {
            let issued = self
                .inner
                .overlay
                .read()
                .issued(i, RecordKind::Encounter, ordinal as u16);
            let id = self.g().keys.guid(
                RecordKind::Encounter,
                u64::from(patient),
                ordinal as u16,
                true,
            );
            issued.then_some((i, id))
        } else {
            self.is_generated(i)
                .then(|| (i, self.g().id(RecordKind::Encounter, patient, ordinal)))
        }
    }

    /// Any record GUID → (patient, kind, ordinal), by decoding. Rejects ids
    /// not minted by this seed, for patients or entities that do not exist,
    /// and overlay ids that were never issued.
    pub fn find_record(&self, id: &str) -> Option<RecordRef> {
        let p = self.g().keys.decode_guid(id)?;
        if !p.kind.is_patient_scoped() {
            let len = match p.kind {
                RecordKind::Location => self.locations().len(),
                RecordKind::Practitioner => self.practitioners().len(),
                RecordKind::Payer => self.payers().len(),
                RecordKind::PracticeSite => self.enterprise().practices.len(),
                RecordKind::Enterprise => 1,
                RecordKind::Event => self.events().len(),
                _ => 0,
            };
            return ((p.index as usize) < len && p.ordinal == 0 && !p.overlay).then_some(
                RecordRef {
                    kind: p.kind,
                    patient: None,
                    ordinal: p.index as u32,
                    overlay: false,
                },
            );
        }
        let patient = self.existing(p.index)?;
        if p.overlay && !self.inner.overlay.read().issued(patient, p.kind, p.ordinal) {
            return None;
        }
        if p.kind == RecordKind::Patient && p.ordinal != 0 {
            return None;
        }
        Some(RecordRef {
            kind: p.kind,
            patient: Some(patient),
            ordinal: u32::from(p.ordinal),
            overlay: p.overlay,
        })
    }

    /// Fetch any patient-scoped record by id (overlay applied). Unlike
    /// [`Practice::find_record`], which only decodes, this confirms the
    /// record exists; it costs one chart generation (microseconds).
    pub fn record(&self, id: &str) -> Option<Record> {
        let r = self.find_record(id)?;
        let i = r.patient?;
        if r.kind == RecordKind::Patient {
            return self.patient(i).map(Record::Patient);
        }
        let c = self.chart(i)?;
        macro_rules! take {
            ($field:expr, $variant:ident) => {
                $field
                    .into_iter()
                    .find(|x| x.id == id)
                    .map(Record::$variant)
            };
        }
        match r.kind {
            RecordKind::Encounter => take!(c.encounters, Encounter),
            RecordKind::Condition => take!(c.conditions, Condition),
            RecordKind::Medication => take!(c.medications, Medication),
            RecordKind::Allergy => take!(c.allergies, Allergy),
            RecordKind::Observation => take!(c.observations, Observation),
            RecordKind::LabPanel => take!(c.lab_panels, LabPanel),
            RecordKind::Immunization => take!(c.immunizations, Immunization),
            RecordKind::Procedure => take!(c.procedures, Procedure),
            RecordKind::Document => take!(c.documents, Document),
            RecordKind::Appointment => take!(c.appointments, Appointment),
            RecordKind::Charge => take!(c.charges, Charge),
            RecordKind::Coverage => take!(c.coverages, Coverage),
            RecordKind::CarePlan => take!(c.care_plans, CarePlan),
            RecordKind::CareTeam => take!(c.care_team, CareTeam),
            RecordKind::Goal => take!(c.goals, Goal),
            RecordKind::Device => take!(c.devices, Device),
            RecordKind::Consent => take!(c.consent, Consent),
            _ => None,
        }
    }

    /// Appointments of every patient dated `from..=to`, in patient order.
    /// Lazy, but it generates each patient's chart: O(patients).
    pub fn appointments_between(
        &self,
        from: Date,
        to: Date,
    ) -> impl Iterator<Item = Appointment> + '_ {
        self.patient_indices().flat_map(move |i| {
            self.chart(i)
                .map(|c| c.appointments)
                .unwrap_or_default()
                .into_iter()
                .filter(move |a| (from..=to).contains(&a.appointment_date))
        })
    }

    // ------------------------------------------------------------ Part 2

    /// Whether a patient has 42 CFR Part 2 records.
    pub fn is_part2(&self, i: PatientIndex) -> bool {
        self.is_generated(i) && self.g().is_part2(i.0)
    }

    /// The patient's current Part 2 consent state (overlay applied).
    pub fn consent_state(&self, i: PatientIndex) -> ConsentState {
        if let Some(s) = self.inner.overlay.read().consents.get(&i.0) {
            return *s;
        }
        if self.is_part2(i) {
            self.g().initial_consent(i.0)
        } else {
            ConsentState::Absent
        }
    }

    /// Whether `token` is exactly a canary minted by this practice.
    pub fn is_canary(&self, token: &str) -> bool {
        token.len() == CANARY_LEN
            && token.starts_with(CANARY_PREFIX)
            && self
                .decode_canary(&token.as_bytes()[CANARY_PREFIX.len()..])
                .is_some()
    }

    fn decode_canary(&self, hex: &[u8]) -> Option<(PatientIndex, RecordKind, u16)> {
        let (p, kind, ord) = self.g().keys.decode_canary_hex(hex)?;
        let i = PatientIndex(p);
        self.is_part2(i).then_some((i, kind, ord))
    }

    /// Every canary of this practice found in arbitrary bytes (any format).
    pub fn canaries_in(&self, bytes: &[u8]) -> Vec<CanaryHit> {
        let finder = memchr::memmem::Finder::new(CANARY_PREFIX.as_bytes());
        let mut hits = Vec::new();
        for offset in finder.find_iter(bytes) {
            let start = offset + CANARY_PREFIX.len();
            let Some(hex) = bytes.get(start..start + 16) else {
                continue;
            };
            if let Some((patient, kind, ordinal)) = self.decode_canary(hex) {
                hits.push(CanaryHit {
                    offset,
                    token: String::from_utf8_lossy(&bytes[offset..start + 16]).into_owned(),
                    patient,
                    kind,
                    ordinal,
                });
            }
        }
        hits
    }

    /// All canaries of one patient's Part 2 records.
    pub fn canaries_of(&self, i: PatientIndex) -> Vec<CanaryRecord> {
        if !self.is_part2(i) {
            return Vec::new();
        }
        self.chart(i)
            .map(|c| chart_canaries(&c))
            .unwrap_or_default()
    }

    // ------------------------------------------------------------ overlay writes

    fn bump(&self) -> u64 {
        self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Increments on every overlay write and on `reset`.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// Run `f` on the overlay for an existing patient, under the write lock,
    /// with a fresh generation number.
    fn write_for<R>(
        &self,
        i: PatientIndex,
        f: impl FnOnce(&mut Overlay, &Generator, &Patient, u64) -> R,
    ) -> Option<R> {
        // Read and write under one lock so concurrent writers never lose updates.
        let mut ov = self.inner.overlay.write();
        let patient = self.patient_in(&ov, i)?;
        let gen_no = self.bump();
        Some(f(&mut ov, self.g(), &patient, gen_no))
    }

    pub fn create_patient(&self, p: NewPatient) -> Patient {
        let mut ov = self.inner.overlay.write();
        let gen_no = self.bump();
        ov.create_patient(self.g(), self.inner.cfg.patients, p, gen_no)
    }

    pub fn update_patient(&self, i: PatientIndex, patch: PatientPatch) -> Option<Patient> {
        let generated = self.inner.cfg.patients;
        self.write_for(i, |ov, g, current, gen_no| {
            ov.update_patient(g, generated, current.clone(), patch, gen_no)
        })
    }

    /// A visit created at run time (Enterprise `POST …/chart/encounters`, ADT A04).
    pub fn add_encounter(&self, i: PatientIndex, e: NewEncounter) -> Option<Encounter> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_encounter(g, patient, e, gen_no)
        })
    }

    pub fn add_observation(&self, i: PatientIndex, o: NewObservation) -> Option<Observation> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_observation(g, patient, o, gen_no)
        })
    }

    pub fn add_appointment(&self, i: PatientIndex, a: NewAppointment) -> Option<Appointment> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_appointment(g, patient, a, gen_no)
        })
    }

    /// Patch any appointment, generated or overlay-created, by id.
    pub fn update_appointment(&self, id: &str, patch: AppointmentPatch) -> Option<Appointment> {
        let r = self.find_record(id)?;
        if r.kind != RecordKind::Appointment {
            return None;
        }
        let patient = r.patient?;
        let mut ov = self.inner.overlay.write();
        let current = match ov.appointment(patient, id) {
            Some(a) => a.clone(),
            None if self.is_generated(patient) => {
                let chart = self.g().chart(self.g().patient(patient.0));
                chart.appointments.into_iter().find(|a| a.id == id)?
            }
            None => return None,
        };
        let gen_no = self.bump();
        Some(ov.update_appointment(self.g(), patient, current, patch, gen_no))
    }

    pub fn add_immunization(&self, i: PatientIndex, im: NewImmunization) -> Option<Immunization> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_immunization(g, patient, im, gen_no)
        })
    }

    /// A problem or diagnosis recorded at run time (Enterprise `POST …/chart/problems`).
    pub fn add_condition(&self, i: PatientIndex, c: NewCondition) -> Option<Condition> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_condition(g, patient, c, gen_no)
        })
    }

    /// Queue a charge in the holding tank (DFT^P03, Enterprise charges). It is
    /// `Pending` until [`Practice::post_pending_charges`].
    pub fn add_pending_charge(&self, i: PatientIndex, c: NewCharge) -> Option<Charge> {
        self.write_for(i, |ov, g, patient, gen_no| {
            ov.add_charge(g, patient, c, gen_no)
        })
    }

    /// The holding tank, in arrival order.
    pub fn pending_charges(&self) -> Vec<Charge> {
        self.inner
            .overlay
            .read()
            .charges
            .iter()
            .filter(|c| c.1.status == ChargeStatus::Pending)
            .map(|c| c.1.clone())
            .collect()
    }

    /// "Process Pending Charges": post everything in the holding tank.
    pub fn post_pending_charges(&self) -> Vec<Charge> {
        let mut ov = self.inner.overlay.write();
        self.bump();
        ov.post_charges()
    }

    /// Grant or revoke Part 2 consent at run time (or make it absent).
    pub fn set_consent(&self, i: PatientIndex, state: ConsentState) {
        if i.0 >= self.patient_count() {
            return;
        }
        let mut ov = self.inner.overlay.write();
        self.bump();
        ov.consents.insert(i.0, state);
    }

    /// Drop the overlay: back to the pure seed.
    pub fn reset(&self) {
        let mut ov = self.inner.overlay.write();
        *ov = Overlay::default();
        self.bump();
    }
}

/// The canaries of every Part 2 record in a chart.
pub fn chart_canaries(c: &Chart) -> Vec<CanaryRecord> {
    let mut out = Vec::new();
    let mut push = |kind, id: &Guid, label: &Option<Part2Label>| {
        if let Some(l) = label {
            out.push(CanaryRecord {
                kind,
                record_id: *id,
                canary: l.canary.clone(),
            });
        }
    };
    c.encounters
        .iter()
        .for_each(|r| push(RecordKind::Encounter, &r.id, &r.part2));
    c.conditions
        .iter()
        .for_each(|r| push(RecordKind::Condition, &r.id, &r.part2));
    c.medications
        .iter()
        .for_each(|r| push(RecordKind::Medication, &r.id, &r.part2));
    c.observations
        .iter()
        .for_each(|r| push(RecordKind::Observation, &r.id, &r.part2));
    c.lab_panels
        .iter()
        .for_each(|r| push(RecordKind::LabPanel, &r.id, &r.part2));
    c.documents
        .iter()
        .for_each(|r| push(RecordKind::Document, &r.id, &r.part2));
    if let Some(r) = &c.consent {
        push(RecordKind::Consent, &r.id, &r.part2);
    }
    out
}
