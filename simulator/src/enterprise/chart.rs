//! `/persons/{personId}/chart/…`: the USCDI chart reads, and the encounter,
//! problem and charge writes.
//!
//! Every list route is one row of [`LISTS`] (its path, type name and a
//! projection of the chart), served by one handler.
//!
//! Part 2 records are left out unless the client's account carries Part 2
//! consent and the patient's consent is granted.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Map, Value, json};

use super::Ctx;
use super::body::JsonBody;
use super::envelope::ListQuery;
use super::error::ApiError;
use super::persons::{date_time, page_list, parse_day, person_index, publish};
use super::render;
use super::schemas::{self, Body};
use crate::events::ChangeKind;
use crate::practice::{
    CPT, Chart, Coding, Guid, ICD10CM, NewCharge, NewCondition, NewEncounter, ObservationCategory,
    PRACTICE_OFFSET, SNOMED,
};
use crate::server::AppState;

/// LOINC of the PHQ-9 panel.
const PHQ9_LOINC: &str = "44249-1";

fn chart_of(ctx: &Ctx, pid: &str) -> Result<Chart, ApiError> {
    let i = person_index(ctx, pid)?;
    ctx.state.practice.chart(i).ok_or(ApiError::NotFound(None))
}

fn consent(ctx: &Ctx) -> bool {
    ctx.grant.part2_consent
}

/// A chart list route's view of one request.
struct Scope<'a> {
    ctx: &'a Ctx,
    chart: &'a Chart,
    /// `{personId}` as given.
    pid: &'a str,
    /// `{encounterId}`, on the encounter-scoped lists (checked to exist).
    eid: Option<&'a str>,
}

impl Scope<'_> {
    fn consent(&self) -> bool {
        consent(self.ctx)
    }

    fn in_encounter(&self, e: Option<&Guid>) -> bool {
        e.map(|g| g.as_str()) == self.eid
    }
}

