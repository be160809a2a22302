//! `ngsim run` as a process against the reference client: the embedded
//! simulator listens where the manifest and `--http` say, registers the SUT's
//! `[smart]` client, and every client-side scenario passes.

use std::process::Command;

use simulator::auth::ClientKey;
use simulator::profile::ProfileLoader;
use suites::reference::{self, ClientTargets, FhirTarget};

#[path = "support/ports.rs"]
mod ports;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_scenario_passes_through_the_cli() {
    let addrs = ports::free_addrs(2);
    let (http, mllp) = (addrs[0], addrs[1]);
    let profile = ProfileLoader::default()
        .load(simulator::server::DEFAULT_PROFILE)
        .unwrap();
    let key = ClientKey::generate_es384("reference-key");
    let client = reference::start_client(
        None,
        ClientTargets {
            mllp: Some(mllp),
            fhir: Some(FhirTarget {
                base: format!("http://{http}{}", profile.fhir.base_path),
                client_id: "ngsim-reference".into(),
                key: key.clone(),
            }),
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    let smart = format!(
        "\n[smart]\nid = \"ngsim-reference\"\nkind = \"backend\"\njwks = '{}'\nscopes = [\"system/Patient.rs\", \"system/Observation.rs\"]\n",
        key.jwks
    );
    std::fs::write(&manifest, client.manifest_toml() + &smart).unwrap();
    let reports = dir.path().join("reports");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ngsim"));
    cmd.arg("run").arg("--sut").arg(&manifest);
    for s in [
        "ack-sender",
        "resilience",
        "bulk-client",
        "smart-client",
        "smart-discovery",
    ] {
        cmd.args(["--scenario", s]);
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
    assert_eq!(json["summary"]["status"], "passed");
    assert_eq!(json["summary"]["total"], 17, "{stdout}");
    eprintln!("client scenarios took {} ms", json["duration_ms"]);
}
