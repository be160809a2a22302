//! Practice-wide entities: the enterprise, its practices, locations,
//! practitioners, payers and scheduling events. Small, built once per seed.

use std::borrow::Cow;

use time::{Date, OffsetDateTime, Time};

use super::catalog::NUCC;
use super::ids::{IdKeys, RecordKind, npi};
use super::model::{
    Address, Coding, Enterprise, Event, Location, Payer, PayerKind, PracticeKind, PracticeSite,
    Practitioner, SlidingFeeClass, SlidingFeeTier,
};
use super::rng::hash2;

pub const PRACTICE_PRIMARY: usize = 0;
pub const PRACTICE_BH_SUD: usize = 1;
pub const PRACTICE_PEDS: usize = 2;

static PRACTICES: &[(&str, PracticeKind)] = &[
    ("Riverbend Family Medicine", PracticeKind::PrimaryCare),
    (
        "Riverbend Behavioral Health and Recovery Program",
        PracticeKind::BehavioralHealthSud,
    ),
    ("Riverbend Pediatrics and Dental", PracticeKind::Pediatric),
];

/// (name, practice, street, city, ZIP)
static LOCATIONS: &[(&str, usize, &str, &str, &str)] = &[
    (
        "Riverbend Main Street Health Center",
        0,
        "410 Main St",
        "Riverbend",
        "45801",
    ),
    (
        "Millbrook Community Clinic",
        0,
        "77 Mill Rd",
        "Millbrook",
        "45805",
    ),
    (
        "Cedar Falls Health Center",
        0,
        "1200 Cedar Ln",
        "Cedar Falls",
        "45806",
    ),
    (
        "Riverbend Recovery Center",
        1,
        "25 Bridge St",
        "Riverbend",
        "45804",
    ),
    (
        "Harmon Children's and Dental Clinic",
        2,
        "9 School St",
        "Harmon",
        "45807",
    ),
];

/// (family, given, credentials, specialty, NUCC taxonomy, location, is_pcp)
static PRACTITIONERS: &[(&str, &str, &str, &str, &str, usize, bool)] = &[
    (
        "Okafor",
        "Adaeze",
        "MD",
        "Family Medicine",
        "207Q00000X",
        0,
        true,
    ),
    (
        "Lindqvist",
        "Erik",
        "MD",
        "Internal Medicine",
        "207R00000X",
        0,
        true,
    ),
    (
        "Ramos",
        "Teresa",
        "FNP-C",
        "Nurse Practitioner, Family",
        "363LF0000X",
        0,
        true,
    ),
    (
        "Whitfield",
        "Grant",
        "PA-C",
        "Physician Assistant",
        "363A00000X",
        0,
        true,
    ),
    (
        "Castellano",
        "Marisol",
        "DO",
        "Family Medicine",
        "207Q00000X",
        1,
        true,
    ),
    (
        "Bui",
        "Thanh",
        "MD",
        "Internal Medicine",
        "207R00000X",
        1,
        true,
    ),
    (
        "Kowalski",
        "Dana",
        "FNP-C",
        "Nurse Practitioner, Family",
        "363LF0000X",
        2,
        true,
    ),
    (
        "Abernathy",
        "Louis",
        "MD",
        "Family Medicine",
        "207Q00000X",
        2,
        true,
    ),
    (
        "Sato",
        "Keiko",
        "RN",
        "Registered Nurse",
        "163W00000X",
        0,
        false,
    ),
    (
        "Mbeki",
        "Thandiwe",
        "MD",
        "Psychiatry",
        "2084P0800X",
        3,
        false,
    ),
    (
        "Halvorsen",
        "Ingrid",
        "PsyD",
        "Clinical Psychologist",
        "103TC0700X",
        3,
        false,
    ),
    (
        "Delgado",
        "Ruben",
        "LCSW",
        "Clinical Social Worker",
        "1041C0700X",
        3,
        false,
    ),
    (
        "Fairbanks",
        "Nora",
        "MD",
        "Addiction Medicine",
        "207QA0401X",
        3,
        false,
    ),
    (
        "Oyelaran",
        "Tunde",
        "LCDC",
        "Addiction Counselor",
        "101YA0400X",
        3,
        false,
    ),
    (
        "Petrov",
        "Alina",
        "PMHNP-BC",
        "Nurse Practitioner, Psych/Mental Health",
        "363LP0808X",
        3,
        false,
    ),
    (
        "Quintero",
        "Sofia",
        "MD",
        "Pediatrics",
        "208000000X",
        4,
        true,
    ),
    ("Brennan", "Colm", "MD", "Pediatrics", "208000000X", 4, true),
    (
        "Achebe",
        "Ngozi",
        "CPNP",
        "Nurse Practitioner, Pediatrics",
        "363LP0200X",
        4,
        true,
    ),
    ("Lindgren", "Paul", "DDS", "Dentist", "122300000X", 4, false),
    (
        "Moreau",
        "Claire",
        "RDH",
        "Dental Hygienist",
        "124Q00000X",
        4,
        false,
    ),
];
/// Behavioral-health clinicians (non-SUD) and SUD-program clinicians, by practitioner index.
pub const BH_CLINICIANS: &[usize] = &[9, 10, 11];
pub const SUD_CLINICIANS: &[usize] = &[12, 13, 14];

