//! How efficiently a SUT syncs from the simulator: judged from the journal of
//! its requests (FHIR and Enterprise), not from its own account.
//!
//! For one client over one window of the journal it counts the requests per
//! surface, the wall time from the first request to the last, the request
//! rate, searches, pages followed, reads by id, and two kinds of waste:
//! - **N+1 reads**: a read by id of a resource an earlier search in the same
//!   window already returned (the search's bundle held it);
//! - **repeated reads**: the same URL read by id more than once.
//!
//! These figures go into the same baselines as load runs, so "this release
//! makes twice as many requests for the same clinic day" fails CI.

use std::collections::{HashMap, HashSet};

use std::path::{Path, PathBuf};

use reports::{BaselineComparison, BaselineRow};
use serde::{Deserialize, Serialize};
use simulator::journal::{Entry, Surface};

use super::baseline::{self, Header, Thresholds};
use super::error::{Result, invalid};

/// The `format` field of sync baseline files.
pub const FORMAT: &str = "ngsim-sync-baseline";

/// What one sync cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncFigures {
    /// Every HTTP request of the client in the window.
    pub requests: u64,
    /// FHIR requests (reads and searches).
    pub fhir: u64,
    /// Enterprise API requests.
    pub enterprise: u64,
    /// OAuth/token requests.
    pub oauth: u64,
    /// Bulk requests.
    pub bulk: u64,
    /// FHIR searches (first pages).
    pub searches: u64,
    /// Further pages requested (`_offset` on FHIR, `$skip` on Enterprise).
    pub pages_followed: u64,
    /// Reads of one resource by id.
    pub reads_by_id: u64,
    /// Reads by id of a resource an earlier search already returned.
    pub n_plus_one_reads: u64,
    /// Reads of a URL already read in the window.
    pub repeated_reads: u64,
    /// Answers with status 4xx or 5xx.
    pub error_responses: u64,
    /// First request to last, in milliseconds.
    pub wall_time_ms: f64,
    /// Requests per second over the wall time.
    pub request_rate: f64,
}

impl SyncFigures {
    /// Findings a reviewer should see, in words; empty when the sync is lean.
    pub fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.n_plus_one_reads > 0 {
            out.push(format!(
                "{} N+1 read(s): resources read one by one after a search had already returned them",
                self.n_plus_one_reads
            ));
        }
        if self.repeated_reads > 0 {
            out.push(format!(
                "{} repeated read(s) of the same URL in one sync",
                self.repeated_reads
            ));
        }
        out
    }
}

/// Whether a FHIR route is a read by id (`{base}/{Type}/{id}`).
fn is_read_by_id(route: &str) -> bool {
    route.ends_with("/{id}")
}

/// Whether a FHIR route is a type-level search (`{base}/{Type}`).
fn is_search(route: &str) -> bool {
    let last = route.rsplit('/').next().unwrap_or("");
    !last.is_empty()
        && last.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && !last.contains('{')
}

fn query_has(query: Option<&str>, key: &str) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            k == key && v != "0"
        })
    })
}

/// Analyses the client's requests among `entries` (oldest first).
pub fn analyse<'a>(entries: impl IntoIterator<Item = &'a Entry>, client_id: &str) -> SyncFigures {
    analyse_clients(entries, &[client_id])
}

/// As [`analyse`], counting the requests of any of `client_ids` (a SUT may use
/// a SMART client for FHIR and a GSA client for the Enterprise API).
pub fn analyse_clients<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    client_ids: &[&str],
) -> SyncFigures {
    let mut f = SyncFigures::default();
    let mut first_us = None;
    let mut last_us = 0;
    // Resource ids returned by searches, per type.
    let mut returned: HashMap<String, HashSet<String>> = HashMap::new();
    let mut read_paths: HashSet<String> = HashSet::new();
    for e in entries {
        let Some(h) = e.http() else { continue };
        if !h
            .client_id
            .as_deref()
            .is_some_and(|c| client_ids.contains(&c))
        {
            continue;
        }
        f.requests += 1;
        first_us.get_or_insert(e.t_us);
        last_us = last_us.max(e.t_us);
        if h.status >= 400 {
            f.error_responses += 1;
        }
        match e.surface {
            Surface::Fhir => f.fhir += 1,
            Surface::Enterprise => f.enterprise += 1,
            Surface::Oauth => f.oauth += 1,
            Surface::Bulk => f.bulk += 1,
            _ => {}
        }
        let paged =
            query_has(h.query.as_deref(), "_offset") || query_has(h.query.as_deref(), "$skip");
        match e.surface {
            Surface::Fhir if h.method == "GET" && is_read_by_id(&h.route) => {
                f.reads_by_id += 1;
                if !read_paths.insert(h.path.clone()) {
                    f.repeated_reads += 1;
                }
                let mut parts = h.path.rsplit('/');
                let (id, ty) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if returned.get(ty).is_some_and(|ids| ids.contains(id)) {
                    f.n_plus_one_reads += 1;
                }
            }
            Surface::Fhir if is_search(&h.route) || h.path.ends_with("/_search") => {
                if paged {
                    f.pages_followed += 1;
                } else {
                    f.searches += 1;
                }
                // The journal records a search's results as bare ids of the
                // searched type (`Type/id` is accepted too).
                let ty = h
                    .path
                    .trim_end_matches("/_search")
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                let ids = returned.entry(ty.to_owned()).or_default();
                for rid in &h.resource_ids {
                    let id = rid.split_once('/').map_or(rid.as_str(), |(_, id)| id);
                    ids.insert(id.to_owned());
                }
            }
            Surface::Enterprise if paged => f.pages_followed += 1,
            _ => {}
        }
    }
    if let Some(first) = first_us {
        f.wall_time_ms = (last_us - first) as f64 / 1000.0;
        let secs = f.wall_time_ms / 1000.0;
        f.request_rate = if secs > 0.0 {
            f.requests as f64 / secs
        } else {
            f.requests as f64
        };
    }
    f
}

