//! An accepted inbound message → a practice write, announced as a
//! [`PracticeChange`] with origin `mllp-in`.
//!
//! | Message | Practice write | Change |
//! |---|---|---|
//! | ADT^A01/A04 | match PID-3 MRN / PID-2 person number, else `create_patient` | `patient-registered` (new patients only) |
//! | ADT^A08 | `update_patient` (PID-5/7/8/11/13) | `patient-updated` |
//! | ORU^R01 | `add_observation` per OBX (OBR required) | `results-added` |
//! | SIU^S12 | `add_appointment` (SCH-11.4 start, SCH-9 minutes) | `appointment-booked` |
//! | SIU^S13/S14/S15 | `update_appointment` for SCH-1 (the appointment GUID) | `appointment-rescheduled`/`-modified`/`-cancelled` |
//! | VXU^V04 | `add_immunization` per RXA | `immunization-added` |
//! | DFT^P03 | `add_pending_charge` per FT1 (the holding tank) | `charge-pending` |
//! | ORM^O01 | none (orders are not modelled) | `order-placed` |
//!
//! A message for an unknown patient, or without a required segment or
//! field, is a processing error (`AE`) and writes nothing.

use std::borrow::Cow;

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::header::Header;
use super::policy::Problem;
use crate::events::{ChangeKind, PracticeChange};
use crate::hl7::Message;
use crate::hl7::ack::codes;
use crate::practice::{
    Address, AppointmentPatch, CPT, CVX, ClockTime, Coding, Guid, LOINC, NewAppointment, NewCharge,
    NewImmunization, NewObservation, NewPatient, ObservationCategory, ObservationValue,
    PatientIndex, PatientPatch, Practice, Sex,
};

/// The origin every inbound change carries.
pub const ORIGIN: &str = "mllp-in";

/// The changes an accepted message made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Changes to publish.
    pub changes: Vec<PracticeChange>,
    /// A short fact for the journal (e.g. `matched-existing-mrn`).
    pub note: Option<&'static str>,
}

/// Apply an admitted message to the practice.
pub fn apply(practice: &Practice, m: &Message<'_>, h: &Header<'_>) -> Result<Applied, Problem> {
    match (h.message_code, h.trigger_event) {
        (b"ADT", b"A01" | b"A04") => register(practice, m),
        (b"ADT", b"A08") => update(practice, m),
        (b"ORU", b"R01") => results(practice, m),
        (b"SIU", b"S12") => book(practice, m),
        (b"SIU", ev @ (b"S13" | b"S14" | b"S15")) => reschedule(practice, m, ev),
        (b"VXU", b"V04") => immunize(practice, m),
        (b"DFT", b"P03") => charge(practice, m),
        (b"ORM", b"O01") => {
            let i = patient(practice, m)?;
            let id = practice_id(practice, i)?;
            Ok(one(ChangeKind::OrderPlaced, id, None))
        }
        _ => Err(Problem::at(
            codes::UNSUPPORTED_EVENT,
            b"MSH",
            9,
            "no processing is defined for this message type",
        )),
    }
}

fn text<'a>(m: &Message<'a>, path: &str) -> Cow<'a, str> {
    m.get_text(path).ok().flatten().unwrap_or_default()
}

fn one(kind: ChangeKind, patient_id: String, record_id: Option<String>) -> Applied {
    Applied {
        changes: vec![PracticeChange {
            kind,
            patient_id,
            record_id,
            origin: ORIGIN.into(),
        }],
        note: None,
    }
}

fn require_segment(m: &Message<'_>, id: &'static [u8; 3]) -> Result<(), Problem> {
    if m.segment(std::str::from_utf8(id).unwrap_or("MSH"))
        .is_some()
    {
        return Ok(());
    }
    Err(Problem {
        code: codes::SEGMENT_SEQUENCE,
        location: Some(crate::hl7::ErrorLocation {
            segment: *id,
            sequence: 1,
            field: 0,
        }),
        text: format!(
            "required segment {} is missing",
            String::from_utf8_lossy(id)
        ),
    })
}

