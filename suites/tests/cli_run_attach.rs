//! `ngsim run --simulator URL`: the runner attaches to a running `ngsim serve`
//! (a separate process) and drives it through its control API. Verdicts are
//! the same as with the embedded simulator; a defect still fails; an
//! unreachable simulator is an infrastructure error.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use simulator::auth::ClientKey;
use simulator::profile::ProfileLoader;
use suites::reference::{self, ClientTargets, Defect, FhirTarget};

fn ngsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngsim"))
}

/// A running `ngsim serve`, killed on drop.
struct Serve {
    child: Child,
    http: String,
    mllp: SocketAddr,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `ngsim serve` on free loopback ports and read its addresses from the banner.
fn serve() -> Serve {
    let mut child = ngsim()
        .args(["serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let field = |label: &str| {
        banner
            .iter()
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix(label)
                    .filter(|v| v.starts_with(' '))
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no `{label}` in banner:\n{}", banner.join("\n")))
    };
    Serve {
        http: field("HTTP"),
        mllp: field("MLLP").parse().unwrap(),
        child,
    }
}

/// `ngsim run` with `args`, in `dir`, JSON report only; (exit code, stdout, report).
async fn run(dir: &Path, args: Vec<String>) -> (Option<i32>, String, serde_json::Value) {
    let reports = dir.join("reports");
    let mut cmd = ngsim();
    cmd.arg("run")
        .args(args)
        .arg("--report-dir")
        .arg(&reports)
        .args(["--format", "json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(reports.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code(), stdout, json)
}

/// Check id → outcome, from a JSON report.
fn verdicts(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["outcome"]["status"]
                    .as_str()
                    .or_else(|| c["outcome"].as_str())
                    .unwrap_or("?")
                    .to_owned(),
            )
        })
        .collect()
}

/// The ack-receiver scenario against the reference receiver with `defect`,
/// embedded or attached to `sim`.
async fn ack_receiver(
    defect: Option<Defect>,
    sim: Option<&Serve>,
) -> (Option<i32>, String, serde_json::Value) {
    let sut = reference::start(defect, Duration::from_millis(1200))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_millis(400))).unwrap();
    let mut args: Vec<String> = vec![
        "--scenario".into(),
        "ack-receiver".into(),
        "--sut".into(),
        manifest.display().to_string(),
    ];
    if let Some(s) = sim {
        args.extend(["--simulator".into(), s.http.clone()]);
    }
    let out = run(dir.path(), args).await;
    drop(sut);
    out
}

