//! Typed NDJSON writers for the patient and the administrative and care
//! coordination types (see the parent module for the rules: fields in byte
//! order of their JSON names, bytes equal to `render::*`).

use std::io::Write;

use serde::Serialize;
use serde::ser::Serializer;
use time::{Date, OffsetDateTime};

use super::{
    Cat, CodeOnly, Coding2, Coding3, Concept, Concept2, Instant, Meta, Narrative, Reference,
    References, Text, code_only, lines, meta, org_id, part2_security,
};
use crate::fhir::render::{ACT_CODE, MRN_SYSTEM, US_CORE};
use crate::practice::{self, Chart, ConsentState, Practice, Sex};

/// A calendar date, `YYYY-MM-DD` (`render::date`), formatted in place.
struct Day(Date);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

// ---------------------------------------------------------------- Patient

#[derive(Serialize)]
struct Address<'a> {
    city: &'a str,
    country: &'static str,
    line: [&'a str; 1],
    #[serde(rename = "postalCode")]
    postal_code: &'a str,
    state: &'a str,
    #[serde(rename = "use")]
    use_: &'static str,
}

#[derive(Serialize)]
struct Communication<'a> {
    language: Concept<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OmbPart<'a> {
    url: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_coding: Option<Coding3<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_string: Option<&'a str>,
}

/// The race and ethnicity extensions: `ombCategory` and `text`.
#[derive(Serialize)]
struct Omb<'a> {
    extension: [OmbPart<'a>; 2],
    url: Cat<'a>,
}

fn omb<'a>(profile: &'a str, c: &'a practice::Coding) -> Omb<'a> {
    Omb {
        extension: [
            OmbPart {
                url: "ombCategory",
                value_coding: Some(c.into()),
                value_string: None,
            },
            OmbPart {
                url: "text",
                value_coding: None,
                value_string: Some(&c.display),
            },
        ],
        url: Cat(US_CORE, profile, ""),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BirthSex {
    url: Cat<'static>,
    value_code: &'static str,
}

#[derive(Serialize)]
struct Extensions<'a>(Omb<'a>, Omb<'a>, BirthSex);

#[derive(Serialize)]
struct Mrn<'a> {
    system: &'static str,
    #[serde(rename = "type")]
    ty: Concept2<'static>,
    #[serde(rename = "use")]
    use_: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct Ident<'a> {
    system: &'a str,
    value: &'a str,
}

/// `Patient.identifier`: MRN, person number, then the external ids.
struct PatientIds<'a>(&'a practice::Patient);

impl Serialize for PatientIds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let pt = self.0;
        let mut q = s.serialize_seq(Some(2 + pt.external_ids.len()))?;
        q.serialize_element(&Mrn {
            system: MRN_SYSTEM,
            ty: Concept2 {
                coding: [Coding3 {
                    code: "MR",
                    display: "Medical record number",
                    system: "http://terminology.hl7.org/CodeSystem/v2-0203",
                }],
            },
            use_: "usual",
            value: &pt.mrn,
        })?;
        q.serialize_element(&Ident {
            system: "urn:ngsim:person-number",
            value: &pt.person_number,
        })?;
        for e in &pt.external_ids {
            q.serialize_element(&Ident {
                system: e.system,
                value: &e.value,
            })?;
        }
        q.end()
    }
}

#[derive(Serialize)]
struct Name<'a> {
    family: &'a str,
    given: Given<'a>,
    #[serde(rename = "use")]
    use_: &'static str,
}

/// The given name, then the middle name if any.
struct Given<'a>(&'a str, Option<&'a str>);

impl Serialize for Given<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(std::iter::once(self.0).chain(self.1))
    }
}

#[derive(Serialize)]
struct Telecom<'a> {
    system: &'static str,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    use_: Option<&'static str>,
    value: &'a str,
}

/// Home phone, then the email if any.
struct Telecoms<'a>(&'a str, Option<&'a str>);

impl Serialize for Telecoms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let phone = Telecom {
            system: "phone",
            use_: Some("home"),
            value: self.0,
        };
        let email = self.1.map(|value| Telecom {
            system: "email",
            use_: None,
            value,
        });
        s.collect_seq(std::iter::once(phone).chain(email))
    }
}

