//! The reference SMART app: a public client that launches standalone with the
//! authorization-code flow against the simulator's headless auto-approve, the
//! way a careful app does:
//!
//! - endpoints from `.well-known/smart-configuration`;
//! - PKCE S256 and a fresh `state`, checked on the redirect;
//! - the token only in the `Authorization` header, never in a URL;
//! - after a 401 it refreshes once and retries once (no refresh loop).
//!
//! Its backend side asks for two tokens, each assertion with a fresh `jti`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest;

use super::ClientDefect;
use super::reader::{ReaderConfig, token, token_after_long_exp, token_reusing_assertion};

/// The public demo client every simulator registers.
const APP_CLIENT: &str = "demo-public";
/// A token living at most this long (a scenario's short-token fault) is
/// outlived on purpose, to exercise the refresh.
const SHORT_TOKEN_SECS: u64 = 5;
/// Refreshes in a row that the `refresh-loop` defect makes.
const LOOP_REFRESHES: u32 = 4;

fn has(cfg: &ReaderConfig, d: ClientDefect) -> bool {
    cfg.defect == Some(d)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

struct App<'a> {
    http: reqwest::Client,
    cfg: &'a ReaderConfig,
    token_url: String,
}

impl App<'_> {
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Value, String> {
        let r = self
            .http
            .post(&self.token_url)
            .form(form)
            .send()
            .await
            .map_err(err)?;
        let status = r.status();
        let v: Value = r.json().await.map_err(err)?;
        if status.is_success() {
            Ok(v)
        } else {
            Err(format!("token endpoint answered {status}: {v}"))
        }
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Value, String> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", APP_CLIENT),
        ])
        .await
    }

    async fn read_patient(&self, access: &str, patient: &str) -> Result<u16, String> {
        let mut url = format!(
            "{}/Patient/{patient}",
            self.cfg.fhir_base.trim_end_matches('/')
        );
        if has(self.cfg, ClientDefect::TokenInUrl) {
            url.push_str(&format!("?access_token={access}"));
        }
        let r = self
            .http
            .get(&url)
            .bearer_auth(access)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .map_err(err)?;
        Ok(r.status().as_u16())
    }

    /// Authorize (headless) and return the code.
    async fn authorize(
        &self,
        authorize_url: &str,
        challenge: &str,
        method: &str,
        state: Option<&str>,
    ) -> Result<Option<String>, String> {
        let mut q: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", APP_CLIENT),
            ("redirect_uri", simulator::clients::DEMO_REDIRECT_URI),
            (
                "scope",
                "launch/patient openid fhirUser offline_access patient/Patient.rs",
            ),
            ("aud", &self.cfg.fhir_base),
            ("code_challenge", challenge),
            ("code_challenge_method", method),
        ];
        if let Some(s) = state {
            q.push(("state", s));
        }
        let r = self
            .http
            .get(authorize_url)
            .query(&q)
            .send()
            .await
            .map_err(err)?;
        let Some(loc) = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        let url = url::Url::parse(loc).map_err(err)?;
        let param = |k: &str| {
            url.query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
        };
        if state.is_some() && param("state").as_deref() != state {
            return Err("the redirect's state does not match".into());
        }
        Ok(param("code"))
    }
}

