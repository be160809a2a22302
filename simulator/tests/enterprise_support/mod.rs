//! Shared helpers for the Enterprise API tests: an in-process simulator with a
//! known GSA account, and small request helpers.
#![allow(dead_code)]

use reqwest::{Client, Method, Response};
use serde_json::Value;
use simulator::RunningSimulator;
use simulator::clients::{ClientRegistry, GsaClient};

pub const CLIENT_ID: &str = "acme-gsa";
pub const SECRET: &str = "acme-secret-for-tests";
pub const SITE: &str = simulator::clients::DEFAULT_SITE_ID;
/// The redirect URI the EAL tests use.
pub const EAL_REDIRECT: &str = "http://127.0.0.1:9/cb";

pub struct Nge {
    pub sim: RunningSimulator,
    pub http: Client,
    pub api: String,
    pub oauth: String,
}

pub fn registry() -> ClientRegistry {
    ClientRegistry {
        smart: Vec::new(),
        gsa: vec![GsaClient {
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
            site_id: SITE.into(),
            name: Some("Acme sync".into()),
            part2_consent: false,
        }],
    }
}

impl Nge {
    pub async fn start() -> Nge {
        Nge::start_profile("nge-5.9.2").await
    }

    pub async fn start_profile(name: &str) -> Nge {
        let sim = simulator::Simulator::builder()
            .profile_named(name)
            .expect("profile")
            .clients(registry())
            .start()
            .await
            .expect("start");
        Nge::wrap(sim)
    }

    /// Start with a built-in profile changed by `f`.
    pub async fn start_with(name: &str, f: impl FnOnce(&mut simulator::profile::Profile)) -> Nge {
        Nge::start_built(name, f, |b| b).await
    }

    /// Start with a built-in profile changed by `f` and a builder changed by `b`
    /// (e.g. outbound HL7 destinations).
    pub async fn start_built(
        name: &str,
        f: impl FnOnce(&mut simulator::profile::Profile),
        b: impl FnOnce(simulator::SimulatorBuilder) -> simulator::SimulatorBuilder,
    ) -> Nge {
        let mut p = simulator::profile::ProfileLoader::default()
            .load(name)
            .expect("profile");
        f(&mut p);
        let sim = b(simulator::Simulator::builder()
            .profile(p)
            .clients(registry()))
        .start()
        .await
        .expect("start");
        Nge::wrap(sim)
    }

    pub fn wrap(sim: RunningSimulator) -> Nge {
        let p = sim.state().profile();
        let api = sim.enterprise_base_url();
        let oauth = format!("{}{}", sim.base_url(), p.enterprise.oauth_base);
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // No keep-alive reuse: tests that advance tokio's paused clock would
            // otherwise find the server's header-read timeout closed the socket.
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Nge {
            sim,
            http,
            api,
            oauth,
        }
    }

    /// A GSA token through the form-body flow.
    pub async fn token(&self) -> String {
        let r = self
            .http
            .post(format!("{}/token", self.oauth))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("site_id", SITE),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        v["access_token"].as_str().expect("token").to_owned()
    }

    /// `PUT users/me/login-defaults` → `x-ng-sessionid`.
    pub async fn session(&self, token: &str) -> String {
        let r = self
            .http
            .put(format!("{}/users/me/login-defaults", self.api))
            .bearer_auth(token)
            .json(&serde_json::json!({"enterpriseId": "00001", "practiceId": "0001"}))
            .send()
            .await
            .expect("login-defaults");
        assert_eq!(r.status(), 200);
        r.headers()["x-ng-sessionid"]
            .to_str()
            .expect("header")
            .to_owned()
    }

    /// An EAL user token: `GET {oauth}/authorize` (approved at once), then the
    /// code exchanged at `{oauth}/token`; a code is single-use.
    pub async fn eal_token(&self) -> String {
        let r = self
            .http
            .get(format!("{}/authorize", self.oauth))
            .query(&[
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", EAL_REDIRECT),
                ("state", "xyz"),
                ("user", "4242"),
                ("launch", "pic-launch"),
            ])
            .send()
            .await
            .expect("authorize");
        assert_eq!(r.status(), 302);
        let loc = url::Url::parse(r.headers()["location"].to_str().expect("location"))
            .expect("redirect URL");
        assert!(loc.as_str().starts_with(EAL_REDIRECT));
        let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "xyz");
        let r = self.eal_exchange(&q["code"]).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        assert_eq!(self.eal_exchange(&q["code"]).await.status(), 400);
        v["access_token"].as_str().expect("token").to_owned()
    }

    /// `POST {oauth}/token` with `grant_type=authorization_code`.
    pub async fn eal_exchange(&self, code: &str) -> Response {
        self.http
            .post(format!("{}/token", self.oauth))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", EAL_REDIRECT),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ])
            .send()
            .await
            .expect("token")
    }

    /// A token and a session.
    pub async fn login(&self) -> (String, String) {
        let t = self.token().await;
        let s = self.session(&t).await;
        (t, s)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<(&str, Option<&str>)>,
        body: Option<Value>,
    ) -> Response {
        let mut rb = self.http.request(method, format!("{}{}", self.api, path));
        if let Some((t, s)) = auth {
            rb = rb.bearer_auth(t);
            if let Some(s) = s {
                rb = rb.header("x-ng-sessionid", s);
            }
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.expect("send")
    }

    pub async fn get(&self, path: &str, t: &str, s: &str) -> Response {
        self.call(Method::GET, path, Some((t, Some(s))), None).await
    }

    pub async fn get_json(&self, path: &str, t: &str, s: &str) -> Value {
        let r = self.get(path, t, s).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("json")
    }

    pub fn practice(&self) -> &simulator::practice::Practice {
        &self.sim.state().practice
    }

    /// Person id of generated patient `i`.
    pub fn person(&self, i: u32) -> String {
        self.practice()
            .patient(simulator::practice::PatientIndex(i))
            .expect("patient")
            .id
            .to_string()
    }

    /// The first patient whose chart satisfies `f`.
    pub fn person_where(&self, f: impl Fn(&simulator::practice::Chart) -> bool) -> String {
        let p = self.practice();
        p.patient_indices()
            .filter_map(|i| p.chart(i))
            .find(|c| !c.patient.part2 && f(c))
            .expect("a matching patient")
            .patient
            .id
            .to_string()
    }
}

/// Replace the port and per-run values so snapshots are stable.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d{4,5}\b", "127.0.0.1:PORT");
    s
}
