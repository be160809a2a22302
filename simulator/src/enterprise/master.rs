//! Master files and `/core/version`.

use axum::Json;
use axum::http::Uri;
use serde_json::{Value, json};

use super::envelope::{self, ListQuery};
use super::error::ApiError;
use super::render::link;
use super::{Authed, Ctx};
use crate::server::AppState;

fn page(
    a: &Authed,
    uri: &Uri,
    items: Vec<Value>,
    type_name: &str,
) -> Result<Json<Value>, ApiError> {
    let q = ListQuery::from_uri(uri)?;
    envelope::page(items, &q, &a.profile, uri, type_name).map(|(body, _)| Json(body))
}

fn authed(ctx: Ctx) -> Authed {
    Authed {
        grant: ctx.grant,
        profile: ctx.profile,
        slot: ctx.slot,
    }
}

/// `GET /core/version`.
pub async fn version(a: Authed) -> Json<Value> {
    Json(json!({
        "version": a.profile.enterprise.api_version,
        "isDbConnectionSuccess": true,
    }))
}

/// `GET /master/practices` (token only: this is how a client finds its ids).
pub async fn practices(
    axum::extract::State(state): axum::extract::State<AppState>,
    a: Authed,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let e = state.practice.enterprise();
    let items = e
        .practices
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "enterpriseId": e.id,
                "enterpriseName": e.name,
                "practiceGuid": p.guid,
                "taxId": p.tax_id,
                "npi": p.npi,
                "isActive": true,
                "_links": [link(format!("master/practices?$filter=Id eq '{}'", p.id), "GET", "self", "Get this practice", "master/practices")],
            })
        })
        .collect();
    page(&a, &uri, items, "Practice")
}

/// `GET /master/enterprises` (token only).
pub async fn enterprises(
    axum::extract::State(state): axum::extract::State<AppState>,
    a: Authed,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let e = state.practice.enterprise();
    let items = vec![json!({
        "id": e.id,
        "name": e.name,
        "enterpriseGuid": e.guid,
        "practiceCount": e.practices.len(),
    })];
    page(&a, &uri, items, "Enterprise")
}

/// `GET /master/locations`.
pub async fn locations(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let items = ctx
        .state
        .practice
        .locations()
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "name": l.name,
                "practiceId": l.practice_id,
                "addressLine1": l.address.line,
                "city": l.address.city,
                "state": l.address.state,
                "zip": l.address.postal_code,
                "phone": l.phone,
                "npi": l.npi,
                "isActive": true,
            })
        })
        .collect();
    page(&authed(ctx), &uri, items, "Location")
}

/// `GET /master/practitioners`.
pub async fn practitioners(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let items = ctx
        .state
        .practice
        .practitioners()
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "firstName": d.given,
                "lastName": d.family,
                "credentials": d.credentials,
                "npi": d.npi,
                "specialty": d.specialty,
                "taxonomyCode": d.taxonomy.code,
                "practiceId": d.practice_id,
                "locationId": d.location_id,
                "isPrimaryCareProvider": d.is_pcp,
                "isActive": true,
            })
        })
        .collect();
    page(&authed(ctx), &uri, items, "Practitioner")
}

/// `GET /master/payers`.
pub async fn payers(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let items = ctx
        .state
        .practice
        .payers()
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "payerCode": p.payer_code,
                "financialClass": p.kind,
                "isActive": true,
            })
        })
        .collect();
    page(&authed(ctx), &uri, items, "Payer")
}

/// `GET /master/events` (appointment types).
pub async fn events(ctx: Ctx, uri: Uri) -> Result<Json<Value>, ApiError> {
    let items = ctx
        .state
        .practice
        .events()
        .iter()
        .map(|e| json!({ "id": e.id, "name": e.name, "duration": e.duration_minutes }))
        .collect();
    page(&authed(ctx), &uri, items, "Event")
}
