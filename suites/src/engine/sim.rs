//! The simulator a scenario runs against: embedded in this process (its
//! [`AppState`]), or a running `ngsim serve` driven through its `/_ngsim/`
//! control API (attach mode, `ngsim run --simulator URL`). Steps, settling,
//! the downstream set-up and the evidence go through [`Sim`] only, so they
//! behave the same in both modes.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use simulator::clients::{GsaClient, SmartClient};
use simulator::faults::FaultRule;
use simulator::journal::{Detail, Entry, Surface};
use simulator::profile::Profile;
use simulator::server::AppState;
use simulator::sinks::{Delivery, Protocol, SinkInfo, SinkSpec};
use tokio::time::Instant;

/// The longest single long poll of the remote journal (the server caps it at 30 s).
const LONG_POLL: Duration = Duration::from_secs(10);

/// The simulator the runner drives.
#[derive(Debug, Clone)]
pub enum Sim {
    /// In this process.
    Embedded(AppState),
    /// A running `ngsim serve`, through its control API.
    Remote(RemoteSim),
}

impl From<AppState> for Sim {
    fn from(state: AppState) -> Sim {
        Sim::Embedded(state)
    }
}

/// A running simulator reached over HTTP.
#[derive(Debug, Clone)]
pub struct RemoteSim {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// What `GET /_ngsim/journal` answers.
#[derive(Debug, serde::Deserialize)]
struct JournalPage {
    next_seq: u64,
    entries: Vec<Entry>,
}

#[derive(Debug, serde::Deserialize)]
struct Received {
    received: Vec<ReceivedItem>,
}

#[derive(Debug, serde::Deserialize)]
struct ReceivedItem {
    seq: u64,
    protocol: Protocol,
    what: String,
    canaries: Vec<String>,
    body: String,
}

impl RemoteSim {
    /// Attach to the simulator at `base` (e.g. `http://127.0.0.1:8080`), and
    /// check it answers its health route.
    pub async fn connect(base: &str, token: Option<String>) -> Result<RemoteSim, String> {
        let http = crate::http_client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let sim = RemoteSim {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        };
        let health: Value = sim
            .call(reqwest::Method::GET, "/_ngsim/health", None)
            .await?;
        if health["status"] != "ok" {
            return Err(format!("{}/_ngsim/health answered {health}", sim.base));
        }
        Ok(sim)
    }

    /// The simulator's base URL, no trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// One control-API call; a non-2xx answer is an error naming the route.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, String> {
        let bytes = self.send(method.clone(), path, body).await?;
        let text = if bytes.is_empty() { "null" } else { &bytes };
        serde_json::from_str(text)
            .map_err(|e| format!("{method} {}{path}: unexpected answer: {e}", self.base))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, String> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        if status.is_success() {
            Ok(text)
        } else {
            let said: String = text.chars().take(300).collect();
            Err(format!("{method} {url} answered {status}: {}", said.trim()))
        }
    }

    async fn journal(
        &self,
        since: u64,
        surface: Option<Surface>,
        wait: Option<Duration>,
    ) -> Result<JournalPage, String> {
        let mut path = format!("/_ngsim/journal?since={since}&limit=100000");
        if let Some(s) = surface {
            path.push_str(&format!("&surface={s}"));
        }
        if let Some(w) = wait {
            path.push_str(&format!("&wait_ms={}", w.as_millis()));
        }
        self.call(reqwest::Method::GET, &path, None).await
    }
}

impl Sim {
    /// The simulator's HTTP base URL, no trailing slash.
    pub fn http_base(&self) -> String {
        match self {
            Sim::Embedded(s) => s.urls.http_base.clone(),
            Sim::Remote(r) => r.base.clone(),
        }
    }

    /// The next journal sequence number (entries from now on have at least it).
    pub async fn next_seq(&self) -> Result<u64, String> {
        match self {
            Sim::Embedded(s) => Ok(s.journal.stats().next_seq),
            Sim::Remote(r) => {
                // `since` beyond any entry: only the counters come back.
                Ok(r.journal(u64::MAX, None, None).await?.next_seq)
            }
        }
    }

    /// The active profile.
    pub async fn profile(&self) -> Result<Arc<Profile>, String> {
        match self {
            Sim::Embedded(s) => Ok(s.profile()),
            Sim::Remote(r) => r
                .call(reqwest::Method::GET, "/_ngsim/profile", None)
                .await
                .map(Arc::new),
        }
    }

