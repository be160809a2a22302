//! The overlay: run-time writes layered over the generated practice.
//!
//! Small by design (it only holds what clients wrote), keyed by patient index
//! in `BTreeMap`s so that iteration order, and therefore output, is stable.

use std::borrow::Cow;
use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, Time};

use super::catalog::{
    BCP47, ENCOUNTER_CLASS_AMB, GENDER_ASKU, GENDER_FEMALE, GENDER_MALE, MARITAL_STATUS,
    NOT_HISPANIC, NULL_FLAVOR,
};
use super::directory::{PAYER_SELF, PRACTICE_PRIMARY};
use super::generate::{
    Generator, OVERLAY_VISIT_BASE, PRACTICE_OFFSET, runtime_consent, visit_number,
};
use super::guid::Guid;
use super::ids::{IdKeys, RecordKind, person_number};
use super::model::*;
use super::parts::{ChartParts, List};

/// A patient created through the Enterprise API or an inbound ADT.
#[derive(Debug, Clone)]
pub struct NewPatient {
    pub family: String,
    pub given: String,
    pub middle: Option<String>,
    pub sex: Sex,
    pub birth_date: Date,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// 4-digit practice id; defaults to the primary care practice.
    pub practice_id: Option<String>,
    pub external_ids: Vec<ExternalId>,
}

impl NewPatient {
    pub fn new(
        family: impl Into<String>,
        given: impl Into<String>,
        sex: Sex,
        birth_date: Date,
    ) -> NewPatient {
        NewPatient {
            family: family.into(),
            given: given.into(),
            middle: None,
            sex,
            birth_date,
            address: None,
            phone: None,
            email: None,
            practice_id: None,
            external_ids: Vec::new(),
        }
    }
}

/// Fields to change on a patient; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PatientPatch {
    pub family: Option<String>,
    pub given: Option<String>,
    pub middle: Option<Option<String>>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub email: Option<Option<String>>,
    pub language: Option<Coding>,
    pub marital_status: Option<Coding>,
    pub pcp_id: Option<Guid>,
    pub primary_payer_id: Option<Guid>,
    pub deceased: Option<bool>,
    pub external_ids: Option<Vec<ExternalId>>,
}

/// A visit created at run time.
#[derive(Debug, Clone)]
pub struct NewEncounter {
    pub status: &'static str,
    pub encounter_type: Coding,
    pub reason: Coding,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// 4-digit practice id.
    pub practice_id: String,
    pub location_id: Guid,
    pub practitioner_id: Guid,
    pub cpt: Coding,
}

/// An observation from an inbound ORU or an Enterprise lab result.
#[derive(Debug, Clone)]
pub struct NewObservation {
    pub encounter_id: Option<Guid>,
    pub category: ObservationCategory,
    pub code: Coding,
    pub value: ObservationValue,
    pub reference_range: Option<ReferenceRange>,
    pub interpretation: Option<Coding>,
    pub effective: OffsetDateTime,
    pub performer_id: Option<Guid>,
    pub note: Option<String>,
    pub status: &'static str,
}

#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub event_id: Guid,
    pub event_name: Cow<'static, str>,
    pub date: Date,
    pub begin_time: ClockTime,
    pub duration_minutes: u16,
    pub location_id: Guid,
    pub rendering_provider_id: Guid,
    /// 4-digit practice id.
    pub practice_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct AppointmentPatch {
    pub date: Option<Date>,
    pub begin_time: Option<ClockTime>,
    pub duration_minutes: Option<u16>,
    pub is_kept: Option<bool>,
    pub is_cancelled: Option<bool>,
    pub is_rescheduled: Option<bool>,
    pub is_no_show: Option<bool>,
    pub location_id: Option<Guid>,
    pub rendering_provider_id: Option<Guid>,
    pub encounter_id: Option<Option<Guid>>,
}

#[derive(Debug, Clone)]
pub struct NewImmunization {
    pub cvx: Coding,
    pub occurrence: Date,
    pub lot_number: String,
    pub manufacturer: Cow<'static, str>,
    pub performer_id: Option<Guid>,
    pub location_id: Option<Guid>,
    pub encounter_id: Option<Guid>,
}