/// The authorize and token endpoints, from `.well-known/smart-configuration`.
pub(super) async fn discover(
    http: &reqwest::Client,
    fhir_base: &str,
) -> Result<(String, String), String> {
    let conf: Value = http
        .get(format!(
            "{}/.well-known/smart-configuration",
            fhir_base.trim_end_matches('/')
        ))
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    let endpoint = |k: &str| {
        conf[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {k} in the SMART configuration"))
    };
    Ok((
        endpoint("authorization_endpoint")?,
        endpoint("token_endpoint")?,
    ))
}

/// A fresh PKCE verifier and its S256 challenge.
pub(super) fn pkce() -> (String, String) {
    let verifier = format!("{}-verifier", simulator::auth::random_token());
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Launch, read the patient, outlive the token, and read again. A launch
/// that fails is reported in the answer (the app handled it), not as an error.
pub async fn launch(cfg: &ReaderConfig) -> Result<Value, String> {
    Ok(launch_once(cfg)
        .await
        .unwrap_or_else(|e| json!({"outcome": format!("launch failed: {e}")})))
}

async fn launch_once(cfg: &ReaderConfig) -> Result<Value, String> {
    let http = crate::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(err)?;
    let (authorize_url, token_url) = if has(cfg, ClientDefect::HardCodedEndpoints) {
        // The defect: NextGen's usual paths on the FHIR server's origin.
        let base = url::Url::parse(&cfg.fhir_base).map_err(err)?;
        let origin = base.origin().ascii_serialization();
        (
            format!("{origin}/nge/prod/patient-oauth/authorize"),
            format!("{origin}/nge/prod/patient-oauth/token"),
        )
    } else {
        discover(&http, &cfg.fhir_base).await?
    };
    let app = App {
        http,
        cfg,
        token_url,
    };
    let (verifier, challenge) = pkce();
    let state = simulator::auth::random_token();
    let state = (!has(cfg, ClientDefect::NoState)).then_some(state.as_str());
    if has(cfg, ClientDefect::PkcePlain) {
        // The defect tries `plain` first (the simulator refuses it), then S256.
        let _ = app
            .authorize(&authorize_url, &verifier, "plain", state)
            .await?;
    }
    let code = app
        .authorize(&authorize_url, &challenge, "S256", state)
        .await?
        .ok_or("authorize did not redirect with a code")?;
    let tokens = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", simulator::clients::DEMO_REDIRECT_URI),
            ("code_verifier", &verifier),
            ("client_id", APP_CLIENT),
        ])
        .await?;
    let mut access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let patient = tokens["patient"].as_str().unwrap_or_default().to_owned();
    let expires_in = tokens["expires_in"].as_u64().unwrap_or(3600);
    let first = app.read_patient(&access, &patient).await?;
    if expires_in > SHORT_TOKEN_SECS {
        return Ok(json!({"first": first}));
    }
    // Come back after the token has expired (a scenario made it short).
    tokio::time::sleep(Duration::from_secs(expires_in) + Duration::from_millis(200)).await;
    let mut second = app.read_patient(&access, &patient).await?;
    if second == 401 && has(cfg, ClientDefect::NoRefresh) {
        // The defect: the expired token again, as if the 401 were a hiccup.
        second = app.read_patient(&access, &patient).await?;
    } else if second == 401 && !refresh.is_empty() {
        let rounds = if has(cfg, ClientDefect::RefreshLoop) {
            LOOP_REFRESHES
        } else {
            1
        };
        for _ in 0..rounds {
            let t = app.refresh(&refresh).await?;
            access = t["access_token"].as_str().unwrap_or_default().to_owned();
            if let Some(r) = t["refresh_token"].as_str() {
                refresh = r.to_owned();
            }
        }
        second = app.read_patient(&access, &patient).await?;
    }
    Ok(json!({"first": first, "after-expiry": second}))
}

/// Two backend tokens, each assertion with a fresh `jti` (the `reused-jti`
/// defect sends one assertion twice).
pub async fn backend(cfg: &ReaderConfig) -> Result<Value, String> {
    let http = crate::http_client::client();
    if has(cfg, ClientDefect::ReusedJti) {
        token_reusing_assertion(&http, cfg).await?;
    } else if has(cfg, ClientDefect::LongAssertionExp) {
        token_after_long_exp(&http, cfg).await?;
        token(&http, cfg).await?;
    } else {
        token(&http, cfg).await?;
        token(&http, cfg).await?;
    }
    Ok(json!({"outcome": "tokens issued"}))
}