    /// Make `profile` the active one (this re-arms its faults).
    pub async fn set_profile(&self, profile: &Profile) -> Result<(), String> {
        match self {
            Sim::Embedded(s) => {
                s.set_profile(profile.clone());
                Ok(())
            }
            Sim::Remote(r) => {
                // Merged over the active profile key by key, the whole profile
                // replaces it.
                let body = serde_json::to_value(profile).map_err(|e| e.to_string())?;
                r.send(reqwest::Method::PATCH, "/_ngsim/quirks", Some(&body))
                    .await
                    .map(drop)
            }
        }
    }

    /// The fault rules in force.
    pub async fn faults(&self) -> Result<Vec<FaultRule>, String> {
        match self {
            Sim::Embedded(s) => Ok(s.faults.rules()),
            Sim::Remote(r) => r.call(reqwest::Method::GET, "/_ngsim/faults", None).await,
        }
    }

    /// Add a fault rule.
    pub async fn add_fault(&self, rule: &FaultRule) -> Result<(), String> {
        match self {
            Sim::Embedded(s) => {
                s.faults.add(rule.clone());
                Ok(())
            }
            Sim::Remote(r) => {
                let body = serde_json::to_value(rule).map_err(|e| e.to_string())?;
                r.send(reqwest::Method::POST, "/_ngsim/faults", Some(&body))
                    .await
                    .map(drop)
            }
        }
    }

    /// Replace every fault rule.
    pub async fn replace_faults(&self, rules: Vec<FaultRule>) -> Result<(), String> {
        match self {
            Sim::Embedded(s) => {
                s.faults.replace(rules);
                Ok(())
            }
            Sim::Remote(r) => {
                let body = serde_json::to_value(&rules).map_err(|e| e.to_string())?;
                r.send(reqwest::Method::PUT, "/_ngsim/faults", Some(&body))
                    .await
                    .map(drop)
            }
        }
    }

    /// Register the SUT's clients (ids already registered are kept as they are).
    pub async fn register(
        &self,
        smart: Option<SmartClient>,
        gsa: Option<GsaClient>,
    ) -> Result<(), String> {
        match self {
            Sim::Embedded(s) => {
                s.update_clients(|c| {
                    if let Some(smart) = smart.filter(|x| c.smart(&x.id).is_none()) {
                        c.smart.push(smart);
                    }
                    if let Some(gsa) = gsa.filter(|x| c.gsa(&x.client_id).is_none()) {
                        c.gsa.push(gsa);
                    }
                });
                Ok(())
            }
            Sim::Remote(r) => {
                // Secrets are never serialized by the client types (so they
                // cannot leak into a listing); put them back for the wire.
                let with_secret = |v: Result<Value, serde_json::Error>, key: &str, secret| {
                    let mut v = v.map_err(|e| e.to_string())?;
                    if let Some(s) = secret {
                        v[key] = json!(s);
                    }
                    Ok::<Value, String>(v)
                };
                let mut body = json!({ "client": [], "gsa": [] });
                if let Some(c) = smart {
                    let secret = c.secret.clone();
                    body["client"] =
                        json!([with_secret(serde_json::to_value(&c), "secret", secret)?]);
                }
                if let Some(g) = gsa {
                    let secret = Some(g.client_secret.clone());
                    body["gsa"] = json!([with_secret(
                        serde_json::to_value(&g),
                        "client-secret",
                        secret
                    )?]);
                }
                r.send(reqwest::Method::POST, "/_ngsim/clients", Some(&body))
                    .await
                    .map(drop)
            }
        }
    }

    /// Create a recipient sink (idempotent for the same spec).
    pub async fn create_sink(&self, spec: &SinkSpec) -> Result<SinkInfo, String> {
        match self {
            Sim::Embedded(s) => s
                .sinks
                .create(s, spec.clone())
                .await
                .map_err(|e| e.to_string()),
            Sim::Remote(r) => {
                let body = serde_json::to_value(spec).map_err(|e| e.to_string())?;
                r.call(reqwest::Method::POST, "/_ngsim/sinks", Some(&body))
                    .await
            }
        }
    }

