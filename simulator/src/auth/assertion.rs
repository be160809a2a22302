//! `private_key_jwt` client assertions (RFC 7523, SMART Backend Services).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::{Duration, Instant};

use super::OAuthError;
use crate::clients::SmartClient;
use crate::server::AppState;

/// The only `client_assertion_type`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Largest `exp - now` accepted.
const MAX_AHEAD_SECS: u64 = 300;
/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 5;
/// How long a fetched JWKS is reused.
const JWKS_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    jti: Option<String>,
}

fn segment_json(seg: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(seg.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Verify a client assertion; returns the authenticated client.
pub async fn verify(state: &AppState, assertion: &str) -> Result<SmartClient, OAuthError> {
    fn bad(d: impl Into<String>) -> OAuthError {
        OAuthError::invalid_client(d)
    }
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return Err(bad(
            "client_assertion is not a compact JWS (three dot-separated parts)",
        ));
    }
    let header = segment_json(parts[0])
        .filter(Value::is_object)
        .ok_or_else(|| bad("client_assertion header is not base64url JSON"))?;
    let payload = segment_json(parts[1])
        .filter(Value::is_object)
        .ok_or_else(|| bad("client_assertion payload is not base64url JSON"))?;
    let alg_name = header["alg"].as_str().unwrap_or("");
    let alg = match alg_name {
        "RS384" => Algorithm::RS384,
        "ES384" => Algorithm::ES384,
        "" => return Err(bad("client_assertion header has no alg")),
        other => {
            return Err(bad(format!(
                "alg `{other}` is not accepted; use RS384 or ES384"
            )));
        }
    };
    if header["typ"].as_str() != Some("JWT") {
        return Err(bad("client_assertion header typ must be `JWT`"));
    }
    let kid = header["kid"]
        .as_str()
        .ok_or_else(|| bad("client_assertion header has no kid"))?;
    let iss = payload["iss"]
        .as_str()
        .ok_or_else(|| bad("client_assertion has no iss"))?;
    let client = state
        .clients()
        .smart(iss)
        .cloned()
        .ok_or_else(|| bad(format!("unknown client `{iss}`")))?;
    if payload["sub"].as_str() != Some(iss) {
        return Err(bad("client_assertion sub must equal iss (the client_id)"));
    }
    if let Some(jku) = header["jku"].as_str() {
        if client.jwks_url.as_deref() != Some(jku) {
            return Err(bad(
                "jku does not match the JWKS URL registered for this client",
            ));
        }
    }
    let jwks_text = match (&client.jwks, &client.jwks_url) {
        (Some(inline), _) => inline.clone(),
        (None, Some(url)) => fetch_jwks(state, url).await?,
        (None, None) => return Err(bad("this client has no registered JWKS")),
    };
    let jwks: Value =
        serde_json::from_str(&jwks_text).map_err(|_| bad("the client's JWKS is not valid JSON"))?;
    let kty = if alg == Algorithm::RS384 { "RSA" } else { "EC" };
    let matching: Vec<&Value> = jwks["keys"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .filter(|k| k["kid"].as_str() == Some(kid) && k["kty"].as_str() == Some(kty))
                .collect()
        })
        .unwrap_or_default();
    let jwk = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(bad(format!(
                "no {kty} key with kid `{kid}` in the client's JWKS"
            )));
        }
        _ => return Err(bad(format!("kid `{kid}` matches more than one key"))),
    };
    let key = match alg {
        Algorithm::RS384 => DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap_or(""),
            jwk["e"].as_str().unwrap_or(""),
        ),
        _ => {
            if jwk["crv"].as_str() != Some("P-384") {
                return Err(bad("ES384 needs a P-384 key"));
            }
            DecodingKey::from_ec_components(
                jwk["x"].as_str().unwrap_or(""),
                jwk["y"].as_str().unwrap_or(""),
            )
        }
    }
    .map_err(|_| bad("the matching JWK is malformed"))?;
    let token_url = state.urls.http(&state.profile().smart.token_path);
    let mut v = Validation::new(alg);
    v.set_audience(&[token_url.as_str()]);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    let data = jsonwebtoken::decode::<Claims>(assertion, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        bad(match e.kind() {
            K::InvalidSignature => "client_assertion signature does not verify".to_owned(),
            K::ExpiredSignature => "client_assertion has expired".to_owned(),
            K::ImmatureSignature => "client_assertion is not valid yet (nbf)".to_owned(),
            K::InvalidAudience => format!("client_assertion aud must be the token URL {token_url}"),
            K::MissingRequiredClaim(c) => format!("client_assertion has no `{c}` claim"),
            other => format!("client_assertion is invalid: {other:?}"),
        })
    })?;
    let c = data.claims;
    let now = super::unix_now();
    let exp = c
        .exp
        .ok_or_else(|| bad("client_assertion has no `exp` claim"))?;
    if exp > now + MAX_AHEAD_SECS + LEEWAY_SECS {
        return Err(bad(
            "client_assertion exp is more than 5 minutes in the future",
        ));
    }
    if c.iat.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err(bad("client_assertion iat is in the future"));
    }
    if c.sub != c.iss {
        return Err(bad("client_assertion sub must equal iss (the client_id)"));
    }
    let jti = c
        .jti
        .filter(|j| !j.is_empty())
        .ok_or_else(|| bad("client_assertion has no jti"))?;
    let until = std::time::UNIX_EPOCH + std::time::Duration::from_secs(exp + LEEWAY_SECS);
    let mut jtis = state.auth.jtis.lock();
    let wall = std::time::SystemTime::now();
    jtis.retain(|_, exp| *exp > wall);
    if jtis.insert((c.iss.clone(), jti), until).is_some() {
        return Err(bad("client_assertion jti was already used"));
    }
    Ok(client)
}

async fn fetch_jwks(state: &AppState, url: &str) -> Result<String, OAuthError> {
    if let Some((text, at)) = state.auth.jwks_cache.lock().get(url) {
        if at.elapsed() < JWKS_TTL {
            return Ok(text.clone());
        }
    }
    let fail =
        |why: String| OAuthError::invalid_client(format!("cannot fetch the JWKS at {url}: {why}"));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("status {}", resp.status())));
    }
    let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
    state
        .auth
        .jwks_cache
        .lock()
        .insert(url.to_owned(), (text.clone(), Instant::now()));
    Ok(text)
}