/// A saved sync baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncBaseline {
    #[serde(flatten)]
    pub header: Header,
    pub figures: SyncFigures,
}

impl SyncBaseline {
    /// A baseline of this build.
    pub fn new(name: &str, figures: &SyncFigures) -> Self {
        Self {
            header: Header::new(FORMAT, name),
            figures: figures.clone(),
        }
    }

    /// Writes `DIR/NAME.json`.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        baseline::save_json(dir, &self.header.name, self)
    }

    /// Reads `DIR/NAME.json`.
    pub fn load(dir: &Path, name: &str) -> Result<Self> {
        baseline::load_json(dir, name, FORMAT)
    }
}

/// Compares a sync with its baseline: every figure is a cost, so growth
/// beyond the threshold regresses. Request counts are exact (the same clinic
/// day gives the same work); wall time is one sample and noisier, so it
/// only regresses beyond the threshold *and* 50 ms.
pub fn compare(base: &SyncBaseline, current: &SyncFigures, th: Thresholds) -> BaselineComparison {
    type Get = fn(&SyncFigures) -> f64;
    let rows: [(&str, Get); 6] = [
        ("sync.requests", |f| f.requests as f64),
        ("sync.fhir", |f| f.fhir as f64),
        ("sync.enterprise", |f| f.enterprise as f64),
        ("sync.n_plus_one_reads", |f| f.n_plus_one_reads as f64),
        ("sync.repeated_reads", |f| f.repeated_reads as f64),
        ("sync.wall_time_ms", |f| f.wall_time_ms),
    ];
    BaselineComparison {
        name: base.header.name.clone(),
        max_regression_pct: th.max_regression_pct,
        rows: rows
            .iter()
            .map(|(name, get)| {
                let (b, c) = (get(&base.figures), get(current));
                let mut row = BaselineRow::compare(*name, b, c, th.max_regression_pct, true);
                if *name == "sync.wall_time_ms" && (c - b).abs() < 50.0 {
                    row.regressed = false;
                }
                row
            })
            .collect(),
    }
}

/// Reads a journal file (`ngsim serve --journal FILE`): one JSON entry per
/// line. A torn last line (the simulator was killed mid-write) is skipped;
/// any other bad line is an error naming its line number.
pub fn read_journal(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read journal {}: {e}", path.display())))?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => out.push(e),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(e) => {
                return Err(invalid(format!(
                    "{}:{}: not a journal entry: {e}",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use simulator::journal::{Detail, HttpExchange};

    use super::*;

    fn http(
        seq: u64,
        surface: Surface,
        route: &str,
        path: &str,
        query: Option<&str>,
        ids: &[&str],
    ) -> Entry {
        Entry {
            seq,
            at: time::OffsetDateTime::UNIX_EPOCH,
            t_us: seq * 1000,
            surface,
            peer: None,
            detail: Detail::Http(HttpExchange {
                method: "GET".into(),
                route: route.into(),
                path: path.into(),
                query: query.map(str::to_owned),
                status: 200,
                client_id: Some("acme".into()),
                scopes: None,
                patient: None,
                resource_ids: ids.iter().map(|s| s.to_string()).collect(),
                fault: None,
                latency_us: 10,
                notes: Vec::new(),
            }),
        }
    }

    const B: &str = "/nge/prod/fhir-api-r4/fhir/r4";

    #[test]
    fn a_lean_sync_pages_and_never_rereads() {
        let j = [
            http(
                1,
                Surface::Fhir,
                &format!("{B}/Patient"),
                &format!("{B}/Patient"),
                Some("_count=2"),
                &["Patient/a", "Patient/b"],
            ),
            http(
                2,
                Surface::Fhir,
                &format!("{B}/Patient"),
                &format!("{B}/Patient"),
                Some("_count=2&_offset=2"),
                &["Patient/c"],
            ),
            http(
                3,
                Surface::Enterprise,
                "/persons",
                "/persons",
                Some("$skip=25"),
                &[],
            ),
        ];
        let f = analyse(&j, "acme");
        assert_eq!(
            (
                f.requests,
                f.fhir,
                f.enterprise,
                f.searches,
                f.pages_followed
            ),
            (3, 2, 1, 1, 2)
        );
        assert_eq!((f.n_plus_one_reads, f.repeated_reads), (0, 0));
        assert!(f.findings().is_empty());
        assert_eq!(f.wall_time_ms, 2.0);
    }

    #[test]
    fn n_plus_one_and_repeated_reads_are_flagged() {
        let read = |seq, id: &str| {
            http(
                seq,
                Surface::Fhir,
                &format!("{B}/Patient/{{id}}"),
                &format!("{B}/Patient/{id}"),
                None,
                &[],
            )
        };
        let j = [
            http(
                1,
                Surface::Fhir,
                &format!("{B}/Patient"),
                &format!("{B}/Patient"),
                None,
                &["a", "b"],
            ),
            read(2, "a"),
            read(3, "b"),
            read(4, "b"),
            read(5, "z"),
        ];
        let f = analyse(&j, "acme");
        assert_eq!(f.reads_by_id, 4);
        assert_eq!(f.n_plus_one_reads, 3);
        assert_eq!(f.repeated_reads, 1);
        assert_eq!(f.findings().len(), 2);
        // Another client's requests don't count.
        assert_eq!(analyse(&j, "other").requests, 0);
    }
}
