//! Static catalogues: names, codes, reference ranges. `&'static` data so that
//! generating a chart copies pointers rather than formatting strings.

use super::model::Coding;

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const CPT: &str = "http://www.ama-assn.org/go/cpt";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const NUCC: &str = "http://nucc.org/provider-taxonomy";
pub const OMB_RACE: &str = "urn:oid:2.16.840.1.113883.6.238";
pub const BCP47: &str = "urn:ietf:bcp:47";
pub const MARITAL: &str = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus";
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub const INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
pub const LOINC_ANSWER: &str = "http://loinc.org";
pub const CANARY_SYSTEM: &str = "urn:ngsim:canary";
pub const NULL_FLAVOR: &str = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
pub const ROLE: &str = "http://terminology.hl7.org/CodeSystem/participant-role";

const fn c(system: &'static str, code: &'static str, display: &'static str) -> Coding {
    Coding::new(system, code, display)
}

pub static GIVEN_FEMALE: &[&str] = &[
    "Maria",
    "Jennifer",
    "Linda",
    "Patricia",
    "Elizabeth",
    "Guadalupe",
    "Ashley",
    "Jessica",
    "Sofia",
    "Emily",
    "Aaliyah",
    "Mai",
    "Fatima",
    "Rosa",
    "Keisha",
    "Olivia",
    "Ana",
    "Lucia",
    "Samantha",
    "Brianna",
    "Nguyen Thi",
    "Mei",
    "Amara",
    "Carmen",
    "Denise",
    "Tamika",
    "Grace",
    "Hannah",
    "Isabella",
    "Yesenia",
];
pub static GIVEN_MALE: &[&str] = &[
    "James",
    "Jose",
    "Michael",
    "Robert",
    "David",
    "Juan",
    "Carlos",
    "Luis",
    "William",
    "Anthony",
    "DeShawn",
    "Minh",
    "Omar",
    "Tyrone",
    "Daniel",
    "Christopher",
    "Miguel",
    "Jorge",
    "Kevin",
    "Brandon",
    "Wei",
    "Ahmed",
    "Marcus",
    "Jamal",
    "Eduardo",
    "Francisco",
    "Thomas",
    "Elijah",
    "Mateo",
    "Ricardo",
];
pub static FAMILY: &[&str] = &[
    "Garcia",
    "Smith",
    "Johnson",
    "Martinez",
    "Rodriguez",
    "Williams",
    "Brown",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Jones",
    "Davis",
    "Perez",
    "Sanchez",
    "Nguyen",
    "Tran",
    "Washington",
    "Jackson",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Thomas",
    "Lee",
    "Kim",
    "Patel",
    "Ali",
    "Hassan",
    "Reyes",
    "Cruz",
    "Morales",
    "Ortiz",
    "Gutierrez",
    "Chavez",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Vasquez",
    "Castillo",
];
pub static STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "River Rd",
    "Maple St",
    "Cedar Ln",
    "Elm St",
    "Washington Ave",
    "Lincoln Blvd",
    "Pine St",
    "Park Ave",
    "Mill Rd",
    "Church St",
    "Bridge St",
    "Sunset Dr",
    "Highland Ave",
    "Lakeview Dr",
    "Market St",
    "Spring St",
    "Hillcrest Rd",
    "Willow Way",
];
/// (city, state, ZIP)
pub static CITIES: &[(&str, &str, &str)] = &[
    ("Riverbend", "OH", "45801"),
    ("Riverbend", "OH", "45804"),
    ("Millbrook", "OH", "45805"),
    ("Cedar Falls", "OH", "45806"),
    ("Harmon", "OH", "45807"),
    ("Lakeside", "OH", "45809"),
];

