//! The authorize endpoint (PKCE S256, EHR and standalone launch, headless
//! auto-approve or an HTML approve page) and the launch-context control route.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tokio::time::Instant;

use super::scopes::{Scope, ScopeSet};
use super::token::{Form, read_form};
use super::{Authorized, CodeRecord, LaunchContext, random_token};
use crate::clients::ClientKind;
use crate::fhir::directory;
use crate::server::{AppState, NoteSlot};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An error shown to the person, not redirected (the redirect URI is not trusted yet).
fn page_error(slot: &NoteSlot, error: &'static str, detail: &str) -> Response {
    slot.note("oauth_error", error);
    let body = format!(
        "<!doctype html><html><head><title>Authorization error</title></head><body>\
         <h1>Authorization error: {error}</h1><p>{}</p></body></html>",
        esc(detail)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&enc(v));
        sep = '&';
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn redirect_error(
    slot: &NoteSlot,
    uri: &str,
    state_param: Option<&str>,
    error: &'static str,
    detail: &str,
) -> Response {
    slot.note("oauth_error", error);
    let mut params = vec![("error", error), ("error_description", detail)];
    if let Some(s) = state_param {
        params.push(("state", s));
    }
    redirect(uri, &params)
}

/// `GET|POST {authorize}`.
pub(crate) async fn authorize(state: &AppState, slot: &NoteSlot, req: Request) -> Response {
    let form = match read_form(state, req).await {
        Ok((_, f)) => f,
        Err(e) => return page_error(slot, e.error, &e.description),
    };
    let Some(client_id) = form.get("client_id") else {
        return page_error(slot, "invalid_request", "client_id is required");
    };
    let Some(client) = state.clients().smart(client_id).cloned() else {
        return page_error(
            slot,
            "invalid_client",
            &format!("unknown client `{client_id}`"),
        );
    };
    slot.with(|n| n.client_id = Some(client.id.clone()));
    let Some(redirect_uri) = form.get("redirect_uri") else {
        return page_error(slot, "invalid_request", "redirect_uri is required");
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return page_error(
            slot,
            "invalid_request",
            &format!("redirect_uri `{redirect_uri}` is not registered for client `{client_id}`"),
        );
    }
    let st = form.get("state").map(String::as_str);
    let fail = |e: &'static str, d: &str| redirect_error(slot, redirect_uri, st, e, d);
    if client.kind == ClientKind::Backend {
        return fail(
            "unauthorized_client",
            "backend clients cannot use the authorization code flow",
        );
    }
    match form.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(_) => return fail("unsupported_response_type", "response_type must be `code`"),
        None => return fail("invalid_request", "response_type is required"),
    }
    let p = state.profile();
    let fhir_base = state.urls.http(&p.fhir.base_path);
    match form.get("aud") {
        Some(aud) if aud.trim_end_matches('/').eq_ignore_ascii_case(&fhir_base) => {}
        Some(aud) => {
            return fail(
                "invalid_request",
                &format!("aud `{aud}` is not this server's FHIR base {fhir_base}"),
            );
        }
        None => return fail("invalid_request", "aud is required (the FHIR base URL)"),
    }
    let Some(challenge) = form.get("code_challenge") else {
        return fail("invalid_request", "code_challenge is required (PKCE S256)");
    };
    match form.get("code_challenge_method").map(String::as_str) {
        Some("S256") => {}
        Some(m) => {
            return fail(
                "invalid_request",
                &format!("code_challenge_method `{m}` is not supported; use S256"),
            );
        }
        None => {
            return fail(
                "invalid_request",
                "code_challenge_method is required (S256)",
            );
        }
    }
    if challenge.len() != 43 {
        return fail(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        );
    }
    let asked = match ScopeSet::parse(form.get("scope").map(String::as_str).unwrap_or("")) {
        Ok(s) if !s.0.is_empty() => s,
        Ok(_) => return fail("invalid_scope", "scope is required"),
        Err(e) => return fail("invalid_scope", &e.to_string()),
    };
    let max = match ScopeSet::parse(&client.scopes.join(" ")) {
        Ok(m) => m,
        Err(e) => return fail("invalid_scope", &format!("registered scopes: {e}")),
    };
    let scopes = match max.grant(&asked) {
        Ok(s) => s,
        Err(s) => {
            return fail(
                "invalid_scope",
                &format!("`{s}` is beyond what client `{client_id}` may be granted"),
            );
        }
    };
    // Launch context.
    let mut patient = None;
    let mut encounter = None;
    let mut user = None;
    if let Some(l) = form.get("launch") {
        let Some(ctx) = state.auth.launches.lock().get(l).cloned() else {
            return fail("invalid_request", "launch is unknown or expired");
        };
        patient = Some(ctx.patient);
        encounter = ctx.encounter;
        user = ctx.user;
    }
    let needs_patient = scopes.contains(&Scope::LaunchPatient) || scopes.has_patient_context();
    if patient.is_none() && needs_patient {
        if let Some(h) = form.get("ngsim_patient") {
            if !directory::patient_exists(state, h) {
                return fail(
                    "invalid_request",
                    &format!("ngsim_patient `{h}` does not exist"),
                );
            }
            patient = Some(h.clone());
        } else if state.auth.approve_page() && !form.contains_key("ngsim_approved") {
            // The person picks on the page.
        } else {
            patient = directory::default_patient(state);
        }
    }
    if state.auth.approve_page() && !form.contains_key("ngsim_approved") {
        slot.note("authorize", "approve-page");
        return approve_page(state, &form, &scopes, patient.as_deref(), needs_patient);
    }
    let launched = form.contains_key("launch");
    let fhir_user = if scopes.contains(&Scope::FhirUser) || scopes.contains(&Scope::OpenId) {
        if launched || patient.is_none() {
            user.or_else(|| directory::default_practitioner(state))
                .map(|u| format!("Practitioner/{u}"))
        } else {
            patient.as_ref().map(|p| format!("Patient/{p}"))
        }
    } else {
        None
    };
    if !scopes.contains(&Scope::LaunchEncounter) && !launched {
        encounter = None;
    }
    let code = random_token();
    let life = p.smart.auth_code_lifetime;
    state.auth.codes.lock().insert(
        code.clone(),
        CodeRecord {
            auth: Authorized {
                client_id: client.id.clone(),
                scopes: scopes.clone(),
                patient: patient.clone(),
                encounter,
                fhir_user,
            },
            redirect_uri: redirect_uri.clone(),
            challenge: challenge.clone(),
            expires_at: Instant::now() + life,
            used: false,
        },
    );
    slot.with(|n| {
        n.scopes = Some(scopes.to_string());
        n.patient = patient;
    });
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = st {
        params.push(("state", s));
    }
    redirect(redirect_uri, &params)
}