/// The patient named by PID-3.1 (MRN) or PID-2 (person number).
fn lookup(practice: &Practice, m: &Message<'_>) -> Result<Option<PatientIndex>, Problem> {
    require_segment(m, b"PID")?;
    let mrn = text(m, "PID-3.1");
    let has_mrn = !mrn.trim().is_empty();
    if let Some(found) = has_mrn
        .then(|| practice.find_patient_by_mrn(&mrn))
        .flatten()
    {
        // PID-2 is read only when the MRN does not name a patient: most
        // messages carry a known MRN, and each field lookup costs.
        return Ok(Some(found));
    }
    let pn = text(m, "PID-2.1");
    if pn.trim().is_empty() {
        if has_mrn {
            return Ok(None);
        }
        return Err(Problem::at(
            codes::REQUIRED_FIELD_MISSING,
            b"PID",
            3,
            "PID-3 (MRN) or PID-2 (person number) is required",
        ));
    }
    Ok(practice.find_patient_by_person_number(&pn))
}

fn patient(practice: &Practice, m: &Message<'_>) -> Result<PatientIndex, Problem> {
    lookup(practice, m)?.ok_or_else(|| {
        Problem::at(
            codes::UNKNOWN_KEY,
            b"PID",
            3,
            format!(
                "unknown patient (MRN {:?}, person number {:?})",
                text(m, "PID-3.1"),
                text(m, "PID-2.1")
            ),
        )
    })
}

fn practice_id(practice: &Practice, i: PatientIndex) -> Result<String, Problem> {
    practice
        .patient(i)
        .map(|p| p.id.to_string())
        .ok_or_else(|| Problem::at(codes::UNKNOWN_KEY, b"PID", 3, "unknown patient"))
}