/// A problem-list entry or diagnosis recorded at run time (Enterprise
/// `POST …/chart/problems`).
#[derive(Debug, Clone)]
pub struct NewCondition {
    pub encounter_id: Option<Guid>,
    pub icd10: Coding,
    /// An empty `code` when the writer gave no SNOMED concept.
    pub snomed: Coding,
    pub clinical_status: &'static str,
    /// `problem-list-item`, `encounter-diagnosis` or `health-concern`.
    pub category: &'static str,
    pub onset: Date,
    pub recorded: Date,
    pub asserter_id: Guid,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCharge {
    pub encounter_id: Option<Guid>,
    pub cpt: Coding,
    pub units: u16,
    pub amount_cents: i64,
    pub service_date: Date,
    pub rendering_provider_id: Option<Guid>,
    pub payer_id: Option<Guid>,
}

#[derive(Debug, Default)]
pub struct Overlay {
    pub created: Vec<Patient>,
    pub patched: BTreeMap<u32, Patient>,
    pub encounters: BTreeMap<u32, Vec<Encounter>>,
    pub observations: BTreeMap<u32, Vec<Observation>>,
    /// Appointments created at run time.
    pub appointments: BTreeMap<u32, Vec<Appointment>>,
    /// Edited generated appointments, replacing them by id.
    pub appointment_edits: BTreeMap<u32, Vec<Appointment>>,
    pub immunizations: BTreeMap<u32, Vec<Immunization>>,
    /// Conditions (problems) recorded at run time.
    pub conditions: BTreeMap<u32, Vec<Condition>>,
    /// Charges received at run time, in arrival order (the holding tank).
    pub(super) charges: Vec<(PatientIndex, Charge)>,
    /// Where each patient's charges are in `charges`, in arrival order: a
    /// chart, or a new charge's ordinal, never scans the whole tank.
    charge_slots: BTreeMap<u32, Vec<usize>>,
    pub consents: BTreeMap<u32, ConsentState>,
}

/// Deterministic stamp for run-time writes: noon on `as_of` plus one second per write.
fn stamp(g: &Generator, gen_no: u64) -> OffsetDateTime {
    g.as_of
        .with_time(Time::MIDNIGHT + Duration::hours(12))
        .assume_offset(PRACTICE_OFFSET)
        + Duration::seconds(gen_no.min(1 << 40) as i64)
}

fn overlay_id(keys: &IdKeys, kind: RecordKind, patient: PatientIndex, ordinal: usize) -> Guid {
    keys.guid(kind, u64::from(patient.0), ordinal.min(0xFFF) as u16, true)
}

impl Overlay {
    pub fn patient(&self, generated: u32, i: PatientIndex) -> Option<&Patient> {
        if i.0 >= generated {
            self.created.get((i.0 - generated) as usize)
        } else {
            self.patched.get(&i.0)
        }
    }

    /// The overlay's current version of an appointment (created or edited).
    pub fn appointment(&self, p: PatientIndex, id: &str) -> Option<&Appointment> {
        let created = self.appointments.get(&p.0).into_iter().flatten();
        let edited = self.appointment_edits.get(&p.0).into_iter().flatten();
        created.chain(edited).find(|a| a.id == id)
    }

    /// Whether an overlay id `(patient, kind, ordinal)` was handed out.
    pub fn issued(&self, p: PatientIndex, kind: RecordKind, ordinal: u16) -> bool {
        let n = match kind {
            RecordKind::Patient => usize::from(self.created.iter().any(|c| c.index == p)),
            RecordKind::Encounter => self.encounters.get(&p.0).map_or(0, Vec::len),
            RecordKind::Observation => self.observations.get(&p.0).map_or(0, Vec::len),
            RecordKind::Appointment => self.appointments.get(&p.0).map_or(0, Vec::len),
            RecordKind::Immunization => self.immunizations.get(&p.0).map_or(0, Vec::len),
            RecordKind::Condition => self.conditions.get(&p.0).map_or(0, Vec::len),
            RecordKind::Charge => self.charge_slots.get(&p.0).map_or(0, Vec::len),
            _ => 0,
        };
        usize::from(ordinal) < n
    }

