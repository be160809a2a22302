//! The reference FHIR reader: a backend-services client that reads every
//! Patient page by page, the way a careful integration should:
//!
//! - the token endpoint comes from `.well-known/smart-configuration`;
//! - the access token comes from `client_credentials` with a signed assertion
//!   (a fresh `jti`, `exp` four minutes ahead);
//! - a 429 is retried after its `Retry-After`, a 5xx after a doubling pause;
//! - `Bundle.link[next]` is followed until there is none.

use std::time::Duration;

use serde_json::Value;
use simulator::auth::ClientKey;

use super::ClientDefect;

/// How the reader reaches the simulator.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// FHIR base URL.
    pub fhir_base: String,
    /// Backend client id.
    pub client_id: String,
    /// Its signing key.
    pub key: ClientKey,
    /// First pause after a 5xx (doubled on each further one).
    pub backoff: Duration,
    /// The deliberate misbehaviour, if any.
    pub defect: Option<ClientDefect>,
}

/// Retries per request before giving up.
const MAX_RETRIES: u32 = 5;

/// The token endpoint, from `.well-known/smart-configuration`.
async fn token_url(http: &reqwest::Client, cfg: &ReaderConfig) -> Result<String, String> {
    let well_known = format!(
        "{}/.well-known/smart-configuration",
        cfg.fhir_base.trim_end_matches('/')
    );
    let conf: Value = http
        .get(&well_known)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    conf["token_endpoint"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no token_endpoint in the SMART configuration".to_owned())
}

/// A client assertion for `token_url`: a fresh `jti`, `exp` four minutes ahead.
fn assertion(cfg: &ReaderConfig, token_url: &str) -> String {
    assertion_expiring(cfg, token_url, 240)
}

/// A client assertion whose `exp` is `ahead_secs` from now.
fn assertion_expiring(cfg: &ReaderConfig, token_url: &str, ahead_secs: u64) -> String {
    let now = simulator::auth::unix_now();
    let claims = serde_json::json!({
        "iss": cfg.client_id, "sub": cfg.client_id, "aud": token_url,
        "exp": now + ahead_secs, "iat": now, "jti": simulator::auth::random_token(),
    });
    cfg.key.sign_assertion(&claims)
}

async fn exchange(
    http: &reqwest::Client,
    token_url: &str,
    assertion: &str,
) -> Result<String, String> {
    let r = http
        .post(token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "system/Patient.rs system/Observation.rs"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: Value = r.json().await.map_err(|e| e.to_string())?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("token request answered {status}: {v}"))
}

/// A backend access token.
pub(super) async fn token(http: &reqwest::Client, cfg: &ReaderConfig) -> Result<String, String> {
    let url = token_url(http, cfg).await?;
    exchange(http, &url, &assertion(cfg, &url)).await
}

/// Two token requests with one assertion (the `reused-jti` defect): the
/// second is refused; the first token is returned.
pub(super) async fn token_reusing_assertion(
    http: &reqwest::Client,
    cfg: &ReaderConfig,
) -> Result<String, String> {
    let url = token_url(http, cfg).await?;
    let a = assertion(cfg, &url);
    let first = exchange(http, &url, &a).await?;
    let _refused = exchange(http, &url, &a).await;
    Ok(first)
}

/// A token request whose assertion expires ten minutes ahead (the
/// `long-assertion-exp` defect; the server refuses it), then a good one.
pub(super) async fn token_after_long_exp(
    http: &reqwest::Client,
    cfg: &ReaderConfig,
) -> Result<String, String> {
    let url = token_url(http, cfg).await?;
    let _refused = exchange(http, &url, &assertion_expiring(cfg, &url, 600)).await;
    exchange(http, &url, &assertion(cfg, &url)).await
}

/// GET `url`, retrying 429 and 5xx; the parsed body of the first success.
async fn get(
    http: &reqwest::Client,
    cfg: &ReaderConfig,
    token: &str,
    url: &str,
) -> Result<Value, String> {
    let mut pause = cfg.backoff;
    for _ in 0..=MAX_RETRIES {
        let r = http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        if status.is_success() {
            return r.json().await.map_err(|e| e.to_string());
        }
        let wait = if status.as_u16() == 429 && cfg.defect != Some(ClientDefect::IgnoreRetryAfter) {
            let secs = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            Duration::from_secs(secs).max(pause)
        } else if status.as_u16() == 429 || status.is_server_error() {
            if status.is_server_error() && cfg.defect == Some(ClientDefect::NoBackoff5xx) {
                Duration::ZERO
            } else {
                pause
            }
        } else {
            return Err(format!("GET {url} answered {status}"));
        };
        tokio::time::sleep(wait).await;
        pause *= 2;
    }
    Err(format!(
        "GET {url}: still failing after {MAX_RETRIES} retries"
    ))
}

/// Read every Patient; returns how many were read.
pub async fn read_all(cfg: &ReaderConfig) -> Result<usize, String> {
    let http = crate::http_client::client();
    let token = token(&http, cfg).await?;
    // The server's own page size: the paging parameter's name differs
    // between NextGen versions (`_count`, `_maxresults`).
    let mut url = format!("{}/Patient", cfg.fhir_base.trim_end_matches('/'));
    let mut read = 0;
    loop {
        let bundle = get(&http, cfg, &token, &url).await?;
        read += bundle["entry"].as_array().map_or(0, Vec::len);
        if cfg.defect == Some(ClientDefect::FirstPageOnly) {
            return Ok(read);
        }
        let next = bundle["link"].as_array().and_then(|links| {
            links
                .iter()
                .find(|l| l["relation"] == "next")
                .and_then(|l| l["url"].as_str())
        });
        match next {
            Some(n) => url = n.to_owned(),
            None => return Ok(read),
        }
    }
}
