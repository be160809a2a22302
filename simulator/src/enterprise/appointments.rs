//! `/appointments…` and `/persons/{personId}/appointments`.
//!
//! Listing appointments across the practice uses an index of `(date, patient)`
//! built from every chart and rebuilt whenever the practice's generation
//! changes (any overlay write, from any surface).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use time::Date;

use super::Ctx;
use super::body::JsonBody;
use super::envelope::ListQuery;
use super::error::ApiError;
use super::persons::{date_time, page_list, parse_day, person_index, publish};
use super::render;
use super::schemas::{self, Body};
use crate::events::ChangeKind;
use crate::practice::{
    Appointment, AppointmentPatch, ClockTime, Guid, NewAppointment, PatientIndex, Practice,
    RecordKind,
};

/// Appointment dates by patient, for practice-wide listings.
#[derive(Debug, Default)]
pub struct Index {
    rows: Vec<(Date, PatientIndex)>,
}

impl Index {
    fn build(pr: &Practice) -> Index {
        let mut rows = Vec::new();
        for i in pr.patient_indices() {
            if let Some(c) = pr.chart(i) {
                rows.extend(c.appointments.iter().map(|a| (a.appointment_date, i)));
            }
        }
        rows.sort();
        Index { rows }
    }

    /// Patients with an appointment in `[from, to)`.
    fn patients_between(&self, from: Date, to: Date) -> BTreeSet<PatientIndex> {
        let start = self.rows.partition_point(|(d, _)| *d < from);
        self.rows[start..]
            .iter()
            .take_while(|(d, _)| *d < to)
            .map(|(_, i)| *i)
            .collect()
    }
}

fn index(ctx: &Ctx) -> Arc<Index> {
    let es = &ctx.state.enterprise;
    let generation = ctx.state.practice.generation();
    if let Some((g, idx)) = es.appt_index.read().as_ref() {
        if *g == generation {
            return idx.clone();
        }
    }
    let idx = Arc::new(Index::build(&ctx.state.practice));
    *es.appt_index.write() = Some((generation, idx.clone()));
    idx
}

fn render_all(pr: &Practice, patients: BTreeSet<PatientIndex>, from: Date, to: Date) -> Vec<Value> {
    let mut out: Vec<(Date, ClockTime, Value)> = Vec::new();
    for i in patients {
        let Some(c) = pr.chart(i) else { continue };
        for a in &c.appointments {
            if a.appointment_date >= from && a.appointment_date < to {
                out.push((
                    a.appointment_date,
                    a.begin_time,
                    render::appointment(a, Some(&c.patient), pr),
                ));
            }
        }
    }
    out.sort_by_key(|a| (a.0, a.1));
    out.into_iter().map(|(_, _, v)| v).collect()
}

/// `GET /appointments`: only the next `default_window_days` after the
/// practice's as-of date unless `$filter` names `appointmentDate`.
pub async fn list_all(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let q = ListQuery::from_uri(&uri)?;
    let pr = &ctx.state.practice;
    let (from, to) = if q.filters_on(&["appointmentDate"]) {
        (Date::MIN, Date::MAX)
    } else {
        let from = pr.as_of();
        (
            from,
            from + time::Duration::days(i64::from(ctx.profile.enterprise.default_window_days)),
        )
    };
    let idx = index(&ctx);
    let items = render_all(pr, idx.patients_between(from, to), from, to);
    page_list(&ctx, &uri, &q, items, "Appointment")
}

/// `GET /persons/{personId}/appointments`.
pub async fn of_person(
    ctx: Ctx,
    Path(pid): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let pr = &ctx.state.practice;
    let c = pr.chart(i).ok_or(ApiError::NotFound(None))?;
    let items = c
        .appointments
        .iter()
        .map(|a| render::appointment(a, Some(&c.patient), pr))
        .collect();
    let q = ListQuery::from_uri(&uri)?;
    page_list(&ctx, &uri, &q, items, "Appointment")
}

fn find(ctx: &Ctx, id: &str) -> Result<(Appointment, PatientIndex), ApiError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::bad_guid(id));
    }
    let pr = &ctx.state.practice;
    let r = pr
        .find_record(id)
        .filter(|r| r.kind == RecordKind::Appointment)
        .ok_or(ApiError::NotFound(None))?;
    let i = r.patient.ok_or(ApiError::NotFound(None))?;
    let c = pr.chart(i).ok_or(ApiError::NotFound(None))?;
    let a = c
        .appointments
        .into_iter()
        .find(|a| a.id.eq_ignore_ascii_case(id))
        .ok_or(ApiError::NotFound(None))?;
    ctx.slot.with(|n| {
        n.patient = Some(a.patient_id.to_string());
        n.resource_ids.push(a.id.to_string());
    });
    Ok((a, i))
}

