//! ACKed HL7 messages per second through the simulator's MLLP listener on
//! loopback: stop-and-wait per connection, a ~1.6 KB NextGen-shaped ADT^A04
//! for a patient of the practice (parse, duplicate memory, admission checks,
//! the practice lookup by MRN, the ACK and the journal entry included).
//!
//! `main` first prints one-shot figures: a *bare responder floor* (a tokio
//! responder that only finds MSH-10 and writes a canned ACK echoing it, on
//! the same server runtime), throughput on 1, 8 and 64 connections, and
//! latency percentiles at a paced 20,000 msgs/s. The criterion groups then
//! measure the same round trips.
//!
//! The load client shares the 2 cores with the server, so it does no more
//! than a stop-and-wait sender must: one preformatted frame per connection
//! with the MSH-10 digits patched in place, the ACK read into a reused
//! buffer, no allocation per message; every ACK is checked (one frame,
//! MSA-1 `AA`, MSA-2 equal to the MSH-10 just sent). Its connections run as
//! tasks on the server's runtime: measured under load, that costs less CPU
//! per message than a separate current-thread runtime or blocking threads
//! (each of those adds a thread wake-up per exchange). Every one-shot line
//! also gives the process's CPU time per message (all threads, from
//! `/proc/self/task/*/schedstat`), a figure that other load on the machine
//! disturbs far less than the rate.
//!
//! Each simulator is measured in its steady state, as a listener that has
//! run for a while is: before its first measured message it is sent as many
//! messages as its journal keeps (8 connections, distinct control ids), so
//! the journal is full and each new entry replaces the oldest, as in
//! production, instead of growing the heap (page faults and `mprotect` calls
//! that a fresh process pays once). `NGSIM_MLLP_WARMUP=n` sends `n` instead
//! (`0`: measure a fresh simulator).
//!
//! Because the client shares the cores, the rate above is bounded by the
//! client's own cost. A last pair of one-shot lines separates the two: a
//! second simulator (and bare responder) on a one-worker runtime, and the
//! same client on its own thread, so the server's CPU per ACKed message is
//! read from its worker thread alone. `1 / that` is what one core of server
//! sustains when the sender runs elsewhere, as it does at a real site.
//!
//! `NGSIM_MLLP_PEER=host:port` also drives another MLLP listener (another
//! HL7 server or interface engine, started by hand) with the same client on
//! 1, 8 and 64 connections, so the two are compared on the same cores in
//! the same run. Its ACKs are checked the same way.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use memchr::memmem;
use simulator::hl7::generators::{MessageType, generate, sample_context};
use simulator::practice::PatientIndex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ID_WIDTH: usize = 16;
const SB: u8 = 0x0B;
const EB: u8 = 0x1C;
const CR: u8 = 0x0D;

/// A framed ADT^A04 whose MSH-10 is `ID_WIDTH` digits, and the offset of those digits.
#[derive(Clone)]
struct Template {
    frame: Vec<u8>,
    at: usize,
}

fn template(sim: &simulator::RunningSimulator) -> Template {
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
    let mut frame = Vec::new();
    simulator::hl7::mllp::frame_into(&payload, &mut frame);
    let at = frame
        .windows(ID_WIDTH)
        .position(|w| w.iter().all(|b| *b == b'0'))
        .expect("control id");
    Template { frame, at }
}

fn set_id(frame: &mut [u8], at: usize, mut n: u64) {
    for b in frame[at..at + ID_WIDTH].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Check one framed ACK: a single frame, MSA-1 `AA`, MSA-2 equal to `id`.
fn check_ack(ack: &[u8], id: &[u8], msa: &memmem::Finder<'_>) {
    let ok = (|| {
        let payload = ack.strip_prefix(&[SB])?.strip_suffix(&[EB, CR])?;
        if memchr::memchr(EB, payload).is_some() {
            return None;
        }
        let at = msa.find(payload)? + 5;
        let rest = payload.get(at..)?;
        let code_end = memchr::memchr(b'|', rest)?;
        if &rest[..code_end] != b"AA" {
            return None;
        }
        let rest = &rest[code_end + 1..];
        let id_end = memchr::memchr2(b'|', CR, rest).unwrap_or(rest.len());
        (&rest[..id_end] == id).then_some(())
    })();
    assert!(
        ok.is_some(),
        "bad ACK for MSH-10 {}: {}",
        String::from_utf8_lossy(id),
        String::from_utf8_lossy(ack).escape_debug()
    );
}

/// One connection: `count` stop-and-wait exchanges, every ACK checked;
/// returns per-message latencies when `pace` is set.
async fn client(
    addr: SocketAddr,
    Template { mut frame, at }: Template,
    first_id: u64,
    count: u64,
    pace: Option<Duration>,
) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let msa = memmem::Finder::new(b"\rMSA|");
    let mut buf = vec![0u8; 4096];
    let mut lat = Vec::with_capacity(if pace.is_some() { count as usize } else { 0 });
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
        let start = pace.map(|_| Instant::now());
        s.write_all(&frame).await.expect("write");
        let mut have = 0;
        loop {
            if have == buf.len() {
                buf.resize(have * 2, 0);
            }
            let n = s.read(&mut buf[have..]).await.expect("read");
            assert!(n > 0, "listener closed");
            have += n;
            if have >= 2 && buf[have - 2..have] == [EB, CR] {
                break;
            }
        }
        check_ack(&buf[..have], &frame[at..at + ID_WIDTH], &msa);
        if let Some(t0) = start {
            lat.push(t0.elapsed());
        }
    }
    lat
}