/// (name, kind, payer code)
static PAYERS: &[(&str, PayerKind, &str)] = &[
    (
        "Ohio Medicaid Fee-for-Service",
        PayerKind::Medicaid,
        "OHMCD",
    ),
    (
        "Riverbend Medicaid Managed Care Plan",
        PayerKind::Medicaid,
        "RBMCO",
    ),
    ("Medicare Part B", PayerKind::Medicare, "MCRB"),
    (
        "Great Lakes Commercial Health PPO",
        PayerKind::Commercial,
        "GLCH1",
    ),
    (
        "Summit Employer Health Plan",
        PayerKind::Commercial,
        "SEHP2",
    ),
    (
        "Self-Pay / Uninsured (Sliding Fee)",
        PayerKind::SelfPay,
        "SELF",
    ),
];
pub const PAYER_MEDICAID: &[usize] = &[0, 1];
pub const PAYER_MEDICARE: usize = 2;
pub const PAYER_COMMERCIAL: &[usize] = &[3, 4];
pub const PAYER_SELF: usize = 5;

/// (name, duration minutes)
static EVENTS: &[(&str, u16)] = &[
    ("Office Visit - Established", 15),
    ("Office Visit - New Patient", 30),
    ("Annual Physical", 30),
    ("Follow Up", 10),
    ("Behavioral Health Session", 45),
    ("Recovery Program Counseling", 30),
    ("Nurse Visit", 10),
];
pub const EVENT_ESTABLISHED: usize = 0;
pub const EVENT_PHYSICAL: usize = 2;
pub const EVENT_FOLLOW_UP: usize = 3;
pub const EVENT_BH: usize = 4;

pub const ENTERPRISE_NAME: &str = "Riverbend Community Health Network";

/// Everything practice-wide, built once per seed.
#[derive(Debug)]
pub struct Directory {
    pub enterprise: Enterprise,
    pub locations: Vec<Location>,
    pub practitioners: Vec<Practitioner>,
    pub payers: Vec<Payer>,
    pub events: Vec<Event>,
    /// Indices of PCP-eligible practitioners per practice.
    pub pcps: [Vec<usize>; 3],
    /// Practice index of each location.
    pub location_practice: Vec<usize>,
}

fn npi_for(keys: &IdKeys, kind: u64, i: usize) -> String {
    // NPIs start with 1 or 2; keep the base in 100000000..=299999999.
    let base = 100_000_000 + (hash2(keys.seed ^ kind, i as u64) % 200_000_000) as u32;
    npi(base)
}

