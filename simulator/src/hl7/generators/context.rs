//! Plain input structs for the generators, and a synthetic filler.
//!
//! The simulator fills a [`MessageContext`] from its synthetic practice;
//! [`sample_context`] makes a self-contained deterministic one. All data is
//! synthetic (no real PHI). Values are plain text: the builder escapes them.

use super::rng::Rng;

/// HL7 version profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2.3`, what NextGen's public samples use.
    V23,
    /// `2.5.1`.
    V251,
}

impl Version {
    /// MSH-12.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V23 => "2.3",
            Self::V251 => "2.5.1",
        }
    }
}

/// A postal address (PID-11 / GT1-5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Street line.
    pub street: String,
    /// City.
    pub city: String,
    /// State code.
    pub state: String,
    /// ZIP code.
    pub zip: String,
}

/// UDS (Uniform Data System) reporting fields carried in ZPI.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdsFields {
    /// Income as a percentage of the federal poverty level.
    pub percent_fpl: Option<u32>,
    /// Family size used for the sliding-fee calculation.
    pub family_size: Option<u32>,
    /// Homeless status code (e.g. `N`, `SHELTER`, `STREET`).
    pub homeless: String,
    /// Migrant/seasonal agricultural worker code (`N`, `MIGRANT`, `SEASONAL`).
    pub agricultural_worker: String,
    /// Veteran status (`Y`/`N`).
    pub veteran: String,
    /// Preferred language.
    pub language: String,
}

/// The patient as NextGen would send it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientSnapshot {
    /// PID-2: the 12-digit zero-padded NextGen person number.
    pub person_number: String,
    /// PID-3.1, sent as `<mrn>^^^NextGen^MRN`.
    pub mrn: String,
    /// PID-5.1.
    pub family: String,
    /// PID-5.2.
    pub given: String,
    /// PID-5.3.
    pub middle: String,
    /// PID-7, `YYYYMMDD`.
    pub dob: String,
    /// PID-8 (`F`, `M`, `U`, …).
    pub sex: String,
    /// PID-11.
    pub address: Address,
    /// PID-13.
    pub phone: String,
    /// ZPI-2: the sliding-fee class, if the patient has one.
    pub sliding_fee_class: Option<String>,
    /// ZPI-3: program codes (repeating).
    pub program_codes: Vec<String>,
    /// ZPI-4..ZPI-9.
    pub uds: UdsFields,
}

/// A provider (XCN).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provider {
    /// Id (NPI-like, synthetic).
    pub id: String,
    /// Family name.
    pub family: String,
    /// Given name.
    pub given: String,
}

/// The visit (PV1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncounterSnapshot {
    /// PV1-19 visit number.
    pub visit_number: String,
    /// PV1-2 patient class (`O`, `I`, `E`).
    pub patient_class: String,
    /// PV1-3 location (`point of care^room^bed^facility`, plain text per part).
    pub location: String,
    /// PV1-7 attending provider.
    pub attending: Provider,
    /// PV1-44 admit time.
    pub admit_time: String,
}

/// One result (OBX).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    /// OBX-3.1 code.
    pub code: String,
    /// OBX-3.2 text.
    pub text: String,
    /// OBX-3.3 coding system (`LN`, `L`).
    pub system: String,
    /// OBX-2 value type (`NM`, `ST`, `TX`).
    pub value_type: String,
    /// OBX-5.
    pub value: String,
    /// OBX-6.
    pub units: String,
    /// OBX-7.
    pub range: String,
    /// OBX-8 abnormal flag.
    pub flag: String,
}

/// The order (ORC/OBR).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderSnapshot {
    /// ORC-2/OBR-2 placer order number.
    pub placer: String,
    /// ORC-3/OBR-3 filler order number.
    pub filler: String,
    /// OBR-4.1 universal service id code.
    pub service_code: String,
    /// OBR-4.2 text.
    pub service_text: String,
    /// Ordering provider.
    pub ordering: Provider,
}