    pub fn create_patient(
        &mut self,
        g: &Generator,
        generated: u32,
        p: NewPatient,
        gen_no: u64,
    ) -> Patient {
        let index = PatientIndex(generated + self.created.len() as u32);
        let practice_id = p
            .practice_id
            .unwrap_or_else(|| g.dir.enterprise.practices[PRACTICE_PRIMARY].id.clone());
        let pcp = g.dir.pcps[PRACTICE_PRIMARY][0];
        let patient = Patient {
            index,
            id: overlay_id(&g.keys, RecordKind::Patient, index, 0),
            person_number: person_number(index.0),
            mrn: g.keys.mrn(index.0),
            external_ids: p.external_ids,
            enterprise_id: g.dir.enterprise.id.clone(),
            practice_id,
            name: HumanName {
                family: p.family,
                given: p.given,
                middle: p.middle,
            },
            sex: p.sex,
            gender_identity: match p.sex {
                Sex::M => GENDER_MALE.clone(),
                Sex::F => GENDER_FEMALE.clone(),
                Sex::U => GENDER_ASKU.clone(),
            },
            birth_date: p.birth_date,
            address: p.address.unwrap_or(Address {
                line: String::new(),
                city: Cow::Borrowed(""),
                state: Cow::Borrowed(""),
                postal_code: Cow::Borrowed(""),
            }),
            phone: p.phone.unwrap_or_default(),
            email: p.email,
            language: Coding::new(BCP47, "en", "English"),
            marital_status: MARITAL_STATUS[4].1.clone(),
            race: Coding::new(NULL_FLAVOR, "UNK", "unknown"),
            ethnicity: NOT_HISPANIC.clone(),
            sdoh: Vec::new(),
            sliding_fee: SlidingFee {
                class: SlidingFeeClass::FullPay,
                family_size: 1,
                income_band: "unknown",
                annual_income_dollars: 0,
            },
            uds: UdsStatus {
                homeless: "unknown",
                agricultural_worker: "unknown",
                veteran: false,
                public_housing: false,
                school_based: false,
            },
            primary_payer_id: g.dir.payers[PAYER_SELF].id,
            pcp_id: g.dir.practitioners[pcp].id,
            deceased: false,
            part2: false,
            created_in_overlay: true,
            last_updated: stamp(g, gen_no),
        };
        self.created.push(patient.clone());
        patient
    }

    pub fn update_patient(
        &mut self,
        g: &Generator,
        generated: u32,
        mut p: Patient,
        patch: PatientPatch,
        gen_no: u64,
    ) -> Patient {
        macro_rules! set {
            ($($field:ident => $target:expr),* $(,)?) => {
                $(if let Some(v) = patch.$field { $target = v; })*
            };
        }
        set!(family => p.name.family, given => p.name.given, middle => p.name.middle, sex => p.sex,
             birth_date => p.birth_date, address => p.address, phone => p.phone, email => p.email,
             language => p.language, marital_status => p.marital_status, pcp_id => p.pcp_id,
             primary_payer_id => p.primary_payer_id, deceased => p.deceased, external_ids => p.external_ids);
        p.last_updated = stamp(g, gen_no);
        if p.index.0 >= generated {
            if let Some(slot) = self.created.get_mut((p.index.0 - generated) as usize) {
                *slot = p.clone();
            }
        } else {
            self.patched.insert(p.index.0, p.clone());
        }
        p
    }

    pub fn add_encounter(
        &mut self,
        g: &Generator,
        patient: &Patient,
        e: NewEncounter,
        gen_no: u64,
    ) -> Encounter {
        let list = self.encounters.entry(patient.index.0).or_default();
        let ord = list.len();
        let enc = Encounter {
            id: overlay_id(&g.keys, RecordKind::Encounter, patient.index, ord),
            patient_id: patient.id,
            visit_number: visit_number(patient.index.0, OVERLAY_VISIT_BASE + ord),
            status: e.status,
            class: ENCOUNTER_CLASS_AMB.clone(),
            encounter_type: e.encounter_type,
            reason: e.reason,
            start: e.start,
            end: e.end,
            practice_id: e.practice_id,
            location_id: e.location_id,
            practitioner_id: e.practitioner_id,
            cpt: e.cpt,
            behavioral_health_program: None,
            text: None,
            identifiers: Vec::new(),
            part2: None,
            last_updated: stamp(g, gen_no),
        };
        list.push(enc.clone());
        enc
    }

