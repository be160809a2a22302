//! The generator: patient `i` of seed `s` is a pure function of `(s, i)`.
//!
//! Each part of a patient draws from its own SplitMix64 sub-stream keyed by
//! `(seed, i, part)`, so demographics can be produced without the chart and no
//! patient depends on any other.

use std::borrow::Cow;

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

use super::catalog::*;
use super::directory::*;
use super::guid::Guid;
use super::ids::{IdKeys, RecordKind};
use super::model::*;
use super::parts::{ChartParts, List};
use super::rng::{Rng, hash2};

/// The practice's wall-clock offset (fixed, so output never depends on DST rules).
pub const PRACTICE_OFFSET: UtcOffset = match UtcOffset::from_hms(-5, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

const STREAM_DEMOGRAPHICS: u64 = 0xD3;
const STREAM_CHART: u64 = 0xC4;
const STREAM_PART2: u64 = 0x92;
const PART2_GATE: u64 = 0x42_43_46_52;

/// Part 2 share in basis points (5%).
pub const PART2_BASIS_POINTS: u64 = 500;

/// Everything the generator needs; shared, immutable.
#[derive(Debug)]
pub struct Generator {
    pub keys: IdKeys,
    pub as_of: Date,
    pub dir: Directory,
}

fn at(date: Date, minutes: u32) -> OffsetDateTime {
    let t = Time::from_hms((minutes / 60).min(23) as u8, (minutes % 60) as u8, 0)
        .unwrap_or(Time::MIDNIGHT);
    date.with_time(t).assume_offset(PRACTICE_OFFSET)
}

fn age_on(birth: Date, on: Date) -> u32 {
    let mut age = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

fn sub_days(d: Date, n: i64) -> Date {
    d.checked_sub(Duration::days(n)).unwrap_or(d)
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(Duration::days(n)).unwrap_or(d)
}

fn canary_identifier(label: &Option<Part2Label>) -> Vec<Identifier> {
    match label {
        Some(l) => vec![Identifier {
            system: CANARY_SYSTEM,
            value: l.canary.clone(),
        }],
        None => Vec::new(),
    }
}

fn federal_poverty_level(family_size: u32) -> u32 {
    15_650 + 5_500 * family_size.saturating_sub(1)
}

impl Generator {
    pub fn new(seed: u64, as_of: Date) -> Generator {
        let keys = IdKeys::new(seed);
        let dir = Directory::new(&keys, as_of);
        Generator { keys, as_of, dir }
    }

    fn stream(&self, i: u32, part: u64) -> Rng {
        Rng::new(hash2(hash2(self.keys.seed, u64::from(i)), part))
    }

    pub fn id(&self, kind: RecordKind, i: u32, ordinal: usize) -> Guid {
        self.keys
            .guid(kind, u64::from(i), ordinal.min(0xFFF) as u16, false)
    }

    /// Whether generated patient `i` has Part 2 records (about 5%).
    pub fn is_part2(&self, i: u32) -> bool {
        hash2(self.keys.seed ^ PART2_GATE, u64::from(i)) % 10_000 < PART2_BASIS_POINTS
    }

    /// The consent state a Part 2 patient starts with (50/25/25).
    pub fn initial_consent(&self, i: u32) -> ConsentState {
        match hash2(self.keys.seed ^ PART2_GATE ^ 0xC0, u64::from(i)) % 4 {
            0 | 1 => ConsentState::Granted,
            2 => ConsentState::Revoked,
            _ => ConsentState::Absent,
        }
    }

    pub fn label(
        &self,
        i: u32,
        kind: RecordKind,
        ordinal: usize,
        consent: ConsentState,
    ) -> Part2Label {
        Part2Label {
            canary: self.keys.canary(i, kind, ordinal as u16),
            consent_state: consent,
        }
    }

    /// Demographics of generated patient `i`.
    pub fn patient(&self, i: u32) -> Patient {
        let mut r = self.stream(i, STREAM_DEMOGRAPHICS);
        let part2 = self.is_part2(i);
        let sex = match r.below(100) {
            0..=48 => Sex::M,
            49..=98 => Sex::F,
            _ => Sex::U,
        };
        let age = if part2 {
            r.range(19, 68)
        } else {
            match r.below(100) {
                0..=29 => r.range(0, 17),
                30..=87 => r.range(18, 64),
                _ => r.range(65, 94),
            }
        };
        let birth_date = sub_days(
            self.as_of,
            i64::from(age) * 365 + i64::from(age / 4) + i64::from(r.below(365)) + 1,
        );
        let given_pool = match sex {
            Sex::M => GIVEN_MALE,
            Sex::F => GIVEN_FEMALE,
            Sex::U => {
                if r.percent(50) {
                    GIVEN_MALE
                } else {
                    GIVEN_FEMALE
                }
            }
        };
        let given = *r.pick(given_pool);
        let family = *r.pick(FAMILY);
        let middle = r.percent(40).then(|| (*r.pick(given_pool)).to_string());
        let hispanic = r.percent(38);
        let ethnicity = if hispanic {
            HISPANIC.clone()
        } else {
            NOT_HISPANIC.clone()
        };
        let race = r.weighted(RACES).clone();
        let language = if hispanic && r.percent(55) {
            LANGUAGES[1].1.clone()
        } else {
            r.weighted(LANGUAGES).clone()
        };
        let marital_status = if age < 18 {
            MARITAL_STATUS[0].1.clone()
        } else {
            r.weighted(MARITAL_STATUS).clone()
        };
        let gender_identity = match (r.below(100), sex) {
            (0, _) => GENDER_NONBINARY.clone(),
            (1..=3, _) | (_, Sex::U) => GENDER_ASKU.clone(),
            (_, Sex::M) => GENDER_MALE.clone(),
            (_, Sex::F) => GENDER_FEMALE.clone(),
        };
        let (city, state, zip) = *r.pick(CITIES);
        let mut line = format!("{} {}", r.range(100, 9899), r.pick(STREETS));
        if r.percent(30) {
            line.push_str(" Apt ");
            line.push_str(&r.range(1, 40).to_string());
        }
        let phone = format!("419555{:04}", r.below(10_000));
        let email = r.percent(45).then(|| {
            format!(
                "{}.{}{}@example.org",
                given.to_ascii_lowercase().replace(' ', ""),
                family.to_ascii_lowercase(),
                i % 1000
            )
        });
        let sdoh = SDOH_ITEMS
            .iter()
            .map(|item| {
                let (_, answer, positive) =
                    &item.answers[r.weighted_index(item.answers.iter().map(|a| a.0))];
                SdohAnswer {
                    question: item.question.clone(),
                    answer: answer.clone(),
                    positive: *positive,
                }
            })
            .collect::<Vec<_>>();
        let unhoused = sdoh[0].answer.code == "LA31995-6";
        let family_size = r.range(1, 7);
        let (class, band, pct) = match r.below(100) {
            0..=44 => (SlidingFeeClass::A, "0-100", r.range(20, 100)),
            45..=59 => (SlidingFeeClass::B, "101-133", r.range(101, 133)),
            60..=69 => (SlidingFeeClass::C, "134-166", r.range(134, 166)),
            70..=77 => (SlidingFeeClass::D, "167-200", r.range(167, 200)),
            _ => (SlidingFeeClass::FullPay, ">200", r.range(201, 450)),
        };
        let income = federal_poverty_level(family_size) / 100 * pct;
        let uds = UdsStatus {
            homeless: if unhoused {
                r.pick::<&str>(&["street", "homeless shelter", "doubling up"])
            } else {
                r.weighted::<&str>(UDS_HOMELESS)
            },
            agricultural_worker: r.weighted::<&str>(UDS_AG_WORKER),
            veteran: age >= 18 && r.percent(4),
            public_housing: r.percent(8),
            school_based: age < 18 && r.percent(10),
        };
        let payer = if age >= 65 {
            if r.percent(88) {
                PAYER_MEDICARE
            } else {
                PAYER_SELF
            }
        } else if age < 18 {
            match r.below(100) {
                0..=64 => *r.pick(PAYER_MEDICAID),
                65..=84 => *r.pick(PAYER_COMMERCIAL),
                _ => PAYER_SELF,
            }
        } else {
            match r.below(100) {
                0..=44 => *r.pick(PAYER_MEDICAID),
                45..=69 => PAYER_SELF,
                70..=94 => *r.pick(PAYER_COMMERCIAL),
                _ => PAYER_MEDICARE,
            }
        };
        let practice = if age < 18 {
            PRACTICE_PEDS
        } else {
            PRACTICE_PRIMARY
        };
        let pcp = *r.pick(&self.dir.pcps[practice]);
        let mut external_ids = vec![ExternalId {
            system: "urn:oid:2.16.840.1.113883.3.9999.1",
            system_name: "Riverbend Memorial Hospital MPI",
            value: format!(
                "RMH{:08}",
                hash2(self.keys.seed ^ 0xE1, u64::from(i)) % 100_000_000
            ),
        }];
        if r.percent(30) {
            external_ids.push(ExternalId {
                system: "urn:oid:2.16.840.1.113883.3.9999.2",
                system_name: "Northwest Ohio HIE",
                value: format!(
                    "HIE-{:010}",
                    hash2(self.keys.seed ^ 0xE2, u64::from(i)) % 10_000_000_000
                ),
            });
        }
        let last_updated = at(
            sub_days(self.as_of, i64::from(r.range(1, 700))),
            r.range(420, 1080),
        );
        Patient {
            index: PatientIndex(i),
            id: self.id(RecordKind::Patient, i, 0),
            person_number: super::ids::person_number(i),
            mrn: self.keys.mrn(i),
            external_ids,
            enterprise_id: self.dir.enterprise.id.clone(),
            practice_id: self.dir.enterprise.practices[practice].id.clone(),
            name: HumanName {
                family: family.to_string(),
                given: given.to_string(),
                middle,
            },
            sex,
            gender_identity,
            birth_date,
            address: Address {
                line,
                city: Cow::Borrowed(city),
                state: Cow::Borrowed(state),
                postal_code: Cow::Borrowed(zip),
            },
            phone,
            email,
            language,
            marital_status,
            race,
            ethnicity,
            sdoh,
            sliding_fee: SlidingFee {
                class,
                family_size: family_size as u8,
                income_band: band,
                annual_income_dollars: income,
            },
            uds,
            primary_payer_id: self.dir.payers[payer].id,
            pcp_id: self.dir.practitioners[pcp].id,
            deceased: false,
            part2,
            created_in_overlay: false,
            last_updated,
        }
    }

    /// An empty chart around a patient (overlay-created patients start here).
    pub fn empty_chart(patient: Patient) -> Chart {
        Chart {
            patient,
            encounters: Vec::new(),
            conditions: Vec::new(),
            medications: Vec::new(),
            allergies: Vec::new(),
            observations: Vec::new(),
            lab_panels: Vec::new(),
            immunizations: Vec::new(),
            procedures: Vec::new(),
            documents: Vec::new(),
            appointments: Vec::new(),
            charges: Vec::new(),
            balance: AccountBalance {
                charges_cents: 0,
                payments_cents: 0,
                adjustments_cents: 0,
                balance_cents: 0,
            },
            coverages: Vec::new(),
            care_plans: Vec::new(),
            care_team: Vec::new(),
            goals: Vec::new(),
            devices: Vec::new(),
            consent: None,
        }
    }

    /// The full chart of generated patient `i` (no overlay).
    pub fn chart(&self, patient: Patient) -> Chart {
        self.chart_with(patient, ChartParts::FULL)
    }

    /// The chart of generated patient `i` (no overlay) with the record lists
    /// `parts` asks for; every list it builds equals the full chart's.
    pub fn chart_with(&self, patient: Patient, parts: ChartParts) -> Chart {
        let i = patient.index.0;
        let mut b = ChartBuilder {
            g: self,
            i,
            parts,
            counts: [0; List::ALL.len()],
            r: self.stream(i, STREAM_CHART),
            age: age_on(patient.birth_date, self.as_of),
            pid: patient.id,
            pcp: self
                .dir
                .practitioners
                .iter()
                .position(|p| p.id == patient.pcp_id)
                .unwrap_or(0),
            chart: Generator::empty_chart(patient),
            condition_defs: Vec::new(),
        };
        b.build();
        if b.chart.patient.part2 {
            let consent = self.initial_consent(i);
            b.part2(consent);
        }
        b.finish()
    }
}

struct ChartBuilder<'g> {
    g: &'g Generator,
    i: u32,
    parts: ChartParts,
    /// Records of each list generated so far, built or not: the ordinal of
    /// the next one.
    counts: [usize; List::ALL.len()],
    r: Rng,
    age: u32,
    pid: Guid,
    pcp: usize,
    chart: Chart,
    condition_defs: Vec<usize>,
}

/// A generated visit, before its records are attached.
struct Visit {
    id: Guid,
    reason: &'static Coding,
    cpt: &'static Coding,
    start: OffsetDateTime,
    practitioner: usize,
    location: usize,
    bh: bool,
}

impl ChartBuilder<'_> {
    fn id(&self, kind: RecordKind, ordinal: usize) -> Guid {
        self.g.id(kind, self.i, ordinal)
    }

    /// The ordinal of the next record of `list`, counted whether it is
    /// built or not.
    fn next(&mut self, list: List) -> usize {
        self.counts[list as usize] += 1;
        self.counts[list as usize] - 1
    }

    /// The ordinal [`Self::next`] will return for `list`.
    fn peek(&self, list: List) -> usize {
        self.counts[list as usize]
    }

    fn wants(&self, list: List) -> bool {
        self.parts.has(list)
    }

    /// The ordinal of the next record of `list` if the chart builds it:
    /// [`Self::next`], counted either way.
    fn slot(&mut self, list: List) -> Option<usize> {
        let ord = self.next(list);
        self.wants(list).then_some(ord)
    }

    /// The id of generated condition `k` (the conditions' ordinals are
    /// their definitions' places), read back when conditions are built.
    fn condition_id(&self, k: usize) -> Guid {
        match self.chart.conditions.get(k) {
            Some(c) if self.wants(List::Conditions) => c.id,
            _ => self.id(RecordKind::Condition, k),
        }
    }

    fn has(&self, cond: usize) -> bool {
        self.condition_defs.contains(&cond)
    }

    fn build(&mut self) {
        let as_of = self.g.as_of;
        // Problems first: they steer visits, labs and medications.
        for (ci, def) in CONDITIONS.iter().enumerate() {
            let prevalence = if self.age < 18 {
                def.prevalence / 3
            } else {
                def.prevalence
            };
            if self.age >= def.min_age
                && self.r.percent(prevalence)
                && self.condition_defs.len() < 5
            {
                self.condition_defs.push(ci);
            }
        }
        let days_alive = (as_of - self.chart.patient.birth_date).whole_days().max(1);
        let window = days_alive.min(1095) as u32;
        let n = 1 + self.r.below(12) as usize;
        let mut offsets: Vec<u32> = (0..n).map(|_| self.r.range(1, window.max(1))).collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        // Reserve up front: growing Vecs of large records was a visible cost.
        let parts = self.parts;
        let reserve = |l: List, n: usize| if parts.has(l) { n } else { 0 };
        let c = &mut self.chart;
        c.encounters.reserve(reserve(List::Encounters, n + 3));
        c.observations
            .reserve(reserve(List::Observations, n * 16 + 4));
        c.documents.reserve(reserve(List::Documents, n + 3));
        c.charges.reserve(reserve(List::Charges, n * 3));
        c.appointments.reserve(reserve(List::Appointments, n + 4));
        c.procedures.reserve(reserve(List::Procedures, n));
        let bh_eligible = self.has(COND_DEPRESSION) || self.has(COND_ANXIETY);
        let mut visits = Vec::with_capacity(n);
        for off in offsets {
            let date = sub_days(as_of, i64::from(off));
            let bh = bh_eligible && self.r.percent(30);
            let practitioner = if bh {
                *self.r.pick(BH_CLINICIANS)
            } else if self.r.percent(70) {
                self.pcp
            } else {
                let practice =
                    self.g.dir.location_practice[self.g.dir.practitioner_location(self.pcp)];
                *self.r.pick(&self.g.dir.pcps[practice])
            };
            let slot = 480 + 20 * self.r.below(25);
            visits.push(self.encounter(date, slot, practitioner, bh, None));
        }
        self.conditions(&visits);
        for v in &visits {
            self.visit_records(v);
        }
        self.medications(&visits);
        self.allergies(&visits);
        self.immunizations(&visits);
        self.smoking_status(&visits[0]);
        self.future_appointments();
        self.coverages();
        self.care(&visits);
    }

    /// Push an encounter and return the visit handle.
    fn encounter(
        &mut self,
        date: Date,
        slot: u32,
        practitioner: usize,
        bh: bool,
        part2: Option<Part2Label>,
    ) -> Visit {
        let ord = self.next(List::Encounters);
        let id = self.id(RecordKind::Encounter, ord);
        let location = self.g.dir.practitioner_location(practitioner);
        let (etype, reason, cpt, minutes, program) = if part2.is_some() {
            (
                &SUD_VISIT.0,
                &SUD_VISIT.1,
                &SUD_VISIT.2,
                30,
                Some("Opioid Treatment and Recovery Program"),
            )
        } else if bh {
            (
                &BH_VISIT.0,
                &BH_VISIT.1,
                &BH_VISIT.2,
                45,
                Some("Integrated Behavioral Health"),
            )
        } else {
            let (_, t, rsn, cpt) =
                &VISIT_TYPES[self.r.weighted_index(VISIT_TYPES.iter().map(|v| v.0))];
            (t, rsn, cpt, 20, None)
        };
        let start = at(date, slot);
        let visit = Visit {
            id,
            reason,
            cpt,
            start,
            practitioner,
            location,
            bh,
        };
        if !self.wants(List::Encounters) {
            return visit;
        }
        let text = part2
            .as_ref()
            .map(|l| format!("Recovery program counseling visit. Ref {}", l.canary));
        self.chart.encounters.push(Encounter {
            id,
            patient_id: self.pid,
            visit_number: visit_number(self.i, ord),
            status: "finished",
            class: ENCOUNTER_CLASS_AMB.clone(),
            encounter_type: etype.clone(),
            reason: reason.clone(),
            start,
            end: start + Duration::minutes(minutes),
            practice_id: self.g.dir.locations[location].practice_id.clone(),
            location_id: self.g.dir.locations[location].id,
            practitioner_id: self.g.dir.practitioners[practitioner].id,
            cpt: cpt.clone(),
            behavioral_health_program: program,
            text,
            identifiers: canary_identifier(&part2),
            part2,
            last_updated: start + Duration::hours(2),
        });
        visit
    }

    fn conditions(&mut self, visits: &[Visit]) {
        let first = &visits[0];
        let defs = std::mem::take(&mut self.condition_defs);
        for &ci in &defs {
            let def = &CONDITIONS[ci];
            let onset = sub_days(first.start.date(), i64::from(self.r.below(1000)));
            let onset = onset.max(self.chart.patient.birth_date);
            let active = self.r.percent(92);
            let Some(ord) = self.slot(List::Conditions) else {
                continue;
            };
            self.chart.conditions.push(Condition {
                id: self.id(RecordKind::Condition, ord),
                patient_id: self.pid,
                encounter_id: Some(first.id),
                icd10: def.icd10.clone(),
                snomed: def.snomed.clone(),
                clinical_status: if active { "active" } else { "resolved" },
                verification_status: "confirmed",
                category: "problem-list-item",
                onset,
                recorded: first.start.date(),
                asserter_id: self.g.dir.practitioners[first.practitioner].id,
                note: None,
                identifiers: Vec::new(),
                part2: None,
                last_updated: first.start + Duration::hours(3),
            });
        }
        self.condition_defs = defs;
    }

    fn visit_records(&mut self, v: &Visit) {
        let date = v.start.date();
        let pract_id = self.g.dir.practitioners[v.practitioner].id;
        if !v.bh {
            self.vitals(v, pract_id);
        }
        // The kept appointment behind the visit.
        let event = if v.bh {
            EVENT_BH
        } else if self.r.percent(20) {
            EVENT_PHYSICAL
        } else {
            EVENT_ESTABLISHED
        };
        self.appointment(
            date,
            (v.start.hour() as u16) * 60 + v.start.minute() as u16,
            event,
            v.practitioner,
            Some(v.id),
            (true, false, false, false),
        );
        // E/M charge.
        self.charge(v, v.cpt.clone(), 1);
        // Labs on about a third of medical visits.
        if !v.bh && self.r.percent(30) {
            let panel = self
                .condition_defs
                .iter()
                .filter_map(|&c| CONDITIONS[c].lab_panel)
                .nth(self.r.below(3) as usize)
                .unwrap_or_else(|| self.r.below(LAB_PANELS.len() as u32) as usize);
            self.lab_panel(v, panel, pract_id);
            self.procedure(v, PROC_VENIPUNCTURE, pract_id);
        }
        if self.age >= 12 && (self.has(COND_DEPRESSION) || v.bh || self.r.percent(12)) {
            let severe = if self.has(COND_DEPRESSION) { 14 } else { 5 };
            self.survey(v, &PHQ9_PANEL, PHQ9_ITEMS, severe, pract_id);
            self.procedure(v, 3, pract_id);
        }
        if self.age >= 12 && (self.has(COND_ANXIETY) || self.r.percent(6)) {
            let severe = if self.has(COND_ANXIETY) { 11 } else { 4 };
            self.survey(v, &GAD7_PANEL, GAD7_ITEMS, severe, pract_id);
        }
        if !v.bh && self.age > 40 && self.r.percent(5) {
            self.procedure(v, 1, pract_id);
        }
        if self.has(COND_DIABETES) && self.r.percent(40) {
            self.procedure(v, 4, pract_id);
        }
        // Progress note.
        let opener = *self.r.pick::<&str>(NOTE_OPENERS);
        let plan = *self.r.pick::<&str>(NOTE_PLANS);
        let Some(ord) = self.slot(List::Documents) else {
            return;
        };
        let mut text = String::with_capacity(200);
        text.push_str(opener);
        text.push_str("Reason for visit: ");
        text.push_str(&v.reason.display);
        text.push_str(". ");
        text.push_str(plan);
        self.chart.documents.push(Document {
            id: self.id(RecordKind::Document, ord),
            patient_id: self.pid,
            encounter_id: Some(v.id),
            doc_type: DOC_PROGRESS_NOTE.clone(),
            status: "current",
            mime_type: "text/plain",
            title: "Progress note",
            text,
            author_id: pract_id,
            date: v.start + Duration::minutes(40),
            identifiers: Vec::new(),
            part2: None,
            last_updated: v.start + Duration::hours(4),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn observation(
        &mut self,
        v: &Visit,
        category: ObservationCategory,
        code: &Coding,
        value: ObservationValue,
        components: Vec<ObservationComponent>,
        range: Option<ReferenceRange>,
        interpretation: Option<Coding>,
        panel_id: Option<Guid>,
        performer: Option<Guid>,
    ) -> Option<Guid> {
        // Minting the id is most of the work left when it is not built.
        let ord = self.slot(List::Observations)?;
        let id = self.id(RecordKind::Observation, ord);
        let effective = v.start + Duration::minutes(5);
        self.chart.observations.push(Observation {
            id,
            patient_id: self.pid,
            encounter_id: Some(v.id),
            status: "final",
            category,
            code: code.clone(),
            value,
            components,
            reference_range: range,
            interpretation,
            effective,
            performer_id: performer,
            panel_id,
            note: None,
            identifiers: Vec::new(),
            part2: None,
            last_updated: effective + Duration::hours(1),
        });
        Some(id)
    }

    fn vitals(&mut self, v: &Visit, pract: Guid) {
        let q = |value: f64, unit: &'static str| ObservationValue::Quantity {
            value,
            unit: Cow::Borrowed(unit),
            code: Cow::Borrowed(unit),
        };
        let hypertensive = self.has(0);
        let sys = if hypertensive {
            self.r.range(128, 162)
        } else {
            self.r.range(100, 134)
        };
        let dia = if hypertensive {
            self.r.range(78, 98)
        } else {
            self.r.range(60, 84)
        };
        let comps = if self.wants(List::Observations) {
            vec![
                ObservationComponent {
                    code: BP_SYS.clone(),
                    value: q(f64::from(sys), "mm[Hg]"),
                },
                ObservationComponent {
                    code: BP_DIA.clone(),
                    value: q(f64::from(dia), "mm[Hg]"),
                },
            ]
        } else {
            Vec::new()
        };
        let interp = if sys >= 140 || dia >= 90 {
            INTERP_H.clone()
        } else {
            INTERP_N.clone()
        };
        self.observation(
            v,
            ObservationCategory::VitalSigns,
            &BP_PANEL,
            ObservationValue::None,
            comps,
            None,
            Some(interp),
            None,
            Some(pract),
        );
        let hr = self.r.range(58, 104);
        // Height and weight from age; BMI derived so the three agree.
        let height_cm = if self.age < 18 {
            75 + self.age * 55 / 10 + self.r.below(10)
        } else {
            self.r.range(150, 192)
        };
        let bmi_tenths = if self.age < 18 {
            self.r.range(150, 230)
        } else if self.has(6) {
            self.r.range(300, 420)
        } else {
            self.r.range(190, 299)
        };
        let weight_tenths = bmi_tenths * height_cm * height_cm / 10_000;
        let temp = 361 + self.r.below(14);
        let spo2 = self.r.range(93, 100);
        let simple: [(&Coding, f64, &'static str); 6] = [
            (&HEART_RATE, f64::from(hr), "/min"),
            (&WEIGHT, f64::from(weight_tenths) / 10.0, "kg"),
            (&HEIGHT, f64::from(height_cm), "cm"),
            (&BMI, f64::from(bmi_tenths) / 10.0, "kg/m2"),
            (&TEMPERATURE, f64::from(temp) / 10.0, "Cel"),
            (&SPO2, f64::from(spo2), "%"),
        ];
        for (code, value, unit) in simple {
            let value = q(value, unit);
            self.observation(
                v,
                ObservationCategory::VitalSigns,
                code,
                value,
                Vec::new(),
                None,
                None,
                None,
                Some(pract),
            );
        }
    }

    fn lab_panel(&mut self, v: &Visit, panel: usize, pract: Guid) {
        let def = &LAB_PANELS[panel];
        let ord = self.next(List::LabPanels);
        let want_panel = self.wants(List::LabPanels);
        if !want_panel && !self.wants(List::Observations) {
            // The results' draws and ordinals, and nothing else.
            for lab in def.members {
                let lo = lab.low - lab.spread;
                self.r.below((lab.high + lab.spread - lo).max(1) as u32);
                self.next(List::Observations);
            }
            return;
        }
        let panel_id = self.id(RecordKind::LabPanel, ord);
        let mut result_ids = Vec::with_capacity(def.members.len());
        for lab in def.members {
            let lo = lab.low - lab.spread;
            let span = (lab.high + lab.spread - lo).max(1) as u32;
            let tenths = lo + self.r.below(span) as i32;
            let tenths = tenths.max(1);
            let interp = if tenths < lab.low {
                INTERP_L.clone()
            } else if tenths > lab.high {
                INTERP_H.clone()
            } else {
                INTERP_N.clone()
            };
            let range = ReferenceRange {
                low: Some(f64::from(lab.low) / 10.0),
                high: Some(f64::from(lab.high) / 10.0),
                text: Cow::Borrowed(lab.range_text),
            };
            let value = ObservationValue::Quantity {
                value: f64::from(tenths) / 10.0,
                unit: Cow::Borrowed(lab.unit),
                code: Cow::Borrowed(lab.unit),
            };
            let ord = self.peek(List::Observations);
            let id = self.observation(
                v,
                ObservationCategory::Laboratory,
                &lab.code,
                value,
                Vec::new(),
                Some(range),
                Some(interp),
                Some(panel_id),
                None,
            );
            if want_panel {
                result_ids.push(id.unwrap_or_else(|| self.id(RecordKind::Observation, ord)));
            }
        }
        if !want_panel {
            return;
        }
        let effective = v.start + Duration::minutes(10);
        self.chart.lab_panels.push(LabPanel {
            id: panel_id,
            patient_id: self.pid,
            encounter_id: Some(v.id),
            code: def.code.clone(),
            status: "final",
            effective,
            issued: effective + Duration::hours(20),
            performer_id: pract,
            result_ids,
            accession: format!(
                "RB{}{:05}",
                effective.year() % 100,
                hash2(self.i.into(), ord as u64) % 100_000
            ),
            part2: None,
            last_updated: effective + Duration::hours(21),
        });
    }

    fn survey(
        &mut self,
        v: &Visit,
        code: &Coding,
        items: &'static [Coding],
        typical: u32,
        pract: Guid,
    ) {
        let mut total = 0i64;
        let mut comps = Vec::with_capacity(if self.wants(List::Observations) {
            items.len()
        } else {
            0
        });
        let bias = typical * 10 / items.len() as u32; // tenths of a point per item
        for item in items {
            let s = ((self.r.below(20) + bias) / 10).min(3);
            total += i64::from(s);
            if self.wants(List::Observations) {
                comps.push(ObservationComponent {
                    code: item.clone(),
                    value: ObservationValue::Integer {
                        value: i64::from(s),
                    },
                });
            }
        }
        self.observation(
            v,
            ObservationCategory::Survey,
            code,
            ObservationValue::Integer { value: total },
            comps,
            None,
            None,
            None,
            Some(pract),
        );
    }

    fn procedure(&mut self, v: &Visit, which: usize, pract: Guid) {
        let (cpt, sct) = &PROCEDURES[which];
        if let Some(ord) = self.slot(List::Procedures) {
            let performed = v.start + Duration::minutes(15);
            self.chart.procedures.push(Procedure {
                id: self.id(RecordKind::Procedure, ord),
                patient_id: self.pid,
                encounter_id: Some(v.id),
                cpt: cpt.clone(),
                snomed: sct.clone(),
                status: "completed",
                performed,
                performer_id: pract,
                last_updated: performed + Duration::hours(2),
            });
        }
        self.charge(v, cpt.clone(), 1);
    }

    fn charge(&mut self, v: &Visit, cpt: Coding, units: u16) {
        let Some(ord) = self.slot(List::Charges) else {
            return;
        };
        let date = v.start.date();
        let amount = fee_cents(&cpt.code) * i64::from(units);
        let posted = date < sub_days(self.g.as_of, 14);
        self.chart.charges.push(Charge {
            id: self.id(RecordKind::Charge, ord),
            patient_id: self.pid,
            encounter_id: Some(v.id),
            cpt,
            units,
            amount_cents: amount,
            service_date: date,
            status: if posted {
                ChargeStatus::Posted
            } else {
                ChargeStatus::Pending
            },
            rendering_provider_id: Some(self.g.dir.practitioners[v.practitioner].id),
            payer_id: Some(self.chart.patient.primary_payer_id),
            last_updated: v.start + Duration::hours(if posted { 72 } else { 6 }),
        });
    }

    fn appointment(
        &mut self,
        date: Date,
        begin: u16,
        event: usize,
        practitioner: usize,
        encounter_id: Option<Guid>,
        flags: (bool, bool, bool, bool),
    ) {
        let Some(ord) = self.slot(List::Appointments) else {
            return;
        };
        let ev = &self.g.dir.events[event];
        let location = self.g.dir.practitioner_location(practitioner);
        let (is_kept, is_cancelled, is_rescheduled, is_no_show) = flags;
        self.chart.appointments.push(Appointment {
            id: self.id(RecordKind::Appointment, ord),
            patient_id: self.pid,
            event_id: ev.id,
            event_name: Cow::Borrowed(ev.name),
            appointment_date: date,
            begin_time: ClockTime(begin),
            end_time: ClockTime(begin + ev.duration_minutes),
            duration_minutes: ev.duration_minutes,
            is_kept,
            is_cancelled,
            is_rescheduled,
            is_no_show,
            practice_id: self.g.dir.locations[location].practice_id.clone(),
            location_id: self.g.dir.locations[location].id,
            rendering_provider_id: self.g.dir.practitioners[practitioner].id,
            encounter_id,
            last_updated: at(sub_days(date.min(self.g.as_of), 1), 600),
        });
    }

    fn future_appointments(&mut self) {
        // About 30% of patients have a visit booked in the next seven days
        // (the Enterprise API's default window), more further out.
        let soon = self.r.percent(30);
        let later = self.r.below(3);
        let mut days: Vec<u32> = Vec::new();
        if soon {
            days.push(self.r.range(0, 7));
        }
        for _ in 0..later {
            days.push(self.r.range(8, 90));
        }
        // A few past appointments that were not kept.
        if self.r.percent(15) {
            let past = self.r.range(2, 300);
            let flags = match self.r.below(3) {
                0 => (false, true, false, false),
                1 => (false, false, true, false),
                _ => (false, false, false, true),
            };
            let slot = (480 + 15 * self.r.below(32)) as u16;
            self.appointment(
                sub_days(self.g.as_of, i64::from(past)),
                slot,
                EVENT_FOLLOW_UP,
                self.pcp,
                None,
                flags,
            );
        }
        for d in days {
            let slot = (480 + 15 * self.r.below(32)) as u16;
            let event = if self.r.percent(25) {
                EVENT_PHYSICAL
            } else {
                EVENT_FOLLOW_UP
            };
            self.appointment(
                add_days(self.g.as_of, i64::from(d)),
                slot,
                event,
                self.pcp,
                None,
                (false, false, false, false),
            );
        }
    }

    fn medications(&mut self, visits: &[Visit]) {
        // The generated conditions' ordinals are their definitions' places.
        let conds: Vec<(usize, usize)> = self
            .condition_defs
            .iter()
            .enumerate()
            .filter_map(|(k, &ci)| CONDITIONS[ci].medication.map(|m| (m, k)))
            .collect();
        for (m, cond) in conds {
            if !self.r.percent(85) {
                continue;
            }
            let v = &visits[self.r.below(visits.len() as u32) as usize];
            let active = self.r.percent(85);
            let Some(ord) = self.slot(List::Medications) else {
                continue;
            };
            let (rx, dosage) = &MEDICATIONS[m];
            let cond_id = self.condition_id(cond);
            self.chart.medications.push(MedicationRequest {
                id: self.id(RecordKind::Medication, ord),
                patient_id: self.pid,
                encounter_id: Some(v.id),
                rxnorm: rx.clone(),
                status: if active { "active" } else { "stopped" },
                intent: "order",
                authored_on: v.start.date(),
                prescriber_id: self.g.dir.practitioners[v.practitioner].id,
                dosage,
                reason_condition_id: Some(cond_id),
                note: None,
                identifiers: Vec::new(),
                part2: None,
                last_updated: v.start + Duration::hours(1),
            });
        }
    }

    fn allergies(&mut self, visits: &[Visit]) {
        let n = match self.r.below(100) {
            0..=69 => 0,
            70..=91 => 1,
            _ => 2,
        };
        let first = self.r.below(ALLERGIES.len() as u32) as usize;
        if !self.wants(List::Allergies) {
            return;
        }
        for k in 0..n {
            let (code, category, reaction, criticality) =
                &ALLERGIES[(first + k * 3) % ALLERGIES.len()];
            let v = &visits[0];
            self.chart.allergies.push(Allergy {
                id: self.id(RecordKind::Allergy, k),
                patient_id: self.pid,
                code: code.clone(),
                category,
                reaction: reaction.clone(),
                severity: if *criticality == "high" {
                    "severe"
                } else {
                    "mild"
                },
                criticality,
                clinical_status: "active",
                recorded: v.start.date(),
                recorder_id: self.g.dir.practitioners[v.practitioner].id,
                last_updated: v.start + Duration::hours(1),
            });
        }
    }

    fn immunizations(&mut self, visits: &[Visit]) {
        let mut last_flu_year = 0;
        for (k, v) in visits.iter().enumerate() {
            let month = v.start.month();
            let season = matches!(
                month,
                Month::September | Month::October | Month::November | Month::December
            );
            let want_flu = season && v.start.year() != last_flu_year && self.r.percent(55);
            let other = (k == 0 && self.r.percent(40))
                .then(|| self.r.below(VACCINES.len() as u32) as usize);
            for vac in [want_flu.then_some(0), other].into_iter().flatten() {
                let (cvx, mfr, min_age) = &VACCINES[vac];
                if self.age < *min_age || v.bh {
                    continue;
                }
                if vac == 0 {
                    last_flu_year = v.start.year();
                }
                let lot = (self.r.below(4) as usize, self.r.below(100_000));
                if let Some(ord) = self.slot(List::Immunizations) {
                    self.chart.immunizations.push(Immunization {
                        id: self.id(RecordKind::Immunization, ord),
                        patient_id: self.pid,
                        encounter_id: Some(v.id),
                        cvx: cvx.clone(),
                        status: "completed",
                        occurrence: v.start.date(),
                        lot_number: format!("{}{:05}", ["LK", "TR", "AB", "MX"][lot.0], lot.1),
                        manufacturer: Cow::Borrowed(*mfr),
                        performer_id: Some(self.g.dir.practitioners[v.practitioner].id),
                        location_id: Some(self.g.dir.locations[v.location].id),
                        last_updated: v.start + Duration::hours(1),
                    });
                }
                let vac_admin = Coding::new(CPT, "90471", "Immunization administration");
                self.charge(v, vac_admin, 1);
            }
        }
    }

    fn smoking_status(&mut self, v: &Visit) {
        if self.age < 13 {
            return;
        }
        let value = if self.has(13) {
            SMOKING_VALUES[2].1.clone()
        } else {
            self.r.weighted(SMOKING_VALUES).clone()
        };
        self.observation(
            v,
            ObservationCategory::SocialHistory,
            &SMOKING_STATUS,
            ObservationValue::Coded { coding: value },
            Vec::new(),
            None,
            None,
            None,
            None,
        );
    }

    fn coverages(&mut self) {
        let primary = self.chart.patient.primary_payer_id;
        let start = sub_days(self.g.as_of, i64::from(self.r.range(60, 1500)))
            .max(self.chart.patient.birth_date);
        let medicaid = self.age >= 65 && self.r.percent(22);
        if !self.wants(List::Coverages) {
            return;
        }
        let mut payers = vec![primary];
        if medicaid {
            payers.push(self.g.dir.payers[PAYER_MEDICAID[0]].id);
        }
        for (k, payer_id) in payers.into_iter().enumerate() {
            let member_id = format!(
                "{}{:09}",
                if k == 0 { "M" } else { "S" },
                hash2(u64::from(self.i), k as u64 ^ self.g.keys.seed) % 1_000_000_000
            );
            self.chart.coverages.push(Coverage {
                id: self.id(RecordKind::Coverage, k),
                patient_id: self.pid,
                payer_id,
                status: "active",
                order: k as u8 + 1,
                member_id,
                relationship: if self.age < 18 { "child" } else { "self" },
                period_start: start,
                period_end: None,
                last_updated: at(start, 540),
            });
        }
    }

    fn care(&mut self, visits: &[Visit]) {
        let pcp_id = self.g.dir.practitioners[self.pcp].id;
        let start = visits[0].start;
        if self.wants(List::CareTeam) {
            let mut members = vec![CareTeamMember {
                practitioner_id: pcp_id,
                role: CARE_TEAM_PCP.clone(),
            }];
            if let Some(bh) = visits.iter().find(|v| v.bh) {
                members.push(CareTeamMember {
                    practitioner_id: self.g.dir.practitioners[bh.practitioner].id,
                    role: CARE_TEAM_BH.clone(),
                });
            }
            self.chart.care_team.push(CareTeam {
                id: self.id(RecordKind::CareTeam, 0),
                patient_id: self.pid,
                status: "active",
                name: "Primary care team",
                members,
                last_updated: start + Duration::hours(1),
            });
        }
        if self.wants(List::Goals) || self.wants(List::CarePlans) {
            self.goals_and_plan(start, pcp_id);
        }
        let device = if self.has(COND_DIABETES) && self.r.percent(40) {
            Some(&DEVICES[0])
        } else if (self.has(3) || self.has(10)) && self.r.percent(20) {
            Some(&DEVICES[1])
        } else {
            None
        };
        if let Some(d) = device.filter(|_| self.wants(List::Devices)) {
            self.chart.devices.push(Device {
                id: self.id(RecordKind::Device, 0),
                patient_id: self.pid,
                device_type: d.clone(),
                udi: format!(
                    "(01)00{:012}(21)SN{:06}",
                    hash2(self.g.keys.seed, 0xDE) % 1_000_000_000_000,
                    hash2(u64::from(self.i), 0xDE) % 1_000_000
                ),
                status: "active",
                last_updated: start + Duration::hours(1),
            });
        }
    }

    /// A goal for each condition that has one, and the care plan addressing
    /// them (no random draws: goals are the conditions' own).
    fn goals_and_plan(&mut self, start: OffsetDateTime, pcp_id: Guid) {
        let mut goal_ids = Vec::new();
        let mut addressed = Vec::new();
        for (k, &ci) in self.condition_defs.clone().iter().enumerate() {
            let Some(desc) = CONDITIONS[ci].goal else {
                continue;
            };
            let cond_id = self.condition_id(k);
            let ord = self.next(List::Goals);
            let gid = self.id(RecordKind::Goal, ord);
            if self.wants(List::Goals) {
                self.chart.goals.push(Goal {
                    id: gid,
                    patient_id: self.pid,
                    lifecycle_status: "active",
                    description: desc,
                    start: start.date(),
                    due: Some(add_days(self.g.as_of, 180)),
                    addresses_condition_id: Some(cond_id),
                    last_updated: start + Duration::hours(1),
                });
            }
            goal_ids.push(gid);
            addressed.push(cond_id);
        }
        if !goal_ids.is_empty() && self.wants(List::CarePlans) {
            self.chart.care_plans.push(CarePlan {
                id: self.id(RecordKind::CarePlan, 0),
                patient_id: self.pid,
                status: "active",
                intent: "plan",
                title: "Chronic care management plan",
                period_start: start.date(),
                author_id: pcp_id,
                addresses_condition_ids: addressed,
                goal_ids,
                last_updated: start + Duration::hours(2),
            });
        }
    }

    /// 42 CFR Part 2 records: SUD condition, medication, program visits with a
    /// counseling note and a urine drug screen, and the consent.
    fn part2(&mut self, consent: ConsentState) {
        let mut r = self.g.stream(self.i, STREAM_PART2);
        let g = self.g;
        let i = self.i;
        let (def, med) = &SUD_CONDITIONS[r.below(SUD_CONDITIONS.len() as u32) as usize];
        let n_visits = r.range(1, 3) as usize;
        let mut visits = Vec::with_capacity(n_visits);
        let mut days: Vec<u32> = (0..n_visits).map(|_| r.range(3, 700)).collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        for d in days {
            // Labelled whether built or not: a label is what makes this a
            // program visit (no visit-type draw).
            let ord = self.peek(List::Encounters);
            let label = g.label(i, RecordKind::Encounter, ord, consent);
            let clinician = *r.pick(SUD_CLINICIANS);
            let slot = 480 + 30 * r.below(16);
            let v = self.encounter(
                sub_days(g.as_of, i64::from(d)),
                slot,
                clinician,
                false,
                Some(label),
            );
            // Counseling note.
            let dord = self.slot(List::Documents);
            // Urine drug screen.
            let oord = self.slot(List::Observations);
            let positive = r.percent(25);
            if let Some(oord) = oord {
                self.drug_screen(&v, oord, positive, clinician, consent);
            }
            if let Some(dord) = dord {
                self.counseling_note(&v, dord, clinician, consent);
            }
            visits.push(v);
        }
        let first = &visits[0];
        let cord = self.next(List::Conditions);
        let cond_id = g.id(RecordKind::Condition, i, cord);
        let onset = sub_days(first.start.date(), i64::from(r.range(30, 2000)))
            .max(self.chart.patient.birth_date);
        if self.wants(List::Conditions) {
            let label = g.label(i, RecordKind::Condition, cord, consent);
            self.chart.conditions.push(Condition {
                id: cond_id,
                patient_id: self.pid,
                encounter_id: Some(first.id),
                icd10: def.icd10.clone(),
                snomed: def.snomed.clone(),
                clinical_status: "active",
                verification_status: "confirmed",
                category: "encounter-diagnosis",
                onset,
                recorded: first.start.date(),
                asserter_id: g.dir.practitioners[first.practitioner].id,
                note: Some(format!(
                    "Diagnosed in the recovery program. Ref {}",
                    label.canary
                )),
                identifiers: canary_identifier(&Some(label.clone())),
                part2: Some(label),
                last_updated: first.start + Duration::hours(2),
            });
        }
        if let Some(mord) = self.slot(List::Medications) {
            let label = g.label(i, RecordKind::Medication, mord, consent);
            let (rx, dosage) = &SUD_MEDICATIONS[*med];
            self.chart.medications.push(MedicationRequest {
                id: g.id(RecordKind::Medication, i, mord),
                patient_id: self.pid,
                encounter_id: Some(first.id),
                rxnorm: rx.clone(),
                status: "active",
                intent: "order",
                authored_on: first.start.date(),
                prescriber_id: g.dir.practitioners[SUD_CLINICIANS[0]].id,
                dosage,
                reason_condition_id: Some(cond_id),
                note: Some(format!(
                    "Medication for substance use disorder. Ref {}",
                    label.canary
                )),
                identifiers: canary_identifier(&Some(label.clone())),
                part2: Some(label),
                last_updated: first.start + Duration::hours(1),
            });
        }
        if consent != ConsentState::Absent && self.wants(List::Consent) {
            let granted = sub_days(first.start.date(), 0);
            self.chart.consent = Some(self.consent_record(consent, granted, &mut r));
        }
    }

    /// The counseling note of Part 2 program visit `v` (document `dord`).
    fn counseling_note(&mut self, v: &Visit, dord: usize, clinician: usize, consent: ConsentState) {
        let (g, i) = (self.g, self.i);
        let label = g.label(i, RecordKind::Document, dord, consent);
        let text = format!(
            "Recovery program counseling session. Patient engaged in relapse-prevention work; \
             medication adherence reviewed. Confidential 42 CFR Part 2 record. Ref {}",
            label.canary
        );
        self.chart.documents.push(Document {
            id: g.id(RecordKind::Document, i, dord),
            patient_id: self.pid,
            encounter_id: Some(v.id),
            doc_type: DOC_COUNSELING_NOTE.clone(),
            status: "current",
            mime_type: "text/plain",
            title: "Counseling note",
            text,
            author_id: g.dir.practitioners[clinician].id,
            date: v.start + Duration::minutes(30),
            identifiers: canary_identifier(&Some(label.clone())),
            part2: Some(label),
            last_updated: v.start + Duration::hours(3),
        });
    }

    /// The urine drug screen of Part 2 program visit `v` (observation `oord`).
    fn drug_screen(
        &mut self,
        v: &Visit,
        oord: usize,
        positive: bool,
        clinician: usize,
        consent: ConsentState,
    ) {
        let (g, i) = (self.g, self.i);
        let label = g.label(i, RecordKind::Observation, oord, consent);
        let effective = v.start + Duration::minutes(10);
        self.chart.observations.push(Observation {
            id: g.id(RecordKind::Observation, i, oord),
            patient_id: self.pid,
            encounter_id: Some(v.id),
            status: "final",
            category: ObservationCategory::Laboratory,
            code: URINE_DRUG_SCREEN.clone(),
            value: ObservationValue::Coded {
                coding: if positive {
                    POSITIVE.clone()
                } else {
                    NEGATIVE.clone()
                },
            },
            components: Vec::new(),
            reference_range: None,
            interpretation: Some(if positive {
                INTERP_POS.clone()
            } else {
                INTERP_NEG.clone()
            }),
            effective,
            performer_id: Some(g.dir.practitioners[clinician].id),
            panel_id: None,
            note: Some(format!(
                "Urine drug screen, recovery program. Ref {}",
                label.canary
            )),
            identifiers: canary_identifier(&Some(label.clone())),
            part2: Some(label),
            last_updated: effective + Duration::hours(6),
        });
    }

    fn consent_record(&self, state: ConsentState, granted: Date, r: &mut Rng) -> Consent {
        let g = self.g;
        let revoked_on = (state == ConsentState::Revoked)
            .then(|| add_days(granted, i64::from(r.range(10, 300))).min(sub_days(g.as_of, 1)));
        Consent {
            id: g.id(RecordKind::Consent, self.i, 0),
            patient_id: self.pid,
            state,
            status: if state == ConsentState::Granted {
                "active"
            } else {
                "inactive"
            },
            policy_rule: "42CFRPart2",
            category: CONSENT_CATEGORY.clone(),
            purpose: "TREAT",
            source_practice_id: g.dir.enterprise.practices[PRACTICE_BH_SUD].id.clone(),
            recipients: vec![
                ConsentRecipient {
                    name: ENTERPRISE_NAME,
                    kind: "organization",
                },
                ConsentRecipient {
                    name: "Riverbend Memorial Hospital",
                    kind: "organization",
                },
            ],
            date_granted: granted,
            revoked_on,
            period_end: Some(add_days(granted, 365 * 2)),
            part2: None,
            last_updated: at(revoked_on.unwrap_or(granted), 720),
        }
    }

    fn finish(mut self) -> Chart {
        // Program visits are generated after the others; present the visits
        // in date order. Ids keep their creation ordinals.
        self.chart.encounters.sort_by_key(|e| e.start);
        let charged: i64 = self
            .chart
            .charges
            .iter()
            .filter(|c| c.status == ChargeStatus::Posted)
            .map(|c| c.amount_cents)
            .sum();
        let self_pay = self.chart.patient.primary_payer_id == self.g.dir.payers[PAYER_SELF].id;
        let (adjust_pct, paid_pct) = if self_pay {
            match self.chart.patient.sliding_fee.class {
                SlidingFeeClass::A => (95, 4),
                SlidingFeeClass::B => (75, 20),
                SlidingFeeClass::C => (50, 40),
                SlidingFeeClass::D => (25, 65),
                SlidingFeeClass::FullPay => (0, 85),
            }
        } else {
            (35, 55 + self.r.below(5) as i64 * 2)
        };
        let adjustments = charged * adjust_pct / 100;
        let payments = charged * paid_pct / 100;
        self.chart.balance = AccountBalance {
            charges_cents: charged,
            payments_cents: payments,
            adjustments_cents: adjustments,
            balance_cents: charged - payments - adjustments,
        };
        self.chart
    }
}

/// Visits are numbered `(patient + 1) * 10_000 + ordinal` (ordinals stay below
/// 4096); visits created in the overlay use `5_000 + ordinal`.
pub fn visit_number(patient: u32, ordinal: usize) -> u64 {
    (u64::from(patient) + 1) * 10_000 + ordinal as u64
}

pub const OVERLAY_VISIT_BASE: usize = 5_000;

/// Inverse of [`visit_number`]: (patient, ordinal, created in the overlay).
pub fn visit_number_parts(v: u64) -> Option<(u32, usize, bool)> {
    let low = (v % 10_000) as usize;
    let patient = u32::try_from((v / 10_000).checked_sub(1)?).ok()?;
    match low {
        0..=0xFFF => Some((patient, low, false)),
        OVERLAY_VISIT_BASE.. if low - OVERLAY_VISIT_BASE <= 0xFFF => {
            Some((patient, low - OVERLAY_VISIT_BASE, true))
        }
        _ => None,
    }
}

/// Build a consent record for a state set at run time (the overlay's `set_consent`).
pub fn runtime_consent(g: &Generator, patient: &Patient, state: ConsentState, on: Date) -> Consent {
    let b = ChartBuilder {
        g,
        i: patient.index.0,
        parts: ChartParts::FULL,
        counts: [0; List::ALL.len()],
        r: Rng::new(0),
        age: 0,
        pid: patient.id,
        pcp: 0,
        chart: Generator::empty_chart(patient.clone()),
        condition_defs: Vec::new(),
    };
    let mut r = g.stream(patient.index.0, STREAM_PART2 ^ 0xFF);
    let mut c = b.consent_record(state, on, &mut r);
    if state == ConsentState::Revoked {
        c.revoked_on = Some(on);
    }
    c
}
