//! GSA and EAL authentication: the token table, `POST {oauth_base}/token`,
//! `GET {oauth_base}/authorize` (EAL, headless auto-approve), and the
//! extractors data routes use ([`Authed`], [`Ctx`]).
//!
//! # EAL is an invented stand-in
//!
//! Known (nextgen.md §1.2, §1.4): EAL exists, needs the user's "Allow API
//! Access" right, is reached only from a launched application, and gives more
//! access than GSA. Inferred there, not seen: that the user token comes from
//! `nge-oauth/authorize` and carries practice context. Not public: the launch
//! payload, the token exchange, the token format and lifetime, and what
//! changed in 5.9.2 (the profiles' `eal = true` from 5.9.2 on is ngsim's
//! assumption). ngsim models EAL on the OAuth
//! 2.0 authorization-code grant (RFC 6749 §4.1): `GET {oauth_base}/authorize`
//! approves at once and redirects with a single-use code, which the GSA
//! account's credentials exchange at `{oauth_base}/token` for an opaque token
//! that carries the practice context (so no `x-ng-sessionid`), and that is
//! allowed the profile's GSA-prohibited routes. Nothing here claims to be
//! NextGen's wire format.
//!
//! OAuth errors (RFC 6749 §5.2 JSON, `Cache-Control: no-store`):
//! - missing `grant_type`, `client_id`, `client_secret` or `site_id`, or a
//!   missing/unknown `code`: 400 `invalid_request` / `invalid_grant`;
//! - an unknown client or a wrong secret: 401 `invalid_client` (one description
//!   for both, so client ids cannot be probed);
//! - a valid account asking for another `site_id`: 400 `unauthorized_client`;
//! - `authorization_code` where the profile has no EAL, or any other grant:
//!   400 `unsupported_grant_type`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, MatchedPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::error::ApiError;
use super::session::{self, Session};
use crate::clients::GsaClient;
use crate::journal::Surface;
use crate::profile::Profile;
use crate::server::{AppState, NoteSlot};

/// How a token was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantKind {
    /// Global Service Account (`client_credentials`): needs `x-ng-sessionid`.
    Gsa,
    /// External Application Launcher user token: carries practice context.
    Eal {
        /// The practice context the launch selected.
        session: Session,
    },
}

impl GrantKind {
    /// `gsa` or `eal`, as recorded in the journal's `auth` note.
    pub fn label(&self) -> &'static str {
        match self {
            GrantKind::Gsa => "gsa",
            GrantKind::Eal { .. } => "eal",
        }
    }
}

/// What an access token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The client (GSA account) the token was issued to.
    pub client_id: String,
    /// GSA or EAL.
    pub kind: GrantKind,
    /// NextGen user number (the service account's, or the launching user's).
    pub user: u32,
    /// Whether Part 2 consent covers disclosures to this client.
    pub part2_consent: bool,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    session: Session,
    user: u32,
    expires: Instant,
}

/// Issued tokens and EAL authorization codes, in memory, expiring on tokio's clock.
#[derive(Debug, Default)]
pub struct Tokens {
    tokens: Mutex<HashMap<String, Grant>>,
    codes: Mutex<HashMap<String, Code>>,
}

impl Tokens {
    fn issue(&self, grant: Grant) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        let now = Instant::now();
        let mut t = self.tokens.lock();
        t.retain(|_, g| g.expires > now);
        t.insert(token.clone(), grant);
        token
    }

    /// The grant behind a live token.
    pub fn lookup(&self, token: &str) -> Option<Grant> {
        let t = self.tokens.lock();
        t.get(token).filter(|g| g.expires > Instant::now()).cloned()
    }

    /// Forget every token and code (control-API reset).
    pub fn clear(&self) {
        self.tokens.lock().clear();
        self.codes.lock().clear();
    }
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        no_store(r.headers_mut());
        r
    }
}

