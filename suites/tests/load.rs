//! `ngsim load`: the recorder against a SUT with a known ACK delay, in process
//! and as a process, and the baseline comparison end to end (a slower SUT
//! regresses and exits 4, a NAKing one exits 1).
//!
//! No assertion here depends on how fast this machine is: the injected delay
//! is a lower bound every ACK must respect, and the upper tolerance is wide.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use simulator::hl7::{Message, MllpCodec, MllpFrame};
use suites::load::{self, LoadSpec, Pacing, StopAfter};
use suites::reference;
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

fn ngsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngsim"))
}

fn spec(target: SocketAddr, pacing: Pacing, messages: u64) -> LoadSpec {
    LoadSpec {
        target,
        connections: 4,
        pacing,
        stop: StopAfter::Messages(messages),
        mix: LoadSpec::default_mix(),
        ack_timeout: Duration::from_secs(10),
        seed: 42,
    }
}

#[path = "support/ports.rs"]
mod ports;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_matches_a_known_injected_delay() {
    let delay = Duration::from_millis(25);
    let sut = reference::start_delayed(None, Duration::from_secs(5), delay)
        .await
        .unwrap();
    let figures = load::run(&spec(sut.mllp_addr, Pacing::AsFastAsPossible, 120), 1)
        .await
        .unwrap();
    let f = &figures[0];
    assert_eq!((f.sent, f.acked, f.errors.total()), (120, 120, 0), "{f:?}");
    // Every ACK waited at least the delay; the median is near it. The upper
    // bound is loose: CI machines are shared.
    assert!(f.latency_ms.p50 >= 25.0, "{:?}", f.latency_ms);
    assert!(f.latency_ms.p50 < 25.0 + 150.0, "{:?}", f.latency_ms);
    let fastest_bucket = f.histogram.iter().find(|b| b.count > 0).unwrap();
    assert!(fastest_bucket.upper_us >= 25_000, "{:?}", f.histogram);
    // Four stop-and-wait connections at >= 25 ms each: at most 160 msg/s.
    assert!(
        f.throughput <= 4.0 * 1000.0 / 25.0 + 1.0,
        "{}",
        f.throughput
    );
    // The receiver processed each message exactly once.
    assert_eq!(sut.processed().len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_latency_includes_the_queueing_a_slow_sut_causes() {
    // One connection, 20 ms per ACK, offered 100 msg/s: the SUT can do 50/s,
    // so messages queue behind their schedule and the measured latency (from
    // the scheduled time, not the send time) grows well past the service time.
    let sut = reference::start_delayed(None, Duration::from_secs(5), Duration::from_millis(20))
        .await
        .unwrap();
    let mut s = spec(sut.mllp_addr, Pacing::Fixed { rate: 100.0 }, 60);
    s.connections = 1;
    let f = &load::run(&s, 1).await.unwrap()[0];
    assert_eq!(f.acked, 60, "{f:?}");
    // Message k can't be ACKed before (k+1)·20 ms but was due at k·10 ms, so
    // its latency is at least 10·k + 20 ms: the median (k≈30) at least 320 ms,
    // sixteen times the service time. A recorder that timed from the actual
    // send would see about 20 ms.
    assert!(f.latency_ms.p50 >= 300.0, "{:?}", f.latency_ms);
    assert!(f.latency_ms.max >= 600.0, "{:?}", f.latency_ms);
}

/// An MLLP receiver that answers every message with AE.
async fn naking_receiver() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut f = Framed::new(tcp, MllpCodec::default());
                while let Some(Ok(frame)) = f.next().await {
                    let id = Message::parse(&frame.payload)
                        .map(|m| m.get_lossy("MSH-10"))
                        .unwrap_or_default();
                    let ack = format!(
                        "MSH|^~\\&|SUT|SUT|NG|NG|20260701000000||ACK^A04^ACK|N{id}|P|2.5.1\rMSA|AE|{id}|nope\r"
                    );
                    if f.send(MllpFrame::message(ack.into_bytes())).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

fn run_cli(args: Vec<String>) -> (Option<i32>, String) {
    let out = ngsim().args(args).output().unwrap();
    (
        out.status.code(),
        format!(
            "{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn args(target: SocketAddr, dir: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "load",
        "--target",
        &target.to_string(),
        "--connections",
        "2",
        "--closed-loop",
        "--messages",
        "40",
        "--repeat",
        "2",
        "--baseline-dir",
        &dir.join("baselines").display().to_string(),
        "--report-dir",
        &dir.join("report").display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_saves_a_baseline_and_a_slower_sut_regresses_with_exit_4() {
    let fast = reference::start_delayed(None, Duration::from_secs(5), Duration::from_millis(2))
        .await
        .unwrap();
    let slow = reference::start_delayed(None, Duration::from_secs(5), Duration::from_millis(40))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();

    let a = args(fast.mllp_addr, &d, &["--save-baseline", "main"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("baseline `main` saved"), "{out}");
    assert!(d.join("baselines/main.json").exists());

    // 2 ms -> 40 ms per ACK: every latency figure regresses far beyond 10%.
    let a = args(slow.mllp_addr, &d, &["--baseline", "main"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("mllp.ack_latency.p50") && out.contains("REGRESSED"),
        "{out}"
    );
    let junit = std::fs::read_to_string(d.join("report/report.xml")).unwrap();
    assert!(
        junit.contains("perf.mllp.ack_latency.p50") && junit.contains("<failure"),
        "{junit}"
    );
    let md = std::fs::read_to_string(d.join("report/report.md")).unwrap();
    assert!(md.contains("mllp.ack_latency.p50"), "{md}");
    let html = std::fs::read_to_string(d.join("report/report.html")).unwrap();
    assert!(html.contains("<svg"), "the HTML report plots the figures");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("report/report.json")).unwrap())
            .unwrap();
    assert!(json["perf"]["baseline"]["rows"].as_array().unwrap().len() >= 5);

    // A different shape of run is refused, not compared.
    let mut a = args(fast.mllp_addr, &d, &["--baseline", "main"]);
    a[4] = "3".into(); // --connections 3
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("connections 2 vs 3"), "{out}");

    // A typo in the baseline name fails before any load is sent.
    let a = args(fast.mllp_addr, &d, &["--baseline", "mian"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("no baseline `mian`") && out.contains("main"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naks_fail_the_run_with_exit_1_and_nothing_listening_is_exit_3() {
    let nak = naking_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let a = args(nak, &d, &[]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(1), "{out}");
    let junit = std::fs::read_to_string(d.join("report/report.xml")).unwrap();
    assert!(
        junit.contains("load.no-errors") && junit.contains("NAK"),
        "{junit}"
    );

    let (closed, port) = ports::refused_port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let a = args(addr, &d, &[]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("cannot connect"), "{out}");
    drop(closed);
}

#[test]
fn the_shipped_load_scenario_and_bad_flags_are_checked_before_running() {
    let (code, out) = run_cli(
        [
            "load",
            "--target",
            "127.0.0.1:9",
            "--scenario",
            "load-mllp-feed",
            "--mix",
            "ADT^Z99=1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("unknown message type `ADT^Z99`"), "{out}");
    let (code, out) = run_cli(
        [
            "load",
            "--target",
            "127.0.0.1:9",
            "--scenario",
            "no-such-load",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("load-mllp-feed"), "{out}");
}

/// Runs one "sync" against a real simulator and writes its journal as JSONL.
/// `wasteful` re-reads every searched patient by id (N+1) and one twice.
async fn recorded_sync(wasteful: bool, path: &std::path::Path) {
    let sim = simulator::Simulator::builder()
        .patients(40)
        .start()
        .await
        .unwrap();
    let token = simulator::auth::mint_backend_token(sim.state(), "system/Patient.rs").unwrap();
    let http = reqwest::Client::new();
    let get = |url: String| {
        let req = http.get(url).bearer_auth(&token);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let paging = sim.state().profile().fhir.paging_param.as_str().to_owned();
    let mut url = Some(format!("{}/Patient?{paging}=10", sim.fhir_base_url()));
    let mut ids = Vec::new();
    while let Some(u) = url.take() {
        let bundle = get(u).await;
        for e in bundle["entry"].as_array().into_iter().flatten() {
            ids.push(e["resource"]["id"].as_str().unwrap().to_owned());
        }
        url = bundle["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            .map(|l| l["url"].as_str().unwrap().to_owned());
    }
    assert!(ids.len() >= 20, "{}", ids.len());
    if wasteful {
        for id in ids.iter().chain(ids.first()) {
            get(format!("{}/Patient/{id}", sim.fhir_base_url())).await;
        }
    }
    let mut jsonl = String::new();
    for e in sim.state().journal.snapshot() {
        jsonl.push_str(&serde_json::to_string(&*e).unwrap());
        jsonl.push('\n');
    }
    std::fs::write(path, jsonl).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_efficiency_is_judged_from_the_journal_and_compared_with_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    recorded_sync(false, &d.join("lean.jsonl")).await;
    recorded_sync(true, &d.join("wasteful.jsonl")).await;
    let cli = |journal: &str, extra: &[&str]| {
        let mut v: Vec<String> = vec![
            "load".into(),
            "--from-journal".into(),
            d.join(journal).display().to_string(),
            "--client".into(),
            simulator::auth::DEMO_BACKEND_CLIENT.into(),
            "--baseline-dir".into(),
            d.join("baselines").display().to_string(),
            "--report-dir".into(),
            d.join("report").display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = cli("lean.jsonl", &["--save-baseline", "lean"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("0 N+1") && out.contains("pages followed"),
        "{out}"
    );

    let a = cli("wasteful.jsonl", &["--baseline", "lean"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(1), "N+1 reads fail the SHOULD check: {out}");
    assert!(
        out.contains("N+1 read(s)") && out.contains("repeated read"),
        "{out}"
    );
    assert!(
        out.contains("sync.requests") && out.contains("REGRESSED"),
        "{out}"
    );
    let junit = std::fs::read_to_string(d.join("report/report.xml")).unwrap();
    assert!(junit.contains("load.sync-no-waste"), "{junit}");

    let a = cli("lean.jsonl", &["--client", "nobody"]);
    let (code, out) = tokio::task::spawn_blocking(move || run_cli(a))
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_day_then_the_suts_sync_hook_is_timed_and_counted() {
    use simulator::practice::{Practice, PracticeConfig};
    let seed = 42;
    let practice = Practice::new(PracticeConfig {
        seed,
        ..Default::default()
    });
    let cfg = reference::SyncConfig {
        // The hook header names the embedded simulator; this is a fallback.
        simulator: "http://127.0.0.1:9".into(),
        panel: reference::sync::default_panel(&practice),
    };
    let sut = reference::start_sync(None, cfg).await.unwrap();
    let manifest = suites::manifest::SutManifest::parse(
        "sut.toml",
        &sut.manifest_toml(),
        std::path::Path::new("."),
    )
    .unwrap();
    let profile = simulator::profile::ProfileLoader::default()
        .load(simulator::server::DEFAULT_PROFILE)
        .unwrap();
    let run = load::sync_run::run(&manifest, profile.clone(), seed, 5, "sync")
        .await
        .unwrap();
    let f = &run.figures;
    assert!(run.clinic_changes >= 5, "{run:?}");
    assert!(f.fhir > 0 && f.enterprise > 0 && f.oauth > 0, "{f:?}");
    assert_eq!(
        f.requests,
        f.fhir + f.enterprise + f.oauth + f.bulk,
        "{f:?}"
    );
    assert!(f.wall_time_ms > 0.0 && f.request_rate > 0.0, "{f:?}");
    assert_eq!(
        f.n_plus_one_reads, 0,
        "the reference sync reads each record once: {f:?}"
    );

    // A hook the manifest lacks is the user's mistake, named before anything runs.
    let e = load::sync_run::run(&manifest, profile, seed, 1, "sync-now")
        .await
        .unwrap_err();
    assert!(matches!(e, load::LoadError::Invalid(_)), "{e}");
    assert!(
        e.to_string().contains("no hook `sync-now`") && e.to_string().contains("sync"),
        "{e}"
    );
}