/// One chart list: `GET /persons/{personId}/chart/{path}`.
pub(super) struct ChartList {
    path: &'static str,
    /// The item type named in the leaked `nextPageLink` paging.
    type_name: &'static str,
    project: fn(&Scope<'_>) -> Vec<Value>,
    /// The POST on the same path, if any.
    create: Option<fn(MethodRouter<AppState>) -> MethodRouter<AppState>>,
}

/// Every chart list route.
const LISTS: &[ChartList] = &[
    ChartList {
        path: "allergies",
        type_name: "Allergy",
        project: |s| s.chart.allergies.iter().map(render::allergy).collect(),
        create: None,
    },
    ChartList {
        path: "problems",
        type_name: "Problem",
        project: |s| {
            s.chart
                .conditions
                .iter()
                .filter(|x| {
                    x.category == "problem-list-item" && render::visible(&x.part2, s.consent())
                })
                .map(|x| render::condition(x, "problems"))
                .collect()
        },
        create: Some(|m| m.post(create_problem)),
    },
    ChartList {
        path: "diagnoses",
        type_name: "Diagnosis",
        project: |s| {
            s.chart
                .conditions
                .iter()
                .filter(|x| render::visible(&x.part2, s.consent()))
                .map(|x| render::condition(x, "diagnoses"))
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "medications",
        type_name: "Medication",
        project: |s| {
            s.chart
                .medications
                .iter()
                .filter(|x| render::visible(&x.part2, s.consent()))
                .map(render::medication)
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "encounters",
        type_name: "Encounter",
        project: |s| encounter_items(s.ctx, s.chart),
        create: Some(|m| m.post(create_encounter)),
    },
    ChartList {
        path: "encounters/{encounterId}/vitals",
        type_name: "Vital",
        project: |s| {
            s.chart
                .observations
                .iter()
                .filter(|o| {
                    o.category == ObservationCategory::VitalSigns
                        && s.in_encounter(o.encounter_id.as_ref())
                })
                .map(render::observation)
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "encounters/{encounterId}/diagnoses",
        type_name: "Diagnosis",
        project: |s| {
            s.chart
                .conditions
                .iter()
                .filter(|x| {
                    s.in_encounter(x.encounter_id.as_ref())
                        && render::visible(&x.part2, s.consent())
                })
                .map(|x| render::condition(x, "diagnoses"))
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "encounters/{encounterId}/procedures",
        type_name: "Procedure",
        project: |s| {
            s.chart
                .procedures
                .iter()
                .filter(|x| s.in_encounter(x.encounter_id.as_ref()))
                .map(render::procedure)
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "procedures",
        type_name: "Procedure",
        project: |s| s.chart.procedures.iter().map(render::procedure).collect(),
        create: None,
    },
    ChartList {
        path: "immunizations",
        type_name: "Immunization",
        project: |s| {
            s.chart
                .immunizations
                .iter()
                .map(render::immunization)
                .collect()
        },
        create: None,
    },
    ChartList {
        // One item per panel, with its results.
        path: "lab/results",
        type_name: "LabResult",
        project: |s| {
            let c = s.chart;
            c.lab_panels
                .iter()
                .filter(|p| render::visible(&p.part2, s.consent()))
                .map(|p| {
                    let results: Vec<_> = c
                        .observations
                        .iter()
                        .filter(|o| o.panel_id.as_deref() == Some(&p.id))
                        .collect();
                    render::lab_result(p, &results)
                })
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "documents",
        type_name: "Document",
        project: |s| {
            s.chart
                .documents
                .iter()
                .filter(|d| render::visible(&d.part2, s.consent()))
                .map(render::document)
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "social-history",
        type_name: "SocialHistory",
        project: |s| {
            s.chart
                .observations
                .iter()
                .filter(|o| {
                    o.category == ObservationCategory::SocialHistory
                        && render::visible(&o.part2, s.consent())
                })
                .map(render::observation)
                .collect()
        },
        create: None,
    },
    ChartList {
        // Posted and pending.
        path: "charges",
        type_name: "Charge",
        project: |s| s.chart.charges.iter().map(render::charge).collect(),
        create: Some(|m| m.post(create_charge)),
    },
    ChartList {
        // One item with the account totals.
        path: "balances",
        type_name: "Balance",
        project: |s| {
            let b = &s.chart.balance;
            vec![json!({
                "personId": s.pid,
                "practiceId": s.chart.patient.practice_id,
                "chargesTotal": render::money(b.charges_cents),
                "paymentsTotal": render::money(b.payments_cents),
                "adjustmentsTotal": render::money(b.adjustments_cents),
                "balance": render::money(b.balance_cents),
            })]
        },
        create: None,
    },
    ChartList {
        // One item per member of each care team.
        path: "care-team-members",
        type_name: "CareTeamMember",
        project: |s| {
            let pr = &s.ctx.state.practice;
            s.chart
                .care_team
                .iter()
                .flat_map(|team| {
                    team.members.iter().map(move |m| {
                        let d = pr.practitioner(m.practitioner_id.as_str());
                        json!({
                            "id": m.practitioner_id,
                            "careTeamId": team.id,
                            "careTeamName": team.name,
                            "personId": team.patient_id,
                            "providerId": m.practitioner_id,
                            "firstName": d.map(|d| d.given),
                            "lastName": d.map(|d| d.family),
                            "npi": d.map(|d| d.npi.clone()),
                            "role": m.role.display,
                            "roleCode": m.role.code,
                            "status": team.status,
                            "modifyTimestamp": render::ts(team.last_updated),
                        })
                    })
                })
                .collect()
        },
        create: None,
    },
    ChartList {
        path: "care-plan/goals",
        type_name: "Goal",
        project: |s| {
            s.chart
                .goals
                .iter()
                .map(|g| {
                    json!({
                        "id": g.id,
                        "personId": g.patient_id,
                        "description": g.description,
                        "status": g.lifecycle_status,
                        "startDate": render::day(g.start),
                        "targetDate": g.due.map(render::day),
                        "problemId": g.addresses_condition_id,
                        "modifyTimestamp": render::ts(g.last_updated),
                    })
                })
                .collect()
        },
        create: None,
    },
    ChartList {
        // Implantable devices, UDI.
        path: "devices",
        type_name: "Device",
        project: |s| {
            s.chart
                .devices
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id,
                        "personId": d.patient_id,
                        "description": d.device_type.display,
                        "snomedConceptId": d.device_type.code,
                        "udi": d.udi,
                        "status": d.status,
                        "modifyTimestamp": render::ts(d.last_updated),
                    })
                })
                .collect()
        },
        create: None,
    },
];

/// The chart list routes as `(path, allowed methods, method router)`, and
/// for every list but encounters (which has its own) the item route
/// `…/{path}/{itemId}` that the lists' `_links` and a create's `Location`
/// point at.
pub(super) fn list_routes() -> impl Iterator<Item = (String, &'static str, MethodRouter<AppState>)>
{
    LISTS.iter().flat_map(|l| {
        let path = format!("/persons/{{personId}}/chart/{}", l.path);
        let read = get(
            move |ctx: Ctx, Path(params): Path<HashMap<String, String>>, uri: Uri| {
                list(l, ctx, params, uri)
            },
        );
        let list_route = match l.create {
            Some(create) => (path.clone(), "GET,POST", create(read)),
            None => (path.clone(), "GET", read),
        };
        let item_route = (l.path != "encounters").then(|| {
            (
                format!("{path}/{{itemId}}"),
                "GET",
                get(
                    move |ctx: Ctx, Path(params): Path<HashMap<String, String>>| {
                        item(l, ctx, params)
                    },
                ),
            )
        });
        std::iter::once(list_route).chain(item_route)
    })
}

/// `GET …/chart/{list}/{itemId}`: one item of the list, found by id.
async fn item(
    l: &'static ChartList,
    ctx: Ctx,
    params: HashMap<String, String>,
) -> Result<Json<Value>, ApiError> {
    let pid = params.get("personId").map_or("", String::as_str);
    let eid = params.get("encounterId").map(String::as_str);
    let id = params.get("itemId").map_or("", String::as_str);
    let chart = match eid {
        Some(eid) => encounter_of(&ctx, pid, eid)?.0,
        None => chart_of(&ctx, pid)?,
    };
    let found = (l.project)(&Scope {
        ctx: &ctx,
        chart: &chart,
        pid,
        eid,
    })
    .into_iter()
    .find(|v| v["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)));
    match found {
        Some(v) => Ok(Json(v)),
        None if uuid::Uuid::parse_str(id).is_err() => Err(ApiError::bad_guid(id)),
        None => Err(ApiError::NotFound(None)),
    }
}

/// `GET …/chart/{list}`: the person's chart (and encounter, when the route
/// has one) projected by the list's row, then paged.
async fn list(
    l: &'static ChartList,
    ctx: Ctx,
    params: HashMap<String, String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let pid = params.get("personId").map_or("", String::as_str);
    let eid = params.get("encounterId").map(String::as_str);
    let chart = match eid {
        Some(eid) => encounter_of(&ctx, pid, eid)?.0,
        None => chart_of(&ctx, pid)?,
    };
    let items = (l.project)(&Scope {
        ctx: &ctx,
        chart: &chart,
        pid,
        eid,
    });
    let q = ListQuery::from_uri(&uri)?;
    page_list(&ctx, &uri, &q, items, l.type_name)
}

fn encounter_items(ctx: &Ctx, c: &Chart) -> Vec<Value> {
    let pr = &ctx.state.practice;
    c.encounters
        .iter()
        .filter(|x| render::visible(&x.part2, consent(ctx)))
        .map(|e| render::encounter(e, pr))
        .collect()
}

/// The chart and the encounter `{encounterId}` of `{personId}`.
fn encounter_of(ctx: &Ctx, pid: &str, eid: &str) -> Result<(Chart, Value), ApiError> {
    let c = chart_of(ctx, pid)?;
    if uuid::Uuid::parse_str(eid).is_err() {
        return Err(ApiError::bad_guid(eid));
    }
    let e = encounter_items(ctx, &c)
        .into_iter()
        .find(|e| {
            e["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(eid))
        })
        .ok_or(ApiError::NotFound(None))?;
    Ok((c, e))
}

/// `GET …/chart/encounters/{encounterId}`.
pub async fn encounter(
    ctx: Ctx,
    Path((pid, eid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, e) = encounter_of(&ctx, &pid, &eid)?;
    ctx.slot.with(|n| n.resource_ids.push(eid.clone()));
    Ok(Json(e))
}

/// `GET …/chart/encounters/{encounterId}/screening-tools/phq9`: 404 (empty)
/// when the encounter has no PHQ-9.
pub async fn phq9(
    ctx: Ctx,
    Path((pid, eid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (c, _) = encounter_of(&ctx, &pid, &eid)?;
    let o = c
        .observations
        .iter()
        .find(|o| o.code.code == PHQ9_LOINC && o.encounter_id.as_deref() == Some(&eid))
        .ok_or(ApiError::NotFound(None))?;
    let (total, _) = render::obs_value(&o.value);
    let score = total.as_i64().unwrap_or(0);
    let severity = match score {
        0..=4 => "None-minimal",
        5..=9 => "Mild",
        10..=14 => "Moderate",
        15..=19 => "Moderately severe",
        _ => "Severe",
    };
    let questions: Vec<Value> = o
        .components
        .iter()
        .enumerate()
        .map(|(n, q)| {
            let (v, _) = render::obs_value(&q.value);
            json!({"sequence": n + 1, "loincCode": q.code.code, "question": q.code.display, "score": v})
        })
        .collect();
    Ok(Json(json!({
        "id": o.id,
        "personId": pid,
        "encounterId": eid,
        "totalScore": score,
        "severity": severity,
        "questions": questions,
        "completedTimestamp": render::ts(o.effective),
    })))
}

/// `GET …/chart/documents/{documentId}/plain-text`: the text as a JSON string.
pub async fn document_text(
    ctx: Ctx,
    Path((pid, did)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let c = chart_of(&ctx, &pid)?;
    if uuid::Uuid::parse_str(&did).is_err() {
        return Err(ApiError::bad_guid(&did));
    }
    let d = c
        .documents
        .iter()
        .find(|d| d.id.eq_ignore_ascii_case(&did) && render::visible(&d.part2, consent(&ctx)))
        .ok_or(ApiError::NotFound(None))?;
    ctx.slot.with(|n| n.resource_ids.push(d.id.to_string()));
    Ok(Json(Value::String(d.text.clone())))
}

fn s<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn created(ctx: &Ctx, location: String, body: Value) -> Response {
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    ctx.slot.with(|n| n.resource_ids.push(id));
    let mut r = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `POST …/chart/encounters` (GSA-prohibited in the built-in profiles): the
/// encounter goes to the practice overlay, so FHIR and HL7 see it too.
pub async fn create_encounter(
    ctx: Ctx,
    Path(pid): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let m = schemas::validate(Body::EncounterCreate, body)?;
    let pr = &ctx.state.practice;
    let loc = s(&m, "LocationId").unwrap_or_default();
    let prov = s(&m, "RenderingProviderId").unwrap_or_default();
    let (Some(location), Some(practitioner)) = (pr.location(loc), pr.practitioner(prov)) else {
        return Err(ApiError::bad_request(
            "The request is invalid.\r\nLocationId or RenderingProviderId does not exist.",
        ));
    };
    let date = s(&m, "EncounterDate").unwrap_or_default();
    let (day, at) = date_time(date)?;
    let hm = |v: u16| u8::try_from(v).unwrap_or(0);
    let start = day
        .with_time(
            time::Time::from_hms(hm(at.0 / 60), hm(at.0 % 60), 0).unwrap_or(time::Time::MIDNIGHT),
        )
        .assume_offset(PRACTICE_OFFSET);
    let reason = s(&m, "ReasonForVisit").unwrap_or("Office visit").to_owned();
    let e = pr
        .add_encounter(
            i,
            NewEncounter {
                status: "in-progress",
                encounter_type: Coding::new(SNOMED, "308335008", "Patient encounter procedure"),
                reason: Coding {
                    system: SNOMED,
                    code: Cow::Borrowed("185345009"),
                    display: Cow::Owned(reason),
                },
                start,
                end: start + time::Duration::minutes(30),
                practice_id: ctx.session.practice_id.clone(),
                location_id: location.id,
                practitioner_id: practitioner.id,
                cpt: Coding::new(
                    CPT,
                    "99213",
                    "Office or other outpatient visit, established patient",
                ),
            },
        )
        .ok_or(ApiError::NotFound(None))?;
    let id = e.id.to_string();
    publish(
        &ctx,
        ChangeKind::PatientUpdated,
        e.patient_id.as_str(),
        Some(&id),
    );
    Ok(created(
        &ctx,
        format!("persons/{pid}/chart/encounters/{id}"),
        render::encounter(&e, pr),
    ))
}

/// `POST …/chart/problems` (GSA-prohibited in the built-in profiles): the
/// problem goes to the practice overlay as a `problem-list-item` condition,
/// so FHIR `Condition` and the outbound HL7 feed (ADT^A08 with DG1) see it too.
pub async fn create_problem(
    ctx: Ctx,
    Path(pid): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let c = chart_of(&ctx, &pid)?;
    let m = schemas::validate(Body::ProblemCreate, body)?;
    let pr = &ctx.state.practice;
    let onset = match s(&m, "OnsetDate") {
        Some(d) => parse_day(d)?,
        None => pr.as_of(),
    };
    let encounter_id = match s(&m, "EncounterId") {
        None => None,
        Some(e) => Some(
            c.encounters
                .iter()
                .find(|x| x.id.eq_ignore_ascii_case(e))
                .map(|x| x.id)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "The request is invalid.\r\nEncounterId does not exist for this person.",
                    )
                })?,
        ),
    };
    let description = s(&m, "Description").unwrap_or_default().to_owned();
    let code = |system, code: &str| Coding {
        system,
        code: Cow::Owned(code.to_owned()),
        display: Cow::Owned(description.clone()),
    };
    let snomed = s(&m, "SnomedConceptId").unwrap_or_default();
    let new = NewCondition {
        encounter_id,
        icd10: code(ICD10CM, s(&m, "Icd10Code").unwrap_or_default()),
        snomed: code(SNOMED, snomed),
        clinical_status: match s(&m, "Status") {
            Some("inactive") => "inactive",
            Some("resolved") => "resolved",
            _ => "active",
        },
        category: "problem-list-item",
        onset,
        recorded: pr.as_of(),
        asserter_id: c.patient.pcp_id,
        note: None,
    };
    let i = c.patient.index;
    let rec = pr.add_condition(i, new).ok_or(ApiError::NotFound(None))?;
    let id = rec.id.to_string();
    publish(&ctx, ChangeKind::PatientUpdated, &pid, Some(&id));
    Ok(created(
        &ctx,
        format!("persons/{pid}/chart/problems/{id}"),
        render::condition(&rec, "problems"),
    ))
}

/// `POST …/chart/charges`: the charge lands PENDING in the holding tank.
pub async fn create_charge(
    ctx: Ctx,
    Path(pid): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let m = schemas::validate(Body::ChargeCreate, body)?;
    let pr = &ctx.state.practice;
    let cpt = s(&m, "CptCode").unwrap_or_default().to_owned();
    let desc = s(&m, "Description").unwrap_or("Service").to_owned();
    let units = m
        .get("Units")
        .and_then(Value::as_u64)
        .and_then(|u| u16::try_from(u).ok())
        .unwrap_or(1);
    let amount = m.get("Amount").and_then(Value::as_f64).unwrap_or(0.0);
    let charge = NewCharge {
        encounter_id: s(&m, "EncounterId").and_then(Guid::parse),
        cpt: Coding {
            system: crate::practice::CPT,
            code: Cow::Owned(cpt),
            display: Cow::Owned(desc),
        },
        units,
        amount_cents: (amount * 100.0).round() as i64,
        service_date: parse_day(s(&m, "ServiceDate").unwrap_or_default())?,
        rendering_provider_id: s(&m, "RenderingProviderId").and_then(Guid::parse),
        payer_id: s(&m, "PayerId").and_then(Guid::parse),
    };
    let ch = pr
        .add_pending_charge(i, charge)
        .ok_or(ApiError::NotFound(None))?;
    publish(
        &ctx,
        ChangeKind::ChargePending,
        &ch.patient_id,
        Some(&ch.id),
    );
    Ok(created(
        &ctx,
        format!("persons/{pid}/chart/charges/{}", ch.id),
        render::charge(&ch),
    ))
}