    pub fn add_observation(
        &mut self,
        g: &Generator,
        patient: &Patient,
        o: NewObservation,
        gen_no: u64,
    ) -> Observation {
        let list = self.observations.entry(patient.index.0).or_default();
        let obs = Observation {
            id: overlay_id(&g.keys, RecordKind::Observation, patient.index, list.len()),
            patient_id: patient.id,
            encounter_id: o.encounter_id,
            status: o.status,
            category: o.category,
            code: o.code,
            value: o.value,
            components: Vec::new(),
            reference_range: o.reference_range,
            interpretation: o.interpretation,
            effective: o.effective,
            performer_id: o.performer_id,
            panel_id: None,
            note: o.note,
            identifiers: Vec::new(),
            part2: None,
            last_updated: stamp(g, gen_no),
        };
        list.push(obs.clone());
        obs
    }

    pub fn add_appointment(
        &mut self,
        g: &Generator,
        patient: &Patient,
        a: NewAppointment,
        gen_no: u64,
    ) -> Appointment {
        let list = self.appointments.entry(patient.index.0).or_default();
        let appt = Appointment {
            id: overlay_id(&g.keys, RecordKind::Appointment, patient.index, list.len()),
            patient_id: patient.id,
            event_id: a.event_id,
            event_name: a.event_name,
            appointment_date: a.date,
            begin_time: a.begin_time,
            end_time: ClockTime(a.begin_time.0 + a.duration_minutes),
            duration_minutes: a.duration_minutes,
            is_kept: false,
            is_cancelled: false,
            is_rescheduled: false,
            is_no_show: false,
            practice_id: a.practice_id,
            location_id: a.location_id,
            rendering_provider_id: a.rendering_provider_id,
            encounter_id: None,
            last_updated: stamp(g, gen_no),
        };
        list.push(appt.clone());
        appt
    }

    pub fn update_appointment(
        &mut self,
        g: &Generator,
        patient: PatientIndex,
        mut a: Appointment,
        patch: AppointmentPatch,
        gen_no: u64,
    ) -> Appointment {
        macro_rules! set {
            ($($field:ident => $target:expr),* $(,)?) => {
                $(if let Some(v) = patch.$field { $target = v; })*
            };
        }
        set!(date => a.appointment_date, begin_time => a.begin_time, duration_minutes => a.duration_minutes,
             is_kept => a.is_kept, is_cancelled => a.is_cancelled, is_rescheduled => a.is_rescheduled,
             is_no_show => a.is_no_show, location_id => a.location_id,
             rendering_provider_id => a.rendering_provider_id, encounter_id => a.encounter_id);
        a.end_time = ClockTime(a.begin_time.0 + a.duration_minutes);
        a.last_updated = stamp(g, gen_no);
        let created = self.appointments.entry(patient.0).or_default();
        if let Some(slot) = created.iter_mut().find(|x| x.id == a.id) {
            *slot = a.clone();
        } else {
            let edits = self.appointment_edits.entry(patient.0).or_default();
            match edits.iter_mut().find(|x| x.id == a.id) {
                Some(slot) => *slot = a.clone(),
                None => edits.push(a.clone()),
            }
        }
        a
    }

    pub fn add_immunization(
        &mut self,
        g: &Generator,
        patient: &Patient,
        im: NewImmunization,
        gen_no: u64,
    ) -> Immunization {
        let list = self.immunizations.entry(patient.index.0).or_default();
        let rec = Immunization {
            id: overlay_id(&g.keys, RecordKind::Immunization, patient.index, list.len()),
            patient_id: patient.id,
            encounter_id: im.encounter_id,
            cvx: im.cvx,
            status: "completed",
            occurrence: im.occurrence,
            lot_number: im.lot_number,
            manufacturer: im.manufacturer,
            performer_id: im.performer_id,
            location_id: im.location_id,
            last_updated: stamp(g, gen_no),
        };
        list.push(rec.clone());
        rec
    }

    pub fn add_condition(
        &mut self,
        g: &Generator,
        patient: &Patient,
        c: NewCondition,
        gen_no: u64,
    ) -> Condition {
        let list = self.conditions.entry(patient.index.0).or_default();
        let rec = Condition {
            id: overlay_id(&g.keys, RecordKind::Condition, patient.index, list.len()),
            patient_id: patient.id,
            encounter_id: c.encounter_id,
            icd10: c.icd10,
            snomed: c.snomed,
            clinical_status: c.clinical_status,
            verification_status: "confirmed",
            category: c.category,
            onset: c.onset,
            recorded: c.recorded,
            asserter_id: c.asserter_id,
            note: c.note,
            identifiers: Vec::new(),
            part2: None,
            last_updated: stamp(g, gen_no),
        };
        list.push(rec.clone());
        rec
    }

