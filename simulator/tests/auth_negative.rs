//! Bad input at the authorization server, table-driven: every case gets the
//! exact protocol error (status plus `error` code), snapshotted, never a panic.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use simulator::RunningSimulator;
use simulator::auth::ClientKey;
use simulator::clients::DEMO_REDIRECT_URI;
use support::*;

fn header(alg: Algorithm, kid: &str) -> Header {
    let mut h = Header::new(alg);
    h.kid = Some(kid.into());
    h.typ = Some("JWT".into());
    h
}

fn demo_key(sim: &RunningSimulator) -> EncodingKey {
    EncodingKey::from_ec_pem(sim.state().auth.demo_backend_key_pem().as_bytes()).unwrap()
}

fn sign(sim: &RunningSimulator, h: Header, claims: &Value) -> String {
    jsonwebtoken::encode(&h, claims, &demo_key(sim)).unwrap()
}

fn claims_with(sim: &RunningSimulator, patch: Value) -> Value {
    let mut c = assertion_claims(sim, "demo-backend");
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// `(status, error)` of an OAuth JSON error response.
async fn outcome(r: reqwest::Response) -> Value {
    let status = r.status().as_u16();
    let www = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let mut v = json!({
        "status": status,
        "error": body["error"],
        "error_description": body["error_description"],
    });
    if let Some(w) = www {
        v["www-authenticate"] = w.into();
    }
    v
}

/// `(status, error)` of an authorize redirect (`error=` in the Location).
fn redirect_outcome(r: &reqwest::Response) -> Value {
    let status = r.status().as_u16();
    if status != 302 {
        return json!({"status": status});
    }
    let p = location_params(r);
    json!({
        "status": status,
        "error": param(&p, "error"),
        "error_description": param(&p, "error_description"),
        "state": param(&p, "state"),
    })
}

/// The table with the simulator's port replaced, so snapshots are stable.
fn redact(sim: &RunningSimulator, table: serde_json::Map<String, Value>) -> Value {
    let text = Value::Object(table)
        .to_string()
        .replace(sim.base_url(), "http://[sim]");
    serde_json::from_str(&text).unwrap()
}

async fn cc(sim: &RunningSimulator, jwt: &str) -> Value {
    outcome(client_credentials(sim, jwt, "system/*.rs").await).await
}

#[tokio::test]
async fn bad_client_assertions_and_token_requests() {
    let sim = start("nge-5.9.2").await;
    let kid = sim.state().auth.demo_backend_key().kid.clone();
    let now = simulator::auth::unix_now();
    let mut table = serde_json::Map::new();
    let mut put = |name: &str, v: Value| {
        table.insert(name.to_owned(), v);
    };

    put("malformed_jwt", cc(&sim, "not-a-jwt").await);
    put("garbage_segments", cc(&sim, "a.b.c").await);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims_with(&sim, json!({})).to_string())
    );
    put("alg_none", cc(&sim, &none).await);
    let hs = jsonwebtoken::encode(
        &header(Algorithm::HS256, &kid),
        &claims_with(&sim, json!({})),
        &EncodingKey::from_secret(b"shared-secret"),
    )
    .unwrap();
    put("hs256", cc(&sim, &hs).await);
    let other = ClientKey::generate_es384(&kid);
    put(
        "wrong_key",
        cc(&sim, &other.sign_assertion(&claims_with(&sim, json!({})))).await,
    );
    put(
        "unknown_kid",
        cc(
            &sim,
            &sign(
                &sim,
                header(Algorithm::ES384, "nope"),
                &claims_with(&sim, json!({})),
            ),
        )
        .await,
    );
    let es = |patch: Value| {
        sign(
            &sim,
            header(Algorithm::ES384, &kid),
            &claims_with(&sim, patch),
        )
    };
    put(
        "expired_exp",
        cc(&sim, &es(json!({"exp": now - 120}))).await,
    );
    put("missing_exp", cc(&sim, &es(json!({"exp": null}))).await);
    put("future_iat", cc(&sim, &es(json!({"iat": now + 120}))).await);
    put(
        "exp_over_5_minutes",
        cc(&sim, &es(json!({"exp": now + 600}))).await,
    );
    put("missing_jti", cc(&sim, &es(json!({"jti": null}))).await);
    put(
        "wrong_aud",
        cc(&sim, &es(json!({"aud": "https://example.com/token"}))).await,
    );
    put(
        "sub_differs",
        cc(&sim, &es(json!({"sub": "someone-else"}))).await,
    );
    put(
        "unknown_client",
        cc(&sim, &es(json!({"iss": "nobody", "sub": "nobody"}))).await,
    );
    let once = es(json!({}));
    put("jti_first_use", cc(&sim, &once).await);
    put("jti_reused", cc(&sim, &once).await);
    let mut h = header(Algorithm::ES384, &kid);
    h.jku = Some("https://attacker.example/jwks.json".into());
    put(
        "jku_not_registered",
        cc(&sim, &sign(&sim, h, &claims_with(&sim, json!({})))).await,
    );
    let mut h = header(Algorithm::ES384, &kid);
    h.typ = Some("JOSE".into());
    put(
        "typ_not_jwt",
        cc(&sim, &sign(&sim, h, &claims_with(&sim, json!({})))).await,
    );
    let token = smart_url(&sim, "token");
    let post = |form: Vec<(&'static str, String)>| http().post(&token).form(&form).send();
    put(
        "bad_assertion_type",
        outcome(
            post(vec![
                ("grant_type", "client_credentials".into()),
                ("scope", "system/*.rs".into()),
                ("client_assertion_type", "urn:example:wrong".into()),
                ("client_assertion", es(json!({}))),
            ])
            .await
            .unwrap(),
        )
        .await,
    );
    put(
        "bad_grant_type",
        outcome(
            post(vec![
                ("grant_type", "password".into()),
                ("client_id", "demo-public".into()),
            ])
            .await
            .unwrap(),
        )
        .await,
    );
    put(
        "missing_grant_type",
        outcome(
            post(vec![("client_id", "demo-public".into())])
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "scope_beyond_registration",
        outcome(client_credentials(&sim, &es(json!({})), "patient/*.rs").await).await,
    );
    put(
        "repeated_parameter",
        outcome(
            http()
                .post(&token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&grant_type=client_credentials")
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "body_too_large",
        outcome(
            http()
                .post(&token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=x&pad={}", "a".repeat(2 << 20)))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "wrong_client_secret",
        outcome(
            http()
                .post(&token)
                .basic_auth("demo-confidential", Some("wrong"))
                .form(&[("grant_type", "authorization_code"), ("code", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "confidential_without_auth",
        outcome(
            post(vec![
                ("grant_type", "authorization_code".into()),
                ("client_id", "demo-confidential".into()),
            ])
            .await
            .unwrap(),
        )
        .await,
    );
    put(
        "no_client_at_all",
        outcome(
            post(vec![("grant_type", "authorization_code".into())])
                .await
                .unwrap(),
        )
        .await,
    );
    insta::assert_json_snapshot!("token_endpoint_errors", redact(&sim, table));
}

#[tokio::test]
async fn bad_authorize_requests_and_code_exchanges() {
    let sim = start("nge-5.9.2").await;
    let (verifier, challenge) = pkce();
    let scope = "launch/patient patient/*.rs offline_access";
    let mut table = serde_json::Map::new();
    let mut put = |name: &str, v: Value| {
        table.insert(name.to_owned(), v);
    };
    let az = |client: &'static str, extra: Vec<(&'static str, String)>| {
        let sim = &sim;
        let challenge = challenge.clone();
        async move {
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            authorize(sim, client, scope, &challenge, &extra).await
        }
    };
    let r = az("nobody", vec![]).await;
    put(
        "unknown_client",
        json!({"status": r.status().as_u16(), "html": r.text().await.unwrap().contains("invalid_client")}),
    );
    let r = az(
        "demo-public",
        vec![("redirect_uri", "https://evil.example/cb".into())],
    )
    .await;
    put(
        "wrong_redirect_uri",
        json!({"status": r.status().as_u16(), "html": r.text().await.unwrap().contains("not registered")}),
    );
    put(
        "plain_pkce",
        redirect_outcome(
            &az(
                "demo-public",
                vec![("code_challenge_method", "plain".into())],
            )
            .await,
        ),
    );
    put(
        "no_challenge",
        redirect_outcome(&az("demo-public", vec![("code_challenge", String::new())]).await),
    );
    put(
        "no_challenge_method",
        redirect_outcome(
            &az(
                "demo-public",
                vec![("code_challenge_method", String::new())],
            )
            .await,
        ),
    );
    put(
        "wrong_aud",
        redirect_outcome(
            &az(
                "demo-public",
                vec![("aud", "https://other.example/fhir".into())],
            )
            .await,
        ),
    );
    put(
        "bad_response_type",
        redirect_outcome(&az("demo-public", vec![("response_type", "token".into())]).await),
    );
    put(
        "scope_beyond_registration",
        redirect_outcome(&az("demo-public", vec![("scope", "system/*.rs".into())]).await),
    );
    put(
        "unparseable_scope",
        redirect_outcome(
            &az(
                "demo-public",
                vec![("scope", "patient/Observation.sr".into())],
            )
            .await,
        ),
    );
    put(
        "unknown_launch",
        redirect_outcome(&az("demo-public", vec![("launch", "nope".into())]).await),
    );

    let ok = az("demo-public", vec![]).await;
    let code = param(&location_params(&ok), "code").unwrap().to_owned();
    let exchange = |code: String, verifier: String, redirect: &'static str| {
        http().post(smart_url(&sim, "token")).form(&[
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier),
            ("client_id", "demo-public".to_owned()),
        ])
    };
    let bad_verifier = "x".repeat(43);
    put(
        "bad_pkce_verifier",
        outcome(
            exchange(code.clone(), bad_verifier, DEMO_REDIRECT_URI)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "redirect_uri_differs",
        outcome(
            exchange(code.clone(), verifier.clone(), "http://127.0.0.1:9/other")
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    put(
        "unknown_code",
        outcome(
            exchange("nope".into(), verifier.clone(), DEMO_REDIRECT_URI)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let first = exchange(code.clone(), verifier.clone(), DEMO_REDIRECT_URI)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let tok: Value = first.json().await.unwrap();
    put(
        "reused_code",
        outcome(
            exchange(code, verifier, DEMO_REDIRECT_URI)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let rt = tok["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |client: &'static str| {
        http().post(smart_url(&sim, "token")).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
            ("client_id", client),
        ])
    };
    assert_eq!(refresh("demo-public").send().await.unwrap().status(), 200);
    put(
        "reused_refresh_token",
        outcome(refresh("demo-public").send().await.unwrap()).await,
    );
    let launch_bad_json = http()
        .post(format!("{}/_ngsim/launch", sim.base_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    put("launch_bad_json", outcome(launch_bad_json).await);
    insta::assert_json_snapshot!("authorize_errors", redact(&sim, table));
}

#[tokio::test]
async fn bad_resource_requests_get_operation_outcomes() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let mut table = serde_json::Map::new();
    for (name, token, rel) in [
        (
            "unknown_search_param",
            token.as_str(),
            "Patient?shoe-size=9",
        ),
        ("no_token", "", "Patient"),
        ("unknown_token", "nope", "Patient"),
        ("unknown_path", token.as_str(), "Patient/x/extra/segments"),
    ] {
        let mut req = http().get(format!("{}/{rel}", sim.fhir_base_url()));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let www = r
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = r.json().await.unwrap();
        table.insert(
            name.into(),
            json!({"status": status, "www-authenticate": www, "issue": body["issue"][0]}),
        );
    }
    let patient_only = app_token(&sim, "launch/patient patient/Observation.rs").await;
    let r = fhir_get(
        &sim,
        patient_only["access_token"].as_str().unwrap(),
        "Patient",
    )
    .await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    table.insert(
        "type_outside_scopes".into(),
        json!({"status": status, "issue": body["issue"][0]}),
    );
    insta::assert_json_snapshot!("fhir_request_errors", redact(&sim, table));
}
