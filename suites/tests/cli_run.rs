//! `ngsim run` as a process against the reference integration, plus `gen hl7`
//! and `checks list`.

use std::process::Command;
use std::time::Duration;

use suites::reference::{self, Defect};

fn ngsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngsim"))
}

/// Run `ngsim run` against a reference SUT with `defect`; return (exit code, report dir).
async fn run_against(defect: Option<Defect>) -> (Option<i32>, tempfile::TempDir, String) {
    run_with(defect, &[]).await
}

async fn run_with(
    defect: Option<Defect>,
    extra: &[&str],
) -> (Option<i32>, tempfile::TempDir, String) {
    let sut = reference::start(defect, Duration::from_millis(1200))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_millis(400))).unwrap();
    let report_dir = dir.path().join("reports");
    let mut cmd = ngsim();
    cmd.args(["run", "--scenario", "ack-receiver", "--sut"])
        .arg(&manifest)
        .arg("--report-dir")
        .arg(&report_dir);
    cmd.args(extra);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    drop(sut);
    // Without a terminal (CI logs) the live progress line is not drawn.
    assert!(
        !out.stderr.contains(&0x1b),
        "escape sequences on a non-terminal stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        dir,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[path = "support/ports.rs"]
mod ports;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_run_exits_0_and_writes_every_report() {
    let (code, dir, stdout) = run_against(None).await;
    assert_eq!(code, Some(0), "{stdout}");
    for f in ["report.xml", "report.json", "report.html", "report.md"] {
        let p = dir.path().join("reports").join(f);
        assert!(
            p.exists(),
            "missing {f}; found {:?}",
            std::fs::read_dir(dir.path().join("reports")).ok()
        );
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["summary"]["status"], "passed");
    assert_eq!(json["summary"]["total"], 11);
    assert!(
        stdout.contains("pass  nge-5.9.2/ack-receiver ack.msa2-echoes-msh10"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_exits_1_with_a_junit_failure() {
    let (code, dir, stdout) = run_against(Some(Defect::NoMshSwap)).await;
    assert_eq!(code, Some(1), "{stdout}");
    let junit = std::fs::read_to_string(dir.path().join("reports/report.xml")).unwrap();
    assert!(junit.contains("ack.msh-swapped"), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    assert!(
        stdout.contains("FAIL  nge-5.9.2/ack-receiver ack.msh-swapped"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_failures_are_warnings_only_when_asked() {
    // ack.msh-swapped is a SHOULD: it fails the run by default (above), and is
    // a warning with --should-is-warning.
    let (code, _dir, stdout) = run_with(Some(Defect::NoMshSwap), &["--should-is-warning"]).await;
    assert_eq!(code, Some(0), "{stdout}");
    let (code, _dir, stdout) = run_with(Some(Defect::WrongMsa2), &["--should-is-warning"]).await;
    assert_eq!(code, Some(1), "a SHALL failure always fails: {stdout}");
}

#[test]
fn bad_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(
        &manifest,
        "name = \"x\"\n[mllp]\nlisten = \"not-an-address\"\n",
    )
    .unwrap();
    let out = ngsim()
        .args(["run", "--scenario", "ack-receiver", "--sut"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key `mllp.listen`"));
    std::fs::write(&manifest, "name = \"x\"\n").unwrap();
    let out = ngsim()
        .args(["run", "--scenario", "no-such-scenario", "--sut"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("built-in scenarios: ack-receiver"));
}

#[test]
fn a_sut_without_a_listener_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    let (_closed, port) = ports::refused_port();
    std::fs::write(
        &manifest,
        format!("name = \"x\"\n[mllp]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let out = ngsim()
        .args([
            "run",
            "--scenario",
            "ack-receiver",
            "--format",
            "json",
            "--sut",
        ])
        .arg(&manifest)
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cannot connect to the SUT's MLLP listener")
    );
}

#[test]
fn gen_hl7_writes_a_deterministic_corpus() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let out = ngsim()
            .args([
                "gen", "hl7", "--type", "ORU^R01", "--count", "5", "--seed", "3", "--out",
            ])
            .arg(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut names: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5);
    for n in &names {
        let x = std::fs::read(a.path().join(n)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.path().join(n)).unwrap(),
            "same seed, same bytes"
        );
        assert!(x.starts_with(b"MSH|") && !x.contains(&b'\n'));
    }
    let out = ngsim()
        .args(["gen", "hl7", "--type", "XYZ^Q01", "--out"])
        .arg(a.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn checks_list_names_every_catalogued_check() {
    let out = ngsim().args(["checks", "list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for c in suites::catalog::CATALOG {
        assert!(
            text.contains(c.id) && text.contains(c.requirement),
            "{}",
            c.id
        );
    }
}

#[test]
fn routes_report_flags_undeclared_and_prohibited_routes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let journal = root.join("fixtures/enterprise/sample-journal.jsonl");
    let declared = root.join("fixtures/enterprise/routes.txt");
    let out = ngsim()
        .args(["routes", "report", "--journal"])
        .arg(&journal)
        .arg("--declared")
        .arg(&declared)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the sample journal has findings:\n{text}"
    );
    assert!(text.contains("GET /persons/{personId}"), "{text}");
    let out = ngsim()
        .args(["routes", "report", "--format", "json", "--journal"])
        .arg(&journal)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.is_object(), "{json}");
    let out = ngsim()
        .args(["routes", "report", "--journal", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_scope_request_fails_through_the_cli() {
    // The embedded simulator registers a backend SUT with the wide ceiling
    // (as the engine does), so the grant shows what it asked for.
    let practice = simulator::practice::Practice::new(Default::default());
    let cfg = reference::SyncConfig {
        simulator: "http://127.0.0.1:9".into(),
        panel: reference::sync::default_panel(&practice),
    };
    let sut = reference::start_sync(Some(Defect::WildcardScope), cfg)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sut.toml");
    std::fs::write(&manifest, sut.manifest_toml()).unwrap();
    let mut cmd = ngsim();
    cmd.args([
        "run",
        "--scenario",
        "write-back-scopes",
        "--format",
        "json",
        "--sut",
    ])
    .arg(&manifest)
    .arg("--report-dir")
    .arg(dir.path().join("r"));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].contains("scopes.least-privilege") && failed[0].contains("system/*.read"),
        "{stdout}"
    );
}
