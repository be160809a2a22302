//! How fast the synthetic practice generates patients and charts.
//!
//! Besides the criterion benches (1,000 patients per iteration), `main` first
//! prints a one-shot timing of 100,000 full charts, the figure the design
//! budgets at under 2 s in release.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use simulator::practice::{PatientIndex, Practice, PracticeConfig};

fn practice(n: u32) -> Practice {
    Practice::new(PracticeConfig {
        patients: n,
        ..PracticeConfig::default()
    })
}

fn one_shot_100k() {
    let p = practice(100_000);
    let start = Instant::now();
    let mut records = 0usize;
    for i in p.patient_indices() {
        let c = p.chart(i).expect("patient exists");
        records += c.encounters.len() + c.observations.len() + c.documents.len() + c.charges.len();
        black_box(&c);
    }
    let took = start.elapsed();
    println!(
        "one-shot: 100,000 patients, demographics + full charts in {:.3} s ({records} core records)",
        took.as_secs_f64()
    );
}

fn benches(c: &mut Criterion) {
    let p = practice(1_000_000);
    let mut g = c.benchmark_group("practice");
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("demographics_1000", |b| {
        b.iter(|| {
            for i in 0..1_000 {
                black_box(p.patient(PatientIndex(i)));
            }
        })
    });
    g.bench_function("charts_1000", |b| {
        b.iter(|| {
            for i in 0..1_000 {
                black_box(p.chart(PatientIndex(i)));
            }
        })
    });
    g.finish();
    let id = p.patient(PatientIndex(999_999)).expect("exists").id;
    // 64 KiB of message-like filler with one patient's canaries sprinkled in.
    let part2 = p
        .patient_indices()
        .find(|&i| p.is_part2(i))
        .expect("some Part 2 patient");
    let mut blob = Vec::with_capacity(70_000);
    for (n, k) in p.canaries_of(part2).iter().cycle().take(8).enumerate() {
        blob.extend(
            std::iter::repeat_n(b"OBX|1|ST|NGSIM-CANARY-|x|".as_slice(), 300 + n).flatten(),
        );
        blob.extend_from_slice(k.canary.as_bytes());
    }
    c.bench_function("find_patient_by_id", |b| {
        b.iter(|| black_box(p.find_patient_by_id(black_box(&id))))
    });
    c.bench_function("canaries_in_64k", |b| {
        b.iter(|| black_box(p.canaries_in(black_box(&blob))))
    });
}

fn main() {
    one_shot_100k();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
