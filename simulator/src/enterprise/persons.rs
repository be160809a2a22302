//! `/persons…`: lookup, the OData listing, read, create, update, insurances
//! and external ids.

use std::borrow::Cow;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Ctx;
use super::body::JsonBody;
use super::envelope::{self, ListQuery};
use super::error::ApiError;
use super::odata;
use super::render;
use super::schemas::{self, Body};
use crate::events::{ChangeKind, PracticeChange};
use crate::practice::{
    Address, ClockTime, ExternalId, NewPatient, Patient, PatientIndex, PatientPatch, Practice, Sex,
};
use crate::profile::PersonsList;

/// Resolve `{personId}`: 400 for a non-GUID, 404 (empty) for an unknown person.
pub(super) fn person_index(ctx: &Ctx, pid: &str) -> Result<PatientIndex, ApiError> {
    if uuid::Uuid::parse_str(pid).is_err() {
        return Err(ApiError::bad_guid(pid));
    }
    ctx.slot.with(|n| n.patient = Some(pid.to_owned()));
    ctx.state
        .practice
        .find_patient_by_id(pid)
        .ok_or(ApiError::NotFound(None))
}

/// Page a list and note the returned ids and the list's total in the journal
/// (the runner's `resilience.paging-to-end` compares the two across pages).
pub(super) fn page_list(
    ctx: &Ctx,
    uri: &Uri,
    q: &ListQuery,
    items: Vec<Value>,
    type_name: &str,
) -> Result<Json<Value>, ApiError> {
    let (page, total) = envelope::page(items, q, &ctx.profile, uri, type_name)?;
    note_ids(ctx, page.get("items"));
    ctx.slot.note("total", total.to_string());
    Ok(Json(page))
}

fn note_ids(ctx: &Ctx, items: Option<&Value>) {
    let ids: Vec<String> = items
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ctx.slot.with(|n| n.resource_ids.extend(ids));
}

pub(super) fn publish(ctx: &Ctx, kind: ChangeKind, patient_id: &str, record_id: Option<&str>) {
    ctx.state.events.publish(PracticeChange {
        kind,
        patient_id: patient_id.to_owned(),
        record_id: record_id.map(str::to_owned),
        origin: "enterprise".into(),
    });
}

fn practice(ctx: &Ctx) -> &Practice {
    &ctx.state.practice
}

fn lookup_item(p: &Patient, practice: &Practice) -> Value {
    let full = render::person(p, practice);
    let keys = [
        "id",
        "firstName",
        "lastName",
        "middleName",
        "nickname",
        "addressLine1",
        "addressLine2",
        "city",
        "state",
        "zip",
        "country",
        "homePhone",
        "dateOfBirth",
        "sex",
        "currentGender",
        "socialSecurityNumber",
        "personNumber",
        "medicalRecordNumber",
        "otherIdNumber",
        "modifyTimestamp",
        "modifyTimestampUtc",
        "isEnterpriseChart",
        "dayPhone",
        "alternatePhone",
        "cellPhone",
        "_links",
    ];
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = full.get(k) {
            m.insert(k.to_owned(), v.clone());
        }
    }
    m.insert("isPatient".into(), json!(true));
    m.insert("emailAddress".into(), full["email"].clone());
    Value::Object(m)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// `GET /persons/lookup`.
