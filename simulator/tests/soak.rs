//! MLLP soak with chaos: many messages over 16 connections whose senders drop
//! the connection at random (before the ACK, or in the middle of a frame),
//! reconnect and resend what was not acknowledged, with the same MSH-10.
//!
//! Afterwards:
//! - every message the sender saw ACKed is in the journal (the `--journal`
//!   file) exactly once as `accepted`; the resends are `duplicate`;
//! - nothing was processed twice: the practice gained exactly one observation
//!   per ORU;
//! - every ACK's MSA-2 is the MSH-10 just sent on that connection;
//! - resident memory growth after a warm-up tenth of the run stays under
//!   [`RSS_GROWTH_BOUND`] (the figures are printed);
//! - the process's open file descriptors return to their starting count.
//!
//! `NGSIM_SOAK_MESSAGES` sets the message count (default 20,000, the CI
//! run). The full run, whose figures are in `benches/README.md`:
//!
//! ```sh
//! NGSIM_SOAK_MESSAGES=1000000 cargo test --release -p simulator --test soak -- --nocapture
//! ```

#[path = "mllp_support.rs"]
mod support;

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use simulator::RunningSimulator;
use simulator::journal::{Entry, Surface};
use simulator::practice::PatientIndex;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CONNECTIONS: usize = 16;
const PATIENTS: u32 = 50;
/// One message in this many is an ORU (adds an observation); the rest are
/// ADT^A08 updates, which overwrite and so keep the practice's size flat.
const ORU_EVERY: usize = 100;
/// Chance per message, in thousandths, that the sender drops the connection
/// in the middle of the frame.
const DROP_MID_FRAME: u32 = 3;
/// Chance per message, in thousandths, that the sender drops the connection
/// after the whole frame, before reading the ACK.
const DROP_BEFORE_ACK: u32 = 5;
/// Largest resident-memory growth allowed between the end of the warm-up and
/// the end of the run. The duplicate memory (10,000 ACKs), the journal's
/// in-memory ring and the allocator's pools fill during the warm-up; what is
/// left is the one-in-a-hundred ORU observations (about 8 MiB for 10,000 of
/// them at 1,000,000 messages). The senders' own bookkeeping is allocated
/// before the warm-up, so it does not count.
const RSS_GROWTH_BOUND: u64 = 32 * 1024 * 1024;

