//! Helpers for the Bulk Data tests: profile tweaks, kick-off, polling and
//! downloads. Built on the shared `support` module.
#![allow(dead_code)]

use serde_json::Value;
use simulator::RunningSimulator;
use simulator::profile::Profile;

use crate::support::http;

/// A simulator with `patients` patients, the built-in `profile`, changed by `f`.
pub async fn sim_with(
    profile: &str,
    patients: u32,
    f: impl FnOnce(&mut Profile),
) -> RunningSimulator {
    sim_with_clients(
        profile,
        patients,
        simulator::clients::ClientRegistry::default(),
        f,
    )
    .await
}

/// As [`sim_with`], with extra registered clients.
pub async fn sim_with_clients(
    profile: &str,
    patients: u32,
    clients: simulator::clients::ClientRegistry,
    f: impl FnOnce(&mut Profile),
) -> RunningSimulator {
    let mut p = simulator::profile::ProfileLoader::default()
        .load(profile)
        .expect("built-in profile");
    f(&mut p);
    simulator::Simulator::builder()
        .profile(p)
        .patients(patients)
        .clients(clients)
        .start()
        .await
        .expect("simulator starts")
}

/// A small NGE simulator whose exports finish at once.
pub async fn quick(patients: u32) -> RunningSimulator {
    sim_with("nge-5.9.2", patients, |p| {
        p.bulk.export_duration = std::time::Duration::ZERO;
    })
    .await
}

/// Absolute URL of `rel` under the active profile's bulk base.
pub fn bulk_url(sim: &RunningSimulator, rel: &str) -> String {
    format!(
        "{}{}/{}",
        sim.base_url(),
        sim.state().profile().bulk.base_path,
        rel.trim_start_matches('/')
    )
}

/// GET kick-off with `Prefer: respond-async`.
pub async fn kickoff(sim: &RunningSimulator, token: &str, rel: &str) -> reqwest::Response {
    http()
        .get(bulk_url(sim, rel))
        .bearer_auth(token)
        .header("accept", "application/fhir+json")
        .header("prefer", "respond-async")
        .send()
        .await
        .unwrap()
}

/// The `Content-Location` of an accepted kick-off.
pub fn content_location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 202, "kick-off accepted");
    r.headers()
        .get("content-location")
        .expect("Content-Location")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Kick off and return the status URL.
pub async fn start_export(sim: &RunningSimulator, token: &str, rel: &str) -> String {
    let r = kickoff(sim, token, rel).await;
    let status = r.status();
    if status != 202 {
        panic!("kick-off {rel}: {status} {}", r.text().await.unwrap());
    }
    content_location(&r)
}

/// GET the status URL.
pub async fn poll(url: &str, token: &str) -> reqwest::Response {
    http().get(url).bearer_auth(token).send().await.unwrap()
}

/// Poll until the job leaves 202 (the planning pass runs on a blocking thread).
pub async fn wait(url: &str, token: &str) -> reqwest::Response {
    for _ in 0..5000 {
        let r = poll(url, token).await;
        if r.status() != 202 {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the export never finished");
}

/// Poll until complete and return the manifest.
pub async fn manifest(url: &str, token: &str) -> Value {
    let r = wait(url, token).await;
    assert_eq!(r.status(), 200, "status complete");
    r.json().await.unwrap()
}

/// Download a file: `(status, content-type, body)`.
pub async fn download(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

/// Every resource of every output file of a manifest, checked for type and count.
pub async fn all_resources(m: &Value, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for o in m["output"].as_array().unwrap() {
        let (status, ct, body) = download(o["url"].as_str().unwrap(), Some(token)).await;
        assert_eq!(status, 200);
        assert_eq!(ct, "application/fhir+ndjson");
        let lines: Vec<Value> = body
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON resource per line"))
            .collect();
        assert_eq!(
            lines.len() as u64,
            o["count"].as_u64().unwrap(),
            "count of {}",
            o["url"]
        );
        for l in &lines {
            assert_eq!(l["resourceType"], o["type"]);
        }
        out.extend(lines);
    }
    out
}

/// Types in a manifest's output, deduplicated, in order.
pub fn output_types(m: &Value) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for o in m["output"].as_array().unwrap() {
        let t = o["type"].as_str().unwrap().to_owned();
        if !v.contains(&t) {
            v.push(t);
        }
    }
    v
}

/// Bulk journal entries as JSON.
pub fn bulk_journal(sim: &RunningSimulator) -> Vec<Value> {
    let all = serde_json::to_value(sim.journal().snapshot()).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["surface"] == "bulk")
        .cloned()
        .collect()
}

/// A registry holding one extra backend client `id` (with or without Part 2
/// consent), and the key it signs with.
pub fn one_backend(
    id: &str,
    part2_consent: bool,
) -> (
    simulator::auth::ClientKey,
    simulator::clients::ClientRegistry,
) {
    let key = simulator::auth::ClientKey::generate_es384(&format!("{id}-key"));
    let reg = simulator::clients::ClientRegistry {
        smart: vec![crate::support::backend_client(id, &key, part2_consent)],
        gsa: Vec::new(),
    };
    (key, reg)
}
