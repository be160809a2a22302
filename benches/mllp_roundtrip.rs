//! ACKed HL7 messages per second through the simulator's MLLP listener on
//! loopback: stop-and-wait per connection, a ~1.6 KB NextGen-shaped ADT^A04
//! for a patient of the practice (parse, duplicate memory, admission checks,
//! the practice lookup by MRN, the ACK and the journal entry included).
//!
//! `main` first prints one-shot figures: throughput on 1, 8 and 64
//! connections, and latency percentiles at a paced 20,000 msgs/s. The
//! criterion groups then measure the same round trips.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use simulator::hl7::generators::{MessageType, generate, sample_context};
use simulator::practice::PatientIndex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ID_WIDTH: usize = 16;

/// A framed ADT^A04 whose MSH-10 is `ID_WIDTH` digits, and the offset of those digits.
fn template(sim: &simulator::RunningSimulator) -> (Vec<u8>, usize) {
    let p = sim.practice().patient(PatientIndex(7)).expect("patient");
    let mut ctx = sample_context(42, 7);
    ctx.patient.mrn = p.mrn.clone();
    ctx.patient.person_number = p.person_number.clone();
    ctx.control_id = "0".repeat(ID_WIDTH);
    let mut payload = generate(MessageType::AdtA04, &ctx).encode();
    while payload.len() < 1600 {
        ctx.notes
            .push("Patient prefers morning appointments; interpreter not required.".into());
        payload = generate(MessageType::AdtA04, &ctx).encode();
    }
    let mut framed = Vec::new();
    simulator::hl7::mllp::frame_into(&payload, &mut framed);
    let at = framed
        .windows(ID_WIDTH)
        .position(|w| w.iter().all(|b| *b == b'0'))
        .expect("control id");
    (framed, at)
}

fn set_id(frame: &mut [u8], at: usize, mut n: u64) {
    for b in frame[at..at + ID_WIDTH].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// One connection: `count` stop-and-wait exchanges; returns per-message latencies
/// when `pace` is set.
async fn client(
    addr: SocketAddr,
    (mut frame, at): (Vec<u8>, usize),
    first_id: u64,
    count: u64,
    pace: Option<Duration>,
) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 4096];
    let mut lat = Vec::new();
    let mut tick = pace.map(|p| {
        let mut i = tokio::time::interval(p);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    for k in 0..count {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        set_id(&mut frame, at, first_id + k);
        let start = Instant::now();
        s.write_all(&frame).await.expect("write");
        let mut have = 0;
        loop {
            let n = s.read(&mut buf[have..]).await.expect("read");
            assert!(n > 0, "listener closed");
            have += n;
            if have >= 2 && buf[have - 2..have] == [0x1C, 0x0D] {
                break;
            }
        }
        if pace.is_some() {
            lat.push(start.elapsed());
        }
    }
    lat
}

async fn run(
    addr: SocketAddr,
    tpl: &(Vec<u8>, usize),
    conns: u64,
    per_conn: u64,
    base: u64,
    pace: Option<Duration>,
) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|c| {
            tokio::spawn(client(
                addr,
                tpl.clone(),
                base + c * 1_000_000_000,
                per_conn,
                pace,
            ))
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client"));
    }
    (start.elapsed(), lat)
}

/// A bare tokio responder (no parsing, a fixed ACK): the floor these
/// machines set for stop-and-wait on loopback.
async fn bare_responder() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let ack = b"\x0bMSH|^~\\&|A|B|C|D|20260101||ACK^A04^ACK|1|P|2.3\rMSA|AA|1\r\x1c\r";
                let mut buf = vec![0u8; 8192];
                let mut have = 0;
                loop {
                    let Ok(n) = s.read(&mut buf[have..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    have += n;
                    if have >= 2 && buf[have - 2..have] == [0x1C, 0x0D] {
                        have = 0;
                        if s.write_all(ack).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt.block_on(async {
        simulator::Simulator::builder()
            .profile_named("nge-5.9.0")
            .expect("profile")
            .mllp_addr("127.0.0.1:0".parse().expect("addr"))
            .start()
            .await
            .expect("start")
    });
    let addr = sim.mllp_addr().expect("mllp");
    let tpl = template(&sim);
    println!("message: {} bytes framed", tpl.0.len());
    let bare = rt.block_on(bare_responder());
    for conns in [1u64, 8] {
        let per = 40_000 / conns;
        let (took, _) = rt.block_on(run(bare, &tpl, conns, per, 0, None));
        println!(
            "one-shot: bare tokio responder, {conns} connection(s): {:.0} msgs/s",
            (per * conns) as f64 / took.as_secs_f64()
        );
    }
    let mut base = 1;
    for conns in [1u64, 8, 64] {
        let per = 40_000 / conns;
        let (took, _) = rt.block_on(run(addr, &tpl, conns, per, base, None));
        base += 10_000_000_000_000;
        println!(
            "one-shot: {conns} connection(s): {:.0} ACKed msgs/s",
            (per * conns) as f64 / took.as_secs_f64()
        );
    }
    // 20,000 msgs/s: 8 connections, one message every 400 µs each, 3 s.
    let (_, mut lat) = rt.block_on(run(
        addr,
        &tpl,
        8,
        7_500,
        base,
        Some(Duration::from_micros(400)),
    ));
    base += 10_000_000_000_000;
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "one-shot: paced 20,000 msgs/s on 8 connections: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        lat[lat.len() - 1]
    );

    // The listener's per-message work without sockets: parse, dedupe,
    // admission, practice lookup, ACK, journal.
    let listener = simulator::mllp::Listener::new(
        sim.state().clone(),
        simulator::mllp::MllpLimits::default(),
        None,
    );
    let mut frame = tpl.0.clone();
    let n = 100_000u64;
    let start = Instant::now();
    for k in 0..n {
        set_id(&mut frame, tpl.1, base + k);
        let (outcome, _) = listener.process(&frame[1..frame.len() - 2], "bench");
        assert_eq!(outcome, "accepted");
    }
    base += 10_000_000_000_000;
    let took = start.elapsed();
    println!(
        "one-shot: listener work without sockets: {:.2} µs/msg ({:.0} msgs/s on one core)",
        took.as_secs_f64() * 1e6 / n as f64,
        n as f64 / took.as_secs_f64()
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("mllp_roundtrip");
    for conns in [1u64, 8] {
        g.throughput(Throughput::Elements(conns * 1000));
        g.bench_function(format!("adt_a04_{conns}_conn"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(run(addr, &tpl, conns, 1000, base, None)).0;
                    base += 10_000_000_000_000;
                }
                total
            })
        });
    }
    g.finish();
    c.final_summary();
    drop(sim);
}