/// `render::patient`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Patient<'a> {
    active: bool,
    address: [Address<'a>; 1],
    birth_date: Day,
    communication: [Communication<'a>; 1],
    deceased_boolean: bool,
    extension: Extensions<'a>,
    gender: &'static str,
    general_practitioner: [Reference<'a>; 1],
    id: &'a str,
    identifier: PatientIds<'a>,
    managing_organization: Reference<'a>,
    marital_status: Concept<'a>,
    meta: Meta<'a>,
    name: [Name<'a>; 1],
    resource_type: &'static str,
    telecom: Telecoms<'a>,
}

/// Write `pt` as `render::patient` would serialize it (no newline).
pub fn write_patient(
    out: &mut impl Write,
    p: &Practice,
    pt: &practice::Patient,
) -> serde_json::Result<()> {
    let (gender, birth_sex) = match pt.sex {
        Sex::M => ("male", "M"),
        Sex::F => ("female", "F"),
        Sex::U => ("unknown", "UNK"),
    };
    let a = &pt.address;
    let v = Patient {
        active: true,
        address: [Address {
            city: &a.city,
            country: "US",
            line: [&a.line],
            postal_code: &a.postal_code,
            state: &a.state,
            use_: "home",
        }],
        birth_date: Day(pt.birth_date),
        communication: [Communication {
            language: (&pt.language).into(),
        }],
        deceased_boolean: pt.deceased,
        extension: Extensions(
            omb("us-core-race", &pt.race),
            omb("us-core-ethnicity", &pt.ethnicity),
            BirthSex {
                url: Cat(US_CORE, "us-core-birthsex", ""),
                value_code: birth_sex,
            },
        ),
        gender,
        general_practitioner: [Reference("Practitioner", &pt.pcp_id)],
        id: pt.id.as_str(),
        identifier: PatientIds(pt),
        managing_organization: Reference("Organization", org_id(p, &pt.practice_id)),
        marital_status: (&pt.marital_status).into(),
        meta: meta(pt.last_updated, "us-core-patient", false),
        name: [Name {
            family: &pt.name.family,
            given: Given(&pt.name.given, pt.name.middle.as_deref()),
            use_: "official",
        }],
        resource_type: "Patient",
        telecom: Telecoms(&pt.phone, pt.email.as_deref()),
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- CareTeam

#[derive(Serialize)]
struct Member<'a> {
    member: Reference<'a>,
    role: [Concept<'a>; 1],
}

/// `CareTeam.participant`, mapped while serializing.
struct Members<'a>(&'a [practice::CareTeamMember]);

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|m| Member {
            member: Reference("Practitioner", &m.practitioner_id),
            role: [(&m.role).into()],
        }))
    }
}

/// `render::care_team`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CareTeam<'a> {
    id: &'a str,
    meta: Meta<'a>,
    name: &'a str,
    participant: Members<'a>,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
}

