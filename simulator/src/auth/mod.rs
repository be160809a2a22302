//! The SMART on FHIR authorization server: authorize (PKCE S256, EHR and
//! standalone launch, headless auto-approve or an approve page), token
//! (authorization_code, refresh_token, client_credentials with
//! `private_key_jwt`, `client_secret_basic`), introspection, revocation and JWKS.
//!
//! Access tokens are opaque random strings mapped to a [`Grant`] in an
//! in-memory table, so the resource servers (FHIR, Bulk, Enterprise EAL) check
//! a token with one hash lookup and never verify a signature per request; see
//! the [`Bearer`] extractor.
//!
//! Routing: every path here comes from the active profile's `smart` section and
//! is matched per request (see [`handles`]), so a runtime profile swap moves
//! the endpoints at once without rebuilding the router.

mod assertion;
mod authorize;
mod error;
pub mod keys;
pub mod scopes;
mod token;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};
use tokio::time::{Duration, Instant};

pub use error::OAuthError;
pub use keys::{ClientKey, ServerKey};
pub use scopes::{Access, Scope, ScopeError, ScopeSet};

use crate::clients::{ClientKind, ClientRegistry, DEMO_REDIRECT_URI, SmartClient};
use crate::server::{AppState, NoteSlot};

/// Client id of the generated backend-services demo client.
pub const DEMO_BACKEND_CLIENT: &str = "demo-backend";

/// What kind of flow produced a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// An app launch (authorization code, possibly refreshed).
    App,
    /// Backend services (client credentials).
    Backend,
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The client it was issued to.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Granted scopes as sent in the token response.
    pub scope_text: String,
    /// Patient in context (FHIR Patient id).
    pub patient: Option<String>,
    /// Encounter in context.
    pub encounter: Option<String>,
    /// `fhirUser`, relative (`Practitioner/…`, `Patient/…`).
    pub fhir_user: Option<String>,
    /// Whether the client's registration carries Part 2 consent.
    pub part2_consent: bool,
    /// Flow.
    pub kind: GrantKind,
    /// Expiry on tokio's clock.
    pub expires_at: Instant,
    /// Issue time, Unix seconds.
    pub iat: u64,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Whether an id_token was issued with it (introspection then gives `iss`/`sub`).
    pub id_token_issued: bool,
}

/// What an authorization carries from authorize to token to refresh.
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    pub client_id: String,
    pub scopes: ScopeSet,
    pub patient: Option<String>,
    pub encounter: Option<String>,
    pub fhir_user: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub auth: Authorized,
    pub redirect_uri: String,
    pub challenge: String,
    pub expires_at: Instant,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub auth: Authorized,
    pub expires_at: Instant,
    pub used: bool,
}

/// An EHR launch context from `POST /_ngsim/launch`.
#[derive(Debug, Clone)]
pub(crate) struct LaunchContext {
    pub patient: String,
    pub encounter: Option<String>,
    pub user: Option<String>,
}

/// Authorization-server state, held in the shared [`AppState`].
#[derive(Debug)]
pub struct AuthState {
    tokens: RwLock<HashMap<String, Arc<Grant>>>,
    pub(crate) refresh: Mutex<HashMap<String, RefreshRecord>>,
    pub(crate) codes: Mutex<HashMap<String, CodeRecord>>,
    pub(crate) launches: Mutex<HashMap<String, LaunchContext>>,
    /// `(iss, jti)` → when the assertion expires (reuse is refused until then).
    pub(crate) jtis: Mutex<HashMap<(String, String), std::time::SystemTime>>,
    /// JWKS URL → (JSON text, fetched at).
    pub(crate) jwks_cache: Mutex<HashMap<String, (String, Instant)>>,
    server_key: Arc<ServerKey>,
    demo_backend: ClientKey,
    approve_page: AtomicBool,
    /// The FHIR store (render cache over the shared practice, rate-limit
    /// counters). It lives here because this is the one field this surface
    /// adds to the shared state; reach it through [`crate::fhir::store()`].
    pub(crate) fhir: crate::fhir::store::Store,
}

