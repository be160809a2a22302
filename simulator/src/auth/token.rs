//! The token, introspection and revocation endpoints.

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;
use sha2::Digest;
use tokio::time::{Duration, Instant};

use super::scopes::{Context, Scope, ScopeSet};
use super::{
    Authorized, Grant, GrantKind, OAuthError, RefreshRecord, assertion, lifetime, unix_now,
};
use crate::clients::{ClientKind, SmartClient};
use crate::server::{AppState, NoteSlot};

/// Form parameters, each at most once (RFC 6749 §3.2).
pub(crate) type Form = BTreeMap<String, String>;

/// Read an `application/x-www-form-urlencoded` body within the profile's size limit.
pub(crate) async fn read_form(state: &AppState, req: Request) -> Result<(Parts, Form), OAuthError> {
    let limit = usize::try_from(state.profile().fhir.max_body_bytes).unwrap_or(usize::MAX);
    let (parts, body) = req.into_parts();
    let mut form = Form::new();
    if let Some(q) = parts.uri.query() {
        if parts.method == axum::http::Method::GET {
            add_pairs(&mut form, q.as_bytes())?;
        }
    }
    if parts.method == axum::http::Method::POST {
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("the request body exceeds {limit} bytes"),
            )
        })?;
        let ct = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !bytes.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        add_pairs(&mut form, &bytes)?;
    }
    Ok((parts, form))
}

fn add_pairs(form: &mut Form, bytes: &[u8]) -> Result<(), OAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|_| OAuthError::invalid_request("the form body is not valid urlencoded text"))?;
    for (k, v) in pairs {
        if form.contains_key(&k) {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{k}` is repeated"
            )));
        }
        form.insert(k, v);
    }
    Ok(())
}

fn no_store_json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

fn fail(slot: &NoteSlot, e: OAuthError) -> Response {
    slot.note("oauth_error", e.error);
    e.into_response()
}

/// How the client authenticated at the token endpoint.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &Parts,
    form: &Form,
) -> Result<SmartClient, OAuthError> {
    let methods = state.profile().smart.token_endpoint_auth_methods.clone();
    let allowed = |m: &str| methods.iter().any(|x| x == m);
    if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
        let h = h.to_str().unwrap_or("");
        let Some(b64) = h.strip_prefix("Basic ") else {
            return Err(OAuthError::invalid_client(
                "the Authorization header must use the Basic scheme",
            ));
        };
        if !allowed("client_secret_basic") {
            return Err(OAuthError::invalid_client(
                "client_secret_basic is not supported here",
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let id = pct_decode(id);
        let secret = pct_decode(secret);
        return check_secret(state, &id, &secret, form);
    }
    if let Some(a) = form.get("client_assertion") {
        let ty = form.get("client_assertion_type").map(String::as_str);
        if ty != Some(assertion::JWT_BEARER) {
            return Err(OAuthError::invalid_client(format!(
                "client_assertion_type must be {}",
                assertion::JWT_BEARER
            )));
        }
        let client = assertion::verify(state, a).await?;
        if form.get("client_id").is_some_and(|id| *id != client.id) {
            return Err(OAuthError::invalid_client(
                "client_id does not match the assertion's iss",
            ));
        }
        return Ok(client);
    }
    if form.contains_key("client_assertion_type") {
        return Err(OAuthError::invalid_client(
            "client_assertion_type without client_assertion",
        ));
    }
    let id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_client("no client authentication and no client_id"))?;
    if let Some(secret) = form.get("client_secret") {
        if !allowed("client_secret_post") {
            return Err(OAuthError::invalid_client(
                "client_secret_post is not supported here; use client_secret_basic",
            ));
        }
        return check_secret(state, id, secret, form);
    }
    let client = state
        .clients()
        .smart(id)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client `{id}`")))?;
    if client.kind != ClientKind::Public {
        return Err(OAuthError::invalid_client(format!(
            "client `{id}` is confidential and must authenticate"
        )));
    }
    Ok(client)
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn check_secret(
    state: &AppState,
    id: &str,
    secret: &str,
    form: &Form,
) -> Result<SmartClient, OAuthError> {
    let client = state
        .clients()
        .smart(id)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client `{id}`")))?;
    if client.kind != ClientKind::ConfidentialSymmetric {
        return Err(OAuthError::invalid_client(format!(
            "client `{id}` does not authenticate with a client secret"
        )));
    }
    if client.secret.as_deref() != Some(secret) {
        return Err(OAuthError::invalid_client("wrong client secret"));
    }
    if form.get("client_id").is_some_and(|f| f != id) {
        return Err(OAuthError::invalid_client(
            "client_id does not match the credentials",
        ));
    }
    Ok(client)
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patient: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encounter: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    need_patient_banner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    smart_style_url: Option<String>,
}

/// `POST {token}`.
pub(crate) async fn token(state: &AppState, slot: &NoteSlot, req: Request) -> Response {
    match token_inner(state, slot, req).await {
        Ok(r) => r,
        Err(e) => fail(slot, e),
    }
}

async fn token_inner(
    state: &AppState,
    slot: &NoteSlot,
    req: Request,
) -> Result<Response, OAuthError> {
    let (parts, form) = read_form(state, req).await?;
    let grant_type = form
        .get("grant_type")
        .cloned()
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    slot.note("grant_type", grant_type.as_str());
    if !matches!(
        grant_type.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{grant_type}` is not supported"
        )));
    }
    let client = authenticate(state, &parts, &form).await?;
    slot.with(|n| n.client_id = Some(client.id.clone()));
    match grant_type.as_str() {
        "authorization_code" => authorization_code(state, slot, &client, &form),
        "refresh_token" => refresh(state, slot, &client, &form),
        _ => client_credentials(state, slot, &client, &form),
    }
}

fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let hash = sha2::Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash) == challenge
}

fn authorization_code(
    state: &AppState,
    slot: &NoteSlot,
    client: &SmartClient,
    form: &Form,
) -> Result<Response, OAuthError> {
    if client.kind == ClientKind::Backend {
        return Err(OAuthError::unauthorized_client(
            "backend clients use grant_type=client_credentials",
        ));
    }
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = form
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let rec = {
        let mut codes = state.auth.codes.lock();
        let Some(rec) = codes.get_mut(code.as_str()) else {
            return Err(OAuthError::invalid_grant(
                "the authorization code is unknown",
            ));
        };
        if rec.used {
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        if rec.expires_at <= Instant::now() {
            return Err(OAuthError::invalid_grant(
                "the authorization code has expired",
            ));
        }
        if rec.auth.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        if rec.redirect_uri != *redirect_uri {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the one in the authorization request",
            ));
        }
        let len_ok = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !len_ok || !pkce_ok(verifier, &rec.challenge) {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        rec.used = true;
        rec.clone()
    };
    Ok(issue_app_tokens(state, slot, client, rec.auth, true))
}

fn issue_app_tokens(
    state: &AppState,
    slot: &NoteSlot,
    client: &SmartClient,
    auth: Authorized,
    new_refresh: bool,
) -> Response {
    let Authorized {
        scopes,
        patient,
        encounter,
        fhir_user,
        ..
    } = auth.clone();
    let p = state.profile();
    let path = &p.smart.token_path;
    let life = lifetime(state, slot, path, p.smart.access_token_lifetime);
    let now = unix_now();
    let scope_text = scopes.to_string();
    let want_id_token = scopes.contains(&Scope::OpenId) && fhir_user.is_some();
    let offline = scopes.contains(&Scope::OfflineAccess) || scopes.contains(&Scope::OnlineAccess);
    let grant = Grant {
        client_id: client.id.clone(),
        scopes: scopes.clone(),
        scope_text: scope_text.clone(),
        patient: patient.clone(),
        encounter: encounter.clone(),
        fhir_user: fhir_user.clone(),
        part2_consent: client.part2_consent,
        kind: GrantKind::App,
        expires_at: Instant::now() + life,
        iat: now,
        exp: now + life.as_secs(),
        id_token_issued: want_id_token,
    };
    let access = state.auth.issue(grant);
    let refresh = (offline && new_refresh).then(|| {
        let rt = super::random_token();
        state.auth.refresh.lock().insert(
            rt.clone(),
            RefreshRecord {
                auth,
                expires_at: Instant::now() + p.smart.refresh_token_lifetime,
                used: false,
            },
        );
        rt
    });
    let fhir_base = state.urls.http(&p.fhir.base_path);
    let id_token = want_id_token.then(|| {
        let fu = fhir_user.as_deref().unwrap_or_default();
        let sub = fu.rsplit('/').next().unwrap_or(fu);
        state.auth.server_key().sign(&serde_json::json!({
            "iss": fhir_base,
            "sub": sub,
            "aud": client.id,
            "exp": now + life.as_secs(),
            "iat": now,
            "fhirUser": format!("{fhir_base}/{fu}"),
        }))
    });
    slot.with(|n| {
        n.scopes = Some(scope_text.clone());
        n.patient.clone_from(&patient);
    });
    let body = TokenResponse {
        access_token: &access,
        token_type: "Bearer",
        expires_in: life.as_secs(),
        scope: &scope_text,
        refresh_token: refresh.as_deref(),
        id_token: id_token.as_deref(),
        patient: patient.as_deref(),
        encounter: encounter.as_deref(),
        need_patient_banner: patient.as_ref().map(|_| true),
        smart_style_url: patient
            .as_ref()
            .map(|_| state.urls.http("/_ngsim/smart-style.json")),
    };
    no_store_json(
        StatusCode::OK,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

fn refresh(
    state: &AppState,
    slot: &NoteSlot,
    client: &SmartClient,
    form: &Form,
) -> Result<Response, OAuthError> {
    let rt = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let rotation = state.profile().smart.refresh_rotation;
    let rec = {
        let mut table = state.auth.refresh.lock();
        let Some(rec) = table.get_mut(rt.as_str()) else {
            return Err(OAuthError::invalid_grant(
                "the refresh token is unknown or revoked",
            ));
        };
        if rec.used {
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used (rotation is on)",
            ));
        }
        if rec.expires_at <= Instant::now() {
            return Err(OAuthError::invalid_grant("the refresh token has expired"));
        }
        if rec.auth.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the refresh token belongs to another client",
            ));
        }
        if rotation {
            rec.used = true;
        }
        rec.clone()
    };
    let scopes = match form.get("scope") {
        Some(s) => {
            let asked = ScopeSet::parse(s).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
            rec.auth.scopes.grant(&asked).map_err(|s| {
                OAuthError::invalid_scope(format!("`{s}` was not part of the original grant"))
            })?
        }
        None => rec.auth.scopes.clone(),
    };
    // Without rotation the old refresh token stays valid and none is returned.
    let auth = Authorized { scopes, ..rec.auth };
    Ok(issue_app_tokens(state, slot, client, auth, rotation))
}

