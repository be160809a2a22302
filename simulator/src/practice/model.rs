//! Typed records of the synthetic practice. Surfaces render these; nothing here
//! knows about FHIR JSON or HL7 text.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use time::{Date, OffsetDateTime};

pub use super::guid::Guid;
use super::ids::RecordKind;

// Dates serialise as ISO 8601 (`2026-07-01`), instants as RFC 3339.
time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Index of a patient in the practice: generated patients are `0..config.patients`,
/// overlay-created ones follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PatientIndex(pub u32);

/// A code from a code system. Catalogue codes are `&'static str` and cost nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coding {
    pub system: &'static str,
    pub code: Cow<'static, str>,
    pub display: Cow<'static, str>,
}

impl Coding {
    pub const fn new(system: &'static str, code: &'static str, display: &'static str) -> Coding {
        Coding {
            system,
            code: Cow::Borrowed(code),
            display: Cow::Borrowed(display),
        }
    }
}

/// An identifier of a record (canaries live in one of these on Part 2 records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    pub system: &'static str,
    pub value: String,
}

/// A NextGen-style wall-clock time `"0800"`, stored as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u16);

impl ClockTime {
    pub fn hhmm(self) -> String {
        format!("{:02}{:02}", self.0 / 60, self.0 % 60)
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Consent to disclose Part 2 records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Granted,
    Revoked,
    Absent,
}

/// The 42 CFR Part 2 flag on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part2Label {
    /// `NGSIM-CANARY-` + 16 hex digits, unique per record.
    pub canary: String,
    pub consent_state: ConsentState,
}

/// Where a canary was found by [`super::Practice::canaries_in`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryHit {
    /// Byte offset of the token's first byte.
    pub offset: usize,
    pub token: String,
    pub patient: PatientIndex,
    pub kind: RecordKind,
    pub ordinal: u16,
}

/// The result of [`super::Practice::find_record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordRef {
    pub kind: RecordKind,
    /// `None` for practice-wide entities (locations, practitioners, payers, …).
    pub patient: Option<PatientIndex>,
    /// Ordinal within the patient and kind, or the entity's index.
    pub ordinal: u32,
    /// Created at run time in the overlay.
    pub overlay: bool,
}

