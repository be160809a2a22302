//! Secrets never reach the CLI's logs, its `--journal` file or the runner's
//! reports. `ngsim serve` runs with debug logging; a session with a GSA token
//! (and a wrong secret tried first), Enterprise calls, a backend
//! `private_key_jwt` token, FHIR reads and a Bulk kickoff goes through it;
//! after SIGTERM, everything it printed after its banner (the banner hands
//! out the demo credentials on purpose), its stderr and its journal file are
//! scanned for each secret. An `ngsim run` then writes every report format,
//! which must hold no key material or token-shaped strings.
//!
//! (`simulator/tests/secrets_scan.rs` covers the authorization-code and
//! refresh flows and the in-memory journal.)

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use simulator::auth::keys::ClientKey;

fn ngsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngsim"))
}

/// The value after `key` on a banner line, up to the next comma or space.
fn after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(key)? + key.len()..];
    Some(rest.trim().split([',', ' ']).next().unwrap_or(""))
}

/// Kills the server if the test fails before its SIGTERM.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn found(secrets: &[(String, String)], text: &str) -> Vec<String> {
    secrets
        .iter()
        .filter(|(_, v)| text.contains(v.as_str()))
        .map(|(l, _)| l.clone())
        .collect()
}

#[test]
fn serve_logs_and_journal_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut child = ngsim()
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--mllp",
            "127.0.0.1:0",
            "--patients",
            "10",
            "--journal",
        ])
        .arg(&journal)
        .env("NGSIM_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let mut child = KillOnDrop(child);
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (mut http, mut gsa_secret, mut key_path) = (String::new(), String::new(), String::new());
    let (mut line, mut banner) = (String::new(), String::new());
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "banner ended early"
        );
        banner.push_str(&line);
        if let Some(v) = line.trim_start().strip_prefix("HTTP ") {
            http = v.trim().to_owned();
        }
        if line.contains("GSA account") {
            gsa_secret = after(&line, "client_secret").unwrap().to_owned();
        }
        if line.contains("backend service") {
            key_path = after(&line, ", key").unwrap().to_owned();
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    assert!(!http.is_empty() && !gsa_secret.is_empty() && !key_path.is_empty());
    let pem = std::fs::read_to_string(&key_path).unwrap();
    let mut secrets: Vec<(String, String)> = vec![
        ("GSA client secret".into(), gsa_secret.clone()),
        ("wrong GSA secret".into(), "wrong-secret-8c1f0e".into()),
    ];
    for (i, l) in pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .enumerate()
    {
        secrets.push((format!("private key PEM line {i}"), l.to_owned()));
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let meta: Value = c
            .get(format!("{http}/_ngsim/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let profile = meta["profile"].as_str().unwrap();
        // GSA: a wrong secret first, then the right one; a session and a call.
        let p = simulator::profile::ProfileLoader::default()
            .load(profile)
            .unwrap();
        let oauth = format!("{http}{}/token", p.enterprise.oauth_base);
        let form = |secret: &str| {
            vec![
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", "demo-gsa".to_owned()),
                ("client_secret", secret.to_owned()),
                ("site_id", simulator::clients::DEFAULT_SITE_ID.to_owned()),
            ]
        };
        let r = c
            .post(&oauth)
            .form(&form("wrong-secret-8c1f0e"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());
        let r = c
            .post(&oauth)
            .form(&form(&gsa_secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let gsa_token = v["access_token"].as_str().unwrap().to_owned();
        secrets.push(("GSA token".into(), gsa_token.clone()));
        let api = format!("{http}{}", p.enterprise.api_base);
        let r = c
            .put(format!("{api}/users/me/login-defaults"))
            .bearer_auth(&gsa_token)
            .json(&json!({"enterpriseId": "00001", "practiceId": "0001"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // Backend services: sign an assertion with the demo key from its file.
        let key = ClientKey {
            kid: "demo-backend-es384".into(),
            private_pem: pem.clone(),
            jwks: String::new(),
        };
        let token_url = format!("{http}{}", p.smart.token_path);
        let now = simulator::auth::unix_now();
        let jwt = key.sign_assertion(&json!({
            "iss": "demo-backend", "sub": "demo-backend", "aud": token_url,
            "exp": now + 240, "iat": now, "jti": simulator::auth::random_token(),
        }));
        secrets.push(("client assertion".into(), jwt.clone()));
        let r = c
            .post(&token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", jwt.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let backend = v["access_token"].as_str().unwrap().to_owned();
        secrets.push(("backend token".into(), backend.clone()));
        let fhir = format!("{http}{}", p.fhir.base_path);
        let r = c
            .get(format!("{fhir}/Patient?family=a"))
            .bearer_auth(&backend)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert!(
            s != 401 && s != 403 && s < 500,
            "FHIR search with the backend token: {s}"
        );
        let r = c
            .get(format!("{fhir}/$export"))
            .header("accept", "application/fhir+json")
            .header("prefer", "respond-async")
            .bearer_auth(&backend)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        // A bad bearer that looks like a token must not be echoed either.
        secrets.push(("rejected bearer".into(), "not-a-real-token-4d9e2b7a".into()));
        let r = c
            .get(format!("{fhir}/Patient"))
            .bearer_auth("not-a-real-token-4d9e2b7a")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    });

    let pid = i32::try_from(child.0.id()).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child with a standard signal.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0);
    assert!(child.0.wait().unwrap().success());
    let logs = err_reader.join().unwrap();
    let rest = out_reader.join().unwrap();
    assert!(
        logs.contains("DEBUG") || logs.contains("INFO"),
        "debug logging was on: {logs:.200}"
    );
    let file = std::fs::read_to_string(&journal).unwrap();
    assert!(
        file.contains("demo-gsa") && file.contains("demo-backend"),
        "the session was journaled"
    );
    // The scan finds what is there: the banner hands out the GSA secret.
    assert!(found(&secrets, &banner).contains(&"GSA client secret".to_owned()));
    assert_eq!(
        found(&secrets, &logs),
        Vec::<String>::new(),
        "secrets in stderr"
    );
    assert_eq!(
        found(&secrets, &rest),
        Vec::<String>::new(),
        "secrets on stdout after the banner"
    );
    assert_eq!(
        found(&secrets, &file),
        Vec::<String>::new(),
        "secrets in the journal file"
    );
}

#[test]
fn runner_reports_hold_no_key_material_or_tokens() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sut = rt
        .block_on(suites::reference::start(None, Duration::from_millis(1200)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_millis(400))).unwrap();
    let reports = dir.path().join("reports");
    let out = ngsim()
        .args(["run", "--scenario", "ack-receiver", "--sut"])
        .arg(&manifest)
        .arg("--report-dir")
        .arg(&reports)
        .env("NGSIM_LOG", "debug")
        .output()
        .unwrap();
    drop(sut);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut texts = vec![
        (
            "stdout".to_owned(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            "stderr".to_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    ];
    for e in std::fs::read_dir(&reports).unwrap() {
        let p = e.unwrap().path();
        texts.push((
            p.display().to_string(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    assert!(texts.len() >= 6, "every report format was written");
    for (name, text) in &texts {
        for needle in [
            "PRIVATE KEY",
            "client_secret=",
            "\"access_token\"",
            "\"refresh_token\"",
            "eyJ",
        ] {
            assert!(!text.contains(needle), "{name} contains {needle:?}");
        }
    }
}
