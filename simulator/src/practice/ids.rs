//! Invertible identifiers: record GUIDs, MRNs, person numbers, NPIs and canaries.
//!
//! Every id is computed from `(seed, kind, patient, ordinal)` and decodes back
//! to it in O(1), with a seed-keyed check so forged ids are rejected.

use serde::Serialize;

use super::guid::Guid;
use super::rng::{hash2, mix, unmix};

/// What a GUID names. The numeric codes are part of the id format: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u16)]
pub enum RecordKind {
    Patient = 1,
    Encounter = 2,
    Condition = 3,
    Medication = 4,
    Allergy = 5,
    Observation = 6,
    LabPanel = 7,
    Immunization = 8,
    Procedure = 9,
    Document = 10,
    Appointment = 11,
    Charge = 12,
    Coverage = 13,
    CarePlan = 14,
    CareTeam = 15,
    Goal = 16,
    Device = 17,
    Consent = 18,
    // Practice-wide entities: the "patient" field of the GUID holds their index.
    Location = 0x100,
    Practitioner = 0x101,
    Payer = 0x102,
    PracticeSite = 0x103,
    Enterprise = 0x104,
    Event = 0x105,
}

impl RecordKind {
    pub const ALL: [RecordKind; 24] = [
        RecordKind::Patient,
        RecordKind::Encounter,
        RecordKind::Condition,
        RecordKind::Medication,
        RecordKind::Allergy,
        RecordKind::Observation,
        RecordKind::LabPanel,
        RecordKind::Immunization,
        RecordKind::Procedure,
        RecordKind::Document,
        RecordKind::Appointment,
        RecordKind::Charge,
        RecordKind::Coverage,
        RecordKind::CarePlan,
        RecordKind::CareTeam,
        RecordKind::Goal,
        RecordKind::Device,
        RecordKind::Consent,
        RecordKind::Location,
        RecordKind::Practitioner,
        RecordKind::Payer,
        RecordKind::PracticeSite,
        RecordKind::Enterprise,
        RecordKind::Event,
    ];

    pub fn from_code(code: u16) -> Option<RecordKind> {
        RecordKind::ALL.iter().copied().find(|k| *k as u16 == code)
    }

    /// Whether records of this kind belong to one patient.
    pub fn is_patient_scoped(self) -> bool {
        (self as u16) < 0x100
    }
}

/// Largest ordinal a GUID can carry (12 bits).
pub const MAX_ORDINAL: u16 = 0x0FFF;
/// Spare-field flag marking records created in the overlay at run time.
pub const OVERLAY_FLAG: u16 = 0x800;
const MAX_INDEX: u64 = (1 << 48) - 1;

/// The decoded parts of a GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuidParts {
    pub kind: RecordKind,
    pub index: u64,
    pub ordinal: u16,
    pub overlay: bool,
}

/// Seed-derived keys; computed once per practice.
#[derive(Debug, Clone, Copy)]
pub struct IdKeys {
    pub seed: u64,
    guid: u64,
    canary: u64,
    mrn_a: u64,
    mrn_a_inv: u64,
    mrn_b: u64,
}

const MRN_MOD: u64 = 10_000_000;

fn mod_inverse(a: u64, m: u64) -> u64 {
    // Extended Euclid on i128; `a` is coprime with `m` by construction.
    let (mut t, mut new_t) = (0i128, 1i128);
    let (mut r, mut new_r) = (m as i128, a as i128);
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    t.rem_euclid(m as i128) as u64
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, value: u64, digits: u32) {
    for shift in (0..digits).rev() {
        out.push(HEX[((value >> (shift * 4)) & 0xF) as usize] as char);
    }
}

fn write_hex(out: &mut [u8], value: u64) {
    let digits = out.len() as u32;
    for (k, o) in out.iter_mut().enumerate() {
        let shift = (digits - 1 - k as u32) * 4;
        *o = HEX[((value >> shift) & 0xF) as usize];
    }
}

fn hex_val(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    s.iter()
        .try_fold(0u64, |acc, &b| Some((acc << 4) | hex_val(b)?))
}

