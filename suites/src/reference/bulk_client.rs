//! The reference Bulk Data client (`$export`, IG STU2), the way a careful
//! backend integration behaves:
//!
//! - a kick-off refused with a 4xx (other than 429) is not retried;
//! - status polls wait the `Retry-After` of each 202 (or 429);
//! - a 429 or 503 on a poll is retried, a failed job (500) is not;
//! - files are downloaded with the access token when `requiresAccessToken`;
//! - an export it abandons is cancelled with DELETE on its status URL.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::ClientDefect;
use super::reader::{ReaderConfig, token};

/// Polls per job before giving up.
const MAX_POLLS: u32 = 30;

/// What an export run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkRun {
    /// Export, wait, download every file.
    Complete,
    /// Start an export, poll once, then abandon it.
    Abandon,
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    r.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn has(cfg: &ReaderConfig, d: ClientDefect) -> bool {
    cfg.defect == Some(d)
}

struct Ctx<'a> {
    http: reqwest::Client,
    cfg: &'a ReaderConfig,
    token: String,
}

impl Ctx<'_> {
    async fn kickoff(&self) -> Result<Result<String, Value>, String> {
        let url = format!(
            "{}/$export?_type=Patient",
            self.cfg.fhir_base.trim_end_matches('/')
        );
        let mut tries = 0;
        loop {
            tries += 1;
            let r = self
                .http
                .get(&url)
                .bearer_auth(&self.token)
                .header("Accept", "application/fhir+json")
                .header("Prefer", "respond-async")
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            if status == StatusCode::ACCEPTED {
                return r
                    .headers()
                    .get(reqwest::header::CONTENT_LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| Ok(s.to_owned()))
                    .ok_or_else(|| "202 without Content-Location".to_owned());
            }
            let transient = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let retry_fatal = has(self.cfg, ClientDefect::BulkRetryFatal) && tries < 2;
            if (!transient && !retry_fatal) || tries > 3 {
                return Ok(Err(
                    json!({"outcome": "kick-off refused", "status": status.as_u16()}),
                ));
            }
            tokio::time::sleep(retry_after(&r).unwrap_or(self.cfg.backoff)).await;
        }
    }

    async fn delete(&self, status_url: &str) -> Result<(), String> {
        self.http
            .delete(status_url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())
            .map(|_| ())
    }

    /// Poll until the manifest, a failure, or (for `Abandon`) the first answer.
    async fn poll(&self, status_url: &str, run: BulkRun) -> Result<Result<Value, Value>, String> {
        let mut failed_polls = 0;
        for _ in 0..MAX_POLLS {
            let r = self
                .http
                .get(status_url)
                .bearer_auth(&self.token)
                .header("Accept", "application/json")
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            if status == StatusCode::OK {
                return r.json().await.map(Ok).map_err(|e| e.to_string());
            }
            if run == BulkRun::Abandon {
                return Ok(Err(json!({"outcome": "abandoned"})));
            }
            let wait = match status {
                StatusCode::ACCEPTED if has(self.cfg, ClientDefect::BulkIgnoreRetryAfter) => {
                    self.cfg.backoff
                }
                StatusCode::TOO_MANY_REQUESTS
                    if has(self.cfg, ClientDefect::BulkIgnore429RetryAfter) =>
                {
                    self.cfg.backoff
                }
                StatusCode::ACCEPTED | StatusCode::TOO_MANY_REQUESTS => {
                    retry_after(&r).unwrap_or(self.cfg.backoff)
                }
                StatusCode::SERVICE_UNAVAILABLE
                    if has(self.cfg, ClientDefect::BulkRestartOnTransient) =>
                {
                    return Ok(Err(json!({"outcome": "restart"})));
                }
                StatusCode::SERVICE_UNAVAILABLE => retry_after(&r).unwrap_or(self.cfg.backoff),
                _ => {
                    failed_polls += 1;
                    if has(self.cfg, ClientDefect::BulkRetryFatal) && failed_polls < 2 {
                        self.cfg.backoff
                    } else {
                        return Ok(Err(
                            json!({"outcome": "export failed", "status": status.as_u16()}),
                        ));
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
        Ok(Err(json!({"outcome": "gave up polling"})))
    }

    async fn download(&self, manifest: &Value) -> Result<Value, String> {
        let with_token = manifest["requiresAccessToken"].as_bool().unwrap_or(true)
            && !has(self.cfg, ClientDefect::BulkNoDownloadToken);
        let mut lines = 0usize;
        let mut refused = 0usize;
        for f in manifest["output"].as_array().into_iter().flatten() {
            let Some(url) = f["url"].as_str() else {
                continue;
            };
            let mut req = self
                .http
                .get(url)
                .header("Accept", "application/fhir+ndjson");
            if with_token {
                req = req.bearer_auth(&self.token);
            }
            let r = req.send().await.map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                refused += 1;
                continue;
            }
            let body = r.text().await.map_err(|e| e.to_string())?;
            lines += body.lines().filter(|l| !l.trim().is_empty()).count();
        }
        Ok(json!({"outcome": "complete", "resources": lines, "refused-files": refused}))
    }
}

/// Run one export; the answer says how it ended (a refused or failed export
/// is an outcome, not an error: the client handled it).
pub async fn export(cfg: &ReaderConfig, run: BulkRun) -> Result<Value, String> {
    let http = crate::http_client::client();
    let token = token(&http, cfg).await?;
    let ctx = Ctx { http, cfg, token };
    for _ in 0..2 {
        let status_url = match ctx.kickoff().await? {
            Ok(u) => u,
            Err(outcome) => return Ok(outcome),
        };
        match ctx.poll(&status_url, run).await? {
            Ok(manifest) => return ctx.download(&manifest).await,
            Err(outcome) if outcome["outcome"] == "restart" => {
                // The defect: a transient error taken for a dead job.
                ctx.delete(&status_url).await?;
            }
            Err(outcome) if outcome["outcome"] == "abandoned" => {
                if !has(cfg, ClientDefect::BulkNoCancel) {
                    ctx.delete(&status_url).await?;
                }
                return Ok(outcome);
            }
            Err(outcome) => return Ok(outcome),
        }
    }
    Ok(json!({"outcome": "gave up"}))
}