#[path = "support/ports.rs"]
mod ports;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_ack_receiver_verdicts_match_embedded() {
    let sim = serve();
    let (code, stdout, attached) = ack_receiver(None, Some(&sim)).await;
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, embedded) = ack_receiver(None, None).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(verdicts(&attached), verdicts(&embedded));
    assert_eq!(attached["summary"]["total"], 11);
    // The runner's own exchanges with the SUT are in the attached simulator's
    // journal, in its one sequence.
    let journal: serde_json::Value = reqwest::get(format!(
        "{}/_ngsim/journal?surface=mllp-out&limit=1000",
        sim.http
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        journal["entries"].as_array().unwrap().len() >= 10,
        "{journal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_run_still_fails_a_defect() {
    let sim = serve();
    let (code, stdout, report) = ack_receiver(Some(Defect::NoMshSwap), Some(&sim)).await;
    assert_eq!(code, Some(1), "{stdout}");
    let failed: Vec<_> = verdicts(&report)
        .into_iter()
        .filter(|(_, v)| v != "passed")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(failed, ["ack.msh-swapped"], "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_http_journal_scenarios_pass_for_the_reference_client() {
    let sim = serve();
    let profile = ProfileLoader::default()
        .load(simulator::server::DEFAULT_PROFILE)
        .unwrap();
    let key = ClientKey::generate_es384("reference-key");
    let client = reference::start_client(
        None,
        ClientTargets {
            mllp: Some(sim.mllp),
            fhir: Some(FhirTarget {
                base: format!("{}{}", sim.http, profile.fhir.base_path),
                client_id: "ngsim-reference".into(),
                key: key.clone(),
            }),
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    // The SUT's registration reaches the running simulator through the control API.
    let smart = format!(
        "\n[smart]\nid = \"ngsim-reference\"\nkind = \"backend\"\njwks = '{}'\nscopes = [\"system/Patient.rs\", \"system/Observation.rs\"]\n",
        key.jwks
    );
    std::fs::write(&manifest, client.manifest_toml() + &smart).unwrap();
    let mut args: Vec<String> = vec!["--sut".into(), manifest.display().to_string()];
    for s in ["resilience", "smart-client", "ack-sender"] {
        args.extend(["--scenario".into(), s.into()]);
    }
    args.extend(["--simulator".into(), sim.http.clone()]);
    let (code, stdout, report) = run(dir.path(), args).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(report["summary"]["status"], "passed", "{stdout}");
    let expected: usize = ["resilience", "smart-client", "ack-sender"]
        .iter()
        .map(|s| suites::scenario::Scenario::load(s).unwrap().checks.len())
        .sum();
    assert_eq!(report["summary"]["total"], expected, "{stdout}");
    assert!(
        verdicts(&report).values().all(|v| v == "passed"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_simulator_is_an_infrastructure_error() {
    let (_closed, port) = ports::refused_port();
    let sut = reference::start(None, Duration::from_millis(1200))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_millis(400))).unwrap();
    let args: Vec<String> = vec![
        "--scenario".into(),
        "ack-receiver".into(),
        "--sut".into(),
        manifest.display().to_string(),
        "--simulator".into(),
        format!("http://127.0.0.1:{port}"),
    ];
    let (code, stdout, _) = run(dir.path(), args).await;
    assert_eq!(code, Some(3), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "cannot attach to the simulator at http://127.0.0.1:{port}"
        )),
        "{stdout}"
    );
    // A running simulator has one profile: --matrix is refused as bad input.
    let (code, stdout, _) = run(
        dir.path(),
        vec![
            "--scenario".into(),
            "ack-receiver".into(),
            "--sut".into(),
            manifest.display().to_string(),
            "--simulator".into(),
            "http://127.0.0.1:1".into(),
            "--matrix".into(),
        ],
    )
    .await;
    assert_eq!(code, Some(2), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_sync_scenarios_pass_and_a_part2_leak_still_fails() {
    // The sync SUT's GSA account, its sinks and consent changes all go through
    // the running simulator's control API; the deliveries are read back from it.
    for (defect, want) in [(None, 0), (Some(Defect::LeakPart2), 1)] {
        let sim = serve();
        // `ngsim serve`'s practice: the default seed and size.
        let practice = simulator::practice::Practice::new(Default::default());
        let cfg = reference::SyncConfig {
            simulator: sim.http.clone(),
            panel: reference::sync::default_panel(&practice),
        };
        let sut = reference::start_sync(defect, cfg).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("sut.toml");
        std::fs::write(&manifest, sut.manifest_toml()).unwrap();
        let mut args: Vec<String> = vec!["--sut".into(), manifest.display().to_string()];
        for s in [
            "part2-segmentation",
            "write-back-scopes",
            "enterprise-pre-beta",
        ] {
            args.extend(["--scenario".into(), s.into()]);
        }
        args.extend(["--simulator".into(), sim.http.clone()]);
        let (code, stdout, report) = run(dir.path(), args).await;
        assert_eq!(code, Some(want), "{defect:?}: {stdout}");
        let failed: Vec<_> = verdicts(&report)
            .into_iter()
            .filter(|(_, v)| v != "passed")
            .map(|(k, _)| k)
            .collect();
        // The SUT's own errors (a refused page, a body that did not parse)
        // explain a check that failed for a reason other than its defect.
        let problems = sut.problems();
        if defect.is_some() {
            assert_eq!(
                failed,
                ["part2.no-leak-to-unconsented"],
                "{stdout}\nSUT problems: {problems:?}"
            );
        } else {
            assert!(failed.is_empty(), "{stdout}\nSUT problems: {problems:?}");
        }
    }
}
