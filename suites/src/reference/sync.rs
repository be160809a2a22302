//! The reference integration's sync behaviour, driven by its `POST /sync`
//! hook: a backend service that reads a panel of patients from NextGen (FHIR
//! with a `private_key_jwt` token, and the Enterprise API with a GSA token,
//! the practice session and OData filters), forwards what each downstream
//! recipient may receive, and writes a charge back through a declared route.
//!
//! It segments 42 CFR Part 2 data the careful way: records labelled
//! `42CFRPart2` go only to recipients the consent names, each such disclosure
//! carries the §2.32 notice and the consent, and nothing cached before a
//! revocation is forwarded after it. Each sync [`Defect`] breaks one of these.

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use reqwest::StatusCode;
use serde_json::{Value, json};
use simulator::auth::ClientKey;
use simulator::sinks::SinkInfo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Defect;

/// The reference integration's SMART client id.
pub const CLIENT_ID: &str = "ngsim-reference";
/// Its GSA account.
pub const GSA_CLIENT_ID: &str = "ngsim-reference-gsa";
/// The scopes it declares it needs (and asks for).
pub const SCOPES: &[&str] = &[
    "system/Patient.rs",
    "system/Condition.rs",
    "system/Observation.rs",
    "system/Consent.rs",
];
/// Its declared Enterprise routes.
pub const ROUTES: &[&str] = &[
    "PUT /users/me/login-defaults",
    "GET /persons/{personId}/chart/problems",
    "GET /appointments",
    "POST /persons/{personId}/chart/charges",
];
/// The abbreviated §2.32(a) notice it attaches to Part 2 disclosures.
pub const NOTICE: &str = "42 CFR part 2 prohibits unauthorized use or disclosure of these records.";
/// How often the `retry-storm-on-403` defect retries.
const STORM: usize = 10;
/// Pages followed per search.
const MAX_PAGES: usize = 10;
/// Pages of one Enterprise list read at most (25 items each on NextGen
/// Enterprise: the filtered appointments of the test practice take about 20).
const MAX_LIST_PAGES: usize = 100;

/// What the sync needs to know about its site.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The simulator's HTTP base, `http://127.0.0.1:PORT` (everything else is
    /// discovered). The runner's `x-ngsim-simulator` hook header overrides it.
    pub simulator: String,
    /// Person ids of the patients it syncs: the panel a site configures.
    pub panel: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    defect: Option<Defect>,
    cfg: SyncConfig,
    key: ClientKey,
    gsa_secret: String,
    http: reqwest::Client,
    /// Part 2 resources seen in earlier syncs (only the defect re-sends them).
    cache: Mutex<Vec<Value>>,
    /// Problems met during the last sync (kept for diagnosis; a sync never fails on data).
    problems: Mutex<Vec<String>>,
}

/// A running reference sync integration. Dropping it stops it.
#[derive(Debug)]
pub struct ReferenceSync {
    /// Its hook server (`POST /sync`).
    pub hooks_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl ReferenceSync {
    /// Its backend key: another part of the same integration (its FHIR reader)
    /// can authenticate as the same registered client.
    pub fn key(&self) -> &ClientKey {
        &self.shared.key
    }
}

impl Drop for ReferenceSync {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl ReferenceSync {
    /// Problems the last sync met (upstream errors it tolerated).
    pub fn problems(&self) -> Vec<String> {
        self.shared.problems.lock().clone()
    }