/// An appointment (SCH/AIS/AIG/AIL).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppointmentSnapshot {
    /// SCH-1/SCH-2 appointment id.
    pub id: String,
    /// Start, `YYYYMMDDHHMM`.
    pub start: String,
    /// Duration in minutes.
    pub minutes: u32,
    /// Reason text (SCH-7 / AIS-3).
    pub reason: String,
    /// Location (AIL-3).
    pub location: String,
}

/// One vaccination (RXA).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Immunization {
    /// CVX code.
    pub cvx: String,
    /// Vaccine name.
    pub name: String,
    /// Administration date.
    pub date: String,
    /// Lot number.
    pub lot: String,
    /// MVX manufacturer code.
    pub manufacturer: String,
    /// Dose in mL.
    pub dose: String,
}

/// One charge (FT1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Charge {
    /// CPT code.
    pub cpt: String,
    /// Description.
    pub description: String,
    /// Service date.
    pub date: String,
    /// Units.
    pub units: u32,
    /// Amount, e.g. `125.00`.
    pub amount: String,
    /// ICD-10 diagnosis.
    pub diagnosis: String,
}

/// Insurance and guarantor (IN1/GT1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    /// IN1-2 plan id.
    pub plan_id: String,
    /// IN1-4 company name.
    pub company: String,
    /// IN1-8 group number.
    pub group: String,
    /// IN1-36 member id.
    pub member_id: String,
    /// GT1-3 guarantor family name.
    pub guarantor_family: String,
    /// GT1-3 guarantor given name.
    pub guarantor_given: String,
}

/// Everything a generator needs for one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageContext {
    /// MSH-12 profile.
    pub version: Option<Version>,
    /// MSH-3.
    pub sending_app: String,
    /// MSH-4.
    pub sending_facility: String,
    /// MSH-5.
    pub receiving_app: String,
    /// MSH-6.
    pub receiving_facility: String,
    /// MSH-10.
    pub control_id: String,
    /// MSH-7 and event times, `YYYYMMDDHHMMSS`.
    pub timestamp: String,
    /// The patient.
    pub patient: PatientSnapshot,
    /// The visit.
    pub encounter: EncounterSnapshot,
    /// The order (ORM/ORU).
    pub order: OrderSnapshot,
    /// Results (ORU) and observations.
    pub observations: Vec<Observation>,
    /// The appointment (SIU).
    pub appointment: AppointmentSnapshot,
    /// Vaccinations (VXU).
    pub immunizations: Vec<Immunization>,
    /// Charges (DFT).
    pub charges: Vec<Charge>,
    /// Insurance and guarantor.
    pub coverage: Coverage,
    /// Free-text notes (NTE); may contain characters that need escaping.
    pub notes: Vec<String>,
}