fn oauth_err(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.to_owned(),
    }
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    oauth_err(status, error, description).into_response()
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Parameters from the query string and a form body (the body wins), plus
/// `client_secret_basic` credentials.
fn token_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = HashMap::new();
    if let Some(q) = uri.query() {
        if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(q) {
            p.extend(pairs);
        }
    }
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        p.extend(pairs);
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((id, secret)) = basic.as_deref().and_then(|s| s.split_once(':')) {
        p.entry("client_id".into()).or_insert_with(|| id.to_owned());
        p.entry("client_secret".into())
            .or_insert_with(|| secret.to_owned());
    }
    p
}

fn lifetime(state: &AppState, profile: &Profile, path: &str, slot: &NoteSlot) -> Duration {
    let fault = state.faults.pick(Surface::Oauth, path, |k| {
        matches!(k, crate::faults::FaultKind::TokenLifetime { .. })
    });
    match fault {
        Some(f) => {
            slot.with(|n| n.fault = Some(f.name.clone()));
            match f.kind {
                crate::faults::FaultKind::TokenLifetime { secs } => Duration::from_secs(secs),
                _ => profile.enterprise.gsa_token_lifetime,
            }
        }
        None => profile.enterprise.gsa_token_lifetime,
    }
}

fn authenticate<'a>(
    reg: &'a crate::clients::ClientRegistry,
    p: &HashMap<String, String>,
) -> Result<&'a GsaClient, OAuthError> {
    let (Some(id), Some(secret)) = (p.get("client_id"), p.get("client_secret")) else {
        return Err(oauth_err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required",
        ));
    };
    match reg.gsa(id) {
        Some(c) if c.client_secret == *secret => Ok(c),
        _ => Err(oauth_err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )),
    }
}

fn token_response(token: String, lifetime: Duration) -> Response {
    let mut r = axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    }))
    .into_response();
    no_store(r.headers_mut());
    r
}

/// `POST {oauth_base}/token`: GSA `client_credentials` (form body or query) and,
/// where the profile has EAL, `authorization_code`.
pub async fn token(
    State(state): State<AppState>,
    slot: NoteSlot,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let profile = state.profile();
    if !profile.enterprise.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    let p = token_params(&uri, &headers, &body);
    let grant_type = p.get("grant_type").map(String::as_str).unwrap_or("");
    slot.note("grant_type", grant_type);
    if let Some(id) = p.get("client_id") {
        slot.with(|n| n.client_id = Some(id.clone()));
    }
    if uri.query().is_some_and(|q| q.contains("client_secret")) {
        slot.note("credentials-in", "query");
    }
    let reg = state.clients();
    match grant_type {
        "client_credentials" => {
            let client = match authenticate(&reg, &p) {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            let Some(site) = p.get("site_id") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "site_id is required",
                );
            };
            if *site != client.site_id {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    &format!("the client is not approved for site_id '{site}'"),
                );
            }
            let life = lifetime(&state, &profile, uri.path(), &slot);
            slot.note("auth", "gsa");
            let token = state.enterprise.tokens.issue(Grant {
                client_id: client.client_id.clone(),
                kind: GrantKind::Gsa,
                user: session::user_number(&client.client_id),
                part2_consent: client.part2_consent,
                expires: Instant::now() + life,
            });
            token_response(token, life)
        }
        "authorization_code" if profile.enterprise.eal => {
            let client = match authenticate(&reg, &p) {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            let Some(code) = p.get("code") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code is required",
                );
            };
            let found = state.enterprise.tokens.codes.lock().remove(code);
            let Some(c) = found.filter(|c| c.expires > Instant::now()) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the authorization code is unknown, used or expired",
                );
            };
            if c.client_id != client.client_id
                || p.get("redirect_uri").is_some_and(|r| *r != c.redirect_uri)
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the authorization code was issued to another client or redirect_uri",
                );
            }
            let life = lifetime(&state, &profile, uri.path(), &slot);
            slot.note("auth", "eal");
            let token = state.enterprise.tokens.issue(Grant {
                client_id: client.client_id.clone(),
                kind: GrantKind::Eal { session: c.session },
                user: c.user,
                part2_consent: client.part2_consent,
                expires: Instant::now() + life,
            });
            token_response(token, life)
        }
        "" => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required",
        ),
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type '{other}' is not supported"),
        ),
    }
}