fn client_credentials(
    state: &AppState,
    slot: &NoteSlot,
    client: &SmartClient,
    form: &Form,
) -> Result<Response, OAuthError> {
    if !matches!(
        client.kind,
        ClientKind::Backend | ClientKind::ConfidentialAsymmetric
    ) {
        return Err(OAuthError::unauthorized_client(
            "client_credentials needs a backend client authenticating with private_key_jwt",
        ));
    }
    let asked = form
        .get("scope")
        .ok_or_else(|| OAuthError::invalid_scope("scope is required"))?;
    let asked = ScopeSet::parse(asked).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if let Some(bad) = asked.0.iter().find(|s| match s {
        Scope::Resource(r) => r.context != Context::System,
        _ => true,
    }) {
        return Err(OAuthError::invalid_scope(format!(
            "`{bad}` cannot be granted to a backend service; use system/ scopes"
        )));
    }
    let max = ScopeSet::parse(&client.scopes.join(" "))
        .map_err(|e| OAuthError::invalid_scope(format!("registered scopes: {e}")))?;
    let scopes = max.grant(&asked).map_err(|s| {
        OAuthError::invalid_scope(format!(
            "`{s}` is beyond what client `{}` may be granted",
            client.id
        ))
    })?;
    let p = state.profile();
    let normal = p.smart.backend_token_lifetime.min(Duration::from_secs(300));
    let life = lifetime(state, slot, &p.smart.token_path, normal);
    let now = unix_now();
    let scope_text = scopes.to_string();
    let access = state.auth.issue(Grant {
        client_id: client.id.clone(),
        scopes,
        scope_text: scope_text.clone(),
        patient: None,
        encounter: None,
        fhir_user: None,
        part2_consent: client.part2_consent,
        kind: GrantKind::Backend,
        expires_at: Instant::now() + life,
        iat: now,
        exp: now + life.as_secs(),
        id_token_issued: false,
    });
    slot.with(|n| n.scopes = Some(scope_text.clone()));
    let body = TokenResponse {
        access_token: &access,
        token_type: "bearer",
        expires_in: life.as_secs(),
        scope: &scope_text,
        refresh_token: None,
        id_token: None,
        patient: None,
        encounter: None,
        need_patient_banner: None,
        smart_style_url: None,
    };
    Ok(no_store_json(
        StatusCode::OK,
        serde_json::to_string(&body).unwrap_or_default(),
    ))
}