impl AuthState {
    /// Fresh state over `practice` (the shared one: it is an `Arc` inside),
    /// with the process-wide server key and a new demo backend key.
    pub fn with_practice(practice: crate::practice::Practice) -> AuthState {
        AuthState {
            tokens: RwLock::default(),
            refresh: Mutex::default(),
            codes: Mutex::default(),
            launches: Mutex::default(),
            jtis: Mutex::default(),
            jwks_cache: Mutex::default(),
            server_key: ServerKey::shared(),
            demo_backend: ClientKey::generate_es384("demo-backend-es384"),
            approve_page: AtomicBool::new(false),
            fhir: crate::fhir::store::Store::new(practice),
        }
    }

    /// Register the demo clients that carry generated keys: `demo-backend`
    /// (backend services, ES384, inline JWKS) and `demo-asymmetric` (an app
    /// using `private_key_jwt` with the same key).
    pub fn add_demo_clients(&self, mut reg: ClientRegistry) -> ClientRegistry {
        if reg.smart(DEMO_BACKEND_CLIENT).is_none() {
            reg.smart.push(SmartClient {
                id: DEMO_BACKEND_CLIENT.into(),
                name: Some("Demo backend service (private_key_jwt, ES384)".into()),
                kind: ClientKind::Backend,
                secret: None,
                redirect_uris: Vec::new(),
                jwks_url: None,
                jwks: Some(self.demo_backend.jwks.clone()),
                scopes: vec!["system/*.rs".into(), "system/*.read".into()],
                part2_consent: false,
            });
        }
        if reg.smart("demo-asymmetric").is_none() {
            reg.smart.push(SmartClient {
                id: "demo-asymmetric".into(),
                name: Some("Demo confidential app (private_key_jwt, ES384)".into()),
                kind: ClientKind::ConfidentialAsymmetric,
                secret: None,
                redirect_uris: vec![DEMO_REDIRECT_URI.into()],
                jwks_url: None,
                jwks: Some(self.demo_backend.jwks.clone()),
                scopes: [
                    "launch",
                    "launch/patient",
                    "openid",
                    "fhirUser",
                    "offline_access",
                    "patient/*.rs",
                    "patient/*.read",
                    "user/*.rs",
                    "user/*.read",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                part2_consent: false,
            });
        }
        reg
    }

    /// The `demo-backend` client's private key (PKCS#8 PEM), for the CLI banner.
    pub fn demo_backend_key_pem(&self) -> &str {
        &self.demo_backend.private_pem
    }

    /// The `demo-backend` client's key (sign assertions with it in tests).
    pub fn demo_backend_key(&self) -> &ClientKey {
        &self.demo_backend
    }

    /// The server signing key.
    pub fn server_key(&self) -> &ServerKey {
        &self.server_key
    }

    /// Serve the HTML approve page (`true`) or auto-approve headlessly (`false`, the default).
    pub fn set_approve_page(&self, on: bool) {
        self.approve_page.store(on, Ordering::Relaxed);
    }

    /// Whether the approve page is on.
    pub fn approve_page(&self) -> bool {
        self.approve_page.load(Ordering::Relaxed)
    }

    /// Store a grant under a fresh access token and return the token.
    pub fn issue(&self, grant: Grant) -> String {
        let token = random_token();
        let mut t = self.tokens.write();
        if t.len() > 100_000 {
            let now = Instant::now();
            t.retain(|_, g| g.expires_at > now);
        }
        t.insert(token.clone(), Arc::new(grant));
        token
    }

    /// The live grant behind an access token.
    pub fn lookup(&self, token: &str) -> Option<Arc<Grant>> {
        let g = self.tokens.read().get(token).cloned()?;
        (g.expires_at > Instant::now()).then_some(g)
    }

    /// Revoke an access or refresh token; whether anything was revoked.
    pub fn revoke(&self, token: &str) -> bool {
        let a = self.tokens.write().remove(token).is_some();
        let r = self.refresh.lock().remove(token).is_some();
        a || r
    }

    /// Forget every token, code and launch (control-API reset).
    pub fn clear(&self) {
        self.tokens.write().clear();
        self.refresh.lock().clear();
        self.codes.lock().clear();
        self.launches.lock().clear();
        self.jtis.lock().clear();
        self.jwks_cache.lock().clear();
    }
}

/// Issue a `demo-backend` access token for `scope` (system scopes) without
/// the protocol dance, for banners, benches and load scripts. It lasts the
/// profile's backend-token lifetime (at most 300 s) like any backend token.
pub fn mint_backend_token(state: &AppState, scope: &str) -> Result<String, ScopeError> {
    let scopes = ScopeSet::parse(scope)?;
    let life = state
        .profile()
        .smart
        .backend_token_lifetime
        .min(Duration::from_secs(300));
    let now = unix_now();
    Ok(state.auth.issue(Grant {
        client_id: DEMO_BACKEND_CLIENT.into(),
        scope_text: scopes.to_string(),
        scopes,
        patient: None,
        encounter: None,
        fhir_user: None,
        part2_consent: false,
        kind: GrantKind::Backend,
        expires_at: Instant::now() + life,
        iat: now,
        exp: now + life.as_secs(),
        id_token_issued: false,
    }))
}

/// 256 bits of randomness, base64url.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch (wall clock, for JWT claims).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether `path` is served by the authorization server under `profile`.
pub fn handles(state: &AppState, path: &str) -> bool {
    handles_under(&state.profile(), path)
}

/// Whether `path` is served by the authorization server under `p`.
pub(crate) fn handles_under(p: &crate::profile::Profile, path: &str) -> bool {
    let s = &p.smart;
    [
        s.authorize_path.as_str(),
        s.token_path.as_str(),
        s.revoke_path.as_str(),
        s.introspect_path.as_str(),
        s.jwks_path.as_str(),
        LAUNCH_PATH,
        AUTHORIZE_MODE_PATH,
        SMART_STYLE_PATH,
    ]
    .contains(&path)
}

/// Create an EHR launch context.
pub const LAUNCH_PATH: &str = "/_ngsim/launch";
/// `PUT {"approve_page": bool}` switches the authorize endpoint's mode.
pub const AUTHORIZE_MODE_PATH: &str = "/_ngsim/authorize-mode";
/// The `smart_style_url` document.
pub const SMART_STYLE_PATH: &str = "/_ngsim/smart-style.json";

/// The authorization server's router (journaled as `oauth` by the caller).
/// It dispatches on the active profile's paths.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(State(state): State<AppState>, slot: NoteSlot, req: Request) -> Response {
    let p = state.profile();
    let s = &p.smart;
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    slot.with(|n| n.route = Some(path.clone()));
    if path == s.authorize_path {
        match method {
            Method::GET | Method::POST => authorize::authorize(&state, &slot, req).await,
            _ => method_not_allowed("GET, POST"),
        }
    } else if path == s.token_path {
        match method {
            Method::POST => token::token(&state, &slot, req).await,
            _ => method_not_allowed("POST"),
        }
    } else if path == s.introspect_path {
        match method {
            Method::POST => token::introspect(&state, &slot, req).await,
            _ => method_not_allowed("POST"),
        }
    } else if path == s.revoke_path {
        match method {
            Method::POST => token::revoke(&state, &slot, req).await,
            _ => method_not_allowed("POST"),
        }
    } else if path == s.jwks_path {
        json_response(StatusCode::OK, state.auth.server_key.jwks())
    } else if path == SMART_STYLE_PATH {
        json_response(
            StatusCode::OK,
            serde_json::json!({
                "color_background": "#edeae3",
                "color_error": "#9e2d2d",
                "color_highlight": "#69b5ce",
                "color_modal_backdrop": "",
                "color_success": "#498e49",
                "color_text": "#303030",
                "dim_border_radius": "6px",
                "dim_font_size": "13px",
                "dim_spacing_size": "20px",
                "font_family_body": "Georgia, Times, 'Times New Roman', serif",
                "font_family_heading": "'HelveticaNeue-Light', Helvetica, Arial, 'Lucida Grande', sans-serif",
            })
            .to_string(),
        )
    } else if path == LAUNCH_PATH && method == Method::POST {
        authorize::create_launch(&state, &slot, req).await
    } else if path == AUTHORIZE_MODE_PATH && method == Method::PUT {
        authorize::set_mode(&state, req).await
    } else {
        method_not_allowed("POST")
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = OAuthError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this endpoint",
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// A JSON response with the given body text.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A validated bearer token: the extractor resource servers use.
///
/// Rejections are 401 with `WWW-Authenticate: Bearer error="invalid_token"`
/// and a FHIR OperationOutcome body. The client id and scopes go into the
/// exchange's journal note (never the token).
#[derive(Debug, Clone)]
pub struct Bearer(pub Arc<Grant>);

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Unknown, revoked or expired.
    Invalid,
}

impl BearerError {
    /// Text for the OperationOutcome.
    pub fn message(self) -> &'static str {
        match self {
            BearerError::Missing => "No access token: send Authorization: Bearer <token>",
            BearerError::Invalid => "The access token is unknown, revoked or expired",
        }
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let www = match self {
            BearerError::Missing => "Bearer realm=\"ngsim\"",
            BearerError::Invalid => {
                "Bearer realm=\"ngsim\", error=\"invalid_token\", error_description=\"the access token is unknown, revoked or expired\""
            }
        };
        let body = crate::fhir::outcome::json("error", "login", self.message(), None);
        let mut r = (
            StatusCode::UNAUTHORIZED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/fhir+json"),
            )],
            body,
        )
            .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(www));
        r
    }
}