pub async fn lookup(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let raw = uri.query().unwrap_or("");
    if raw.contains("$filter") || raw.contains("%24filter") {
        return Err(ApiError::bad_request(
            "The query parameter '$filter' is not supported by persons/lookup; use its search criteria.",
        ));
    }
    let q = ListQuery::from_uri(&uri)?;
    let pr = practice(&ctx);
    let quick = q.param("quickSearchId").zip(q.param("quickSearchInput"));
    let found: Vec<Patient> = if let Some((kind, input)) = quick {
        let input = input.trim();
        let by_index =
            |i: Option<PatientIndex>| i.and_then(|i| pr.patient(i)).into_iter().collect();
        match kind.to_ascii_lowercase().as_str() {
            "personnumber" => by_index(pr.find_patient_by_person_number(input)),
            "medicalrecordnumber" => by_index(pr.find_patient_by_mrn(input)),
            "othernumber" | "otheridnumber" => scan(pr, |p| {
                p.external_ids
                    .iter()
                    .any(|e| e.value.eq_ignore_ascii_case(input))
            }),
            "socialsecuritynumber" => Vec::new(),
            "phonenumber" => {
                let d = digits(input);
                if d.len() != 10 || d.len() != input.len() {
                    return Err(ApiError::bad_request(
                        "A PhoneNumber quick search needs exactly 10 digits.",
                    ));
                }
                scan(pr, |p| digits(&p.phone) == d)
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "The value '{kind}' is not valid for quickSearchId."
                )));
            }
        }
    } else {
        let crit: Vec<(&str, String)> = [
            "lastName",
            "firstName",
            "middleName",
            "dateOfBirth",
            "sex",
            "zip",
            "city",
            "externalId",
            "emailAddress",
        ]
        .iter()
        .filter_map(|k| {
            q.param(k)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (*k, v.trim().to_lowercase()))
        })
        .collect();
        if crit.is_empty() {
            return Err(ApiError::bad_request(
                "Argument criteria cannot be null.\r\nParameter name: criteria",
            ));
        }
        let dob = crit
            .iter()
            .find(|(k, _)| *k == "dateOfBirth")
            .map(|(_, v)| {
                odata::normalize_datetime(v).ok_or_else(|| {
                    ApiError::bad_request(format!("The value '{v}' is not valid for dateOfBirth."))
                })
            })
            .transpose()?;
        let exclude_expired = q
            .param("excludeExpired")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        scan(pr, |p| {
            if exclude_expired && p.deceased {
                return false;
            }
            crit.iter().all(|(k, v)| match *k {
                "lastName" => p.name.family.to_lowercase().starts_with(v.as_str()),
                "firstName" => p.name.given.to_lowercase().starts_with(v.as_str()),
                "middleName" => p
                    .name
                    .middle
                    .as_deref()
                    .is_some_and(|m| m.to_lowercase().starts_with(v.as_str())),
                "dateOfBirth" => dob.as_deref() == Some(render::day(p.birth_date).as_str()),
                "sex" => render_sex(p.sex).eq_ignore_ascii_case(v),
                "zip" => p.address.postal_code.starts_with(v.as_str()),
                "city" => p.address.city.to_lowercase() == *v,
                "externalId" => p.external_ids.iter().any(|e| e.value.to_lowercase() == *v),
                "emailAddress" => p.email.as_deref().is_some_and(|e| e.to_lowercase() == *v),
                _ => true,
            })
        })
    };
    let items: Vec<Value> = found.iter().map(|p| lookup_item(p, pr)).collect();
    note_ids(&ctx, Some(&Value::Array(items.clone())));
    Ok(Json(Value::Array(items)))
}

fn render_sex(s: Sex) -> &'static str {
    match s {
        Sex::M => "M",
        Sex::F => "F",
        Sex::U => "U",
    }
}

/// Every patient matching `f` (at most 500: lookups are for people, not exports).
fn scan(pr: &Practice, f: impl Fn(&Patient) -> bool) -> Vec<Patient> {
    pr.patient_indices()
        .filter_map(|i| pr.patient(i))
        .filter(|p| f(p))
        .take(500)
        .collect()
}

fn with_expand(mut v: Value, p: &Patient, pr: &Practice, q: &ListQuery) -> Value {
    if q.expands("insurances") {
        let ins: Vec<Value> = pr
            .chart(p.index)
            .map(|c| {
                c.coverages
                    .iter()
                    .map(|cv| render::insurance(cv, pr))
                    .collect()
            })
            .unwrap_or_default();
        v["insurances"] = Value::Array(ins);
    }
    if q.expands("externalids") {
        v["externalIds"] = Value::Array(external_id_items(p));
    }
    v
}

/// `GET /persons`: OData; by default only persons created or modified in the
/// profile's window before the practice's as-of date.
pub async fn list(ctx: Ctx, uri: Uri) -> Result<Response, ApiError> {
    if ctx.profile.enterprise.persons_list == PersonsList::MethodNotAllowed {
        return Err(ApiError::MethodNotAllowed {
            method: "GET".into(),
            allow: "POST".into(),
        });
    }
    let q = ListQuery::from_uri(&uri)?;
    let pr = practice(&ctx);
    let windowed = !q.filters_on(&[
        "createTimestamp",
        "modifyTimestamp",
        "create_timestamp",
        "modify_timestamp",
        "createTimestampUtc",
        "modifyTimestampUtc",
    ]);
    let cutoff =
        pr.as_of() - time::Duration::days(i64::from(ctx.profile.enterprise.default_window_days));
    let items: Vec<Value> = pr
        .patient_indices()
        .filter_map(|i| pr.patient(i))
        .filter(|p| !windowed || p.last_updated.date() >= cutoff)
        .map(|p| with_expand(render::person(&p, pr), &p, pr, &q))
        .collect();
    page_list(&ctx, &uri, &q, items, "Person").map(IntoResponse::into_response)
}

