//! Shared helpers for the FHIR, SMART and Bulk integration tests: start a
//! simulator, run the SMART flows headlessly, sign client assertions.
#![allow(dead_code)]

pub mod fhir_schema;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest;
use simulator::RunningSimulator;
use simulator::clients::DEMO_REDIRECT_URI;

/// A simulator on `127.0.0.1:0` with a built-in profile.
pub async fn start(profile: &str) -> RunningSimulator {
    simulator::Simulator::builder()
        .profile_named(profile)
        .expect("built-in profile")
        .start()
        .await
        .expect("simulator starts")
}

/// A reqwest client that does not follow redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `(verifier, S256 challenge)`.
pub fn pkce() -> (String, String) {
    let verifier = format!("{}{}", simulator::auth::random_token(), "-pkce.verifier~");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Absolute URL of a SMART endpoint path of the active profile.
pub fn smart_url(sim: &RunningSimulator, which: &str) -> String {
    let p = sim.state().profile();
    let s = &p.smart;
    let path = match which {
        "authorize" => &s.authorize_path,
        "token" => &s.token_path,
        "introspect" => &s.introspect_path,
        "revoke" => &s.revoke_path,
        "jwks" => &s.jwks_path,
        other => panic!("no endpoint {other}"),
    };
    format!("{}{}", sim.base_url(), path)
}

/// Query parameters of a `Location` header.
pub fn location_params(resp: &reqwest::Response) -> Vec<(String, String)> {
    let loc = resp
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    let url = url::Url::parse(loc).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of one query parameter.
pub fn param<'a>(params: &'a [(String, String)], k: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

/// Authorize headlessly with `extra` parameters; returns the raw response.
pub async fn authorize(
    sim: &RunningSimulator,
    client_id: &str,
    scope: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let aud = sim.fhir_base_url();
    let mut q: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", DEMO_REDIRECT_URI),
        ("scope", scope),
        ("state", "st-123"),
        ("aud", &aud),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        q.retain(|(key, _)| key != k);
        q.push((k, v));
    }
    q.retain(|(_, v)| !v.is_empty());
    http()
        .get(smart_url(sim, "authorize"))
        .query(&q)
        .send()
        .await
        .unwrap()
}

/// Run the public-client authorization-code flow; returns the token response.
pub async fn app_token(sim: &RunningSimulator, scope: &str) -> Value {
    app_token_for(sim, "demo-public", scope, &[]).await
}

/// The authorization-code flow for `client_id` (public or confidential-symmetric).
pub async fn app_token_for(
    sim: &RunningSimulator,
    client_id: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Value {
    let (verifier, challenge) = pkce();
    let r = authorize(sim, client_id, scope, &challenge, extra).await;
    assert_eq!(r.status(), 302, "authorize redirects");
    let params = location_params(&r);
    let code = param(&params, "code").expect("a code").to_owned();
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", DEMO_REDIRECT_URI.to_owned()),
        ("code_verifier", verifier),
    ];
    let mut req = http().post(smart_url(sim, "token"));
    let client = sim.state().clients().smart(client_id).cloned().unwrap();
    match client.secret {
        Some(secret) => req = req.basic_auth(client_id, Some(secret)),
        None => form.push(("client_id", client_id.to_owned())),
    }
    let resp = req.form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 200, "token exchange succeeds");
    resp.json().await.unwrap()
}

/// Standard assertion claims for `client_id` at this simulator's token URL.
pub fn assertion_claims(sim: &RunningSimulator, client_id: &str) -> Value {
    let now = simulator::auth::unix_now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": smart_url(sim, "token"),
        "exp": now + 240,
        "iat": now,
        "jti": simulator::auth::random_token(),
    })
}

/// POST a client_credentials request with this assertion.
pub async fn client_credentials(
    sim: &RunningSimulator,
    assertion: &str,
    scope: &str,
) -> reqwest::Response {
    http()
        .post(smart_url(sim, "token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap()
}

/// A backend-services access token for `demo-backend` with `scope`.
pub async fn backend_token(sim: &RunningSimulator, scope: &str) -> String {
    let key = sim.state().auth.demo_backend_key().clone();
    let jwt = key.sign_assertion(&assertion_claims(sim, "demo-backend"));
    let r = client_credentials(sim, &jwt, scope).await;
    assert_eq!(r.status(), 200, "backend token");
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// GET a FHIR path (relative to the base) with a bearer token.
pub async fn fhir_get(sim: &RunningSimulator, token: &str, rel: &str) -> reqwest::Response {
    http()
        .get(format!(
            "{}/{}",
            sim.fhir_base_url(),
            rel.trim_start_matches('/')
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A simulator with extra registered clients.
pub async fn start_with_clients(
    profile: &str,
    clients: simulator::clients::ClientRegistry,
) -> RunningSimulator {
    simulator::Simulator::builder()
        .profile_named(profile)
        .expect("built-in profile")
        .clients(clients)
        .start()
        .await
        .expect("simulator starts")
}

/// A backend client registration with an inline JWKS.
pub fn backend_client(
    id: &str,
    key: &simulator::auth::ClientKey,
    part2_consent: bool,
) -> simulator::clients::SmartClient {
    simulator::clients::SmartClient {
        id: id.into(),
        name: None,
        kind: simulator::clients::ClientKind::Backend,
        secret: None,
        redirect_uris: Vec::new(),
        jwks_url: None,
        jwks: Some(key.jwks.clone()),
        scopes: vec!["system/*.rs".into()],
        part2_consent,
    }
}

/// A backend token for a registered backend client signing with `key`.
pub async fn backend_token_with(
    sim: &RunningSimulator,
    client_id: &str,
    key: &simulator::auth::ClientKey,
    scope: &str,
) -> String {
    let jwt = key.sign_assertion(&assertion_claims(sim, client_id));
    let r = client_credentials(sim, &jwt, scope).await;
    assert_eq!(r.status(), 200, "backend token for {client_id}");
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// The practice behind a simulator.
pub fn practice(sim: &RunningSimulator) -> &simulator::practice::Practice {
    simulator::fhir::store(sim.state()).practice()
}

/// The FHIR id of patient `i`.
pub fn patient_id(sim: &RunningSimulator, i: u32) -> String {
    practice(sim)
        .patient(simulator::practice::PatientIndex(i))
        .unwrap()
        .id
        .to_string()
}

/// GET a FHIR path and parse the JSON body, asserting the status.
pub async fn fhir_json(sim: &RunningSimulator, token: &str, rel: &str, status: u16) -> Value {
    let r = fhir_get(sim, token, rel).await;
    assert_eq!(r.status().as_u16(), status, "GET {rel}");
    r.json().await.unwrap()
}

/// Ids of the `match` entries of a search Bundle.
pub fn match_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter(|e| e["search"]["mode"] == "match")
                .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The `next` link of a Bundle.
pub fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find_map(|l| (l["relation"] == "next").then(|| l["url"].as_str().unwrap().to_owned()))
}

/// Whether header `name` contains `text`.
pub fn header_has(r: &reqwest::Response, name: &str, text: &str) -> bool {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(text))
}

/// GET an absolute URL without a token and parse the JSON body.
pub async fn get_json(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}
