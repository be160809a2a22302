//! Secrets never reach the journal. A realistic session (SMART authorization
//! code with PKCE and a refresh, `client_secret_basic`, backend
//! `private_key_jwt`, a GSA token and Enterprise calls, a Bulk kickoff and
//! status poll) runs against a simulator journaling to memory and to a
//! `--journal` file; then both are scanned for every secret the session used:
//! client secrets, the private key's PEM material, access and refresh tokens,
//! the GSA token and the client assertion.
//!
//! (`suites/tests/secrets_cli.rs` does the same for the CLI's logs and the
//! runner's reports.)

mod support;

use serde_json::Value;
use support::*;

/// Every secret used, with a label for the failure message.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, label: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{label} is too short to scan for: {value:?}"
        );
        self.0.push((label.to_owned(), value.to_owned()));
    }

    /// Labels of the secrets found in `text`.
    fn found_in(&self, text: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, v)| text.contains(v.as_str()))
            .map(|(l, _)| l.clone())
            .collect()
    }
}

#[tokio::test]
async fn a_full_session_leaves_no_secret_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let sim = simulator::Simulator::builder()
        .profile_named("nge-5.9.2")
        .unwrap()
        .journal_file(&path)
        .start()
        .await
        .unwrap();
    let mut secrets = Secrets::default();
    let clients = sim.state().clients();

    // SMART app, authorization code + PKCE, then a refresh.
    let v = app_token(&sim, "launch/patient offline_access patient/*.rs").await;
    let at = v["access_token"].as_str().unwrap();
    let rt = v["refresh_token"].as_str().unwrap();
    secrets.add("app access token", at);
    secrets.add("app refresh token", rt);
    let r = http()
        .post(smart_url(&sim, "token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "demo-public"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v2: Value = r.json().await.unwrap();
    secrets.add(
        "refreshed access token",
        v2["access_token"].as_str().unwrap(),
    );
    secrets.add(
        "rotated refresh token",
        v2["refresh_token"].as_str().unwrap(),
    );
    let patient = v2["patient"].as_str().unwrap().to_owned();
    let r = fhir_get(
        &sim,
        v2["access_token"].as_str().unwrap(),
        &format!("Patient/{patient}"),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Confidential app with client_secret_basic.
    let secret = clients
        .smart("demo-confidential")
        .unwrap()
        .secret
        .clone()
        .unwrap();
    secrets.add("confidential client secret", &secret);
    let v = app_token_for(
        &sim,
        "demo-confidential",
        "launch/patient patient/*.read",
        &[],
    )
    .await;
    secrets.add(
        "confidential access token",
        v["access_token"].as_str().unwrap(),
    );

    // Backend services, private_key_jwt.
    let key = sim.state().auth.demo_backend_key().clone();
    let pem = sim.state().auth.demo_backend_key_pem().to_owned();
    for (i, line) in pem.lines().filter(|l| !l.starts_with("-----")).enumerate() {
        if line.len() >= 16 {
            secrets.add(&format!("private key PEM line {i}"), line);
        }
    }
    let jwt = key.sign_assertion(&assertion_claims(&sim, "demo-backend"));
    secrets.add("client assertion", &jwt);
    secrets.add(
        "client assertion signature",
        jwt.rsplit('.').next().unwrap(),
    );
    let r = client_credentials(&sim, &jwt, "system/*.rs").await;
    assert_eq!(r.status(), 200);
    let backend: Value = r.json().await.unwrap();
    let backend = backend["access_token"].as_str().unwrap().to_owned();
    secrets.add("backend access token", &backend);

    // Bulk kickoff and a status poll with the backend token.
    let kick = http()
        .get(format!(
            "{}/Group/all-patients/$export",
            sim.fhir_base_url()
        ))
        .header("accept", "application/fhir+json")
        .header("prefer", "respond-async")
        .bearer_auth(&backend)
        .send()
        .await
        .unwrap();
    assert_eq!(kick.status(), 202);
    let status_url = kick.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = http()
        .get(&status_url)
        .bearer_auth(&backend)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "bulk status {}", r.status());

    // Enterprise: a GSA token, a session and a call.
    let gsa = clients.gsa("demo-gsa").unwrap().clone();
    secrets.add("GSA client secret", &gsa.client_secret);
    let p = sim.state().profile();
    let oauth = format!("{}{}", sim.base_url(), p.enterprise.oauth_base);
    let r = http()
        .post(format!("{oauth}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", gsa.client_id.as_str()),
            ("client_secret", gsa.client_secret.as_str()),
            ("site_id", gsa.site_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let gsa_token = v["access_token"].as_str().unwrap().to_owned();
    secrets.add("GSA token", &gsa_token);
    let api = sim.enterprise_base_url();
    let r = http()
        .put(format!("{api}/users/me/login-defaults"))
        .bearer_auth(&gsa_token)
        .json(&serde_json::json!({"enterpriseId": "00001", "practiceId": "0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session = r.headers()["x-ng-sessionid"].to_str().unwrap().to_owned();
    let r = http()
        .get(format!("{api}/persons/lookup?lastName=a"))
        .bearer_auth(&gsa_token)
        .header("x-ng-sessionid", &session)
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 500);

    // Scan the journal in memory and on disk.
    let memory: Vec<String> = sim
        .journal()
        .snapshot()
        .iter()
        .map(|e| serde_json::to_string(&**e).unwrap())
        .collect();
    assert!(memory.len() >= 10, "the session was journaled");
    let memory = memory.join("\n");
    // The scan covers the authenticated exchanges: their clients are named.
    for client in [
        "demo-public",
        "demo-confidential",
        "demo-backend",
        "demo-gsa",
    ] {
        assert!(memory.contains(client), "{client} is not in the journal");
    }
    assert_eq!(
        secrets.found_in(&memory),
        Vec::<String>::new(),
        "secrets in the in-memory journal"
    );
    sim.journal().flush();
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.lines().count() >= 10);
    assert_eq!(
        secrets.found_in(&file),
        Vec::<String>::new(),
        "secrets in the journal file"
    );
    // The control API's journal view is the same data over HTTP.
    let body = http()
        .get(format!("{}/_ngsim/journal", sim.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        secrets.found_in(&body),
        Vec::<String>::new(),
        "secrets in /_ngsim/journal"
    );
    sim.shutdown().await;
}