/// `POST {introspect}` (RFC 7662 plus SMART context).
pub(crate) async fn introspect(state: &AppState, slot: &NoteSlot, req: Request) -> Response {
    let form = match read_form(state, req).await {
        Ok((_, f)) => f,
        Err(e) => return fail(slot, e),
    };
    let Some(tok) = form.get("token") else {
        return fail(slot, OAuthError::invalid_request("token is required"));
    };
    let Some(g) = state.auth.lookup(tok) else {
        slot.note("active", "false");
        return no_store_json(StatusCode::OK, r#"{"active":false}"#.to_owned());
    };
    slot.with(|n| n.client_id = Some(g.client_id.clone()));
    let p = state.profile();
    let base = state.urls.http(&p.fhir.base_path);
    let mut v = serde_json::json!({
        "active": true,
        "scope": g.scope_text,
        "client_id": g.client_id,
        "exp": g.exp,
        "iat": g.iat,
        "token_type": "Bearer",
    });
    if let Some(pt) = &g.patient {
        v["patient"] = pt.as_str().into();
    }
    if let Some(e) = &g.encounter {
        v["encounter"] = e.as_str().into();
    }
    if let Some(fu) = &g.fhir_user {
        v["fhirUser"] = format!("{base}/{fu}").into();
        if g.id_token_issued {
            v["iss"] = base.as_str().into();
            v["sub"] = fu.rsplit('/').next().unwrap_or(fu).into();
        }
    }
    no_store_json(StatusCode::OK, v.to_string())
}

/// `POST {revoke}` (RFC 7009): 200 whether or not the token existed.
pub(crate) async fn revoke(state: &AppState, slot: &NoteSlot, req: Request) -> Response {
    let form = match read_form(state, req).await {
        Ok((_, f)) => f,
        Err(e) => return fail(slot, e),
    };
    let Some(tok) = form.get("token") else {
        return fail(slot, OAuthError::invalid_request("token is required"));
    };
    let hit = state.auth.revoke(tok);
    slot.note("revoked", if hit { "true" } else { "false" });
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
}