    /// Grant or revoke Part 2 consent (always through the control API, so the
    /// change is journaled in both modes).
    pub async fn consent(&self, body: &Value) -> Result<(), String> {
        let remote = match self {
            Sim::Embedded(s) => RemoteSim {
                base: s.urls.http_base.clone(),
                token: s.control_token.clone(),
                http: crate::http_client::client(),
            },
            Sim::Remote(r) => r.clone(),
        };
        remote
            .send(reqwest::Method::PUT, "/_ngsim/consent", Some(body))
            .await
            .map(drop)
    }

    /// Journal an exchange the runner made (HL7 it sent to the SUT) in the
    /// simulator's journal, so one sequence orders everything; returns its seq.
    pub async fn record(
        &self,
        surface: Surface,
        peer: Option<String>,
        detail: Detail,
    ) -> Result<u64, String> {
        match self {
            Sim::Embedded(s) => Ok(s.journal.record(surface, peer.map(Into::into), detail)),
            Sim::Remote(r) => {
                let mut body = serde_json::to_value(&detail).map_err(|e| e.to_string())?;
                body["surface"] = json!(surface);
                if let Some(p) = peer {
                    body["peer"] = json!(p);
                }
                let v: Value = r
                    .call(reqwest::Method::POST, "/_ngsim/journal", Some(&body))
                    .await?;
                v["seq"]
                    .as_u64()
                    .ok_or_else(|| format!("POST /_ngsim/journal answered {v}"))
            }
        }
    }

    /// Every entry with `seq >= since`, in order.
    pub async fn entries(&self, since: u64) -> Result<Vec<Arc<Entry>>, String> {
        match self {
            Sim::Embedded(s) => Ok(s.journal.entries(since, usize::MAX, |_| true)),
            Sim::Remote(r) => Ok(r
                .journal(since, None, None)
                .await?
                .entries
                .into_iter()
                .map(Arc::new)
                .collect()),
        }
    }

    /// Wait until an entry on `surface` with `seq >= since` satisfies `pred`,
    /// or `timeout` passes. Embedded, this wakes on the journal; remote, it
    /// long-polls the journal filtered by surface (never a sleep loop).
    pub async fn wait_for(
        &self,
        since: u64,
        surface: Surface,
        timeout: Duration,
        pred: impl Fn(&Entry) -> bool,
    ) -> Result<Option<Arc<Entry>>, String> {
        match self {
            Sim::Embedded(s) => Ok(s
                .journal
                .wait_for(since, timeout, |e| e.surface == surface && pred(e))
                .await),
            Sim::Remote(r) => {
                let deadline = Instant::now() + timeout;
                let mut from = since;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let page = r
                        .journal(from, Some(surface), Some(left.min(LONG_POLL)))
                        .await?;
                    if let Some(hit) = page.entries.iter().find(|e| pred(e)) {
                        return Ok(Some(Arc::new(hit.clone())));
                    }
                    if let Some(last) = page.entries.last() {
                        from = last.seq + 1;
                    }
                    if left.is_zero() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Everything the recipient sinks received with a journal sequence `>= since`.
    pub async fn deliveries(&self, since: u64) -> Result<Vec<Arc<Delivery>>, String> {
        match self {
            Sim::Embedded(s) => Ok(s.sinks.deliveries(since)),
            Sim::Remote(r) => {
                let sinks: Vec<SinkInfo> =
                    r.call(reqwest::Method::GET, "/_ngsim/sinks", None).await?;
                let mut out = Vec::new();
                for sink in sinks {
                    let path = format!("/_ngsim/sinks/{}/received", sink.name);
                    let got: Received = r.call(reqwest::Method::GET, &path, None).await?;
                    out.extend(
                        got.received
                            .into_iter()
                            .filter(|d| d.seq >= since)
                            .map(|d| {
                                Arc::new(Delivery {
                                    seq: d.seq,
                                    sink: sink.name.clone(),
                                    consented: sink.consented,
                                    protocol: d.protocol,
                                    what: d.what,
                                    body: d.body.into_bytes(),
                                    canaries: d.canaries,
                                })
                            }),
                    );
                }
                out.sort_by_key(|d| d.seq);
                Ok(out)
            }
        }
    }

    /// Back to a freshly started simulator (practice overlay, tokens, jtis,
    /// duplicate store), as an embedded one is at the start of a run.
    pub async fn reset(&self) -> Result<(), String> {
        match self {
            Sim::Embedded(_) => Ok(()),
            Sim::Remote(r) => r
                .send(reqwest::Method::POST, "/_ngsim/reset", None)
                .await
                .map(drop),
        }
    }
}