pub static LANGUAGES: &[(u32, Coding)] = &[
    (70, c(BCP47, "en", "English")),
    (22, c(BCP47, "es", "Spanish")),
    (3, c(BCP47, "vi", "Vietnamese")),
    (2, c(BCP47, "zh", "Chinese")),
    (2, c(BCP47, "ar", "Arabic")),
    (1, c(BCP47, "ht", "Haitian Creole")),
];
pub static MARITAL_STATUS: &[(u32, Coding)] = &[
    (40, c(MARITAL, "S", "Never Married")),
    (35, c(MARITAL, "M", "Married")),
    (12, c(MARITAL, "D", "Divorced")),
    (5, c(MARITAL, "W", "Widowed")),
    (8, c(MARITAL, "UNK", "unknown")),
];
pub static RACES: &[(u32, Coding)] = &[
    (48, c(OMB_RACE, "2106-3", "White")),
    (28, c(OMB_RACE, "2054-5", "Black or African American")),
    (6, c(OMB_RACE, "2028-9", "Asian")),
    (2, c(OMB_RACE, "1002-5", "American Indian or Alaska Native")),
    (
        1,
        c(
            OMB_RACE,
            "2076-8",
            "Native Hawaiian or Other Pacific Islander",
        ),
    ),
    (10, c(OMB_RACE, "2131-1", "Other Race")),
    (5, c(NULL_FLAVOR, "ASKU", "Asked but no answer")),
];
pub static HISPANIC: Coding = c(OMB_RACE, "2135-2", "Hispanic or Latino");
pub static NOT_HISPANIC: Coding = c(OMB_RACE, "2186-5", "Not Hispanic or Latino");

pub static GENDER_MALE: Coding = c(
    SNOMED,
    "446151000124109",
    "Identifies as male gender (finding)",
);
pub static GENDER_FEMALE: Coding = c(
    SNOMED,
    "446141000124107",
    "Identifies as female gender (finding)",
);
pub static GENDER_NONBINARY: Coding = c(
    SNOMED,
    "33791000087105",
    "Identifies as nonbinary gender (finding)",
);
pub static GENDER_ASKU: Coding = c(NULL_FLAVOR, "ASKU", "Asked but no answer");

/// AHC HRSN screening items: (question, answers with "positive" flag).
pub struct SdohItem {
    pub question: Coding,
    pub answers: &'static [(u32, Coding, bool)],
}
pub static SDOH_ITEMS: &[SdohItem] = &[
    SdohItem {
        question: c(LOINC, "71802-3", "Housing status"),
        answers: &[
            (
                82,
                c(LOINC_ANSWER, "LA31993-1", "I have a steady place to live"),
                false,
            ),
            (
                13,
                c(
                    LOINC_ANSWER,
                    "LA31994-9",
                    "I have a place to live today, but I am worried about losing it in the future",
                ),
                true,
            ),
            (
                5,
                c(
                    LOINC_ANSWER,
                    "LA31995-6",
                    "I do not have a steady place to live",
                ),
                true,
            ),
        ],
    },
    SdohItem {
        question: c(
            LOINC,
            "88122-7",
            "Within the past 12 months we worried whether our food would run out before we got money to buy more",
        ),
        answers: &[
            (65, c(LOINC_ANSWER, "LA28398-8", "Never true"), false),
            (25, c(LOINC_ANSWER, "LA6729-3", "Sometimes true"), true),
            (10, c(LOINC_ANSWER, "LA28397-0", "Often true"), true),
        ],
    },
    SdohItem {
        question: c(
            LOINC,
            "93030-5",
            "Has lack of transportation kept you from medical appointments, meetings, work, or from getting things needed for daily living",
        ),
        answers: &[
            (80, c(LOINC_ANSWER, "LA32-8", "No"), false),
            (20, c(LOINC_ANSWER, "LA33-6", "Yes"), true),
        ],
    },
];

pub static UDS_HOMELESS: &[(u32, &str)] = &[
    (92, "not homeless"),
    (2, "homeless shelter"),
    (2, "doubling up"),
    (1, "transitional"),
    (2, "street"),
    (1, "permanent supportive housing"),
];
pub static UDS_AG_WORKER: &[(u32, &str)] = &[
    (95, "not an agricultural worker"),
    (3, "seasonal"),
    (2, "migratory"),
];

