//! Every shipped scenario in one `ngsim run`, one profile, against one
//! reference integration made of its three parts (HL7 receiver, client, sync)
//! described by one merged `sut.toml`. Every check passes. The run's
//! `duration_ms` is printed (the issue's < 30 s budget), never asserted.

use std::process::Command;
use std::time::Duration;

use simulator::profile::ProfileLoader;
use suites::reference::{self, ClientTargets, FhirTarget, SyncConfig};
use suites::scenario::{BUILTIN_SCENARIOS, Scenario};

#[path = "support/ports.rs"]
mod ports;

/// Deep-merge TOML tables; on a clash the later document wins.
fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_scenario_passes_in_one_run() {
    let addrs = ports::free_addrs(2);
    let (http, mllp) = (addrs[0], addrs[1]);
    let profile = ProfileLoader::default()
        .load(simulator::server::DEFAULT_PROFILE)
        .unwrap();
    let receiver = reference::start(None, Duration::from_millis(1200))
        .await
        .unwrap();
    // The sync learns the simulator's URL from the runner's hook header; its
    // panel comes from the runner's practice (seed 42, default size).
    let practice = simulator::practice::Practice::new(Default::default());
    let sync = reference::start_sync(
        None,
        SyncConfig {
            simulator: format!("http://{http}"),
            panel: reference::sync::default_panel(&practice),
        },
    )
    .await
    .unwrap();
    // The FHIR reader, Bulk client and SMART app authenticate as the sync's
    // registered backend client: one integration, one registration.
    let client = reference::start_client(
        None,
        ClientTargets {
            mllp: Some(mllp),
            fhir: Some(FhirTarget {
                base: format!("http://{http}{}", profile.fhir.base_path),
                client_id: reference::sync::CLIENT_ID.into(),
                key: sync.key().clone(),
            }),
        },
    )
    .await
    .unwrap();
    let mut manifest = toml::Table::new();
    for part in [
        receiver.manifest_toml(Duration::from_millis(400)),
        client.manifest_toml(),
        sync.manifest_toml(),
    ] {
        merge(&mut manifest, part.parse().unwrap());
    }
    manifest.insert("name".into(), "ngsim reference integration".into());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sut.toml");
    std::fs::write(&path, toml::to_string(&manifest).unwrap()).unwrap();

    let reports = dir.path().join("reports");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ngsim"));
    cmd.arg("run").arg("--sut").arg(&path);
    for (id, _) in BUILTIN_SCENARIOS {
        cmd.args(["--scenario", id]);
    }
    cmd.arg("--http")
        .arg(http.to_string())
        .arg("--report-dir")
        .arg(&reports)
        .args(["--format", "json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let expected: usize = BUILTIN_SCENARIOS
        .iter()
        .map(|(id, _)| Scenario::load(id).unwrap().checks.len())
        .sum();
    assert_eq!(json["summary"]["total"], expected, "{stdout}");
    assert_eq!(json["summary"]["status"], "passed", "{stdout}");
    let per_scenario: Vec<String> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            // The span of its journal timeline, first entry to last.
            let span = s["timeline"]
                .as_array()
                .and_then(|t| t.last())
                .map_or(0, |e| e["at_ms"].as_u64().unwrap_or(0));
            format!("{} ~{span} ms", s["id"].as_str().unwrap_or("?"))
        })
        .collect();
    eprintln!(
        "all {} shipped scenarios took {} ms ({})",
        BUILTIN_SCENARIOS.len(),
        json["duration_ms"],
        per_scenario.join(", ")
    );
}