    pub fn add_charge(
        &mut self,
        g: &Generator,
        patient: &Patient,
        c: NewCharge,
        gen_no: u64,
    ) -> Charge {
        let slots = self.charge_slots.entry(patient.index.0).or_default();
        let n = slots.len();
        slots.push(self.charges.len());
        let charge = Charge {
            id: overlay_id(&g.keys, RecordKind::Charge, patient.index, n),
            patient_id: patient.id,
            encounter_id: c.encounter_id,
            cpt: c.cpt,
            units: c.units,
            amount_cents: c.amount_cents,
            service_date: c.service_date,
            status: ChargeStatus::Pending,
            rendering_provider_id: c.rendering_provider_id,
            payer_id: c.payer_id,
            last_updated: stamp(g, gen_no),
        };
        self.charges.push((patient.index, charge.clone()));
        charge
    }

    pub fn post_charges(&mut self) -> Vec<Charge> {
        let mut posted = Vec::new();
        for (_, c) in self
            .charges
            .iter_mut()
            .filter(|c| c.1.status == ChargeStatus::Pending)
        {
            c.status = ChargeStatus::Posted;
            posted.push(c.clone());
        }
        posted
    }

    /// Layer this overlay onto a chart built by the generator with `parts`:
    /// the lists `parts` leaves out stay empty.
    pub fn apply(&self, g: &Generator, chart: &mut Chart, parts: ChartParts) {
        let i = chart.patient.index.0;
        let wanted = |l: List| parts.has(l);
        if let Some(encs) = self.encounters.get(&i).filter(|_| wanted(List::Encounters)) {
            chart.encounters.extend(encs.iter().cloned());
            chart.encounters.sort_by_key(|e| e.start);
        }
        if let Some(obs) = self
            .observations
            .get(&i)
            .filter(|_| wanted(List::Observations))
        {
            chart.observations.extend(obs.iter().cloned());
        }
        if wanted(List::Appointments) {
            if let Some(edits) = self.appointment_edits.get(&i) {
                for e in edits {
                    if let Some(slot) = chart.appointments.iter_mut().find(|a| a.id == e.id) {
                        *slot = e.clone();
                    }
                }
            }
            if let Some(appts) = self.appointments.get(&i) {
                chart.appointments.extend(appts.iter().cloned());
            }
        }
        if let Some(ims) = self
            .immunizations
            .get(&i)
            .filter(|_| wanted(List::Immunizations))
        {
            chart.immunizations.extend(ims.iter().cloned());
        }
        if let Some(conds) = self.conditions.get(&i).filter(|_| wanted(List::Conditions)) {
            chart.conditions.extend(conds.iter().cloned());
        }
        if let Some(slots) = self.charge_slots.get(&i).filter(|_| wanted(List::Charges)) {
            chart
                .charges
                .extend(slots.iter().map(|&k| self.charges[k].1.clone()));
        }
        if let Some(&state) = self.consents.get(&i) {
            set_consent_state(g, chart, state);
            if !wanted(List::Consent) {
                chart.consent = None;
            }
        }
    }
}

/// Change a chart's consent and every Part 2 label to `state`.
fn set_consent_state(g: &Generator, chart: &mut Chart, state: ConsentState) {
    let unchanged = chart.consent.as_ref().map(|c| c.state) == Some(state);
    if state == ConsentState::Absent {
        chart.consent = None;
    } else if !unchanged {
        let mut c = runtime_consent(g, &chart.patient, state, g.as_of);
        if let Some(old) = &chart.consent {
            c.date_granted = old.date_granted;
        }
        chart.consent = Some(c);
    }
    let labels = chart
        .encounters
        .iter_mut()
        .map(|r| &mut r.part2)
        .chain(chart.conditions.iter_mut().map(|r| &mut r.part2))
        .chain(chart.medications.iter_mut().map(|r| &mut r.part2))
        .chain(chart.observations.iter_mut().map(|r| &mut r.part2))
        .chain(chart.lab_panels.iter_mut().map(|r| &mut r.part2))
        .chain(chart.documents.iter_mut().map(|r| &mut r.part2));
    for l in labels.flatten() {
        l.consent_state = state;
    }
}