/// Drive `conns` connections at once as tasks on `rt`; the time taken, the
/// latencies (when paced) and the process's CPU time.
fn run(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    tpl: &Template,
    conns: u64,
    per_conn: u64,
    base: u64,
    pace: Option<Duration>,
) -> (Duration, Vec<Duration>) {
    rt.block_on(async {
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
    })
}

/// MSH-10 of a framed message: the text after MSH's ninth field separator.
fn msh10(frame: &[u8]) -> &[u8] {
    let payload = frame.strip_prefix(&[SB]).unwrap_or(frame);
    let seg_end = memchr::memchr(CR, payload).unwrap_or(payload.len());
    let msh = &payload[..seg_end];
    let mut bars = memchr::memchr_iter(b'|', msh);
    let (Some(start), Some(end)) = (bars.nth(8), bars.next()) else {
        return b"";
    };
    &msh[start + 1..end]
}

/// A bare tokio responder: it finds MSH-10 and writes a canned ACK that
/// echoes it in MSA-2 (no parsing beyond that): the floor these machines
/// set for stop-and-wait on loopback.
async fn bare_responder() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                const HEAD: &[u8] = b"\x0bMSH|^~\\&|A|B|C|D|20260101||ACK^A04^ACK|1|P|2.3\rMSA|AA|";
                let mut ack = Vec::with_capacity(128);
                let mut buf = vec![0u8; 8192];
                let mut have = 0;
                loop {
                    if have == buf.len() {
                        buf.resize(have * 2, 0);
                    }
                    let Ok(n) = s.read(&mut buf[have..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    have += n;
                    if have >= 2 && buf[have - 2..have] == [EB, CR] {
                        ack.clear();
                        ack.extend_from_slice(HEAD);
                        ack.extend_from_slice(msh10(&buf[..have]));
                        ack.extend_from_slice(b"\r\x1c\r");
                        have = 0;
                        if s.write_all(&ack).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Nanoseconds on CPU of a thread's `schedstat` file (0 when unreadable).
fn schedstat_ns(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
}

/// Nanoseconds on CPU of the process's threads named `name` (every thread
/// when `None`).
fn threads_cpu_ns(name: Option<&str>) -> u64 {
    let named = |dir: &std::path::Path| {
        name.is_none_or(|n| {
            std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim_end() == n)
        })
    };
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| named(p))
                .map(|p| schedstat_ns(&p.join("schedstat")))
                .sum()
        })
        .unwrap_or(0)
}

/// Nanoseconds on CPU of every thread of the process (the server runtime's
/// workers carry both the server and the load client).
fn cpu_ns() -> u64 {
    threads_cpu_ns(None)
}

/// The split harness's server threads (see the module comment).
const SERVER_THREAD: &str = "ngsim-server";

/// `conns` connections of `per` messages from a current-thread runtime on a
/// thread of its own: the rate, and the client thread's CPU µs per message.
fn run_on_own_thread(
    addr: SocketAddr,
    tpl: &Template,
    conns: u64,
    per: u64,
    base: u64,
) -> (f64, f64) {
    let tpl = tpl.clone();
    std::thread::spawn(move || {
        let client_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let me = std::path::Path::new("/proc/thread-self/schedstat");
        let cpu = schedstat_ns(me);
        let (took, _) = run(&client_rt, addr, &tpl, conns, per, base, None);
        let n = (per * conns) as f64;
        (
            n / took.as_secs_f64(),
            (schedstat_ns(me) - cpu) as f64 / 1e3 / n,
        )
    })
    .join()
    .expect("client thread")
}

/// Messages to send a fresh simulator before measuring it: enough to fill
/// its journal (`NGSIM_MLLP_WARMUP` overrides).
fn warm_up_count(sim: &simulator::RunningSimulator) -> u64 {
    match std::env::var("NGSIM_MLLP_WARMUP") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("NGSIM_MLLP_WARMUP={v:?} is not a count")),
        Err(_) => sim.state().journal.stats().capacity as u64,
    }
}

/// The ids the warm-up uses (apart from every measured run's).
const WARM_UP_BASE: u64 = 9_000_000_000_000_000;

/// `run`, with the rate and the CPU µs per message.
fn measure(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    tpl: &Template,
    conns: u64,
    base: u64,
) -> (f64, f64) {
    let per = 40_000 / conns;
    let cpu = cpu_ns();
    let (took, _) = run(rt, addr, tpl, conns, per, base, None);
    let n = (per * conns) as f64;
    (n / took.as_secs_f64(), (cpu_ns() - cpu) as f64 / 1e3 / n)
}