/// `GET /persons/{personId}`.
pub async fn read(ctx: Ctx, Path(pid): Path<String>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let q = ListQuery::from_uri(&uri)?;
    let pr = practice(&ctx);
    let p = pr.patient(i).ok_or(ApiError::NotFound(None))?;
    ctx.slot.with(|n| n.resource_ids.push(p.id.to_string()));
    Ok(Json(with_expand(render::person(&p, pr), &p, pr, &q)))
}

fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

pub(super) fn parse_day(s: &str) -> Result<time::Date, ApiError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    s.get(..10)
        .and_then(|d| time::Date::parse(d, fmt).ok())
        .ok_or_else(|| ApiError::bad_request(format!("The value '{s}' is not a valid date.")))
}

/// `YYYY-MM-DDTHH:MM…` → date and wall-clock time (midnight when no time).
pub(super) fn date_time(v: &str) -> Result<(time::Date, ClockTime), ApiError> {
    let date = parse_day(v)?;
    let norm = super::odata::normalize_datetime(v)
        .ok_or_else(|| ApiError::bad_request(format!("The value '{v}' is not a valid date.")))?;
    let h: u16 = norm.get(11..13).and_then(|x| x.parse().ok()).unwrap_or(0);
    let m: u16 = norm.get(14..16).and_then(|x| x.parse().ok()).unwrap_or(0);
    Ok((date, ClockTime(h * 60 + m)))
}

fn parse_sex(s: &str) -> Sex {
    match s {
        "M" => Sex::M,
        "F" => Sex::F,
        _ => Sex::U,
    }
}