const FAMILY: &[&str] = &[
    "Alder",
    "Brook",
    "Castell",
    "Dunmore",
    "Ellery",
    "Fairholm",
    "Garrow",
    "Hollis",
    "O'Quill",
    "Ivers",
    "Jessup",
    "Kettering",
    "Lindqvist",
    "Morrow",
    "Nakamura-Vale",
];
const GIVEN: &[&str] = &[
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kai", "Logan",
    "Morgan", "Quinn", "Rowan", "Sawyer", "Zélie",
];
const STREETS: &[&str] = &["Birch Ln", "Cedar Ct", "Maple Ave", "Oak St", "Willow Way"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "62704"),
    ("Fairview", "TN", "37062"),
    ("Riverton", "WY", "82501"),
    ("Greenville", "SC", "29601"),
];
const LABS: &[(&str, &str, &str, &str, &str)] = &[
    ("2345-7", "Glucose", "mg/dL", "70-99", "NM"),
    ("2160-0", "Creatinine", "mg/dL", "0.6-1.3", "NM"),
    ("718-7", "Hemoglobin", "g/dL", "12.0-17.5", "NM"),
    ("6690-2", "WBC", "10*3/uL", "4.5-11.0", "NM"),
    ("2951-2", "Sodium", "mmol/L", "135-145", "NM"),
    ("2823-3", "Potassium", "mmol/L", "3.5-5.1", "NM"),
    ("4548-4", "Hemoglobin A1c", "%", "4.0-5.6", "NM"),
    ("5778-6", "Color of Urine", "", "", "ST"),
];
const VACCINES: &[(&str, &str, &str)] = &[
    ("08", "Hep B, adolescent or pediatric", "MSD"),
    ("20", "DTaP", "PMC"),
    ("141", "Influenza, seasonal, injectable", "SKB"),
    (
        "208",
        "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose",
        "PFR",
    ),
];
const CPTS: &[(&str, &str, &str, &str)] = &[
    (
        "99213",
        "Office visit, est. patient, low MDM",
        "110.00",
        "E11.9",
    ),
    (
        "99214",
        "Office visit, est. patient, moderate MDM",
        "165.00",
        "I10",
    ),
    ("36415", "Routine venipuncture", "12.00", "Z00.00"),
    ("90471", "Immunization admin", "25.00", "Z23"),
];
const NOTES: &[&str] = &[
    "Patient reports A&B symptoms | follow-up in 2~3 weeks",
    r"Path C:\clinic\notes ^ reviewed",
    "Fasting: yes. Range 70-99 mg/dL; see attached.\nRepeat if > 126.",
    "Sliding fee class verified at front desk; income docs on file (family of 4).",
    "Interpreter requested | Spanish ^ in person & by phone.",
];

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn provider(rng: &mut Rng) -> Provider {
    Provider {
        id: format!("1{}", digits(rng, 9)),
        family: (*rng.pick(FAMILY)).to_owned(),
        given: (*rng.pick(GIVEN)).to_owned(),
    }
}