    /// The `sut.toml` describing it: its client registration, declared scopes
    /// and routes, the `sync` hook, and two downstream recipients (`billing`,
    /// not named in the Part 2 consent; `hie`, named in it).
    pub fn manifest_toml(&self) -> String {
        let mut routes: Vec<&str> = ROUTES.to_vec();
        if self.shared.defect == Some(Defect::GsaProhibitedRoute) {
            // The naive integration declares what it uses; the route is still prohibited.
            routes.push("POST /persons/{personId}/chart/problems");
        }
        let quote = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "name = \"ngsim reference integration (sync)\"\nversion = \"{version}\"\n\n\
             [smart]\nid = \"{CLIENT_ID}\"\nkind = \"backend\"\njwks = '{jwks}'\nscopes = [{scopes}]\npart2-consent = true\n\n\
             [enterprise]\ngsa-client-id = \"{GSA_CLIENT_ID}\"\ngsa-client-secret = \"{secret}\"\nroute-list = [{routes}]\n\n\
             [hooks.sync]\nhttp = {{ method = \"POST\", url = \"http://{hooks}/sync\" }}\ntimeout = \"30s\"\n\n\
             [[downstream]]\nname = \"billing\"\nconsented = false\n\n\
             [[downstream]]\nname = \"hie\"\nconsented = true\nmllp = true\n",
            version = env!("CARGO_PKG_VERSION"),
            jwks = self.shared.key.jwks,
            scopes = quote(SCOPES),
            secret = self.shared.gsa_secret,
            routes = quote(&routes),
            hooks = self.hooks_addr,
        )
    }
}

/// Start the sync integration's hook server on a loopback port.
pub async fn start_sync(defect: Option<Defect>, cfg: SyncConfig) -> std::io::Result<ReferenceSync> {
    let shared = Arc::new(Shared {
        defect,
        cfg,
        key: ClientKey::generate_es384("ngsim-reference-key"),
        gsa_secret: simulator::auth::random_token(),
        http: crate::http_client::client(),
        cache: Mutex::new(Vec::new()),
        problems: Mutex::new(Vec::new()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let hooks_addr = listener.local_addr()?;
    let s = shared.clone();
    let router = axum::Router::new().route(
        "/sync",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let s = s.clone();
            async move {
                let base = headers
                    .get(crate::engine::hooks::SIMULATOR_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map_or_else(|| s.cfg.simulator.clone(), str::to_owned);
                match sync(&s, &base).await {
                    Ok(()) => (StatusCode::NO_CONTENT, String::new()),
                    Err(e) => (StatusCode::BAD_GATEWAY, e),
                }
            }
        }),
    );
    let stop = CancellationToken::new();
    let st = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(st.cancelled_owned())
            .await;
    });
    Ok(ReferenceSync {
        hooks_addr,
        shared,
        stop,
    })
}

/// Endpoints discovered from the simulator.
struct Site {
    fhir: String,
    token_url: String,
    api: String,
    gsa_token_url: String,
    sinks: Vec<SinkInfo>,
}

impl Shared {
    fn has(&self, d: Defect) -> bool {
        self.defect == Some(d)
    }