impl Directory {
    pub fn new(keys: &IdKeys, as_of: Date) -> Directory {
        let stamp = OffsetDateTime::new_utc(
            as_of.saturating_sub(time::Duration::days(400)),
            Time::MIDNIGHT,
        );
        let practices: Vec<PracticeSite> = PRACTICES
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| PracticeSite {
                id: format!("{:04}", i + 1),
                guid: keys.guid(RecordKind::PracticeSite, i as u64, 0, false),
                name,
                kind: *kind,
                tax_id: format!("31-{:07}", hash2(keys.seed ^ 0x7A, i as u64) % 10_000_000),
                npi: npi_for(keys, 0x0A, i),
            })
            .collect();
        let locations: Vec<Location> = LOCATIONS
            .iter()
            .enumerate()
            .map(|(i, (name, practice, street, city, zip))| Location {
                id: keys.guid(RecordKind::Location, i as u64, 0, false),
                name,
                practice_id: practices[*practice].id.clone(),
                address: Address {
                    line: (*street).to_string(),
                    city: Cow::Borrowed(city),
                    state: Cow::Borrowed("OH"),
                    postal_code: Cow::Borrowed(zip),
                },
                phone: format!("419555{:04}", 2000 + i * 10),
                npi: npi_for(keys, 0x0B, i),
            })
            .collect();
        let practitioners = PRACTITIONERS
            .iter()
            .enumerate()
            .map(
                |(i, (family, given, cred, spec, tax, loc, pcp))| Practitioner {
                    id: keys.guid(RecordKind::Practitioner, i as u64, 0, false),
                    npi: npi_for(keys, 0x0C, i),
                    family,
                    given,
                    credentials: cred,
                    specialty: spec,
                    is_pcp: *pcp,
                    taxonomy: Coding::new(NUCC, tax, spec),
                    practice_id: practices[LOCATIONS[*loc].1].id.clone(),
                    location_id: locations[*loc].id,
                    last_updated: stamp,
                },
            )
            .collect();
        let payers = PAYERS
            .iter()
            .enumerate()
            .map(|(i, (name, kind, code))| Payer {
                id: keys.guid(RecordKind::Payer, i as u64, 0, false),
                name,
                kind: *kind,
                payer_code: code,
                sliding_fee: if *kind == PayerKind::SelfPay {
                    sliding_fee_schedule()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let events = EVENTS
            .iter()
            .enumerate()
            .map(|(i, (name, duration))| Event {
                id: keys.guid(RecordKind::Event, i as u64, 0, false),
                name,
                duration_minutes: *duration,
            })
            .collect();
        let mut pcps: [Vec<usize>; 3] = Default::default();
        for (i, p) in PRACTITIONERS.iter().enumerate() {
            if p.6 {
                pcps[LOCATIONS[p.5].1].push(i);
            }
        }
        Directory {
            enterprise: Enterprise {
                id: "00001".to_string(),
                guid: keys.guid(RecordKind::Enterprise, 0, 0, false),
                name: ENTERPRISE_NAME,
                practices,
            },
            locations,
            practitioners,
            payers,
            events,
            pcps,
            location_practice: LOCATIONS.iter().map(|l| l.1).collect(),
        }
    }

    /// Location index of a practitioner.
    pub fn practitioner_location(&self, p: usize) -> usize {
        PRACTITIONERS[p].5
    }
}

/// Sliding-fee discount schedule (percent of the federal poverty level).
pub fn sliding_fee_schedule() -> Vec<SlidingFeeTier> {
    [
        (SlidingFeeClass::A, 100, 0, 2_000),
        (SlidingFeeClass::B, 133, 25, 3_000),
        (SlidingFeeClass::C, 166, 50, 4_000),
        (SlidingFeeClass::D, 200, 75, 5_000),
        (SlidingFeeClass::FullPay, u16::MAX, 100, 0),
    ]
    .into_iter()
    .map(
        |(class, max_percent_fpl, percent_of_fee, nominal_fee_cents)| SlidingFeeTier {
            class,
            max_percent_fpl,
            percent_of_fee,
            nominal_fee_cents,
        },
    )
    .collect()
}