/// Write `c` as `render::care_team` would serialize it (no newline).
pub fn write_care_team(out: &mut impl Write, c: &practice::CareTeam) -> serde_json::Result<()> {
    let v = CareTeam {
        id: c.id.as_str(),
        meta: meta(c.last_updated, "us-core-careteam", false),
        name: c.name,
        participant: Members(&c.members),
        resource_type: "CareTeam",
        status: c.status,
        subject: Reference("Patient", &c.patient_id),
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- CarePlan

#[derive(Serialize)]
struct DayStart {
    start: Day,
}

/// `render::care_plan`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CarePlan<'a> {
    addresses: References<'a>,
    author: Reference<'a>,
    category: [CodeOnly<'a>; 1],
    goal: References<'a>,
    id: &'a str,
    intent: &'a str,
    meta: Meta<'a>,
    period: DayStart,
    resource_type: &'static str,
    status: &'a str,
    subject: Reference<'a>,
    text: Narrative<'a>,
    title: &'a str,
}

/// Write `c` as `render::care_plan` would serialize it (no newline).
pub fn write_care_plan(out: &mut impl Write, c: &practice::CarePlan) -> serde_json::Result<()> {
    let v = CarePlan {
        addresses: References("Condition", &c.addresses_condition_ids),
        author: Reference("Practitioner", &c.author_id),
        category: [code_only(
            "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
            "assess-plan",
        )],
        goal: References("Goal", &c.goal_ids),
        id: c.id.as_str(),
        intent: c.intent,
        meta: meta(c.last_updated, "us-core-careplan", false),
        period: DayStart {
            start: Day(c.period_start),
        },
        resource_type: "CarePlan",
        status: c.status,
        subject: Reference("Patient", &c.patient_id),
        text: Narrative {
            div: super::Div(c.title),
            status: "generated",
        },
        title: c.title,
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- Goal

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Due {
    due_date: Day,
}

/// `render::goal`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Goal<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    addresses: Option<[Reference<'a>; 1]>,
    description: Text<'a>,
    id: &'a str,
    lifecycle_status: &'a str,
    meta: Meta<'a>,
    resource_type: &'static str,
    start_date: Day,
    subject: Reference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<[Due; 1]>,
}

/// Write `g` as `render::goal` would serialize it (no newline).
pub fn write_goal(out: &mut impl Write, g: &practice::Goal) -> serde_json::Result<()> {
    let v = Goal {
        addresses: g
            .addresses_condition_id
            .as_ref()
            .map(|c| [Reference("Condition", c)]),
        description: Text {
            text: g.description,
        },
        id: g.id.as_str(),
        lifecycle_status: g.lifecycle_status,
        meta: meta(g.last_updated, "us-core-goal", false),
        resource_type: "Goal",
        start_date: Day(g.start),
        subject: Reference("Patient", &g.patient_id),
        target: g.due.map(|d| [Due { due_date: Day(d) }]),
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- Coverage

#[derive(Serialize)]
struct MemberId<'a> {
    #[serde(rename = "type")]
    ty: CodeOnly<'static>,
    value: &'a str,
}

/// A `Period` of dates, `end` only when known.
#[derive(Serialize)]
struct Days {
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<Day>,
    start: Day,
}

/// `render::coverage`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Coverage<'a> {
    beneficiary: Reference<'a>,
    id: &'a str,
    identifier: [MemberId<'a>; 1],
    meta: Meta<'a>,
    order: u8,
    payor: [Reference<'a>; 1],
    period: Days,
    relationship: CodeOnly<'a>,
    resource_type: &'static str,
    status: &'a str,
    subscriber_id: &'a str,
}

/// Write `c` as `render::coverage` would serialize it (no newline).
pub fn write_coverage(out: &mut impl Write, c: &practice::Coverage) -> serde_json::Result<()> {
    let v = Coverage {
        beneficiary: Reference("Patient", &c.patient_id),
        id: c.id.as_str(),
        identifier: [MemberId {
            ty: code_only("http://terminology.hl7.org/CodeSystem/v2-0203", "MB"),
            value: &c.member_id,
        }],
        meta: meta(c.last_updated, "us-core-coverage", false),
        order: c.order,
        payor: [Reference("Organization", &c.payer_id)],
        period: Days {
            end: c.period_end.map(Day),
            start: Day(c.period_start),
        },
        relationship: code_only(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
            c.relationship,
        ),
        resource_type: "Coverage",
        status: c.status,
        subscriber_id: &c.member_id,
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- Device

#[derive(Serialize)]
struct Udi<'a> {
    #[serde(rename = "carrierHRF")]
    carrier_hrf: &'a str,
}

/// `render::device`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Device<'a> {
    id: &'a str,
    meta: Meta<'a>,
    patient: Reference<'a>,
    resource_type: &'static str,
    status: &'a str,
    #[serde(rename = "type")]
    ty: Concept<'a>,
    udi_carrier: [Udi<'a>; 1],
}

/// Write `d` as `render::device` would serialize it (no newline).
pub fn write_device(out: &mut impl Write, d: &practice::Device) -> serde_json::Result<()> {
    let v = Device {
        id: d.id.as_str(),
        meta: meta(d.last_updated, "us-core-implantable-device", false),
        patient: Reference("Patient", &d.patient_id),
        resource_type: "Device",
        status: d.status,
        ty: (&d.device_type).into(),
        udi_carrier: [Udi {
            carrier_hrf: &d.udi,
        }],
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- Consent

/// `Consent.meta`: no profile, the Part 2 labels when the consent has them.
#[derive(Serialize)]
struct ConsentMeta {
    #[serde(rename = "lastUpdated")]
    last_updated: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<[Coding3<'static>; 5]>,
}

/// `name (kind)` of a consent recipient, formatted in place.
struct Recipient<'a>(&'a practice::ConsentRecipient);

impl Serialize for Recipient<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{} ({})", self.0.name, self.0.kind))
    }
}

#[derive(Serialize)]
struct Display<'a> {
    display: Recipient<'a>,
}

#[derive(Serialize)]
struct ConsentActor<'a> {
    reference: Display<'a>,
    role: CodeOnly<'static>,
}

/// `Consent.provision.actor`: one recipient per entry, `name (kind)`.
struct Actors<'a>(&'a [practice::ConsentRecipient]);

impl Serialize for Actors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| ConsentActor {
            reference: Display {
                display: Recipient(r),
            },
            role: code_only(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "IRCP",
            ),
        }))
    }
}