fn render_one(ctx: &Ctx, a: &Appointment, i: PatientIndex) -> Value {
    let pr = &ctx.state.practice;
    render::appointment(a, pr.patient(i).as_ref(), pr)
}

/// `GET /appointments/{appointmentId}`.
pub async fn read(ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (a, i) = find(&ctx, &id)?;
    Ok(Json(render_one(&ctx, &a, i)))
}

fn s<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn provider_of(m: &Map<String, Value>) -> Option<String> {
    s(m, "RenderingProviderId").map(str::to_owned).or_else(|| {
        m.get("ResourceIds")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

fn located(ctx: &Ctx, location: &str) -> Result<(), ApiError> {
    ctx.state
        .practice
        .location(location)
        .map(|_| ())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "The request is invalid.\r\nLocationId: location '{location}' does not exist."
            ))
        })
}

fn ok_with_location(v: Value, id: &str) -> Response {
    let mut r = Json(v).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("appointments/{id}")) {
        r.headers_mut().insert(header::LOCATION, h);
    }
    r
}

/// Book an appointment at the body's `AppointmentDate` (and `DurationMinutes`,
/// else `default_duration`).
#[allow(clippy::too_many_arguments)]
fn book(
    ctx: &Ctx,
    i: PatientIndex,
    m: &Map<String, Value>,
    event: &crate::practice::Event,
    default_duration: u16,
    location_id: String,
    rendering_provider_id: String,
    practice_id: String,
) -> Result<Appointment, ApiError> {
    let (date, begin_time) = date_time(s(m, "AppointmentDate").unwrap_or_default())?;
    let duration_minutes = m
        .get("DurationMinutes")
        .and_then(Value::as_u64)
        .and_then(|d| u16::try_from(d).ok())
        .unwrap_or(default_duration);
    ctx.state
        .practice
        .add_appointment(
            i,
            NewAppointment {
                event_id: event.id,
                event_name: Cow::Borrowed(event.name),
                date,
                begin_time,
                duration_minutes,
                location_id: Guid::parse(&location_id)
                    .ok_or_else(|| ApiError::bad_guid(&location_id))?,
                rendering_provider_id: Guid::parse(&rendering_provider_id)
                    .ok_or_else(|| ApiError::bad_guid(&rendering_provider_id))?,
                practice_id,
            },
        )
        .ok_or(ApiError::NotFound(None))
}

/// `POST /appointments`.
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let m = schemas::validate(Body::AppointmentCreate, body)?;
    let pr = &ctx.state.practice;
    let pid = s(&m, "PersonId").unwrap_or_default();
    let i = pr.find_patient_by_id(pid).ok_or_else(|| {
        ApiError::bad_request(format!(
            "The request is invalid.\r\nPersonId: person '{pid}' does not exist."
        ))
    })?;
    let event_id = s(&m, "EventId").unwrap_or_default();
    let event = pr.event(event_id).ok_or_else(|| {
        ApiError::bad_request(format!(
            "The request is invalid.\r\nEventId: event '{event_id}' does not exist."
        ))
    })?;
    let location = s(&m, "LocationId").unwrap_or_default();
    located(&ctx, location)?;
    let provider = provider_of(&m)
        .filter(|p| pr.practitioner(p).is_some())
        .ok_or_else(|| {
            ApiError::bad_request(
                "The request is invalid.\r\nResourceIds: a rendering provider (RenderingProviderId or ResourceIds) that exists is required.",
            )
        })?;
    let a = book(
        &ctx,
        i,
        &m,
        event,
        event.duration_minutes,
        location.to_owned(),
        provider,
        ctx.session.practice_id.clone(),
    )?;
    ctx.slot.with(|n| {
        n.patient = Some(a.patient_id.to_string());
        n.resource_ids.push(a.id.to_string());
    });
    publish(
        &ctx,
        ChangeKind::AppointmentBooked,
        &a.patient_id,
        Some(&a.id),
    );
    Ok(ok_with_location(render_one(&ctx, &a, i), &a.id))
}

fn patch(ctx: &Ctx, id: &str, p: AppointmentPatch) -> Result<Appointment, ApiError> {
    ctx.state
        .practice
        .update_appointment(id, p)
        .ok_or(ApiError::NotFound(None))
}

/// `POST /appointments/{appointmentId}/cancel` with `{"CancelReasonId"}`.
pub async fn cancel(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (a, i) = find(&ctx, &id)?;
    let m = schemas::validate(Body::AppointmentCancel, body)?;
    if a.is_cancelled {
        return Err(ApiError::bad_request(
            "The appointment is already cancelled.",
        ));
    }
    if let Some(r) = s(&m, "CancelReasonId") {
        ctx.slot
            .note("cancel-reason", r.chars().take(64).collect::<String>());
    }
    let a = patch(
        &ctx,
        &a.id,
        AppointmentPatch {
            is_cancelled: Some(true),
            ..AppointmentPatch::default()
        },
    )?;
    publish(
        &ctx,
        ChangeKind::AppointmentCancelled,
        &a.patient_id,
        Some(&a.id),
    );
    Ok(Json(render_one(&ctx, &a, i)))
}