/// `YYYYMMDD[HHMM[SS]]` → a UTC timestamp.
pub fn parse_ts(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    let date = parse_date(raw)?;
    let num = |r: std::ops::Range<usize>| raw.get(r).and_then(|s| s.parse::<u8>().ok());
    let time = Time::from_hms(
        num(8..10).unwrap_or(0),
        num(10..12).unwrap_or(0),
        num(12..14).unwrap_or(0),
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `YYYYMMDD` → a date.
pub fn parse_date(raw: &str) -> Option<Date> {
    let raw = raw.trim();
    let y: i32 = raw.get(0..4)?.parse().ok()?;
    let mo: u8 = raw.get(4..6)?.parse().ok()?;
    let d: u8 = raw.get(6..8)?.parse().ok()?;
    Date::from_calendar_date(y, time::Month::try_from(mo).ok()?, d).ok()
}

fn sex(raw: &str) -> Sex {
    match raw.trim() {
        "M" => Sex::M,
        "F" => Sex::F,
        _ => Sex::U,
    }
}

fn address(m: &Message<'_>) -> Option<Address> {
    let line = text(m, "PID-11.1");
    if line.is_empty() {
        return None;
    }
    Some(Address {
        line: line.into_owned(),
        city: Cow::Owned(text(m, "PID-11.3").into_owned()),
        state: Cow::Owned(text(m, "PID-11.4").into_owned()),
        postal_code: Cow::Owned(text(m, "PID-11.5").into_owned()),
    })
}

fn non_empty(s: Cow<'_, str>) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.into_owned())
}

fn register(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    if let Some(_existing) = lookup(practice, m)? {
        return Ok(Applied {
            changes: Vec::new(),
            note: Some("matched-existing-patient"),
        });
    }
    let family = non_empty(text(m, "PID-5.1")).ok_or_else(|| {
        Problem::at(
            codes::REQUIRED_FIELD_MISSING,
            b"PID",
            5,
            "PID-5 is required",
        )
    })?;
    let birth = parse_date(&text(m, "PID-7")).ok_or_else(|| {
        Problem::at(
            codes::REQUIRED_FIELD_MISSING,
            b"PID",
            7,
            "PID-7 must be a date YYYYMMDD",
        )
    })?;
    let mut p = NewPatient::new(
        family,
        text(m, "PID-5.2").into_owned(),
        sex(&text(m, "PID-8")),
        birth,
    );
    p.middle = non_empty(text(m, "PID-5.3"));
    p.address = address(m);
    p.phone = non_empty(text(m, "PID-13.1"));
    let created = practice.create_patient(p);
    Ok(Applied {
        note: Some("registered-new-patient"),
        ..one(ChangeKind::PatientRegistered, created.id.to_string(), None)
    })
}

fn update(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    let i = patient(practice, m)?;
    let patch = PatientPatch {
        family: non_empty(text(m, "PID-5.1")),
        given: non_empty(text(m, "PID-5.2")),
        birth_date: parse_date(&text(m, "PID-7")),
        sex: non_empty(text(m, "PID-8")).map(|s| sex(&s)),
        address: address(m),
        phone: non_empty(text(m, "PID-13.1")),
        ..PatientPatch::default()
    };
    let p = practice
        .update_patient(i, patch)
        .ok_or_else(|| Problem::at(codes::UNKNOWN_KEY, b"PID", 3, "unknown patient"))?;
    Ok(one(ChangeKind::PatientUpdated, p.id.to_string(), None))
}

fn encounter(practice: &Practice, m: &Message<'_>, i: PatientIndex) -> Option<Guid> {
    let v = text(m, "PV1-19.1");
    practice
        .find_encounter_by_visit_number(&v)
        .filter(|(p, _)| *p == i)
        .map(|(_, id)| id)
}

fn results(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    let i = patient(practice, m)?;
    require_segment(m, b"OBR")?;
    require_segment(m, b"OBX")?;
    let encounter_id = encounter(practice, m, i);
    let fallback = parse_ts(&text(m, "OBR-7")).unwrap_or_else(|| practice_now(practice));
    for_each(m, i, practice, b"OBX", ChangeKind::ResultsAdded, |seg| {
        let (code, display) = (seg.text(3, 1), seg.text(3, 2));
        if code.is_empty() {
            return Err(seg.missing(3, "OBX-3 is required"));
        }
        let raw_value = seg.text(5, 1);
        let value = match (seg.text(2, 1).as_str(), raw_value.trim().parse::<f64>()) {
            ("NM", Ok(v)) => {
                let unit = seg.text(6, 1);
                ObservationValue::Quantity {
                    value: v,
                    unit: Cow::Owned(unit.clone()),
                    code: Cow::Owned(unit),
                }
            }
            _ if raw_value.is_empty() => ObservationValue::None,
            _ => ObservationValue::Text { text: raw_value },
        };
        let o = NewObservation {
            encounter_id,
            category: ObservationCategory::Laboratory,
            code: Coding {
                system: LOINC,
                code: Cow::Owned(code),
                display: Cow::Owned(display),
            },
            value,
            reference_range: None,
            interpretation: None,
            effective: parse_ts(&seg.text(14, 1)).unwrap_or(fallback),
            performer_id: None,
            note: None,
            status: "final",
        };
        Ok(practice.add_observation(i, o).map(|r| r.id))
    })
}

fn practice_now(practice: &Practice) -> OffsetDateTime {
    PrimitiveDateTime::new(practice.as_of(), Time::MIDNIGHT).assume_utc()
}

fn start_of(m: &Message<'_>) -> Option<OffsetDateTime> {
    ["SCH-11.4", "AIS-4"]
        .iter()
        .find_map(|p| parse_ts(&text(m, p)))
}

fn minutes(m: &Message<'_>) -> Option<u16> {
    ["SCH-9", "SCH-11.3", "AIS-7"]
        .iter()
        .find_map(|p| text(m, p).trim().parse().ok())
}

fn clock(t: OffsetDateTime) -> ClockTime {
    ClockTime(u16::from(t.hour()) * 60 + u16::from(t.minute()))
}

fn book(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    require_segment(m, b"SCH")?;
    let i = patient(practice, m)?;
    let start = start_of(m).ok_or_else(|| {
        Problem::at(
            codes::REQUIRED_FIELD_MISSING,
            b"SCH",
            11,
            "SCH-11.4 (start) is required",
        )
    })?;
    let reason = text(m, "SCH-7.2");
    let event = practice
        .events()
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(reason.trim()))
        .or_else(|| practice.events().first())
        .ok_or_else(|| Problem::at(codes::INTERNAL_ERROR, b"SCH", 7, "no events"))?;
    let p = practice
        .patient(i)
        .ok_or_else(|| Problem::at(codes::UNKNOWN_KEY, b"PID", 3, "unknown patient"))?;
    let provider_npi = text(m, "AIG-3.1");
    let provider = practice
        .practitioners()
        .iter()
        .find(|pr| pr.npi == provider_npi.trim())
        .map_or(p.pcp_id, |pr| pr.id);
    let location = practice
        .locations()
        .iter()
        .find(|l| l.practice_id == p.practice_id)
        .or_else(|| practice.locations().first())
        .ok_or_else(|| Problem::at(codes::INTERNAL_ERROR, b"AIL", 3, "no locations"))?;
    let a = NewAppointment {
        event_id: event.id,
        event_name: Cow::Borrowed(event.name),
        date: start.date(),
        begin_time: clock(start),
        duration_minutes: minutes(m).unwrap_or(event.duration_minutes),
        location_id: location.id,
        rendering_provider_id: provider,
        practice_id: p.practice_id.clone(),
    };
    let rec = practice
        .add_appointment(i, a)
        .ok_or_else(|| Problem::at(codes::UNKNOWN_KEY, b"PID", 3, "unknown patient"))?;
    Ok(one(
        ChangeKind::AppointmentBooked,
        p.id.to_string(),
        Some(rec.id.to_string()),
    ))
}

fn reschedule(practice: &Practice, m: &Message<'_>, event: &[u8]) -> Result<Applied, Problem> {
    require_segment(m, b"SCH")?;
    let i = patient(practice, m)?;
    let id = text(m, "SCH-1.1");
    let id = if id.trim().is_empty() {
        text(m, "SCH-2.1")
    } else {
        id
    };
    let start = start_of(m);
    let (kind, patch) = match event {
        b"S13" => (
            ChangeKind::AppointmentRescheduled,
            AppointmentPatch {
                date: start.map(OffsetDateTime::date),
                begin_time: start.map(clock),
                duration_minutes: minutes(m),
                is_rescheduled: Some(true),
                ..AppointmentPatch::default()
            },
        ),
        b"S14" => (
            ChangeKind::AppointmentModified,
            AppointmentPatch {
                date: start.map(OffsetDateTime::date),
                begin_time: start.map(clock),
                duration_minutes: minutes(m),
                ..AppointmentPatch::default()
            },
        ),
        _ => (
            ChangeKind::AppointmentCancelled,
            AppointmentPatch {
                is_cancelled: Some(true),
                ..AppointmentPatch::default()
            },
        ),
    };
    let unknown = || {
        Problem::at(
            codes::UNKNOWN_KEY,
            b"SCH",
            1,
            format!("unknown appointment {:?}", id.trim()),
        )
    };
    let owner = practice.find_record(id.trim()).and_then(|r| r.patient);
    if owner != Some(i) {
        return Err(unknown());
    }
    let a = practice
        .update_appointment(id.trim(), patch)
        .ok_or_else(unknown)?;
    Ok(one(kind, practice_id(practice, i)?, Some(a.id.to_string())))
}

fn immunize(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    let i = patient(practice, m)?;
    require_segment(m, b"RXA")?;
    let encounter_id = encounter(practice, m, i);
    for_each(
        m,
        i,
        practice,
        b"RXA",
        ChangeKind::ImmunizationAdded,
        |seg| {
            let Some(date) = parse_date(&seg.text(3, 1)) else {
                return Err(seg.missing(3, "RXA-3 must be a date"));
            };
            let cvx = seg.text(5, 1);
            if cvx.is_empty() {
                return Err(seg.missing(5, "RXA-5 (CVX) is required"));
            }
            let im = NewImmunization {
                cvx: Coding {
                    system: CVX,
                    code: Cow::Owned(cvx),
                    display: Cow::Owned(seg.text(5, 2)),
                },
                occurrence: date,
                lot_number: seg.text(15, 1),
                manufacturer: Cow::Owned(seg.text(17, 1)),
                performer_id: None,
                location_id: None,
                encounter_id,
            };
            Ok(practice.add_immunization(i, im).map(|r| r.id))
        },
    )
}

fn charge(practice: &Practice, m: &Message<'_>) -> Result<Applied, Problem> {
    let i = patient(practice, m)?;
    require_segment(m, b"FT1")?;
    let encounter_id = encounter(practice, m, i);
    for_each(m, i, practice, b"FT1", ChangeKind::ChargePending, |seg| {
        let cpt = Some(seg.text(25, 1))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| seg.text(7, 1));
        if cpt.is_empty() {
            return Err(seg.missing(25, "FT1-25 (or FT1-7) procedure code is required"));
        }
        let amount: f64 = seg.text(11, 1).trim().parse().unwrap_or(0.0);
        let c = NewCharge {
            encounter_id,
            cpt: Coding {
                system: CPT,
                code: Cow::Owned(cpt),
                display: Cow::Owned(seg.text(25, 2)),
            },
            units: seg.text(10, 1).trim().parse().unwrap_or(1),
            amount_cents: (amount * 100.0).round() as i64,
            service_date: parse_date(&seg.text(4, 1)).unwrap_or_else(|| practice.as_of()),
            rendering_provider_id: None,
            payer_id: None,
        };
        Ok(practice.add_pending_charge(i, c).map(|r| r.id))
    })
}

