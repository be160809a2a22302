//! SMART authorization server: discovery, the authorization-code flow with
//! PKCE, refresh rotation, backend services, introspection, revocation, JWKS,
//! id_tokens, launch contexts, token expiry and the bearer checks.

mod support;

use serde_json::Value;
use simulator::clients::DEMO_REDIRECT_URI;
use support::*;

async fn introspect(sim: &simulator::RunningSimulator, token: &str) -> Value {
    http()
        .post(smart_url(sim, "introspect"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn smart_configuration_is_json_with_absolute_urls_for_every_profile() {
    for profile in ["nge-5.9.2", "nge-office"] {
        let sim = start(profile).await;
        let url = format!("{}/.well-known/smart-configuration", sim.fhir_base_url());
        let r = http()
            .get(&url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let v: Value = r.json().await.unwrap();
        for k in [
            "authorization_endpoint",
            "token_endpoint",
            "introspection_endpoint",
            "revocation_endpoint",
            "jwks_uri",
            "issuer",
        ] {
            assert!(
                v[k].as_str().unwrap().starts_with(sim.base_url()),
                "{profile}: {k} is absolute"
            );
        }
        assert_eq!(
            v["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            v["token_endpoint_auth_signing_alg_values_supported"],
            serde_json::json!(["RS384", "ES384"])
        );
        let has_scopes = v.get("scopes_supported").is_some();
        assert_eq!(
            has_scopes,
            profile != "nge-office",
            "{profile}: scopes_supported"
        );
        let mut snap = v.clone();
        for (_, val) in snap.as_object_mut().unwrap().iter_mut() {
            if let Some(s) = val.as_str() {
                *val = s.replace(sim.base_url(), "http://[sim]").into();
            }
        }
        insta::assert_json_snapshot!(format!("smart_configuration_{profile}"), snap);
    }
}

#[tokio::test]
async fn upper_case_r4_base_answers_too() {
    let sim = start("nge-5.9.2").await;
    let url = format!(
        "{}/nge/prod/fhir-api-r4/fhir/R4/.well-known/smart-configuration",
        sim.base_url()
    );
    assert_eq!(http().get(url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn authorization_code_flow_with_pkce_state_and_context() {
    let sim = start("nge-5.9.2").await;
    let (verifier, challenge) = pkce();
    let r = authorize(
        &sim,
        "demo-public",
        "launch/patient openid fhirUser offline_access patient/*.rs",
        &challenge,
        &[],
    )
    .await;
    assert_eq!(r.status(), 302);
    let params = location_params(&r);
    assert_eq!(param(&params, "state"), Some("st-123"));
    let code = param(&params, "code").unwrap().to_owned();
    let token = |code: String, verifier: String| {
        http().post(smart_url(&sim, "token")).form(&[
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", DEMO_REDIRECT_URI.to_owned()),
            ("code_verifier", verifier),
            ("client_id", "demo-public".to_owned()),
        ])
    };
    let resp = token(code.clone(), verifier.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(
        v["scope"],
        "launch/patient openid fhirUser offline_access patient/*.rs"
    );
    assert!(v["patient"].is_string());
    assert_eq!(v["need_patient_banner"], true);
    assert!(v["smart_style_url"].is_string());
    assert!(v["refresh_token"].is_string());

    // The id_token verifies with the server's published key.
    let jwks: Value = http()
        .get(smart_url(&sim, "jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let k = &jwks["keys"][0];
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        k["n"].as_str().unwrap(),
        k["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    val.set_audience(&["demo-public"]);
    val.set_issuer(&[sim.fhir_base_url()]);
    let id = jsonwebtoken::decode::<Value>(v["id_token"].as_str().unwrap(), &key, &val).unwrap();
    assert_eq!(
        id.claims["fhirUser"],
        format!(
            "{}/Patient/{}",
            sim.fhir_base_url(),
            v["patient"].as_str().unwrap()
        )
    );
    assert!(id.claims["sub"].is_string() && id.claims["iat"].is_u64());

    // The code is single-use.
    let again = token(code, verifier).send().await.unwrap();
    assert_eq!(again.status(), 400);
    let e: Value = again.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");

    // Introspection echoes the context; revocation ends it.
    let at = v["access_token"].as_str().unwrap();
    let intro = introspect(&sim, at).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], "demo-public");
    assert_eq!(intro["patient"], v["patient"]);
    assert!(intro["exp"].is_u64() && intro["iss"].is_string() && intro["sub"].is_string());
    let rv = http()
        .post(smart_url(&sim, "revoke"))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(rv.status(), 200);
    let intro = introspect(&sim, at).await;
    assert_eq!(intro, serde_json::json!({"active": false}));

    // The journal names the client and scopes but never holds a secret.
    let entries = serde_json::to_string(&sim.journal().snapshot()).unwrap();
    assert!(entries.contains("demo-public"));
    assert!(!entries.contains(at));
    assert!(!entries.contains(v["refresh_token"].as_str().unwrap()));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_is_refused() {
    let sim = start("nge-5.9.2").await;
    let v = app_token(&sim, "launch/patient offline_access patient/Observation.rs").await;
    let rt1 = v["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| {
        http().post(smart_url(&sim, "token")).form(&[
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt),
            ("client_id", "demo-public".to_owned()),
        ])
    };
    let r = refresh(rt1.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v2: Value = r.json().await.unwrap();
    let rt2 = v2["refresh_token"].as_str().unwrap();
    assert_ne!(rt2, rt1);
    assert_eq!(v2["patient"], v["patient"]);
    let reused = refresh(rt1).send().await.unwrap();
    assert_eq!(reused.status(), 400);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(refresh(rt2.to_owned()).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn confidential_symmetric_client_uses_basic_auth() {
    let sim = start("nge-5.9.2").await;
    let v = app_token_for(
        &sim,
        "demo-confidential",
        "launch/patient patient/*.read",
        &[],
    )
    .await;
    assert_eq!(v["scope"], "launch/patient patient/*.read");
}

#[tokio::test]
async fn backend_services_token_with_es384_and_narrowed_scopes() {
    let sim = start("nge-5.9.2").await;
    let key = sim.state().auth.demo_backend_key().clone();
    let jwt = key.sign_assertion(&assertion_claims(&sim, "demo-backend"));
    let r = client_credentials(&sim, &jwt, "system/Patient.rs system/*.cruds").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 300);
    assert_eq!(v["scope"], "system/Patient.rs system/*.rs");
    assert!(v.get("refresh_token").is_none());
    assert!(
        sim.state()
            .auth
            .demo_backend_key_pem()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

#[tokio::test]
async fn ehr_launch_context_flows_into_the_token() {
    let sim = start("nge-5.9.2").await;
    let patient = simulator::fhir::directory::default_patient(sim.state()).unwrap();
    let r = http()
        .post(format!("{}/_ngsim/launch", sim.base_url()))
        .json(&serde_json::json!({"patient": patient, "encounter": "enc-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let l: Value = r.json().await.unwrap();
    let launch = l["launch"].as_str().unwrap();
    assert!(l["launch_url"].as_str().unwrap().contains("iss="));
    let v = app_token_for(
        &sim,
        "demo-public",
        "launch openid fhirUser user/*.rs",
        &[("launch", launch)],
    )
    .await;
    assert_eq!(v["patient"], patient.as_str());
    assert_eq!(v["encounter"], "enc-1");
    assert!(v["id_token"].is_string());
}

#[tokio::test]
async fn approve_page_switch_renders_a_form_that_posts() {
    let sim = start("nge-5.9.2").await;
    let r = http()
        .put(format!("{}/_ngsim/authorize-mode", sim.base_url()))
        .json(&serde_json::json!({"approve_page": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, challenge) = pkce();
    let r = authorize(
        &sim,
        "demo-public",
        "launch/patient patient/*.rs",
        &challenge,
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""));
    assert!(html.contains("name=\"ngsim_patient\""));
    assert!(html.contains("Approve"));
}

#[tokio::test]
async fn bearer_checks_missing_unknown_and_expired_tokens() {
    let sim = start("nge-5.9.2").await;
    let meta = http()
        .get(format!("{}/metadata", sim.fhir_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(meta.status(), 200, "metadata needs no token");
    let r = http()
        .get(format!("{}/Patient", sim.fhir_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = fhir_get(&sim, "not-a-token", "Patient").await;
    assert_eq!(r.status(), 401);
    assert!(header_has(
        &r,
        "www-authenticate",
        "error=\"invalid_token\""
    ));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");

    let token = backend_token(&sim, "system/*.rs").await;
    let grant = sim.state().auth.lookup(&token).unwrap();
    assert_eq!(grant.client_id, "demo-backend");
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(301)).await;
    assert!(
        sim.state().auth.lookup(&token).is_none(),
        "expired on tokio's clock"
    );
    let r = fhir_get(&sim, &token, "Patient").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn token_lifetime_fault_shortens_tokens_and_is_journaled() {
    let sim = start("nge-5.9.2").await;
    sim.state().faults.add(
        serde_json::from_value(serde_json::json!({
            "surface": "oauth", "kind": "token-lifetime", "secs": 7, "name": "short-tokens"
        }))
        .unwrap(),
    );
    let v = app_token(&sim, "launch/patient patient/*.rs").await;
    assert_eq!(v["expires_in"], 7);
    let journal = serde_json::to_string(&sim.journal().snapshot()).unwrap();
    assert!(journal.contains("short-tokens"));
}

#[tokio::test]
async fn jwks_by_url_is_fetched_once_cached_and_jku_must_match() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let key = simulator::auth::ClientKey::generate_es384("url-key");
    let hits = Arc::new(AtomicUsize::new(0));
    let jwks = key.jwks.clone();
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = jwks.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut client = backend_client("url-backend", &key, false);
    client.jwks = None;
    client.jwks_url = Some(url.clone());
    let reg = simulator::clients::ClientRegistry {
        smart: vec![client],
        gsa: Vec::new(),
    };
    let sim = start_with_clients("nge-5.9.2", reg).await;
    let sign_with_jku = |jku: &str| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
        h.kid = Some("url-key".into());
        h.typ = Some("JWT".into());
        h.jku = Some(jku.into());
        let k = jsonwebtoken::EncodingKey::from_ec_pem(key.private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&h, &assertion_claims(&sim, "url-backend"), &k).unwrap()
    };
    for _ in 0..2 {
        let r = client_credentials(&sim, &sign_with_jku(&url), "system/Patient.rs").await;
        assert_eq!(r.status(), 200);
    }
    // Without jku the registered URL is used too.
    let plain = key.sign_assertion(&assertion_claims(&sim, "url-backend"));
    assert_eq!(
        client_credentials(&sim, &plain, "system/Patient.rs")
            .await
            .status(),
        200
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the JWKS is cached");
    let r = client_credentials(
        &sim,
        &sign_with_jku("http://127.0.0.1:9/other.json"),
        "system/Patient.rs",
    )
    .await;
    assert_eq!(r.status(), 401);
    let style = get_json(&format!("{}/_ngsim/smart-style.json", sim.base_url())).await;
    assert!(style["color_background"].is_string());
}