#[derive(Serialize)]
struct Provision<'a> {
    actor: Actors<'a>,
    period: Days,
    purpose: [Coding2<'a>; 1],
    #[serde(rename = "type")]
    ty: &'static str,
}

/// `render::consent`, typed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Consent<'a> {
    category: [Concept<'a>; 1],
    date_time: Midnight,
    id: &'a str,
    meta: ConsentMeta,
    organization: [Reference<'a>; 1],
    patient: Reference<'a>,
    policy_rule: CodeOnly<'a>,
    provision: Provision<'a>,
    resource_type: &'static str,
    scope: CodeOnly<'static>,
    status: &'static str,
}

/// A date at midnight UTC, `YYYY-MM-DDT00:00:00Z`.
struct Midnight(Date);

impl Serialize for Midnight {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}T00:00:00Z", self.0))
    }
}

/// Write `c` as `render::consent` would serialize it (no newline).
pub fn write_consent(
    out: &mut impl Write,
    p: &Practice,
    c: &practice::Consent,
) -> serde_json::Result<()> {
    let v = Consent {
        category: [(&c.category).into()],
        date_time: Midnight(c.date_granted),
        id: c.id.as_str(),
        meta: ConsentMeta {
            last_updated: Instant(c.last_updated),
            security: c.part2.is_some().then(part2_security),
        },
        organization: [Reference("Organization", org_id(p, &c.source_practice_id))],
        patient: Reference("Patient", &c.patient_id),
        policy_rule: code_only(ACT_CODE, c.policy_rule),
        provision: Provision {
            actor: Actors(&c.recipients),
            period: Days {
                end: c.revoked_on.or(c.period_end).map(Day),
                start: Day(c.date_granted),
            },
            purpose: [Coding2 {
                code: c.purpose,
                system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            }],
            ty: "permit",
        },
        resource_type: "Consent",
        scope: code_only(
            "http://terminology.hl7.org/CodeSystem/consentscope",
            "patient-privacy",
        ),
        status: match c.state {
            ConsentState::Granted => "active",
            _ => "inactive",
        },
    };
    serde_json::to_writer(out, &v)
}

// ---------------------------------------------------------------- dispatch

/// [`super::each_record`] for its types; `false` for any other type.
pub(super) fn each_record(c: &Chart, ty: &str, f: &mut impl FnMut(OffsetDateTime, bool)) -> bool {
    match ty {
        "Patient" => f(c.patient.last_updated, false),
        "CareTeam" => c.care_team.iter().for_each(|x| f(x.last_updated, false)),
        "CarePlan" => c.care_plans.iter().for_each(|x| f(x.last_updated, false)),
        "Goal" => c.goals.iter().for_each(|x| f(x.last_updated, false)),
        "Coverage" => c.coverages.iter().for_each(|x| f(x.last_updated, false)),
        "Device" => c.devices.iter().for_each(|x| f(x.last_updated, false)),
        "Consent" => c
            .consent
            .iter()
            .for_each(|x| f(x.last_updated, x.part2.is_some())),
        _ => return false,
    }
    true
}