/// One repeating segment (OBX, RXA, FT1) being applied.
struct Seg<'a> {
    seg: crate::hl7::Segment<'a>,
    sequence: usize,
}

impl Seg<'_> {
    fn text(&self, field: usize, component: usize) -> String {
        self.seg
            .field(field)
            .and_then(|f| f.component(component))
            .map(|c| String::from_utf8_lossy(&c.decoded()).into_owned())
            .unwrap_or_default()
    }

    fn missing(&self, field: usize, text: &str) -> Problem {
        let segment = self.seg.id().try_into().unwrap_or(*b"MSH");
        Problem {
            code: codes::REQUIRED_FIELD_MISSING,
            location: Some(crate::hl7::ErrorLocation {
                segment,
                sequence: self.sequence,
                field,
            }),
            text: text.into(),
        }
    }
}

/// Apply every `id` segment with `f` (which returns the record written) and
/// announce each record as a `kind` change. The first bad segment stops
/// processing with its problem.
fn for_each(
    m: &Message<'_>,
    i: PatientIndex,
    practice: &Practice,
    id: &[u8; 3],
    kind: ChangeKind,
    mut f: impl FnMut(&Seg<'_>) -> Result<Option<Guid>, Problem>,
) -> Result<Applied, Problem> {
    let pid = practice_id(practice, i)?;
    let mut changes = Vec::new();
    for (n, seg) in m.segments().filter(|s| s.id() == id).enumerate() {
        let rec = f(&Seg {
            seg,
            sequence: n + 1,
        })?
        .ok_or_else(|| Problem::at(codes::UNKNOWN_KEY, b"PID", 3, "unknown patient"))?;
        changes.push(PracticeChange {
            kind,
            patient_id: pid.clone(),
            record_id: Some(rec.to_string()),
            origin: ORIGIN.into(),
        });
    }
    Ok(Applied {
        changes,
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::practice::PracticeConfig;

    /// The MRN decides when it names a patient; PID-2 is the fallback; a
    /// PID with neither is a missing required field.
    #[test]
    fn lookup_by_mrn_then_person_number() {
        let practice = Practice::new(PracticeConfig {
            patients: 10,
            ..PracticeConfig::default()
        });
        let a = practice.patient(PatientIndex(3)).unwrap();
        let b = practice.patient(PatientIndex(5)).unwrap();
        let find = |pid: &str| {
            let raw = format!("MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.3\r{pid}\r");
            let m = Message::parse(raw.as_bytes()).unwrap();
            lookup(&practice, &m).map_err(|p| p.text)
        };
        let (mrn_a, pn_b) = (&a.mrn, &b.person_number);
        assert_eq!(
            find(&format!("PID|1||{mrn_a}^^^NextGen^MRN")),
            Ok(Some(PatientIndex(3)))
        );
        // A known MRN wins over another patient's person number.
        assert_eq!(
            find(&format!("PID|1|{pn_b}|{mrn_a}^^^NextGen^MRN")),
            Ok(Some(PatientIndex(3)))
        );
        assert_eq!(
            find(&format!("PID|1|{pn_b}|99999999^^^NextGen^MRN")),
            Ok(Some(PatientIndex(5)))
        );
        assert_eq!(find(&format!("PID|1|{pn_b}")), Ok(Some(PatientIndex(5))));
        assert_eq!(find("PID|1||99999999^^^NextGen^MRN"), Ok(None));
        assert_eq!(find("PID|1|000099999999|"), Ok(None));
        assert_eq!(
            find("PID|1| | "),
            Err("PID-3 (MRN) or PID-2 (person number) is required".to_owned())
        );
    }
}