    fn problem(&self, p: String) {
        self.problems.lock().push(p);
    }

    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Value, String> {
        let mut req = self.http.get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("GET {url} answered {status}"));
        }
        resp.json().await.map_err(|e| format!("GET {url}: {e}"))
    }

    async fn discover(&self, base: &str) -> Result<Site, String> {
        let health = self
            .get_json(&format!("{base}/_ngsim/health"), None)
            .await?;
        let text = |v: &Value, what: &str| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("discovery: no {what}"))
        };
        let fhir = text(&health["urls"]["fhir"], "FHIR base")?;
        let api = text(&health["urls"]["enterprise"], "Enterprise base")?;
        let smart = self
            .get_json(&format!("{fhir}/.well-known/smart-configuration"), None)
            .await?;
        let token_url = text(&smart["token_endpoint"], "token endpoint")?;
        let profile = self
            .get_json(&format!("{base}/_ngsim/profile"), None)
            .await?;
        let oauth = text(
            &profile["enterprise"]["oauth-base"],
            "Enterprise OAuth base",
        )?;
        let sinks: Vec<SinkInfo> =
            serde_json::from_value(self.get_json(&format!("{base}/_ngsim/sinks"), None).await?)
                .map_err(|e| format!("sinks: {e}"))?;
        Ok(Site {
            fhir,
            token_url,
            api,
            gsa_token_url: format!("{base}{oauth}/token"),
            sinks,
        })
    }

    async fn fhir_token(&self, site: &Site) -> Result<String, String> {
        let now = simulator::auth::unix_now();
        let assertion = self.key.sign_assertion(&json!({
            "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": site.token_url,
            "exp": now + 240, "iat": now, "jti": simulator::auth::random_token(),
        }));
        let scope = if self.has(Defect::WildcardScope) {
            "system/*.read".to_owned()
        } else {
            SCOPES.join(" ")
        };
        let resp = self
            .http
            .post(&site.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("token: {e}"))?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(|e| format!("token: {e}"))?;
        v["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("token request answered {status}: {v}"))
    }

    /// A FHIR search, following `next` links; a 403 is not retried (except
    /// under the `retry-storm-on-403` defect). Errors are noted, not fatal.
    async fn search(&self, url: String, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let mut attempt = 0;
            let resp = loop {
                attempt += 1;
                match self.http.get(&url).bearer_auth(token).send().await {
                    Ok(r)
                        if r.status() == StatusCode::FORBIDDEN
                            && self.has(Defect::RetryStormOn403)
                            && attempt <= STORM => {}
                    Ok(r) => break Some(r),
                    Err(e) => {
                        self.problem(format!("GET {url}: {e}"));
                        break None;
                    }
                }
            };
            let Some(resp) = resp else { break };
            if !resp.status().is_success() {
                self.problem(format!("GET {url} answered {}", resp.status()));
                break;
            }
            let Ok(bundle) = resp.json::<Value>().await else {
                break;
            };
            for e in bundle["entry"].as_array().into_iter().flatten() {
                let r = &e["resource"];
                if r["resourceType"] != "OperationOutcome" && !r.is_null() {
                    out.push(r.clone());
                }
            }
            next = bundle["link"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["relation"] == "next")
                .and_then(|l| l["url"].as_str())
                .map(str::to_owned);
            if pages >= MAX_PAGES {
                break;
            }
        }
        out
    }

    async fn gsa_session(&self, site: &Site) -> Result<(String, Option<String>), String> {
        let resp = self
            .http
            .post(&site.gsa_token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", GSA_CLIENT_ID),
                ("client_secret", self.gsa_secret.as_str()),
                ("site_id", simulator::clients::DEFAULT_SITE_ID),
            ])
            .send()
            .await
            .map_err(|e| format!("GSA token: {e}"))?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(|e| format!("GSA token: {e}"))?;
        let token = v["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("GSA token request answered {status}: {v}"))?;
        let resp = self
            .http
            .put(format!("{}/users/me/login-defaults", site.api))
            .bearer_auth(&token)
            .json(&json!({"enterpriseId": "00001", "practiceId": "0001"}))
            .send()
            .await
            .map_err(|e| format!("login-defaults: {e}"))?;
        let session = resp
            .headers()
            .get("x-ng-sessionid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if session.is_none() {
            self.problem(format!(
                "login-defaults answered {} without a session",
                resp.status()
            ));
        }
        Ok((token, session))
    }

    /// One Enterprise API call; the outcome is noted, never fatal.
    async fn api(
        &self,
        method: reqwest::Method,
        url: String,
        token: &str,
        session: Option<&str>,
        body: Option<Value>,
    ) {
        let mut req = self.http.request(method.clone(), &url).bearer_auth(token);
        if let (Some(s), false) = (session, self.has(Defect::NoSessionHeader)) {
            req = req.header("x-ng-sessionid", s);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => self.problem(format!("{method} {url} answered {}", r.status())),
            Err(e) => self.problem(format!("{method} {url}: {e}")),
        }
    }
    /// GET an Enterprise list and every further page through `nextPageLink`.
    /// NextGen leaks its internal host in that link, so only the part from
    /// the route's path on is kept and put after the site's own API base.
    async fn list(&self, api: &str, url: String, token: &str, session: Option<&str>) {
        let route = url[api.len()..].split('?').next().unwrap_or("").to_owned();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let mut req = self.http.get(&url).bearer_auth(token);
            if let (Some(s), false) = (session, self.has(Defect::NoSessionHeader)) {
                req = req.header("x-ng-sessionid", s);
            }
            let body = match req.send().await {
                Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                    Ok(v) => Some(v),
                    Err(e) => {
                        self.problem(format!("GET {url}: the body did not read as JSON: {e}"));
                        None
                    }
                },
                Ok(r) => {
                    self.problem(format!("GET {url} answered {}", r.status()));
                    None
                }
                Err(e) => {
                    self.problem(format!("GET {url}: {e}"));
                    None
                }
            };
            if self.has(Defect::EnterpriseFirstPageOnly) || pages >= MAX_LIST_PAGES {
                return;
            }
            next = body
                .as_ref()
                .and_then(|b| b["nextPageLink"].as_str())
                .and_then(|link| {
                    link.find(route.as_str())
                        .map(|i| format!("{api}{}", &link[i..]))
                });
        }
    }
}