impl IdKeys {
    pub fn new(seed: u64) -> IdKeys {
        let guid = hash2(seed, 0x4755_4944);
        let canary = hash2(seed, 0x4341_4E41_5259);
        // Affine MRN map: a must be coprime with 10^7 (odd and not a multiple of 5).
        let mut mrn_a = (hash2(seed, 0x4D52_4E41) % MRN_MOD) | 1;
        while mrn_a % 5 == 0 || mrn_a < 1_000_000 {
            mrn_a = ((mrn_a + 1_000_002) % MRN_MOD) | 1;
        }
        IdKeys {
            seed,
            guid,
            canary,
            mrn_a,
            mrn_a_inv: mod_inverse(mrn_a, MRN_MOD),
            mrn_b: hash2(seed, 0x4D52_4E42) % MRN_MOD,
        }
    }

    fn check(&self, kind: u16, index: u64, ordinal: u16, spare: u16) -> u64 {
        let word = (u64::from(kind) << 32) | (u64::from(ordinal) << 16) | u64::from(spare);
        hash2(self.guid ^ index, word) >> 32
    }

    /// Format a GUID `cccccccc-kkkk-4ooo-8sss-pppppppppppp`.
    pub fn guid(&self, kind: RecordKind, index: u64, ordinal: u16, overlay: bool) -> Guid {
        debug_assert!(ordinal <= MAX_ORDINAL && index <= MAX_INDEX);
        let spare = if overlay { OVERLAY_FLAG } else { 0 };
        let k = kind as u16;
        let mut b = [b'-'; 36];
        write_hex(&mut b[0..8], self.check(k, index, ordinal, spare));
        write_hex(&mut b[9..13], u64::from(k));
        b[14] = b'4';
        write_hex(&mut b[15..18], u64::from(ordinal & MAX_ORDINAL));
        b[19] = b'8';
        write_hex(&mut b[20..23], u64::from(spare));
        write_hex(&mut b[24..36], index & MAX_INDEX);
        Guid::from_ascii(b)
    }

    /// Decode and verify a GUID. Never panics; `None` for anything not minted by this seed.
    pub fn decode_guid(&self, id: &str) -> Option<GuidParts> {
        let b = id.as_bytes();
        if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        if b[14] != b'4' || b[19] != b'8' {
            return None;
        }
        let check = parse_hex(&b[0..8])?;
        let kind_code = parse_hex(&b[9..13])? as u16;
        let ordinal = parse_hex(&b[15..18])? as u16;
        let spare = parse_hex(&b[20..23])? as u16;
        let index = parse_hex(&b[24..36])?;
        let kind = RecordKind::from_code(kind_code)?;
        if spare & !OVERLAY_FLAG != 0 || check != self.check(kind_code, index, ordinal, spare) {
            return None;
        }
        Some(GuidParts {
            kind,
            index,
            ordinal,
            overlay: spare == OVERLAY_FLAG,
        })
    }

    /// MRN: an affine bijection of the index modulo 10^7, seven digits.
    pub fn mrn(&self, index: u32) -> String {
        let v = (self.mrn_a * (u64::from(index) % MRN_MOD) + self.mrn_b) % MRN_MOD;
        format!("{v:07}")
    }

    pub fn mrn_to_index(&self, mrn: &str) -> Option<u32> {
        if mrn.len() != 7 || !mrn.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = mrn.parse().ok()?;
        let i = ((v + MRN_MOD - self.mrn_b) % MRN_MOD) * self.mrn_a_inv % MRN_MOD;
        u32::try_from(i).ok()
    }

    /// Canary token `NGSIM-CANARY-` + 16 hex digits: a keyed bijection of
    /// `patient(32) | kind(5) | ordinal(12) | check(15)`.
    pub fn canary(&self, patient: u32, kind: RecordKind, ordinal: u16) -> String {
        let k = canary_kind_code(kind);
        let head = (u64::from(patient) << 32) | (u64::from(k) << 27) | (u64::from(ordinal) << 15);
        let check = hash2(self.canary, head) & 0x7FFF;
        let mut s = String::with_capacity(CANARY_LEN);
        s.push_str(CANARY_PREFIX);
        push_hex(&mut s, mix((head | check) ^ self.canary), 16);
        s
    }