/// A simulator on the nge-5.9.0 profile with its MLLP listener on loopback,
/// started on `rt`.
fn start_simulator(rt: &tokio::runtime::Runtime) -> simulator::RunningSimulator {
    rt.block_on(async {
        simulator::Simulator::builder()
            .profile_named("nge-5.9.0")
            .expect("profile")
            .mllp_addr("127.0.0.1:0".parse().expect("addr"))
            .start()
            .await
            .expect("start")
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = start_simulator(&rt);
    let addr = sim.mllp_addr().expect("mllp");
    let tpl = template(&sim);
    println!("message: {} bytes framed", tpl.frame.len());
    let warm = warm_up_count(&sim);
    if warm > 0 {
        run(&rt, addr, &tpl, 8, warm.div_ceil(8), WARM_UP_BASE, None);
    }
    println!(
        "warm-up: {} messages before measuring (journal capacity {})",
        warm.div_ceil(8) * 8,
        sim.state().journal.stats().capacity
    );
    let bare = rt.block_on(bare_responder());
    let mut floor = [(0f64, 0f64); 2];
    for (i, conns) in [1u64, 8].into_iter().enumerate() {
        floor[i] = measure(&rt, bare, &tpl, conns, 0);
        println!(
            "one-shot: bare tokio responder, {conns} connection(s): {:.0} msgs/s, {:.2} µs CPU/msg",
            floor[i].0, floor[i].1
        );
    }
    // Another peer on loopback, driven by the same client for comparison
    // (e.g. node-hl7-server or an interface engine started by hand).
    if let Ok(given) = std::env::var("NGSIM_MLLP_PEER") {
        // A typo is an error, not a silently skipped comparison.
        let peer = std::net::ToSocketAddrs::to_socket_addrs(given.as_str())
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("NGSIM_MLLP_PEER={given:?} is not host:port"));
        for conns in [1u64, 8, 64] {
            let (rate, cpu) = measure(&rt, peer, &tpl, conns, 0);
            println!(
                "one-shot: peer {peer}, {conns} connection(s): {rate:.0} ACKed msgs/s, \
                 {cpu:.2} µs CPU/msg in this process (the client's share)"
            );
        }
    }
    let mut base = 1;
    for conns in [1u64, 8, 64] {
        let (rate, cpu) = measure(&rt, addr, &tpl, conns, base);
        base += 10_000_000_000_000;
        let of_floor = match conns {
            1 | 8 => {
                let f = floor[usize::from(conns == 8)];
                format!(
                    " ({:.0}% of the bare floor's rate, {:.2}x its CPU)",
                    100.0 * rate / f.0,
                    cpu / f.1
                )
            }
            _ => String::new(),
        };
        println!(
            "one-shot: {conns} connection(s): {rate:.0} ACKed msgs/s, {cpu:.2} µs CPU/msg{of_floor}"
        );
    }
    // 20,000 msgs/s: 8 connections, one message every 400 µs each, 3 s.
    let (_, mut lat) = run(
        &rt,
        addr,
        &tpl,
        8,
        7_500,
        base,
        Some(Duration::from_micros(400)),
    );
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

    // The server alone: a second simulator and bare responder on one
    // worker thread, the client on a thread of its own.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("server runtime");
    let sim1 = start_simulator(&server_rt);
    let bare1 = server_rt.block_on(bare_responder());
    let full1 = sim1.mllp_addr().expect("mllp");
    if warm > 0 {
        run_on_own_thread(full1, &tpl, 8, warm.div_ceil(8), WARM_UP_BASE);
    }
    for (what, to) in [("bare tokio responder", bare1), ("full path", full1)] {
        let conns = 8;
        let server = threads_cpu_ns(Some(SERVER_THREAD));
        let (rate, client_us) = run_on_own_thread(to, &tpl, conns, 40_000 / conns, base);
        base += 10_000_000_000_000;
        let n = (40_000 / conns * conns) as f64;
        let server_us = (threads_cpu_ns(Some(SERVER_THREAD)) - server) as f64 / 1e3 / n;
        println!(
            "one-shot: split, {what}, {conns} connections: {rate:.0} ACKed msgs/s; \
             server thread {server_us:.2} µs CPU/msg ({:.0} msgs/s per server core), \
             client thread {client_us:.2} µs CPU/msg",
            1e6 / server_us
        );
    }
    drop(sim1);
    drop(server_rt);

    // The listener's per-message work without sockets: parse, dedupe,
    // admission, practice lookup, ACK, journal.
    let listener = simulator::mllp::Listener::new(
        sim.state().clone(),
        simulator::mllp::MllpLimits::default(),
        None,
    );
    let mut frame = tpl.frame.clone();
    let n = 100_000u64;
    let start = Instant::now();
    for k in 0..n {
        set_id(&mut frame, tpl.at, base + k);
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
        g.bench_function(format!("bare_{conns}_conn"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run(&rt, bare, &tpl, conns, 1000, 0, None).0;
                }
                total
            })
        });
        g.bench_function(format!("adt_a04_{conns}_conn"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run(&rt, addr, &tpl, conns, 1000, base, None).0;
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