/// `PUT /appointments/{appointmentId}/kept`.
pub async fn kept(ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (a, i) = find(&ctx, &id)?;
    if a.is_cancelled {
        return Err(ApiError::bad_request(
            "A cancelled appointment cannot be marked as kept.",
        ));
    }
    let a = patch(
        &ctx,
        &a.id,
        AppointmentPatch {
            is_kept: Some(true),
            ..AppointmentPatch::default()
        },
    )?;
    publish(
        &ctx,
        ChangeKind::AppointmentModified,
        &a.patient_id,
        Some(&a.id),
    );
    Ok(Json(render_one(&ctx, &a, i)))
}

/// `POST /appointments/{appointmentId}/reschedule`: books the new time and
/// flags the old appointment `isRescheduled`; answers the new appointment.
pub async fn reschedule(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (old, i) = find(&ctx, &id)?;
    let m = schemas::validate(Body::AppointmentReschedule, body)?;
    if old.is_cancelled || old.is_rescheduled {
        return Err(ApiError::bad_request(
            "A cancelled or already rescheduled appointment cannot be rescheduled.",
        ));
    }
    let pr = &ctx.state.practice;
    let event = match s(&m, "EventId") {
        Some(e) => pr.event(e).ok_or_else(|| {
            ApiError::bad_request(format!(
                "The request is invalid.\r\nEventId: event '{e}' does not exist."
            ))
        })?,
        None => pr
            .event(&old.event_id)
            .ok_or_else(|| ApiError::bad_request("The appointment's event no longer exists."))?,
    };
    let location = s(&m, "LocationId").unwrap_or(&old.location_id).to_owned();
    located(&ctx, &location)?;
    let provider = provider_of(&m).unwrap_or_else(|| old.rendering_provider_id.to_string());
    let new = book(
        &ctx,
        i,
        &m,
        event,
        old.duration_minutes,
        location,
        provider,
        old.practice_id.clone(),
    )?;
    patch(
        &ctx,
        &old.id,
        AppointmentPatch {
            is_rescheduled: Some(true),
            ..AppointmentPatch::default()
        },
    )?;
    ctx.slot.with(|n| n.resource_ids.push(new.id.to_string()));
    publish(
        &ctx,
        ChangeKind::AppointmentRescheduled,
        &new.patient_id,
        Some(&new.id),
    );
    let mut v = render_one(&ctx, &new, i);
    v["rescheduledFromAppointmentId"] = json!(old.id);
    Ok(ok_with_location(v, &new.id))
}

/// `GET /appointments/slots`: open 30-minute slots of the primary-care
/// providers on weekdays, for the next `default_window_days` (or 60 days when
/// `$filter` names `startDate`), minus booked times.
pub async fn slots(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let q = ListQuery::from_uri(&uri)?;
    let pr = &ctx.state.practice;
    let from = pr.as_of();
    let days = if q.filters_on(&["startDate"]) {
        60
    } else {
        i64::from(ctx.profile.enterprise.default_window_days)
    };
    let to = from + time::Duration::days(days);
    let idx = index(&ctx);
    let booked: BTreeSet<(String, Date, u16)> =
        render_all(pr, idx.patients_between(from, to), from, to)
            .iter()
            .filter(|a| a["isCancelled"] != json!(true))
            .filter_map(|a| {
                let d = parse_day(a["appointmentDate"].as_str()?).ok()?;
                let t: u16 = a["beginTime"].as_str()?.parse().ok()?;
                Some((a["renderingProviderId"].as_str()?.to_owned(), d, t))
            })
            .collect();
    let mut items = Vec::new();
    let mut d = from;
    while d < to {
        if !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
            for prov in pr.practitioners().iter().filter(|p| p.is_pcp) {
                for slot in 0..17u16 {
                    let minutes = 8 * 60 + slot * 30;
                    let hhmm = (minutes / 60) * 100 + minutes % 60;
                    if booked.contains(&(prov.id.to_string(), d, hhmm)) {
                        continue;
                    }
                    items.push(json!({
                        "locationId": prov.location_id,
                        "locationName": pr.location(&prov.location_id).map(|l| l.name),
                        "resourceId": prov.id,
                        "resourceName": format!("{} {}", prov.given, prov.family),
                        "practiceId": prov.practice_id,
                        "startDate": render::day(d),
                        "beginTime": ClockTime(minutes).hhmm(),
                        "duration": 30,
                    }));
                }
            }
        }
        d = d.next_day().unwrap_or(to);
    }
    page_list(&ctx, &uri, &q, items, "Slot")
}