fn message_count() -> usize {
    std::env::var("NGSIM_SOAK_MESSAGES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(20_000)
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Message `k` of the run: its MSH-10 and payload.
fn message(k: usize, people: &[(String, String)]) -> (String, Vec<u8>) {
    let id = format!("SOAK{k}");
    let (mrn, pn) = &people[k % people.len()];
    let m = |kind: &str| {
        format!("MSH|^~\\&|SOAK|SOAKFAC|NextGen|NGSIM|20260701120000||{kind}|{id}|P|2.3\r")
    };
    let payload = if k % ORU_EVERY == 0 {
        format!(
            "{}PID|1||{mrn}^^^NextGen^MRN||Doe^Jane\rOBR|1|P{k}|F{k}|2345-7^Glucose^LN|||20260701100000\rOBX|1|NM|2345-7^Glucose^LN||105|mg/dL|70-99|H|||F|||20260701100000\r",
            m("ORU^R01")
        )
    } else {
        format!("{}PID|1|{pn}|||Soak^Given{}\r", m("ADT^A08"), k % 7)
    };
    (id, payload.into_bytes())
}

/// How many ACKs the senders saw per message index. Allocated in full before
/// the run (one byte a message), so the test's own bookkeeping does not show
/// up as the simulator's memory growth.
type AckTally = Arc<Vec<AtomicU8>>;

#[derive(Debug, Default)]
struct SenderStats {
    dropped_mid_frame: u64,
    dropped_before_ack: u64,
}

/// Send messages `range` (stepping by `CONNECTIONS` from `first`) on one
/// connection slot, with chaos, until every one is ACKed.
async fn sender(
    sim_addr: std::net::SocketAddr,
    ids: impl Iterator<Item = usize>,
    people: Arc<Vec<(String, String)>>,
    tally: AckTally,
    seed: u64,
) -> SenderStats {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stats = SenderStats::default();
    let mut s = TcpStream::connect(sim_addr).await.unwrap();
    let mut pending = ids;
    let mut unacked: Option<(usize, String, Vec<u8>)> = None;
    loop {
        let (k, id, payload) = match unacked.take() {
            Some(m) => m,
            None => match pending.next() {
                Some(k) => {
                    let (id, payload) = message(k, &people);
                    (k, id, payload)
                }
                None => break,
            },
        };
        let framed = frame(&payload);
        let roll = rng.random_range(0..1000u32);
        if roll < DROP_MID_FRAME {
            let cut = rng.random_range(1..framed.len() - 1);
            s.write_all(&framed[..cut]).await.unwrap();
            drop(s);
            s = TcpStream::connect(sim_addr).await.unwrap();
            stats.dropped_mid_frame += 1;
            unacked = Some((k, id, payload));
            continue;
        }
        s.write_all(&framed).await.unwrap();
        if roll < DROP_MID_FRAME + DROP_BEFORE_ACK {
            drop(s);
            s = TcpStream::connect(sim_addr).await.unwrap();
            stats.dropped_before_ack += 1;
            unacked = Some((k, id, payload));
            continue;
        }
        let acks = read_frames(&mut s, 1).await;
        let (code, msa2, _) = msa(&acks[0]);
        assert_eq!(code, "AA", "{id}: {}", String::from_utf8_lossy(&acks[0]));
        assert_eq!(
            msa2, id,
            "an ACK for another message came back on this connection"
        );
        tally[k].fetch_add(1, Ordering::Relaxed);
    }
    stats
}

/// Run messages `from..to` over all connections; returns the senders' stats.
async fn run(
    sim: &RunningSimulator,
    from: usize,
    to: usize,
    people: &Arc<Vec<(String, String)>>,
    tally: &AckTally,
) -> Vec<SenderStats> {
    let addr = sim.mllp_addr().unwrap();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            // Slot `c` sends every message `k` with `k % CONNECTIONS == c`.
            let first = from + (c + CONNECTIONS - from % CONNECTIONS) % CONNECTIONS;
            let ids = (first..to).step_by(CONNECTIONS);
            tokio::spawn(sender(
                addr,
                ids,
                people.clone(),
                tally.clone(),
                (from * CONNECTIONS + c) as u64,
            ))
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn total_observations(sim: &RunningSimulator) -> usize {
    (0..PATIENTS)
        .map(|i| {
            sim.practice()
                .chart(PatientIndex(i))
                .unwrap()
                .observations
                .len()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mllp_soak_with_chaos_loses_nothing() {
    let n = message_count();
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.jsonl");
    let sim = simulator::Simulator::builder()
        .profile_named("nge-5.9.0")
        .unwrap()
        .patients(PATIENTS)
        .journal_capacity(10_000)
        .journal_file(&journal_path)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .start()
        .await
        .unwrap();
    let people: Arc<Vec<(String, String)>> = Arc::new(
        (0..PATIENTS)
            .map(|i| {
                let (mrn, pn, _) = patient(&sim, i);
                (mrn, pn)
            })
            .collect(),
    );
    let tally: AckTally = Arc::new((0..n).map(|_| AtomicU8::new(0)).collect());
    let observations_before = total_observations(&sim);
    let fds_before = open_fds();
    let started = Instant::now();
    let warm = n / 10;
    let guard = Duration::from_secs(3600);
    let mut stats = tokio::time::timeout(guard, run(&sim, 0, warm, &people, &tally))
        .await
        .expect("no deadlock");
    let rss_warm = rss_bytes();
    stats.extend(
        tokio::time::timeout(guard, run(&sim, warm, n, &people, &tally))
            .await
            .expect("no deadlock"),
    );
    let elapsed = started.elapsed();
    let rss_end = rss_bytes();

    // Every ACKed message, exactly once, as accepted in the journal file.
    sim.journal().flush();
    for (k, t) in tally.iter().enumerate() {
        assert_eq!(
            t.load(Ordering::Relaxed),
            1,
            "message {k} was ACKed exactly once"
        );
    }
    let mut accepted: HashMap<String, u32> = HashMap::with_capacity(n);
    let mut duplicates = 0u64;
    let mut cut_or_reset = 0u64;
    let file = std::fs::File::open(&journal_path).unwrap();
    for line in std::io::BufReader::new(file).lines() {
        let e: Entry = serde_json::from_str(&line.unwrap()).unwrap();
        let Some(x) = e.mllp().filter(|_| e.surface == Surface::MllpIn) else {
            continue;
        };
        match (x.outcome.as_str(), &x.msh10) {
            ("accepted", Some(id)) => *accepted.entry(id.to_string()).or_default() += 1,
            ("duplicate", Some(_)) => duplicates += 1,
            ("error", None) => cut_or_reset += 1,
            _ => panic!("unexpected journal entry {e:?}"),
        }
    }
    for k in 0..n {
        let id = format!("SOAK{k}");
        assert_eq!(accepted.get(id.as_str()), Some(&1), "{id} accepted once");
    }
    assert_eq!(accepted.len(), n, "nothing accepted that was not sent");
    let js = sim.journal().stats();
    assert!(
        js.next_seq - js.first_seq <= js.capacity as u64,
        "the in-memory journal keeps its bound"
    );

    // The practice changed once per message: one observation per ORU.
    let orus = (0..n).filter(|k| k % ORU_EVERY == 0).count();
    assert_eq!(total_observations(&sim) - observations_before, orus);

    // Every connection the senders opened is gone again on both sides.
    let mut fds_end = open_fds();
    for _ in 0..1000 {
        if fds_end <= fds_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        fds_end = open_fds();
    }
    let mid: u64 = stats.iter().map(|s| s.dropped_mid_frame).sum();
    let before_ack: u64 = stats.iter().map(|s| s.dropped_before_ack).sum();
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "soak: {n} messages over {CONNECTIONS} connections in {:.1} s ({:.0} msg/s); \
         drops: {mid} mid-frame, {before_ack} before the ACK; journal: {duplicates} duplicates, \
         {cut_or_reset} cut frames or resets; RSS {:.1} MiB after warm-up, {:.1} MiB at the end \
         (growth {:.1} MiB); fds {fds_before} -> {fds_end}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        mib(rss_warm),
        mib(rss_end),
        mib(rss_end.saturating_sub(rss_warm)),
    );
    assert_eq!(
        fds_end, fds_before,
        "file descriptors return to the starting count"
    );
    assert!(
        rss_end.saturating_sub(rss_warm) <= RSS_GROWTH_BOUND,
        "resident memory grew by {:.1} MiB after the warm-up",
        mib(rss_end - rss_warm)
    );
    assert!(
        duplicates >= before_ack,
        "every ACK-less drop was resent as a duplicate"
    );
    sim.shutdown().await;
}