/// `GET {oauth_base}/authorize`: the EAL launch, approved at once (headless).
/// Query: `response_type=code`, `client_id`, `redirect_uri`, `state`, and the
/// hints `user` (a user number or name), `launch`, `enterprise_id`, `practice_id`.
pub async fn authorize(
    State(state): State<AppState>,
    slot: NoteSlot,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let profile = state.profile();
    if !profile.enterprise.enabled || !profile.enterprise.eal {
        return StatusCode::NOT_FOUND.into_response();
    }
    let reg = state.clients();
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    slot.with(|n| n.client_id = Some(client_id.clone()));
    let Some(client) = reg.gsa(&client_id) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client_id",
        );
    };
    let Some(redirect) = q
        .get("redirect_uri")
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must be an absolute http(s) URL",
        );
    };
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let st = q.get("state").map(|s| urlencode(s)).unwrap_or_default();
    if q.get("response_type").map(String::as_str) != Some("code") {
        return found(&format!(
            "{redirect}{sep}error=unsupported_response_type&state={st}"
        ));
    }
    let practice = &state.practice;
    let ent = q
        .get("enterprise_id")
        .cloned()
        .unwrap_or_else(|| practice.enterprise().id.clone());
    let prac = q
        .get("practice_id")
        .cloned()
        .or_else(|| {
            practice
                .enterprise()
                .practices
                .first()
                .map(|p| p.id.clone())
        })
        .unwrap_or_default();
    if ent != practice.enterprise().id || practice.practice_site(&prac).is_none() {
        return found(&format!("{redirect}{sep}error=access_denied&state={st}"));
    }
    let user = match q.get("user") {
        Some(u) => u.parse::<u32>().unwrap_or_else(|_| session::user_number(u)),
        None => session::user_number(&format!("eal:{}", client.client_id)),
    };
    if let Some(l) = q.get("launch") {
        slot.note("launch", l.chars().take(64).collect::<String>());
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    state.enterprise.tokens.codes.lock().insert(
        code.clone(),
        Code {
            client_id: client.client_id.clone(),
            redirect_uri: redirect.clone(),
            session: Session::new(&ent, &prac, user),
            user,
            expires: Instant::now() + profile.smart.auth_code_lifetime,
        },
    );
    found(&format!("{redirect}{sep}code={code}&state={st}"))
}

/// 302 Found (OAuth redirects; axum's `Redirect::to` is a 303).
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A request with a valid access token (no session required).
#[derive(Debug, Clone)]
pub struct Authed {
    /// The token's grant.
    pub grant: Grant,
    /// The profile, taken once for the request.
    pub profile: Arc<Profile>,
    /// The journal note slot.
    pub slot: NoteSlot,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let slot = NoteSlot::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        let Some(token) = token else {
            slot.note("auth", "none");
            return Err(ApiError::Unauthorized);
        };
        let Some(grant) = state.enterprise.tokens.lookup(token) else {
            slot.note("auth", "invalid");
            return Err(ApiError::Unauthorized);
        };
        slot.with(|n| n.client_id = Some(grant.client_id.clone()));
        slot.note("auth", grant.kind.label());
        Ok(Authed {
            grant,
            profile: state.profile(),
            slot,
        })
    }
}

/// A data-route request: a valid token, a route the token may use, and a
/// practice session (from `x-ng-sessionid`, or carried by an EAL token).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The token's grant.
    pub grant: Grant,
    /// The practice session.
    pub session: Session,
    /// The profile, taken once for the request.
    pub profile: Arc<Profile>,
    /// The journal note slot.
    pub slot: NoteSlot,
    /// The shared state.
    pub state: AppState,
    /// `METHOD /template` relative to the API base.
    pub route: String,
}