/// `POST /persons`: minimum LastName, FirstName, DateOfBirth, Sex; 409 on a
/// duplicate name and birth date unless `IgnoreDuplicatePersons`.
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let m = schemas::validate(Body::PersonCreate, body)?;
    let pr = practice(&ctx);
    let family = str_field(&m, "LastName")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let given = str_field(&m, "FirstName")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let birth = parse_day(str_field(&m, "DateOfBirth").unwrap_or_default())?;
    let ignore_dupes = m
        .get("IgnoreDuplicatePersons")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !ignore_dupes {
        let dupe = scan(pr, |p| {
            p.birth_date == birth
                && p.name.family.eq_ignore_ascii_case(&family)
                && p.name.given.eq_ignore_ascii_case(&given)
        });
        if let Some(d) = dupe.first() {
            ctx.slot.note("duplicate-of", d.id.as_str());
            return Err(ApiError::Conflict(format!(
                "A person with the same name and date of birth already exists ({}). Set IgnoreDuplicatePersons to create another.",
                d.id
            )));
        }
    }
    let mut np = NewPatient::new(
        family,
        given,
        parse_sex(str_field(&m, "Sex").unwrap_or("U")),
        birth,
    );
    np.middle = str_field(&m, "MiddleName").map(str::to_owned);
    np.phone = str_field(&m, "HomePhone")
        .or(str_field(&m, "CellPhone"))
        .map(str::to_owned);
    np.email = str_field(&m, "EmailAddress").map(str::to_owned);
    np.practice_id = Some(ctx.session.practice_id.clone());
    if let Some(line) = str_field(&m, "AddressLine1") {
        np.address = Some(Address {
            line: line.to_owned(),
            city: Cow::Owned(str_field(&m, "City").unwrap_or_default().to_owned()),
            state: Cow::Owned(str_field(&m, "State").unwrap_or_default().to_owned()),
            postal_code: Cow::Owned(str_field(&m, "Zip").unwrap_or_default().to_owned()),
        });
    }
    if let Some(x) = str_field(&m, "ExternalId").or(str_field(&m, "OtherIdNumber")) {
        np.external_ids.push(ExternalId {
            system: "urn:ngsim:enterprise-api:external-id",
            system_name: "Enterprise API",
            value: x.to_owned(),
        });
    }
    let p = pr.create_patient(np);
    ctx.slot.with(|n| {
        n.patient = Some(p.id.to_string());
        n.resource_ids.push(p.id.to_string());
    });
    publish(&ctx, ChangeKind::PatientRegistered, &p.id, None);
    let mut r = (StatusCode::OK, Json(render::person(&p, pr))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("persons/{}", p.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

async fn update(ctx: Ctx, pid: String, body: Value) -> Result<Json<Value>, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let m = schemas::validate(Body::PersonUpdate, body)?;
    let pr = practice(&ctx);
    let current = pr.patient(i).ok_or(ApiError::NotFound(None))?;
    let mut patch = PatientPatch {
        family: str_field(&m, "LastName").map(str::to_owned),
        given: str_field(&m, "FirstName").map(str::to_owned),
        sex: str_field(&m, "Sex").map(parse_sex),
        phone: str_field(&m, "HomePhone")
            .or(str_field(&m, "CellPhone"))
            .map(str::to_owned),
        deceased: m.get("IsExpired").and_then(Value::as_bool),
        ..PatientPatch::default()
    };
    if m.contains_key("MiddleName") {
        patch.middle = Some(str_field(&m, "MiddleName").map(str::to_owned));
    }
    if m.contains_key("EmailAddress") {
        patch.email = Some(str_field(&m, "EmailAddress").map(str::to_owned));
    }
    if let Some(d) = str_field(&m, "DateOfBirth") {
        patch.birth_date = Some(parse_day(d)?);
    }
    if let Some(pcp) = str_field(&m, "PrimaryCareProviderId") {
        if pr.practitioner(pcp).is_none() {
            return Err(ApiError::bad_request(format!(
                "The request is invalid.\r\nPrimaryCareProviderId: provider '{pcp}' does not exist."
            )));
        }
        patch.pcp_id = crate::practice::Guid::parse(pcp);
    }
    if ["AddressLine1", "City", "State", "Zip"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        let a = &current.address;
        patch.address = Some(Address {
            line: str_field(&m, "AddressLine1").map_or_else(|| a.line.clone(), str::to_owned),
            city: str_field(&m, "City")
                .map_or_else(|| a.city.clone(), |s| Cow::Owned(s.to_owned())),
            state: str_field(&m, "State")
                .map_or_else(|| a.state.clone(), |s| Cow::Owned(s.to_owned())),
            postal_code: str_field(&m, "Zip")
                .map_or_else(|| a.postal_code.clone(), |s| Cow::Owned(s.to_owned())),
        });
    }
    let p = pr
        .update_patient(i, patch)
        .ok_or(ApiError::NotFound(None))?;
    ctx.slot.with(|n| n.resource_ids.push(p.id.to_string()));
    publish(&ctx, ChangeKind::PatientUpdated, &p.id, None);
    Ok(Json(render::person(&p, pr)))
}

/// `PUT /persons/{personId}`.
pub async fn replace(
    ctx: Ctx,
    Path(pid): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    update(ctx, pid, body).await
}

/// `PATCH /persons/{personId}`.
pub async fn patch(
    ctx: Ctx,
    Path(pid): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    update(ctx, pid, body).await
}

/// `GET /persons/{personId}/insurances` (a plain array, as NextGen returns).
pub async fn insurances(ctx: Ctx, Path(pid): Path<String>) -> Result<Json<Value>, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let pr = practice(&ctx);
    let c = pr.chart(i).ok_or(ApiError::NotFound(None))?;
    let items: Vec<Value> = c
        .coverages
        .iter()
        .map(|cv| render::insurance(cv, pr))
        .collect();
    Ok(Json(Value::Array(items)))
}

fn external_id_items(p: &Patient) -> Vec<Value> {
    p.external_ids
        .iter()
        .enumerate()
        .map(|(n, e)| {
            json!({
                "personId": p.id,
                "externalId": e.value,
                "externalSystemId": n + 1,
                "externalSystemName": e.system_name,
                "_links": [render::link(format!("persons/{}/external-ids/{}", p.id, n + 1), "PUT", "update", "Update this external id", "persons/{0}/external-ids")],
            })
        })
        .collect()
}

/// `GET /persons/{personId}/external-ids` (a plain array).
pub async fn external_ids(ctx: Ctx, Path(pid): Path<String>) -> Result<Json<Value>, ApiError> {
    let i = person_index(&ctx, &pid)?;
    let p = practice(&ctx).patient(i).ok_or(ApiError::NotFound(None))?;
    Ok(Json(Value::Array(external_id_items(&p))))
}