/// [`super::write_lines`] for its types; `false` for any other type.
pub(super) fn write_lines(
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    p: &Practice,
    c: &Chart,
    ty: &str,
    keep: &impl Fn(OffsetDateTime, bool) -> bool,
) -> bool {
    match ty {
        "Patient" => lines(
            out,
            ends,
            [&c.patient],
            |x| (x.last_updated, false),
            keep,
            |o, x| write_patient(o, p, x),
        ),
        "CareTeam" => lines(
            out,
            ends,
            &c.care_team,
            |x| (x.last_updated, false),
            keep,
            write_care_team,
        ),
        "CarePlan" => lines(
            out,
            ends,
            &c.care_plans,
            |x| (x.last_updated, false),
            keep,
            write_care_plan,
        ),
        "Goal" => lines(
            out,
            ends,
            &c.goals,
            |x| (x.last_updated, false),
            keep,
            write_goal,
        ),
        "Coverage" => lines(
            out,
            ends,
            &c.coverages,
            |x| (x.last_updated, false),
            keep,
            write_coverage,
        ),
        "Device" => lines(
            out,
            ends,
            &c.devices,
            |x| (x.last_updated, false),
            keep,
            write_device,
        ),
        "Consent" => lines(
            out,
            ends,
            &c.consent,
            |x| (x.last_updated, x.part2.is_some()),
            keep,
            |o, x| write_consent(o, p, x),
        ),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::job::{is_part2, render_type};
    use crate::bulk::params::parse_instant;
    use crate::practice::{ConsentRecipient, Part2Label, PracticeConfig};

    const TYPES: [&str; 7] = [
        "Patient", "CareTeam", "CarePlan", "Goal", "Coverage", "Device", "Consent",
    ];

    /// Every type of this file in `c`: the typed bytes equal the `Value`
    /// rendering's, and `each_record` reports what `_since` and Part 2
    /// withholding read from the `Value`. Returns the records compared.
    fn compare(p: &Practice, c: &Chart) -> usize {
        let mut n = 0;
        for ty in TYPES {
            let (mut buf, mut ends) = (Vec::new(), Vec::new());
            assert!(write_lines(&mut buf, &mut ends, p, c, ty, &|_, _| true));
            let want: Vec<u8> = render_type(p, c, ty)
                .iter()
                .flat_map(|v| {
                    serde_json::to_string(v)
                        .unwrap()
                        .into_bytes()
                        .into_iter()
                        .chain([b'\n'])
                })
                .collect();
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                String::from_utf8(want).unwrap()
            );
            let mut seen = Vec::new();
            assert!(each_record(c, ty, &mut |u, part2| seen.push((u, part2))));
            let filters: Vec<_> = render_type(p, c, ty)
                .iter()
                .map(|v| {
                    let u = v["meta"]["lastUpdated"].as_str().and_then(parse_instant);
                    (u.unwrap(), is_part2(v))
                })
                .collect();
            assert_eq!(seen, filters, "{ty}");
            n += seen.len();
        }
        n
    }

    /// The 400-patient practice never generates some optional branches
    /// (deceased patients, goals without a due date or condition, ended
    /// coverages, care plans without conditions or goals, escaped titles,
    /// Part 2 consents without an end or recipients): patch real charts so
    /// every branch, present and absent, is compared against `render::*`.
    #[test]
    fn patched_charts_exercise_every_optional_branch() {
        let p = Practice::new(PracticeConfig {
            patients: 400,
            ..PracticeConfig::default()
        });
        let with = |f: fn(&Chart) -> bool| {
            p.patient_indices()
                .map(|i| p.chart(i).unwrap())
                .find(f)
                .expect("a chart with the records to patch")
        };
        let mut c = with(|c| {
            c.consent.is_some()
                && !c.goals.is_empty()
                && !c.coverages.is_empty()
                && !c.care_plans.is_empty()
        });
        assert!(compare(&p, &c) > 0);
        let pt = &mut c.patient;
        pt.deceased = true;
        pt.sex = Sex::U;
        pt.external_ids.clear();
        pt.email = match pt.email {
            Some(_) => None,
            None => Some("a\"b@example.org".into()),
        };
        pt.name.middle = match pt.name.middle {
            Some(_) => None,
            None => Some("Q".into()),
        };
        for g in &mut c.goals {
            g.due = None;
            g.addresses_condition_id = None;
        }
        for x in &mut c.coverages {
            x.period_end = Some(x.period_start);
        }
        for x in &mut c.care_plans {
            x.addresses_condition_ids.clear();
            x.goal_ids.clear();
            x.title = "Plan <A> & \"B\" \\ é";
        }
        let x = c.consent.as_mut().unwrap();
        x.part2 = Some(Part2Label {
            canary: "NGSIM-CANARY-0123456789abcdef".into(),
            consent_state: ConsentState::Revoked,
        });
        x.state = ConsentState::Revoked;
        x.revoked_on = None;
        x.period_end = None;
        x.recipients.clear();
        assert!(compare(&p, &c) > 0);
        let x = c.consent.as_mut().unwrap();
        x.revoked_on = Some(x.date_granted);
        x.recipients = vec![ConsentRecipient {
            name: "A & \"B\"",
            kind: "<k>",
        }];
        assert!(compare(&p, &c) > 0);
        c.consent = None;
        c.devices = with(|c| !c.devices.is_empty()).devices;
        assert!(compare(&p, &c) > 0);
    }
}