/// Problems: ICD-10-CM, SNOMED CT, minimum age, percent prevalence.
pub struct ConditionDef {
    pub icd10: Coding,
    pub snomed: Coding,
    pub min_age: u32,
    pub prevalence: u32,
    /// Index into [`MEDICATIONS`] of the usual treatment.
    pub medication: Option<usize>,
    /// Lab panel usually ordered, index into [`LAB_PANELS`].
    pub lab_panel: Option<usize>,
    pub goal: Option<&'static str>,
}

macro_rules! cond {
    ($icd:expr, $icdd:expr, $sct:expr, $sctd:expr, $age:expr, $prev:expr, $med:expr, $lab:expr, $goal:expr) => {
        ConditionDef {
            icd10: c(ICD10CM, $icd, $icdd),
            snomed: c(SNOMED, $sct, $sctd),
            min_age: $age,
            prevalence: $prev,
            medication: $med,
            lab_panel: $lab,
            goal: $goal,
        }
    };
}

pub const COND_DEPRESSION: usize = 4;
pub const COND_ANXIETY: usize = 5;
pub const COND_DIABETES: usize = 1;

pub static CONDITIONS: &[ConditionDef] = &[
    cond!(
        "I10",
        "Essential (primary) hypertension",
        "38341003",
        "Hypertensive disorder",
        25,
        30,
        Some(0),
        Some(3),
        Some("Blood pressure below 140/90 mmHg")
    ),
    cond!(
        "E11.9",
        "Type 2 diabetes mellitus without complications",
        "44054006",
        "Diabetes mellitus type 2",
        20,
        14,
        Some(1),
        Some(0),
        Some("HbA1c below 7%")
    ),
    cond!(
        "E78.5",
        "Hyperlipidemia, unspecified",
        "55822004",
        "Hyperlipidemia",
        25,
        22,
        Some(2),
        Some(1),
        Some("LDL cholesterol below 100 mg/dL")
    ),
    cond!(
        "J45.909",
        "Unspecified asthma, uncomplicated",
        "195967001",
        "Asthma",
        2,
        9,
        Some(3),
        None,
        Some("No emergency visits for asthma")
    ),
    cond!(
        "F32.9",
        "Major depressive disorder, single episode, unspecified",
        "35489007",
        "Depressive disorder",
        12,
        12,
        Some(4),
        None,
        Some("PHQ-9 score below 5")
    ),
    cond!(
        "F41.1",
        "Generalized anxiety disorder",
        "21897009",
        "Generalized anxiety disorder",
        12,
        10,
        Some(4),
        None,
        Some("GAD-7 score below 5")
    ),
    cond!(
        "E66.9",
        "Obesity, unspecified",
        "414916001",
        "Obesity",
        6,
        18,
        None,
        None,
        Some("Reduce body weight by 5%")
    ),
    cond!(
        "K21.9",
        "Gastro-esophageal reflux disease without esophagitis",
        "235595009",
        "Gastroesophageal reflux disease",
        18,
        8,
        Some(5),
        None,
        None
    ),
    cond!(
        "M54.50",
        "Low back pain, unspecified",
        "279039007",
        "Low back pain",
        18,
        8,
        Some(6),
        None,
        None
    ),
    cond!(
        "E03.9",
        "Hypothyroidism, unspecified",
        "40930008",
        "Hypothyroidism",
        25,
        5,
        Some(7),
        Some(2),
        None
    ),
    cond!(
        "J44.9",
        "Chronic obstructive pulmonary disease, unspecified",
        "13645005",
        "Chronic obstructive lung disease",
        45,
        4,
        Some(3),
        None,
        None
    ),
    cond!(
        "R73.03",
        "Prediabetes",
        "714628002",
        "Prediabetes",
        18,
        9,
        None,
        Some(0),
        Some("HbA1c below 5.7%")
    ),
    cond!(
        "J30.9",
        "Allergic rhinitis, unspecified",
        "61582004",
        "Allergic rhinitis",
        3,
        8,
        Some(8),
        None,
        None
    ),
    cond!(
        "F17.210",
        "Nicotine dependence, cigarettes, uncomplicated",
        "56294008",
        "Nicotine dependence",
        16,
        10,
        Some(9),
        None,
        Some("Quit smoking")
    ),
    cond!(
        "N18.30",
        "Chronic kidney disease, stage 3 unspecified",
        "433144002",
        "Chronic kidney disease stage 3",
        50,
        3,
        None,
        Some(3),
        None
    ),
    cond!(
        "G43.909",
        "Migraine, unspecified, not intractable",
        "37796009",
        "Migraine",
        12,
        4,
        None,
        None,
        None
    ),
];