/// `METHOD /template` of a matched route, relative to the API base.
pub fn route_key(parts: &Parts, api_base: &str) -> String {
    let template = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or_else(|| parts.uri.path());
    let rel = template.strip_prefix(api_base).unwrap_or(template);
    format!("{} {}", parts.method, rel)
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authed {
            grant,
            profile,
            slot,
        } = Authed::from_request_parts(parts, state).await?;
        let route = route_key(parts, &profile.enterprise.api_base);
        if grant.kind == GrantKind::Gsa && profile.enterprise.gsa_prohibited_routes.contains(&route)
        {
            slot.note("gsa-prohibited", "refused");
            return Err(ApiError::Forbidden);
        }
        let header = parts.headers.get(session::HEADER);
        let session = match (header, &grant.kind) {
            (None, GrantKind::Eal { session }) => session.clone(),
            (None, GrantKind::Gsa) => {
                return Err(ApiError::session("the x-ng-sessionid header is missing"));
            }
            (Some(v), _) => {
                let text = v
                    .to_str()
                    .map_err(|_| ApiError::session("the x-ng-sessionid header is not text"))?;
                let s = Session::decode(text).map_err(|e| {
                    slot.note("session-check", "malformed");
                    ApiError::session(e)
                })?;
                let practice = &state.practice;
                if s.user != grant.user {
                    slot.note("session-check", "mismatched");
                    return Err(ApiError::session(
                        "the session id belongs to another user; log in again",
                    ));
                }
                if s.enterprise_id != practice.enterprise().id
                    || practice.practice_site(&s.practice_id).is_none()
                {
                    slot.note("session-check", "mismatched");
                    return Err(ApiError::session(
                        "the session's enterprise or practice does not exist",
                    ));
                }
                s
            }
        };
        Ok(Ctx {
            grant,
            session,
            profile,
            slot,
            state: state.clone(),
            route,
        })
    }
}

/// `PUT {api_base}/users/me/login-defaults`: choose the practice; answers `200`
/// with body `200` and the `x-ng-sessionid` header.
pub async fn login_defaults(
    State(state): State<AppState>,
    a: Authed,
    super::body::JsonBody(body): super::body::JsonBody,
) -> Result<Response, ApiError> {
    let get = |k: &str| -> Option<String> {
        body.as_object()?
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    let (Some(ent), Some(prac)) = (get("enterpriseId"), get("practiceId")) else {
        return Err(ApiError::bad_request(
            "The request is invalid.\r\nenterpriseId and practiceId are required.",
        ));
    };
    let practice = &state.practice;
    if ent != practice.enterprise().id || practice.practice_site(&prac).is_none() {
        return Err(ApiError::bad_request(format!(
            "Enterprise '{ent}' and practice '{prac}' do not exist or the user has no access to them."
        )));
    }
    let mut s = Session::new(&ent, &prac, a.grant.user);
    if let Some(loc) = get("locationId").filter(|v| !v.is_empty()) {
        let hex = session::hex32(&loc).ok_or_else(|| ApiError::bad_guid(&loc))?;
        if practice.location(&loc).is_none() {
            return Err(ApiError::bad_request(format!(
                "Location '{loc}' does not exist."
            )));
        }
        s.location = hex;
    }
    if let Some(prov) = get("providerId").filter(|v| !v.is_empty()) {
        let hex = session::hex32(&prov).ok_or_else(|| ApiError::bad_guid(&prov))?;
        if practice.practitioner(&prov).is_none() {
            return Err(ApiError::bad_request(format!(
                "Provider '{prov}' does not exist."
            )));
        }
        s.provider = hex;
    }
    if let Some(tz) = get("timeZone") {
        s.time_zone = tz.replace('|', "");
    }
    a.slot.note("practice", &prac);
    let mut r = (StatusCode::OK, axum::Json(json!(200))).into_response();
    if let Ok(v) = HeaderValue::from_str(&s.encode()) {
        r.headers_mut().insert(session::HEADER, v);
    }
    Ok(r)
}