impl Bearer {
    /// Check the request's bearer token against the token table, noting the
    /// client and scopes in the journal slot.
    pub fn from_parts(parts: &Parts, state: &AppState) -> Result<Bearer, BearerError> {
        let slot = parts.extensions.get::<NoteSlot>();
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(token) = token else {
            if let Some(s) = slot {
                s.note("auth", "missing-token");
            }
            return Err(BearerError::Missing);
        };
        let Some(grant) = state.auth.lookup(token) else {
            if let Some(s) = slot {
                s.note("auth", "invalid-token");
            }
            return Err(BearerError::Invalid);
        };
        if let Some(s) = slot {
            s.with(|n| {
                n.client_id = Some(grant.client_id.clone());
                n.scopes = Some(grant.scope_text.clone());
                if n.patient.is_none() {
                    n.patient.clone_from(&grant.patient);
                }
            });
        }
        Ok(Bearer(grant))
    }
}

impl axum::extract::FromRequestParts<AppState> for Bearer {
    type Rejection = BearerError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Bearer::from_parts(parts, state)
    }
}

/// Lifetime for a new token: a `TokenLifetime` fault wins over the profile.
pub(crate) fn lifetime(
    state: &AppState,
    slot: &NoteSlot,
    path: &str,
    normal: Duration,
) -> Duration {
    let hit = state
        .faults
        .pick(crate::journal::Surface::Oauth, path, |k| {
            matches!(k, crate::faults::FaultKind::TokenLifetime { .. })
        })
        .or_else(|| {
            state.faults.pick(crate::journal::Surface::Fhir, path, |k| {
                matches!(k, crate::faults::FaultKind::TokenLifetime { .. })
            })
        });
    match hit {
        Some(inj) => {
            slot.with(|n| n.fault = Some(inj.name.clone()));
            match inj.kind {
                crate::faults::FaultKind::TokenLifetime { secs } => Duration::from_secs(secs),
                _ => normal,
            }
        }
        None => normal,
    }
}