/// The SUD conditions used for Part 2 records.
pub static SUD_CONDITIONS: &[(ConditionDef, usize)] = &[
    (
        cond!(
            "F11.20",
            "Opioid dependence, uncomplicated",
            "75544000",
            "Opioid dependence",
            16,
            50,
            None,
            None,
            Some("Sustained abstinence from opioids")
        ),
        0,
    ),
    (
        cond!(
            "F10.20",
            "Alcohol dependence, uncomplicated",
            "66590003",
            "Alcohol dependence",
            16,
            35,
            None,
            None,
            Some("Sustained abstinence from alcohol")
        ),
        1,
    ),
    (
        cond!(
            "F15.20",
            "Other stimulant dependence, uncomplicated",
            "191226002",
            "Amphetamine dependence",
            16,
            15,
            None,
            None,
            Some("Sustained abstinence from stimulants")
        ),
        2,
    ),
];

/// (RxNorm, dosage)
pub static MEDICATIONS: &[(Coding, &str)] = &[
    (
        c(RXNORM, "314076", "lisinopril 10 MG Oral Tablet"),
        "Take 1 tablet by mouth daily",
    ),
    (
        c(
            RXNORM,
            "861007",
            "metformin hydrochloride 500 MG Oral Tablet",
        ),
        "Take 1 tablet by mouth twice daily with meals",
    ),
    (
        c(RXNORM, "617310", "atorvastatin 20 MG Oral Tablet"),
        "Take 1 tablet by mouth at bedtime",
    ),
    (
        c(
            RXNORM,
            "745679",
            "albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
        ),
        "Inhale 2 puffs every 4 to 6 hours as needed",
    ),
    (
        c(RXNORM, "312940", "sertraline 50 MG Oral Tablet"),
        "Take 1 tablet by mouth daily",
    ),
    (
        c(
            RXNORM,
            "198053",
            "omeprazole 20 MG Delayed Release Oral Capsule",
        ),
        "Take 1 capsule by mouth daily before breakfast",
    ),
    (
        c(RXNORM, "197806", "ibuprofen 600 MG Oral Tablet"),
        "Take 1 tablet by mouth every 8 hours as needed",
    ),
    (
        c(RXNORM, "966222", "levothyroxine sodium 0.05 MG Oral Tablet"),
        "Take 1 tablet by mouth every morning",
    ),
    (
        c(
            RXNORM,
            "1014678",
            "cetirizine hydrochloride 10 MG Oral Tablet",
        ),
        "Take 1 tablet by mouth daily",
    ),
    (
        c(RXNORM, "198029", "nicotine 21 MG/24HR Transdermal Patch"),
        "Apply 1 patch daily",
    ),
];

/// SUD medications (Part 2), by SUD condition.
pub static SUD_MEDICATIONS: &[(Coding, &str)] = &[
    (
        c(
            RXNORM,
            "1010600",
            "buprenorphine 8 MG / naloxone 2 MG Sublingual Film",
        ),
        "Dissolve 1 film under the tongue daily",
    ),
    (
        c(
            RXNORM,
            "1483744",
            "naltrexone hydrochloride 50 MG Oral Tablet",
        ),
        "Take 1 tablet by mouth daily",
    ),
    (
        c(
            RXNORM,
            "1483744",
            "naltrexone hydrochloride 50 MG Oral Tablet",
        ),
        "Take 1 tablet by mouth daily",
    ),
];

