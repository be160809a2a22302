//! Bulk Data NDJSON throughput, and the peak memory of a population-scale export.
//!
//! - `bulk_ndjson_produce`: NDJSON produced from chart streams (chart
//!   generation, rendering and serialisation), every compartment type of 200
//!   patients, as `bulk::job::produce` does for a file download.
//! - `bulk_export_download_10k`: end to end over loopback: every output file
//!   of a finished `Group/all-patients/$export` of a 10,000-patient practice,
//!   downloaded with reqwest from a running simulator.
//!
//! Peak RSS: `NGSIM_BULK_RSS_PATIENTS=1000000 cargo bench -p benches --bench
//! bulk_ndjson` skips criterion, runs one Group export of that many patients
//! in-process (planning pass plus downloading every file), and prints
//! `VmHWM` from `/proc/self/status` with the bytes and time taken.
//!
//! `NGSIM_BULK_BREAKDOWN=1 cargo bench -p benches --bench bulk_ndjson` skips
//! criterion and prints, per type of the produce bench, its bytes, share and
//! produce time: which types dominate an export, and which are still slow.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use simulator::bulk::job::{self, FilePlan, Selection, Spec, Start};
use simulator::practice::{Practice, PracticeConfig};

fn spec(n: u32, types: &[&str]) -> Spec {
    Spec {
        types: types.iter().map(|t| (*t).to_owned()).collect(),
        directory_types: Vec::new(),
        since: None,
        until: None,
        elements: None,
        provenance_org: None,
        type_filters: Default::default(),
        scope_filters: Default::default(),
        patients: Selection::All(n),
        part2_withhold: true,
        part2_consent: false,
        now: 0,
    }
}

fn produce_all(p: &Practice, s: &Spec) -> usize {
    let mut bytes = 0;
    for ty in &s.types {
        let f = FilePlan {
            ty: ty.clone(),
            name: String::new(),
            start: Start::Patients { pos: 0, skip: 0 },
            count: usize::MAX,
        };
        job::produce(p, &[], s, &f, |b| {
            bytes += b.len();
            true
        });
    }
    bytes
}

/// `NGSIM_BULK_BREAKDOWN=1`: bytes and time per type of the produce bench's
/// export (which types dominate, and how fast each one is produced).
fn breakdown(p: &Practice, s: &Spec) {
    let mut rows = Vec::new();
    let mut all = 0;
    for ty in &s.types {
        let one = spec(s.patients.len() as u32, &[ty]);
        let t0 = Instant::now();
        let mut bytes = 0;
        let mut runs = 0;
        while runs < 3 || t0.elapsed() < Duration::from_millis(300) {
            bytes = produce_all(p, &one);
            runs += 1;
        }
        let secs = t0.elapsed().as_secs_f64() / f64::from(runs);
        all += bytes;
        rows.push((ty.clone(), bytes, secs));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    let t0 = Instant::now();
    for i in p.patient_indices() {
        black_box(p.chart(i));
    }
    println!(
        "(generating the {} charts once, one thread: {:.2} ms; produce_all of all types: {all} B)",
        s.patients.len(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    for (ty, bytes, secs) in rows {
        println!(
            "{ty:<20} {bytes:>10} B {:>5.1}% {:>8.2} ms {:>7.1} MB/s",
            bytes as f64 * 100.0 / all as f64,
            secs * 1e3,
            bytes as f64 / 1e6 / secs
        );
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Start a simulator of `patients`, run a finished group export, and return
/// `(simulator, token, file URLs)`.
async fn finished_export(
    patients: u32,
    types: Option<&str>,
) -> (simulator::RunningSimulator, Vec<String>) {
    let mut p = simulator::profile::ProfileLoader::default()
        .load("nge-5.9.2")
        .expect("profile");
    p.bulk.export_duration = Duration::ZERO;
    let sim = simulator::Simulator::builder()
        .profile(p)
        .patients(patients)
        .start()
        .await
        .expect("simulator starts");
    let token = simulator::auth::mint_backend_token(sim.state(), "system/*.rs").unwrap();
    let http = reqwest::Client::new();
    let mut url = format!(
        "{}{}/Group/all-patients/$export",
        sim.base_url(),
        sim.state().profile().bulk.base_path
    );
    if let Some(t) = types {
        url.push_str(&format!("?_type={t}"));
    }
    let r = http
        .get(url)
        .bearer_auth(&token)
        .header("prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let status = r.headers()["content-location"].to_str().unwrap().to_owned();
    let manifest: serde_json::Value = loop {
        let token = simulator::auth::mint_backend_token(sim.state(), "system/*.rs").unwrap();
        let r = http.get(&status).bearer_auth(&token).send().await.unwrap();
        if r.status() == 200 {
            break r.json().await.unwrap();
        }
        assert_eq!(r.status(), 202);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let files = manifest["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    (sim, files)
}

async fn download_all(sim: &simulator::RunningSimulator, files: &[String]) -> usize {
    let http = reqwest::Client::new();
    let mut bytes = 0;
    for f in files {
        let token = simulator::auth::mint_backend_token(sim.state(), "system/*.rs").unwrap();
        let mut r = http.get(f).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        while let Some(chunk) = r.chunk().await.unwrap() {
            bytes += chunk.len();
        }
    }
    bytes
}

fn rss_run(rt: &tokio::runtime::Runtime, patients: u32) {
    let types = std::env::var("NGSIM_BULK_RSS_TYPES").ok();
    let t0 = Instant::now();
    let (sim, files) = rt.block_on(finished_export(patients, types.as_deref()));
    let planned = t0.elapsed();
    let hwm_planned = vm_hwm_kb();
    let bytes = rt.block_on(download_all(&sim, &files));
    let total = t0.elapsed();
    println!(
        "bulk RSS: patients={patients} types={} files={} bytes={} planning={:.1}s download={:.1}s ({:.1} MB/s) VmHWM after planning={} kB, at end={} kB",
        types.as_deref().unwrap_or("all"),
        files.len(),
        bytes,
        planned.as_secs_f64(),
        (total - planned).as_secs_f64(),
        bytes as f64 / 1e6 / (total - planned).as_secs_f64(),
        hwm_planned,
        vm_hwm_kb(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Some(n) = std::env::var("NGSIM_BULK_RSS_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        rss_run(&rt, n);
        return;
    }

    let mut c = Criterion::default().configure_from_args();

    let practice = Practice::new(PracticeConfig {
        patients: 200,
        ..PracticeConfig::default()
    });
    let s = Arc::new(spec(200, job::COMPARTMENT_TYPES));
    if std::env::var_os("NGSIM_BULK_BREAKDOWN").is_some() {
        breakdown(&practice, &s);
        return;
    }
    let per_iter = produce_all(&practice, &s);
    let mut g = c.benchmark_group("bulk_ndjson_produce");
    g.throughput(Throughput::Bytes(per_iter as u64));
    g.sample_size(10);
    g.bench_function("200_charts_all_types", |b| {
        b.iter(|| black_box(produce_all(&practice, &s)));
    });
    g.finish();

    let (sim, files) = rt.block_on(finished_export(10_000, None));
    let per_iter = rt.block_on(download_all(&sim, &files));
    let mut g = c.benchmark_group("bulk_export_download_10k");
    g.throughput(Throughput::Bytes(per_iter as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("group_all_patients_every_file", |b| {
        b.iter(|| black_box(rt.block_on(download_all(&sim, &files))));
    });
    g.finish();
    c.final_summary();
}