fn is_part2(r: &Value) -> bool {
    r["meta"]["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|c| c["code"] == "42CFRPart2"))
}

/// The §2.32 notice as an OperationOutcome, with the consent scope explained.
fn notice_entry() -> Value {
    json!({"resource": {
        "resourceType": "OperationOutcome",
        "id": "part2-notice",
        "issue": [{
            "severity": "information",
            "code": "informational",
            "details": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}],
                "text": NOTICE,
            },
            "diagnostics": "Disclosed under the patient's 42 CFR part 2 consent (the Consent resources in this Bundle); redisclosure is not permitted (NORDSCLCD).",
        }],
    }})
}

async fn sync(s: &Shared, base: &str) -> Result<(), String> {
    s.problems.lock().clear();
    let site = s.discover(base).await?;
    let token = s.fhir_token(&site).await?;
    let f = &site.fhir;
    let mut fresh: Vec<Value> = Vec::new();
    for pid in &s.cfg.panel {
        match s
            .get_json(&format!("{f}/Patient/{pid}"), Some(&token))
            .await
        {
            Ok(p) => fresh.push(p),
            Err(e) => s.problem(e),
        }
        fresh.extend(
            s.search(format!("{f}/Condition?patient={pid}"), &token)
                .await,
        );
        fresh.extend(s.search(format!("{f}/Consent?patient={pid}"), &token).await);
        fresh.extend(
            s.search(
                format!("{f}/Observation?patient={pid}&category=vital-signs"),
                &token,
            )
            .await,
        );
        if s.has(Defect::SecurityNot) {
            let _ = s
                .search(
                    format!("{f}/Condition?patient={pid}&_security:not=42CFRPart2"),
                    &token,
                )
                .await;
        }
        if s.has(Defect::OtherClient) {
            // The defect: what its own client may not see, fetched as the
            // demo patient app (whose launch names the patient).
            if let Err(e) = super::circumvent::search_as_patient_app(f, pid).await {
                s.problem(format!("other client: {e}"));
            }
        }
        if s.has(Defect::ReadBeyondGrant) {
            let _ = s
                .search(format!("{f}/MedicationRequest?patient={pid}"), &token)
                .await;
        }
    }

    let (gsa, session) = s.gsa_session(&site).await?;
    let session = session.as_deref();
    let api = &site.api;
    for pid in &s.cfg.panel {
        s.list(
            api,
            format!("{api}/persons/{pid}/chart/problems"),
            &gsa,
            session,
        )
        .await;
        if s.has(Defect::UndeclaredReadRoute) {
            s.list(
                api,
                format!("{api}/persons/{pid}/chart/allergies"),
                &gsa,
                session,
            )
            .await;
        }
    }
    let appointments = if s.has(Defect::NoOdataFilter) {
        format!("{api}/appointments")
    } else {
        // One month: more than a page (25), so nextPageLink must be followed.
        format!(
            "{api}/appointments?$filter=appointmentDate ge datetime'2026-06-01T00:00:00' \
             and appointmentDate lt datetime'2026-07-01T00:00:00'"
        )
    };
    s.list(api, appointments, &gsa, session).await;
    if let Some(pid) = s.cfg.panel.first() {
        s.api(
            reqwest::Method::POST,
            format!("{api}/persons/{pid}/chart/charges"),
            &gsa,
            session,
            Some(json!({"CptCode": "99213", "ServiceDate": "2026-07-01"})),
        )
        .await;
        if s.has(Defect::UndeclaredWrite) {
            s.api(
                reqwest::Method::PATCH,
                format!("{api}/persons/{pid}"),
                &gsa,
                session,
                Some(json!({"MiddleName": "Q"})),
            )
            .await;
        }
        if s.has(Defect::GsaProhibitedRoute) {
            s.api(
                reqwest::Method::POST,
                format!("{api}/persons/{pid}/chart/problems"),
                &gsa,
                session,
                Some(json!({"Icd10Code": "Z71.89", "Description": "Counseling"})),
            )
            .await;
        }
    }

    // What may be disclosed: this sync's data. The cache of earlier Part 2
    // records is only forwarded by the `ignore-revocation` defect.
    let mut disclosable = fresh.clone();
    {
        let mut cache = s.cache.lock();
        if s.has(Defect::IgnoreRevocation) {
            for old in cache.iter() {
                if !fresh.iter().any(|r| r["id"] == old["id"]) {
                    disclosable.push(old.clone());
                }
            }
        }
        for r in fresh.iter().filter(|r| is_part2(r)) {
            if !cache.iter().any(|c| c["id"] == r["id"]) {
                cache.push(r.clone());
            }
        }
    }
    for sink in &site.sinks {
        let consented = sink.consented || s.has(Defect::LeakPart2);
        let resources: Vec<&Value> = disclosable
            .iter()
            .filter(|r| consented || !is_part2(r))
            .collect();
        let mut entries: Vec<Value> = Vec::with_capacity(resources.len() + 1);
        if resources.iter().any(|r| is_part2(r)) && !s.has(Defect::DropNotice) {
            entries.push(notice_entry());
        }
        entries.extend(resources.iter().map(|r| json!({ "resource": r })));
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
        match s
            .http
            .post(&sink.fhir_base)
            .header("content-type", "application/fhir+json")
            .body(bundle.to_string())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => s.problem(format!("sink `{}` answered {}", sink.name, r.status())),
            Err(e) => s.problem(format!("sink `{}`: {e}", sink.name)),
        }
    }
    Ok(())
}

/// A small panel for the reference sync: the first two Part 2 patients whose
/// consent is granted and who have Part 2 conditions, and the first two
/// patients without Part 2 records.
pub fn default_panel(practice: &simulator::practice::Practice) -> Vec<String> {
    use simulator::practice::{ConsentState, RecordKind};
    let mut part2 = Vec::new();
    let mut plain = Vec::new();
    for i in practice.patient_indices() {
        let Some(p) = practice.patient(i) else {
            continue;
        };
        if practice.is_part2(i) {
            if part2.len() < 2
                && practice.consent_state(i) == ConsentState::Granted
                && practice
                    .canaries_of(i)
                    .iter()
                    .any(|c| c.kind == RecordKind::Condition)
            {
                part2.push(p.id.to_string());
            }
        } else if plain.len() < 2 {
            plain.push(p.id.to_string());
        }
        if part2.len() == 2 && plain.len() == 2 {
            break;
        }
    }
    part2.into_iter().chain(plain).collect()
}