/// (code, category, reaction, criticality)
pub static ALLERGIES: &[(Coding, &str, Coding, &str)] = &[
    (
        c(RXNORM, "7980", "Penicillin G"),
        "medication",
        c(SNOMED, "271807003", "Eruption of skin"),
        "low",
    ),
    (
        c(RXNORM, "10180", "Sulfamethoxazole"),
        "medication",
        c(SNOMED, "126485001", "Urticaria"),
        "low",
    ),
    (
        c(RXNORM, "1191", "Aspirin"),
        "medication",
        c(SNOMED, "267036007", "Dyspnea"),
        "high",
    ),
    (
        c(RXNORM, "2670", "Codeine"),
        "medication",
        c(SNOMED, "422587007", "Nausea"),
        "low",
    ),
    (
        c(SNOMED, "256349002", "Peanut - dietary"),
        "food",
        c(SNOMED, "39579001", "Anaphylaxis"),
        "high",
    ),
    (
        c(SNOMED, "111088007", "Latex"),
        "environment",
        c(SNOMED, "126485001", "Urticaria"),
        "low",
    ),
    (
        c(SNOMED, "227037002", "Fish - dietary"),
        "food",
        c(SNOMED, "39579001", "Anaphylaxis"),
        "high",
    ),
];

pub struct LabDef {
    pub code: Coding,
    pub unit: &'static str,
    /// Normal range in tenths of the unit.
    pub low: i32,
    pub high: i32,
    /// Generation spread below/above the range, in tenths.
    pub spread: i32,
    pub range_text: &'static str,
}

macro_rules! lab {
    ($code:expr, $disp:expr, $unit:expr, $lo:expr, $hi:expr, $sp:expr, $txt:expr) => {
        LabDef {
            code: c(LOINC, $code, $disp),
            unit: $unit,
            low: $lo,
            high: $hi,
            spread: $sp,
            range_text: $txt,
        }
    };
}

pub struct PanelDef {
    pub code: Coding,
    pub members: &'static [LabDef],
}