    /// Decode the 16 hex digits after the prefix; `None` if the check fails.
    pub fn decode_canary_hex(&self, hex: &[u8]) -> Option<(u32, RecordKind, u16)> {
        if hex.len() != 16 {
            return None;
        }
        let packed = unmix(parse_hex(hex)?) ^ self.canary;
        let head = packed & !0x7FFF;
        if hash2(self.canary, head) & 0x7FFF != packed & 0x7FFF {
            return None;
        }
        let kind = CANARY_KINDS
            .get(((packed >> 27) & 0x1F) as usize)
            .copied()??;
        Some(((packed >> 32) as u32, kind, ((packed >> 15) & 0xFFF) as u16))
    }
}

pub const CANARY_PREFIX: &str = "NGSIM-CANARY-";
pub const CANARY_LEN: usize = CANARY_PREFIX.len() + 16;

/// Kinds that can carry a Part 2 label, by their 5-bit canary code.
const CANARY_KINDS: [Option<RecordKind>; 8] = [
    None,
    Some(RecordKind::Encounter),
    Some(RecordKind::Condition),
    Some(RecordKind::Medication),
    Some(RecordKind::Observation),
    Some(RecordKind::Document),
    Some(RecordKind::Consent),
    Some(RecordKind::LabPanel),
];

fn canary_kind_code(kind: RecordKind) -> u8 {
    CANARY_KINDS
        .iter()
        .position(|k| *k == Some(kind))
        .unwrap_or(0) as u8
}

/// Person number: 12-digit zero-padded, sequential from 1 (HL7 PID-2).
pub fn person_number(index: u32) -> String {
    format!("{:012}", u64::from(index) + 1)
}

pub fn person_number_to_index(pn: &str) -> Option<u32> {
    if pn.len() != 12 || !pn.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = pn.parse().ok()?;
    u32::try_from(v.checked_sub(1)?).ok()
}

/// A 10-digit NPI from a 9-digit base, with the Luhn check digit computed over
/// the `80840` prefix as the NPI standard prescribes.
pub fn npi(base9: u32) -> String {
    let base = format!("{:09}", base9 % 1_000_000_000);
    let digits: Vec<u32> = format!("80840{base}")
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    let check = luhn_check_digit(&digits);
    format!("{base}{check}")
}

/// Luhn check digit for `payload` (rightmost payload digit is doubled).
pub fn luhn_check_digit(payload: &[u32]) -> u32 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// Whether a 10-digit NPI has a valid check digit.
pub fn npi_is_valid(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = format!("80840{}", &npi[..9])
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    luhn_check_digit(&digits) == u32::from(npi.as_bytes()[9] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_roundtrip() {
        let k = IdKeys::new(42);
        let g = k.guid(RecordKind::Observation, 999_999, 17, false);
        assert_eq!(g.len(), 36);
        let p = k.decode_guid(&g).unwrap();
        assert_eq!(
            (p.kind, p.index, p.ordinal, p.overlay),
            (RecordKind::Observation, 999_999, 17, false)
        );
        assert!(IdKeys::new(43).decode_guid(&g).is_none());
        let mut forged = g.to_string();
        forged.replace_range(35..36, if g.ends_with('f') { "e" } else { "f" });
        assert!(k.decode_guid(&forged).is_none());
    }

    #[test]
    fn mrn_roundtrip() {
        let k = IdKeys::new(7);
        for i in [0u32, 1, 2, 999_999, 9_999_999] {
            assert_eq!(k.mrn_to_index(&k.mrn(i)), Some(i));
        }
    }

    #[test]
    fn npi_known_value() {
        // CMS's published example: 123456789 -> check digit 3.
        assert_eq!(npi(123_456_789), "1234567893");
        assert!(npi_is_valid("1234567893"));
        assert!(!npi_is_valid("1234567890"));
    }

    #[test]
    fn canary_roundtrip() {
        let k = IdKeys::new(42);
        let c = k.canary(12345, RecordKind::Document, 3);
        assert_eq!(c.len(), CANARY_LEN);
        let hex = &c.as_bytes()[CANARY_PREFIX.len()..];
        assert_eq!(
            k.decode_canary_hex(hex),
            Some((12345, RecordKind::Document, 3))
        );
    }
}
