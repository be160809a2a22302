//! The `ngsim` binary as a process: banner, addresses, signals, exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn ngsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngsim"))
}

#[test]
fn serve_answers_on_its_printed_addresses_and_exits_cleanly_on_sigterm() {
    let mut child = ngsim()
        .args(["serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
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
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no `{label}` in banner:\n{}", banner.join("\n")))
    };
    let http = field("HTTP ");
    let fhir = field("FHIR R4 base");
    assert!(fhir.starts_with(&http) && fhir.ends_with("/nge/prod/fhir-api-r4/fhir/r4"));
    assert!(
        banner
            .iter()
            .any(|l| l.contains("demo-gsa") && l.contains("site_id ngsim-site-1"))
    );
    let health: serde_json::Value = reqwest::blocking_get(&field("control API"));
    assert_eq!(health["status"], "ok");

    // SIGTERM: graceful shutdown and exit code 0.
    let pid = i32::try_from(child.id()).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: kill(2) with a valid pid of our own child and a standard signal.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}

mod reqwest {
    /// A blocking GET on a throwaway runtime (the test itself is synchronous).
    pub fn blocking_get(url: &str) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().json().await.unwrap() })
    }
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("ngsim did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_taken_port_is_an_infrastructure_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = ngsim()
        .args(["serve", "--mllp", "127.0.0.1:0", "--http", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot bind HTTP"));
}

/// `ngsim serve` serves synthetic data with deliberately weak modes, so a
/// bind beyond loopback needs `--allow-remote`; without it the process exits
/// with the bad-input code before it listens anywhere. (The test never binds
/// beyond loopback itself: the refusal comes before any socket.)
#[test]
fn a_non_loopback_bind_without_allow_remote_is_refused() {
    for args in [
        ["--http", "0.0.0.0:0", "--mllp", "127.0.0.1:0"],
        ["--http", "127.0.0.1:0", "--mllp", "0.0.0.0:0"],
    ] {
        let out = ngsim().arg("serve").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--allow-remote"), "{args:?}: {stderr}");
        assert!(stderr.contains("0.0.0.0:0"), "names the address: {stderr}");
    }
}
#[test]
fn profiles_list_show_and_validate() {
    let out = ngsim().args(["profiles", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["nge-5.9.0", "nge-5.9.2 ", "nge-office"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("nge-5.9.2") && l.ends_with("(default)"))
    );

    let out = ngsim()
        .args(["profiles", "show", "nge-office"])
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("paging-param = \"_count\""), "{shown}");

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("site.toml");
    std::fs::write(&good, "name = \"site\"\ninherits = \"nge-5.9.0\"\n").unwrap();
    let out = ngsim()
        .args(["profiles", "validate"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"site\"\n[hl7]\nack-mode = \"sometimes\"\n").unwrap();
    let out = ngsim()
        .args(["profiles", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.toml:3:12: key `hl7.ack-mode`: unknown variant `sometimes`"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = ngsim().args(["serve", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = ngsim().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("ngsim_help", String::from_utf8(out.stdout).unwrap());
    let out = ngsim().args(["serve", "--help"]).output().unwrap();
    insta::assert_snapshot!("ngsim_serve_help", String::from_utf8(out.stdout).unwrap());
}
