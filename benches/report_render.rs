//! How long each report writer takes on a large run (200 scenarios × 25
//! checks, a 40-event timeline each, and a perf section), redaction
//! included, since every writer redacts first.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reports::{
    BaselineComparison, BaselineRow, CheckResult, Format, HistogramBucket, Metric, Outcome,
    PerfReport, Redactor, RunReport, ScenarioResult, SeriesPoint, Severity, Surface, SutInfo,
    TimelineEvent, ToolInfo, Verdict,
};

const SCENARIOS: u64 = 200;
const CHECKS: u64 = 25;
const EVENTS: u64 = 40;

fn large_report() -> RunReport {
    let mut report = RunReport::new(
        ToolInfo::new("ngsim", "0.1.0"),
        SutInfo::new("bench-sut"),
        "2026-11-23T01:00:00Z",
    );
    for s in 0..SCENARIOS {
        let id = format!("scenario-{s}");
        let mut scenario =
            ScenarioResult::new(&id, format!("Scenario {s}"), format!("profile-{}", s % 4));
        for c in 0..CHECKS {
            let outcome = match (s * CHECKS + c) % 10 {
                0 => Outcome::failed_with("MSA-2 did not echo MSH-10", "MSG0001", "MSG0002"),
                1 => Outcome::errored("timed out waiting for Authorization: Bearer abc.def.ghi"),
                2 => Outcome::skipped("not applicable"),
                _ => Outcome::Passed,
            };
            scenario.checks.push(
                CheckResult::new(
                    format!("{id}.check-{c}"),
                    "A check title of ordinary length",
                    if c % 3 == 0 {
                        Severity::Should
                    } else {
                        Severity::Shall
                    },
                    "HL7 v2.5.1 ch.2 §2.9.2",
                    outcome,
                )
                .with_evidence(
                    Some(c),
                    "POST /token grant_type=client_credentials&client_secret=s3cr3t",
                )
                .with_duration_ms(c),
            );
        }
        scenario.timeline = (0..EVENTS)
            .map(|e| TimelineEvent {
                seq: e,
                at_ms: e * 37,
                surface: Surface::ALL[(e % 8) as usize],
                summary: format!("GET /Patient/{e} 200 <b>&amp;</b>"),
                check_ids: vec![format!("{id}.check-{}", e % CHECKS)],
                verdict: Some(if e % 7 == 0 {
                    Verdict::Fail
                } else {
                    Verdict::Pass
                }),
            })
            .collect();
        report.scenarios.push(scenario);
    }
    report.perf = Some(PerfReport {
        metrics: vec![Metric {
            name: "mllp.ack_latency".into(),
            unit: "ms".into(),
            count: 100_000,
            mean: 4.2,
            p50: 3.1,
            p90: 7.9,
            p99: 18.4,
            p999: 41.0,
            max: 63.5,
        }],
        throughput_unit: "msg/s".into(),
        throughput_series: (0..600)
            .map(|t| SeriesPoint {
                t_ms: t * 1000,
                value: 500.0 + (t % 17) as f64,
            })
            .collect(),
        latency_histogram: (0..64)
            .map(|b| HistogramBucket {
                upper_us: 100 << (b / 4),
                count: 1000 - b * 10,
            })
            .collect(),
        baseline: Some(BaselineComparison {
            name: "main".into(),
            max_regression_pct: 10.0,
            rows: vec![BaselineRow::compare(
                "mllp.ack_latency.p99",
                15.0,
                18.4,
                10.0,
                true,
            )],
        }),
    });
    report.finish()
}

fn render(c: &mut Criterion) {
    let report = large_report();
    let redactor = Redactor::new().with_secret("s3cr3t");
    let mut group = c.benchmark_group("report_render");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SCENARIOS * CHECKS));
    for format in Format::ALL {
        group.bench_function(format!("{format:?}"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1 << 20);
                format
                    .write(black_box(&report), &redactor, &mut out)
                    .unwrap();
                out
            })
        });
    }
    group.bench_function("redact_only", |b| {
        b.iter(|| redactor.redact_report(black_box(&report)))
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