// ---------------------------------------------------------------- practice-wide

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub line: String,
    pub city: Cow<'static, str>,
    pub state: Cow<'static, str>,
    pub postal_code: Cow<'static, str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enterprise {
    /// 5-digit zero-padded, e.g. `00001`.
    pub id: String,
    pub guid: Guid,
    pub name: &'static str,
    pub practices: Vec<PracticeSite>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeSite {
    /// 4-digit zero-padded, e.g. `0001`.
    pub id: String,
    pub guid: Guid,
    pub name: &'static str,
    pub kind: PracticeKind,
    pub tax_id: String,
    pub npi: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PracticeKind {
    PrimaryCare,
    BehavioralHealthSud,
    Pediatric,
}

#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub id: Guid,
    pub name: &'static str,
    pub practice_id: String,
    pub address: Address,
    pub phone: String,
    pub npi: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Practitioner {
    pub id: Guid,
    pub npi: String,
    pub family: &'static str,
    pub given: &'static str,
    pub credentials: &'static str,
    pub specialty: &'static str,
    /// Whether the practitioner can be a patient's PCP.
    pub is_pcp: bool,
    /// NUCC taxonomy code.
    pub taxonomy: Coding,
    pub practice_id: String,
    pub location_id: Guid,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayerKind {
    Medicaid,
    Medicare,
    Commercial,
    SelfPay,
}

#[derive(Debug, Clone, Serialize)]
pub struct Payer {
    pub id: Guid,
    pub name: &'static str,
    pub kind: PayerKind,
    /// Payer id as used on claims.
    pub payer_code: &'static str,
    /// Sliding-fee schedule (self-pay only): class → percent of full fee.
    pub sliding_fee: Vec<SlidingFeeTier>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlidingFeeTier {
    pub class: SlidingFeeClass,
    pub max_percent_fpl: u16,
    pub percent_of_fee: u8,
    pub nominal_fee_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SlidingFeeClass {
    A,
    B,
    C,
    D,
    FullPay,
}

/// A scheduling event (NextGen `eventId`/`eventName`).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: Guid,
    pub name: &'static str,
    pub duration_minutes: u16,
}

// ---------------------------------------------------------------- patients

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    M,
    F,
    U,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HumanName {
    pub family: String,
    pub given: String,
    pub middle: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalId {
    pub system: &'static str,
    pub system_name: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SdohAnswer {
    pub question: Coding,
    pub answer: Coding,
    /// Whether the answer indicates a need.
    pub positive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlidingFee {
    pub class: SlidingFeeClass,
    pub family_size: u8,
    /// Income band as percent of the federal poverty level, e.g. "101-133".
    pub income_band: &'static str,
    pub annual_income_dollars: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdsStatus {
    pub homeless: &'static str,
    pub agricultural_worker: &'static str,
    pub veteran: bool,
    pub public_housing: bool,
    pub school_based: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patient {
    pub index: PatientIndex,
    /// GUID; FHIR `Patient.id` = Enterprise `personId` = this.
    pub id: Guid,
    /// 12-digit zero-padded person number (HL7 PID-2).
    pub person_number: String,
    /// Numeric MRN (HL7 PID-3 `<mrn>^^^NextGen^MRN`).
    pub mrn: String,
    pub external_ids: Vec<ExternalId>,
    pub enterprise_id: String,
    /// Registered practice (4-digit id).
    pub practice_id: String,
    pub name: HumanName,
    pub sex: Sex,
    pub gender_identity: Coding,
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    pub address: Address,
    pub phone: String,
    pub email: Option<String>,
    pub language: Coding,
    pub marital_status: Coding,
    pub race: Coding,
    pub ethnicity: Coding,
    pub sdoh: Vec<SdohAnswer>,
    pub sliding_fee: SlidingFee,
    pub uds: UdsStatus,
    pub primary_payer_id: Guid,
    pub pcp_id: Guid,
    pub deceased: bool,
    /// Whether the patient has 42 CFR Part 2 records.
    pub part2: bool,
    pub created_in_overlay: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

// ---------------------------------------------------------------- chart records

#[derive(Debug, Clone, Serialize)]
pub struct Encounter {
    pub id: Guid,
    pub patient_id: Guid,
    /// Numeric visit number (HL7 PV1-19, NextGen encounter number); O(1)
    /// invertible with [`super::Practice::find_encounter_by_visit_number`].
    pub visit_number: u64,
    pub status: &'static str,
    /// Always AMB (v3-ActCode).
    pub class: Coding,
    pub encounter_type: Coding,
    pub reason: Coding,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    pub practice_id: String,
    pub location_id: Guid,
    pub practitioner_id: Guid,
    /// CPT E/M (or psychotherapy) code.
    pub cpt: Coding,
    pub behavioral_health_program: Option<&'static str>,
    pub text: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Condition {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub icd10: Coding,
    pub snomed: Coding,
    pub clinical_status: &'static str,
    pub verification_status: &'static str,
    pub category: &'static str,
    #[serde(with = "iso_date")]
    pub onset: Date,
    #[serde(with = "iso_date")]
    pub recorded: Date,
    pub asserter_id: Guid,
    pub note: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct MedicationRequest {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub rxnorm: Coding,
    pub status: &'static str,
    pub intent: &'static str,
    #[serde(with = "iso_date")]
    pub authored_on: Date,
    pub prescriber_id: Guid,
    pub dosage: &'static str,
    pub reason_condition_id: Option<Guid>,
    pub note: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allergy {
    pub id: Guid,
    pub patient_id: Guid,
    pub code: Coding,
    pub category: &'static str,
    pub reaction: Coding,
    pub severity: &'static str,
    pub criticality: &'static str,
    pub clinical_status: &'static str,
    #[serde(with = "iso_date")]
    pub recorded: Date,
    pub recorder_id: Guid,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationCategory {
    VitalSigns,
    Laboratory,
    Survey,
    SocialHistory,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObservationValue {
    Quantity {
        value: f64,
        unit: Cow<'static, str>,
        /// UCUM code.
        code: Cow<'static, str>,
    },
    Integer {
        value: i64,
    },
    Coded {
        coding: Coding,
    },
    Text {
        text: String,
    },
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceRange {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub text: Cow<'static, str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationComponent {
    pub code: Coding,
    pub value: ObservationValue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub status: &'static str,
    pub category: ObservationCategory,
    pub code: Coding,
    pub value: ObservationValue,
    pub components: Vec<ObservationComponent>,
    pub reference_range: Option<ReferenceRange>,
    /// v3-ObservationInterpretation: N, H, L, A, POS, NEG.
    pub interpretation: Option<Coding>,
    #[serde(with = "time::serde::rfc3339")]
    pub effective: OffsetDateTime,
    pub performer_id: Option<Guid>,
    /// The lab panel this result belongs to.
    pub panel_id: Option<Guid>,
    pub note: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

/// A DiagnosticReport-like lab panel grouping result observations.
#[derive(Debug, Clone, Serialize)]
pub struct LabPanel {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub code: Coding,
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub effective: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub issued: OffsetDateTime,
    pub performer_id: Guid,
    pub result_ids: Vec<Guid>,
    pub accession: String,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Immunization {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub cvx: Coding,
    pub status: &'static str,
    #[serde(with = "iso_date")]
    pub occurrence: Date,
    pub lot_number: String,
    pub manufacturer: Cow<'static, str>,
    pub performer_id: Option<Guid>,
    pub location_id: Option<Guid>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Procedure {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub cpt: Coding,
    pub snomed: Coding,
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub performed: OffsetDateTime,
    pub performer_id: Guid,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    /// LOINC document type, e.g. 11506-3 progress note.
    pub doc_type: Coding,
    pub status: &'static str,
    pub mime_type: &'static str,
    pub title: &'static str,
    pub text: String,
    pub author_id: Guid,
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    pub identifiers: Vec<Identifier>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appointment {
    pub id: Guid,
    pub patient_id: Guid,
    pub event_id: Guid,
    pub event_name: Cow<'static, str>,
    #[serde(with = "iso_date")]
    pub appointment_date: Date,
    pub begin_time: ClockTime,
    pub end_time: ClockTime,
    pub duration_minutes: u16,
    pub is_kept: bool,
    pub is_cancelled: bool,
    pub is_rescheduled: bool,
    pub is_no_show: bool,
    pub practice_id: String,
    pub location_id: Guid,
    pub rendering_provider_id: Guid,
    pub encounter_id: Option<Guid>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

impl Appointment {
    /// Canonical status derived from the NextGen flags.
    pub fn status(&self) -> &'static str {
        if self.is_cancelled {
            "cancelled"
        } else if self.is_no_show {
            "noshow"
        } else if self.is_rescheduled {
            "rescheduled"
        } else if self.is_kept {
            "fulfilled"
        } else {
            "booked"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Posted,
    Pending,
}

#[derive(Debug, Clone, Serialize)]
pub struct Charge {
    pub id: Guid,
    pub patient_id: Guid,
    pub encounter_id: Option<Guid>,
    pub cpt: Coding,
    pub units: u16,
    pub amount_cents: i64,
    #[serde(with = "iso_date")]
    pub service_date: Date,
    pub status: ChargeStatus,
    pub rendering_provider_id: Option<Guid>,
    pub payer_id: Option<Guid>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub charges_cents: i64,
    pub payments_cents: i64,
    pub adjustments_cents: i64,
    pub balance_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub id: Guid,
    pub patient_id: Guid,
    pub payer_id: Guid,
    pub status: &'static str,
    /// 1 = primary.
    pub order: u8,
    pub member_id: String,
    pub relationship: &'static str,
    #[serde(with = "iso_date")]
    pub period_start: Date,
    #[serde(with = "iso_date::option")]
    pub period_end: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct CarePlan {
    pub id: Guid,
    pub patient_id: Guid,
    pub status: &'static str,
    pub intent: &'static str,
    pub title: &'static str,
    #[serde(with = "iso_date")]
    pub period_start: Date,
    pub author_id: Guid,
    pub addresses_condition_ids: Vec<Guid>,
    pub goal_ids: Vec<Guid>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareTeamMember {
    pub practitioner_id: Guid,
    pub role: Coding,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareTeam {
    pub id: Guid,
    pub patient_id: Guid,
    pub status: &'static str,
    pub name: &'static str,
    pub members: Vec<CareTeamMember>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub id: Guid,
    pub patient_id: Guid,
    pub lifecycle_status: &'static str,
    pub description: &'static str,
    #[serde(with = "iso_date")]
    pub start: Date,
    #[serde(with = "iso_date::option")]
    pub due: Option<Date>,
    pub addresses_condition_id: Option<Guid>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: Guid,
    pub patient_id: Guid,
    pub device_type: Coding,
    pub udi: String,
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub id: Guid,
    pub patient_id: Guid,
    /// Granted → active, Revoked → inactive. An absent consent has no record.
    pub state: ConsentState,
    pub status: &'static str,
    /// `42CFRPart2`.
    pub policy_rule: &'static str,
    /// LOINC 59284-0.
    pub category: Coding,
    /// Purpose of use (v3-ActReason), e.g. TREAT.
    pub purpose: &'static str,
    /// The practice disclosing (the SUD program, 4-digit id).
    pub source_practice_id: String,
    /// Recipients the patient consented to.
    pub recipients: Vec<ConsentRecipient>,
    #[serde(with = "iso_date")]
    pub date_granted: Date,
    #[serde(with = "iso_date::option")]
    pub revoked_on: Option<Date>,
    #[serde(with = "iso_date::option")]
    pub period_end: Option<Date>,
    pub part2: Option<Part2Label>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentRecipient {
    pub name: &'static str,
    pub kind: &'static str,
}

/// Every clinical record of one patient.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub patient: Patient,
    pub encounters: Vec<Encounter>,
    pub conditions: Vec<Condition>,
    pub medications: Vec<MedicationRequest>,
    pub allergies: Vec<Allergy>,
    pub observations: Vec<Observation>,
    pub lab_panels: Vec<LabPanel>,
    pub immunizations: Vec<Immunization>,
    pub procedures: Vec<Procedure>,
    pub documents: Vec<Document>,
    pub appointments: Vec<Appointment>,
    pub charges: Vec<Charge>,
    pub balance: AccountBalance,
    pub coverages: Vec<Coverage>,
    pub care_plans: Vec<CarePlan>,
    pub care_team: Vec<CareTeam>,
    pub goals: Vec<Goal>,
    pub devices: Vec<Device>,
    pub consent: Option<Consent>,
}