pub static LAB_PANELS: &[PanelDef] = &[
    PanelDef {
        code: c(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        members: &[lab!(
            "4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            "%",
            40,
            56,
            30,
            "4.0-5.6 %"
        )],
    },
    PanelDef {
        code: c(
            LOINC,
            "57698-3",
            "Lipid panel with direct LDL - Serum or Plasma",
        ),
        members: &[
            lab!(
                "2093-3",
                "Cholesterol [Mass/volume] in Serum or Plasma",
                "mg/dL",
                1250,
                1990,
                600,
                "<200 mg/dL"
            ),
            lab!(
                "2085-9",
                "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                "mg/dL",
                400,
                900,
                150,
                ">40 mg/dL"
            ),
            lab!(
                "18262-6",
                "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
                "mg/dL",
                400,
                990,
                500,
                "<100 mg/dL"
            ),
            lab!(
                "2571-8",
                "Triglyceride [Mass/volume] in Serum or Plasma",
                "mg/dL",
                400,
                1490,
                800,
                "<150 mg/dL"
            ),
        ],
    },
    PanelDef {
        code: c(LOINC, "58410-2", "CBC panel - Blood by Automated count"),
        members: &[
            lab!(
                "6690-2",
                "Leukocytes [#/volume] in Blood by Automated count",
                "10*3/uL",
                45,
                110,
                25,
                "4.5-11.0 10*3/uL"
            ),
            lab!(
                "718-7",
                "Hemoglobin [Mass/volume] in Blood",
                "g/dL",
                120,
                175,
                20,
                "12.0-17.5 g/dL"
            ),
            lab!(
                "4544-3",
                "Hematocrit [Volume Fraction] of Blood by Automated count",
                "%",
                360,
                500,
                40,
                "36-50 %"
            ),
            lab!(
                "777-3",
                "Platelets [#/volume] in Blood by Automated count",
                "10*3/uL",
                1500,
                4000,
                500,
                "150-400 10*3/uL"
            ),
        ],
    },
    PanelDef {
        code: c(LOINC, "51990-0", "Basic metabolic panel - Blood"),
        members: &[
            lab!(
                "2345-7",
                "Glucose [Mass/volume] in Serum or Plasma",
                "mg/dL",
                700,
                990,
                400,
                "70-99 mg/dL"
            ),
            lab!(
                "3094-0",
                "Urea nitrogen [Mass/volume] in Serum or Plasma",
                "mg/dL",
                70,
                200,
                50,
                "7-20 mg/dL"
            ),
            lab!(
                "2160-0",
                "Creatinine [Mass/volume] in Serum or Plasma",
                "mg/dL",
                6,
                13,
                4,
                "0.6-1.3 mg/dL"
            ),
            lab!(
                "2951-2",
                "Sodium [Moles/volume] in Serum or Plasma",
                "mmol/L",
                1350,
                1450,
                40,
                "135-145 mmol/L"
            ),
            lab!(
                "2823-3",
                "Potassium [Moles/volume] in Serum or Plasma",
                "mmol/L",
                35,
                51,
                5,
                "3.5-5.1 mmol/L"
            ),
            lab!(
                "2075-0",
                "Chloride [Moles/volume] in Serum or Plasma",
                "mmol/L",
                980,
                1070,
                30,
                "98-107 mmol/L"
            ),
            lab!(
                "2028-9",
                "Carbon dioxide, total [Moles/volume] in Serum or Plasma",
                "mmol/L",
                220,
                290,
                30,
                "22-29 mmol/L"
            ),
            lab!(
                "17861-6",
                "Calcium [Mass/volume] in Serum or Plasma",
                "mg/dL",
                85,
                105,
                5,
                "8.5-10.5 mg/dL"
            ),
        ],
    },
];

pub static URINE_DRUG_SCREEN: Coding = c(
    LOINC,
    "19295-5",
    "Opiates [Presence] in Urine by Screen method",
);
pub static POSITIVE: Coding = c(SNOMED, "10828004", "Positive");
pub static NEGATIVE: Coding = c(SNOMED, "260385009", "Negative");

pub static INTERP_N: Coding = c(INTERPRETATION, "N", "Normal");
pub static INTERP_H: Coding = c(INTERPRETATION, "H", "High");
pub static INTERP_L: Coding = c(INTERPRETATION, "L", "Low");
pub static INTERP_POS: Coding = c(INTERPRETATION, "POS", "Positive");
pub static INTERP_NEG: Coding = c(INTERPRETATION, "NEG", "Negative");

pub static BP_PANEL: Coding = c(
    LOINC,
    "85354-9",
    "Blood pressure panel with all children optional",
);
pub static BP_SYS: Coding = c(LOINC, "8480-6", "Systolic blood pressure");
pub static BP_DIA: Coding = c(LOINC, "8462-4", "Diastolic blood pressure");
pub static HEART_RATE: Coding = c(LOINC, "8867-4", "Heart rate");
pub static WEIGHT: Coding = c(LOINC, "29463-7", "Body weight");
pub static HEIGHT: Coding = c(LOINC, "8302-2", "Body height");
pub static BMI: Coding = c(LOINC, "39156-5", "Body mass index (BMI) [Ratio]");
pub static TEMPERATURE: Coding = c(LOINC, "8310-5", "Body temperature");
pub static SPO2: Coding = c(LOINC, "2708-6", "Oxygen saturation in Arterial blood");

pub static PHQ9_PANEL: Coding = c(
    LOINC,
    "44249-1",
    "PHQ-9 quick depression assessment panel [Reported.PHQ]",
);
pub static GAD7_PANEL: Coding = c(
    LOINC,
    "70274-6",
    "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
);
pub static PHQ9_ITEMS: &[Coding] = &[
    c(
        LOINC,
        "44250-9",
        "Little interest or pleasure in doing things",
    ),
    c(LOINC, "44255-8", "Feeling down, depressed, or hopeless"),
    c(
        LOINC,
        "44259-0",
        "Trouble falling or staying asleep, or sleeping too much",
    ),
    c(LOINC, "44254-1", "Feeling tired or having little energy"),
    c(LOINC, "44251-7", "Poor appetite or overeating"),
    c(LOINC, "44258-2", "Feeling bad about yourself"),
    c(LOINC, "44252-5", "Trouble concentrating on things"),
    c(
        LOINC,
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed",
    ),
    c(
        LOINC,
        "44260-8",
        "Thoughts that you would be better off dead",
    ),
];
pub static GAD7_ITEMS: &[Coding] = &[
    c(LOINC, "69725-0", "Feeling nervous, anxious or on edge"),
    c(
        LOINC,
        "68509-9",
        "Not being able to stop or control worrying",
    ),
    c(LOINC, "69733-4", "Worrying too much about different things"),
    c(LOINC, "69734-2", "Trouble relaxing"),
    c(
        LOINC,
        "69735-9",
        "Being so restless that it is hard to sit still",
    ),
    c(LOINC, "69689-8", "Becoming easily annoyed or irritable"),
    c(
        LOINC,
        "69736-7",
        "Feeling afraid as if something awful might happen",
    ),
];

pub static SMOKING_STATUS: Coding = c(LOINC, "72166-2", "Tobacco smoking status");
pub static SMOKING_VALUES: &[(u32, Coding)] = &[
    (55, c(SNOMED, "266919005", "Never smoked tobacco")),
    (20, c(SNOMED, "8517006", "Ex-smoker")),
    (18, c(SNOMED, "449868002", "Smokes tobacco daily")),
    (7, c(SNOMED, "428041000124106", "Occasional tobacco smoker")),
];

pub static ENCOUNTER_CLASS_AMB: Coding = c(ACT_CODE, "AMB", "ambulatory");

/// (type, reason, E/M CPT)
pub static VISIT_TYPES: &[(u32, Coding, Coding, Coding)] = &[
    (
        40,
        c(SNOMED, "390906007", "Follow-up encounter"),
        c(SNOMED, "410410006", "Screening surveillance"),
        c(
            CPT,
            "99213",
            "Office or other outpatient visit, established patient, low MDM",
        ),
    ),
    (
        25,
        c(SNOMED, "185345009", "Encounter for symptom"),
        c(SNOMED, "267036007", "Dyspnea"),
        c(
            CPT,
            "99214",
            "Office or other outpatient visit, established patient, moderate MDM",
        ),
    ),
    (
        15,
        c(SNOMED, "162673000", "General examination of patient"),
        c(SNOMED, "185349003", "Encounter for check up"),
        c(
            CPT,
            "99396",
            "Periodic comprehensive preventive medicine, established patient, 40-64 years",
        ),
    ),
    (
        10,
        c(SNOMED, "185349003", "Encounter for check up"),
        c(SNOMED, "38341003", "Hypertensive disorder"),
        c(
            CPT,
            "99212",
            "Office or other outpatient visit, established patient, straightforward MDM",
        ),
    ),
    (
        10,
        c(SNOMED, "185347001", "Encounter for problem"),
        c(SNOMED, "44054006", "Diabetes mellitus type 2"),
        c(
            CPT,
            "99215",
            "Office or other outpatient visit, established patient, high MDM",
        ),
    ),
];
pub static BH_VISIT: (Coding, Coding, Coding) = (
    c(SNOMED, "108313002", "Family psychotherapy procedure"),
    c(SNOMED, "35489007", "Depressive disorder"),
    c(CPT, "90834", "Psychotherapy, 45 minutes with patient"),
);
pub static SUD_VISIT: (Coding, Coding, Coding) = (
    c(SNOMED, "313079003", "Substance abuse counseling"),
    c(SNOMED, "66214007", "Substance abuse"),
    c(CPT, "90832", "Psychotherapy, 30 minutes with patient"),
);

/// Charges in cents for a CPT code.
pub fn fee_cents(cpt: &str) -> i64 {
    match cpt {
        "99212" => 9_500,
        "99213" => 14_000,
        "99214" => 20_500,
        "99215" => 27_500,
        "99396" => 23_000,
        "90834" => 16_500,
        "90832" => 11_000,
        "36415" => 1_500,
        "93000" => 4_500,
        "90471" => 2_800,
        "99406" => 2_200,
        "96127" => 900,
        "82962" => 700,
        _ => 5_000,
    }
}

/// (CPT, SNOMED)
pub static PROCEDURES: &[(Coding, Coding)] = &[
    (
        c(CPT, "36415", "Collection of venous blood by venipuncture"),
        c(
            SNOMED,
            "82078001",
            "Collection of blood specimen for laboratory",
        ),
    ),
    (
        c(
            CPT,
            "93000",
            "Electrocardiogram, routine ECG with at least 12 leads",
        ),
        c(SNOMED, "29303009", "Electrocardiographic procedure"),
    ),
    (
        c(
            CPT,
            "99406",
            "Smoking and tobacco use cessation counseling visit, 3-10 minutes",
        ),
        c(SNOMED, "710081004", "Smoking cessation therapy"),
    ),
    (
        c(CPT, "96127", "Brief emotional/behavioral assessment"),
        c(
            SNOMED,
            "715252007",
            "Scoring of Patient Health Questionnaire 9",
        ),
    ),
    (
        c(CPT, "82962", "Glucose, blood by glucose monitoring device"),
        c(SNOMED, "33747003", "Glucose measurement, blood"),
    ),
];
pub const PROC_VENIPUNCTURE: usize = 0;

/// (CVX, manufacturer, minimum age)
pub static VACCINES: &[(Coding, &str, u32)] = &[
    (
        c(
            CVX,
            "140",
            "Influenza, seasonal, injectable, preservative free",
        ),
        "Sanofi Pasteur",
        0,
    ),
    (
        c(
            CVX,
            "208",
            "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
        ),
        "Pfizer, Inc",
        12,
    ),
    (c(CVX, "115", "Tdap"), "GlaxoSmithKline", 7),
    (
        c(CVX, "187", "zoster vaccine recombinant"),
        "GlaxoSmithKline",
        50,
    ),
    (
        c(CVX, "33", "pneumococcal polysaccharide vaccine, 23 valent"),
        "Merck and Co., Inc.",
        65,
    ),
    (
        c(CVX, "165", "Human Papillomavirus 9-valent vaccine"),
        "Merck and Co., Inc.",
        9,
    ),
    (
        c(CVX, "43", "hepatitis B vaccine, adult dosage"),
        "Merck and Co., Inc.",
        19,
    ),
];

pub static DOC_PROGRESS_NOTE: Coding = c(LOINC, "11506-3", "Progress note");
pub static DOC_COUNSELING_NOTE: Coding = c(LOINC, "28653-8", "Counseling note");

pub static NOTE_OPENERS: &[&str] = &[
    "Patient seen for scheduled follow-up. ",
    "Patient presents with concerns reviewed below. ",
    "Routine visit; chart and medications reconciled. ",
    "Visit conducted in clinic with interpreter support as needed. ",
];
pub static NOTE_PLANS: &[&str] = &[
    "Plan: continue current regimen, return in 3 months.",
    "Plan: labs ordered, follow up after results.",
    "Plan: lifestyle counseling provided, recheck at next visit.",
    "Plan: referral placed; patient agrees with plan.",
];

pub static DEVICES: &[Coding] = &[
    c(
        SNOMED,
        "337414009",
        "Blood glucose meters (physical object)",
    ),
    c(SNOMED, "706180003", "Respiratory humidifier"),
];

pub static CARE_TEAM_PCP: Coding = c(ROLE, "PCP", "primary care physician");
pub static CARE_TEAM_BH: Coding = c(SNOMED, "224535009", "Registered nurse");
pub static CONSENT_CATEGORY: Coding = c(LOINC, "59284-0", "Patient Consent");