fn approve_page(
    state: &AppState,
    form: &Form,
    scopes: &ScopeSet,
    patient: Option<&str>,
    needs_patient: bool,
) -> Response {
    let p = state.profile();
    let mut hidden = String::new();
    for (k, v) in form {
        if k == "ngsim_patient" {
            continue;
        }
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    let mut picker = String::new();
    if needs_patient && patient.is_none() {
        picker.push_str("<label>Patient <select name=\"ngsim_patient\">");
        for (id, name) in directory::patient_choices(state, 50) {
            picker.push_str(&format!(
                "<option value=\"{}\">{}</option>",
                esc(&id),
                esc(&name)
            ));
        }
        picker.push_str("</select></label>");
    } else if let Some(pt) = patient {
        picker.push_str(&format!(
            "<input type=\"hidden\" name=\"ngsim_patient\" value=\"{}\">",
            esc(pt)
        ));
    }
    let body = format!(
        "<!doctype html><html><head><title>ngsim: approve access</title></head><body>\
         <h1>Approve access</h1><p>Client <b>{}</b> asks for: <code>{}</code></p>\
         <form method=\"post\" action=\"{}\">{hidden}{picker}\
         <input type=\"hidden\" name=\"ngsim_approved\" value=\"1\">\
         <button type=\"submit\">Approve</button></form></body></html>",
        esc(form.get("client_id").map(String::as_str).unwrap_or("")),
        esc(&scopes.to_string()),
        esc(&state.urls.http(&p.smart.authorize_path)),
    );
    (StatusCode::OK, Html(body)).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchRequest {
    patient: String,
    #[serde(default)]
    encounter: Option<String>,
    #[serde(default)]
    user: Option<String>,
    /// The app's launch URL; `launch_url` is built on it.
    #[serde(default)]
    launch_uri: Option<String>,
}

fn control_error(status: StatusCode, msg: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": "invalid_request", "message": msg})),
    )
        .into_response()
}

/// `POST /_ngsim/launch {patient, encounter?, user?, launch_uri?}` → `{launch, launch_url}`.
pub(crate) async fn create_launch(state: &AppState, slot: &NoteSlot, req: Request) -> Response {
    let bytes = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return control_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large".into()),
    };
    let lr: LaunchRequest = match serde_json::from_slice(&bytes) {
        Ok(l) => l,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if !directory::patient_exists(state, &lr.patient) {
        return control_error(
            StatusCode::BAD_REQUEST,
            format!("patient `{}` does not exist", lr.patient),
        );
    }
    let launch = random_token();
    let p = state.profile();
    let iss = state.urls.http(&p.fhir.base_path);
    let app = lr
        .launch_uri
        .clone()
        .unwrap_or_else(|| state.urls.http("/_ngsim/app/launch"));
    let sep = if app.contains('?') { '&' } else { '?' };
    let launch_url = format!("{app}{sep}iss={}&launch={}", enc(&iss), enc(&launch));
    slot.with(|n| n.patient = Some(lr.patient.clone()));
    state.auth.launches.lock().insert(
        launch.clone(),
        LaunchContext {
            patient: lr.patient,
            encounter: lr.encounter,
            user: lr.user,
        },
    );
    (
        StatusCode::CREATED,
        axum::Json(serde_json::json!({"launch": launch, "launch_url": launch_url})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeRequest {
    approve_page: bool,
}

/// `PUT /_ngsim/authorize-mode {"approve_page": true|false}`.
pub(crate) async fn set_mode(state: &AppState, req: Request) -> Response {
    let bytes = axum::body::to_bytes(req.into_body(), 4096)
        .await
        .unwrap_or_default();
    match serde_json::from_slice::<ModeRequest>(&bytes) {
        Ok(m) => {
            state.auth.set_approve_page(m.approve_page);
            axum::Json(serde_json::json!({"approve_page": m.approve_page})).into_response()
        }
        Err(e) => control_error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