fn date(rng: &mut Rng, from_year: u64, to_year: u64) -> String {
    format!(
        "{}{:02}{:02}",
        rng.range(from_year, to_year),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

/// A deterministic synthetic context: the same `(seed, index)` always gives
/// the same context. Version alternates 2.3/2.5.1 with the index parity.
pub fn sample_context(seed: u64, index: u64) -> MessageContext {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01B3) ^ index);
    let (city, state, zip) = *rng.pick(CITIES);
    let ts = format!(
        "{}{:02}{:02}{:02}",
        date(&mut rng, 2024, 2026),
        rng.range(7, 18),
        rng.range(0, 59),
        rng.range(0, 59)
    );
    let person = rng.range(1, 999_999);
    let patient = PatientSnapshot {
        person_number: format!("{person:012}"),
        mrn: format!("{}", rng.range(10_000, 99_999)),
        family: (*rng.pick(FAMILY)).to_owned(),
        given: (*rng.pick(GIVEN)).to_owned(),
        middle: char::from(b'A' + rng.below(26) as u8).to_string(),
        dob: date(&mut rng, 1940, 2020),
        sex: (*rng.pick(&["F", "M", "U"])).to_owned(),
        address: Address {
            street: format!("{} {}", rng.range(1, 9999), rng.pick(STREETS)),
            city: city.to_owned(),
            state: state.to_owned(),
            zip: zip.to_owned(),
        },
        phone: format!("(555){}-{}", digits(&mut rng, 3), digits(&mut rng, 4)),
        sliding_fee_class: rng
            .chance(70)
            .then(|| (*rng.pick(&["A", "B", "C", "D", "FULL"])).to_owned()),
        program_codes: (0..rng.range(1, 3))
            .map(|_| (*rng.pick(&["340B", "HCH", "MHC", "PHPC", "RW"])).to_owned())
            .collect(),
        uds: UdsFields {
            percent_fpl: Some(rng.range(50, 400) as u32),
            family_size: Some(rng.range(1, 7) as u32),
            homeless: (*rng.pick(&["N", "SHELTER", "STREET", "DOUBLED_UP"])).to_owned(),
            agricultural_worker: (*rng.pick(&["N", "MIGRANT", "SEASONAL"])).to_owned(),
            veteran: (*rng.pick(&["Y", "N"])).to_owned(),
            language: (*rng.pick(&["eng", "spa", "vie"])).to_owned(),
        },
    };
    let observations = (0..20)
        .map(|i| {
            let (code, text, units, range, vt) = LABS[i % LABS.len()];
            let value = if vt == "NM" {
                format!("{}.{}", rng.range(1, 180), rng.below(10))
            } else {
                "Yellow^clear".to_owned()
            };
            Observation {
                code: code.to_owned(),
                text: text.to_owned(),
                system: "LN".to_owned(),
                value_type: vt.to_owned(),
                value,
                units: units.to_owned(),
                range: range.to_owned(),
                flag: (*rng.pick(&["N", "N", "H", "L"])).to_owned(),
            }
        })
        .collect();
    let immunizations = (0..2)
        .map(|_| {
            let (cvx, name, mvx) = *rng.pick(VACCINES);
            Immunization {
                cvx: cvx.to_owned(),
                name: name.to_owned(),
                date: ts[..8].to_owned(),
                lot: format!("LOT{}", digits(&mut rng, 5)),
                manufacturer: mvx.to_owned(),
                dose: "0.5".to_owned(),
            }
        })
        .collect();
    let charges = (0..3)
        .map(|_| {
            let (cpt, desc, amount, dx) = *rng.pick(CPTS);
            Charge {
                cpt: cpt.to_owned(),
                description: desc.to_owned(),
                date: ts[..8].to_owned(),
                units: 1,
                amount: amount.to_owned(),
                diagnosis: dx.to_owned(),
            }
        })
        .collect();
    MessageContext {
        version: Some(if index % 2 == 0 {
            Version::V23
        } else {
            Version::V251
        }),
        sending_app: "NextGen".to_owned(),
        sending_facility: "NGSIM".to_owned(),
        receiving_app: "RECEIVER".to_owned(),
        receiving_facility: "LAB".to_owned(),
        control_id: format!("{}{}", seed % 1000, digits(&mut rng, 9)),
        timestamp: ts.clone(),
        encounter: EncounterSnapshot {
            visit_number: format!("{}", rng.range(10_000, 99_999)),
            patient_class: "O".to_owned(),
            location: "CLINIC 1".to_owned(),
            attending: provider(&mut rng),
            admit_time: ts.clone(),
        },
        order: OrderSnapshot {
            placer: format!("ORD{}", digits(&mut rng, 7)),
            filler: format!("LAB{}", digits(&mut rng, 7)),
            service_code: "80053".to_owned(),
            service_text: "Comprehensive metabolic panel".to_owned(),
            ordering: provider(&mut rng),
        },
        observations,
        appointment: AppointmentSnapshot {
            id: format!("APT{}", digits(&mut rng, 6)),
            start: ts[..12].to_owned(),
            minutes: *rng.pick(&[15, 20, 30, 45]),
            reason: (*rng.pick(&["Follow-up", "Annual physical", "Sick visit", "Vaccine"]))
                .to_owned(),
            location: "CLINIC 1 ROOM 4".to_owned(),
        },
        immunizations,
        charges,
        coverage: Coverage {
            plan_id: format!("PLN{}", digits(&mut rng, 4)),
            company: (*rng.pick(&["Synthetic Health Plan", "Example Mutual & Co", "Medicaid"]))
                .to_owned(),
            group: format!("GRP{}", digits(&mut rng, 5)),
            member_id: format!("M{}", digits(&mut rng, 9)),
            guarantor_family: patient.family.clone(),
            guarantor_given: patient.given.clone(),
        },
        patient,
        notes: (0..3).map(|_| (*rng.pick(NOTES)).to_owned()).collect(),
    }
}
