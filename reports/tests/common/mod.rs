//! The representative fixture report every writer test renders.
#![allow(dead_code)] // each test binary uses a different part

use reports::{
    BaselineComparison, BaselineRow, CheckResult, HistogramBucket, Metric, Outcome, PerfReport,
    RunReport, ScenarioResult, SeriesPoint, Severity, Surface, SutInfo, TimelineEvent, ToolInfo,
    Verdict,
};

pub fn event(
    seq: u64,
    at_ms: u64,
    surface: Surface,
    summary: &str,
    checks: &[&str],
    verdict: Option<Verdict>,
) -> TimelineEvent {
    TimelineEvent {
        seq,
        at_ms,
        surface,
        summary: summary.to_owned(),
        check_ids: checks.iter().map(|c| (*c).to_owned()).collect(),
        verdict,
    }
}

/// Two profiles, two scenarios; passes, SHALL failures, a SHOULD warning,
/// an error, a skip; timelines on several surfaces; perf with a regression.
pub fn fixture() -> RunReport {
    let mut ack = ScenarioResult::new("ack-semantics", "HL7 v2 ACK semantics", "hl7v2");
    ack.checks = vec![
        CheckResult::new(
            "ack-semantics.msa1-accepts-valid-adt",
            "Valid ADT^A01 is answered with MSA-1 = AA",
            Severity::Shall,
            "HL7 v2.5.1 ch.2 §2.9.2",
            Outcome::Passed,
        )
        .with_evidence(Some(3), "mllp-out ACK MSA|AA|MSG00001")
        .with_duration_ms(12),
        CheckResult::new(
            "ack-semantics.msa2-echoes-msh10",
            "MSA-2 echoes the MSH-10 message control id",
            Severity::Shall,
            "HL7 v2.5.1 ch.2 §2.9.2",
            Outcome::failed_with("MSA-2 did not echo MSH-10", "MSG00002", "MSG00001"),
        )
        .with_evidence(Some(5), "mllp-in ORU^R01 MSH-10=MSG00002")
        .with_evidence(Some(6), "mllp-out ACK MSA|AA|MSG00001")
        .with_duration_ms(8),
        CheckResult::new(
            "ack-semantics.ack-within-timeout",
            "ACK is sent within 30 s",
            Severity::Should,
            "NextGen HL7 interface spec §4.1",
            Outcome::failed("ACK took 31.2 s"),
        )
        .with_evidence(Some(6), "ACK after 31200 ms")
        .with_duration_ms(31200),
        CheckResult::new(
            "ack-semantics.enhanced-mode-commit-ack",
            "Enhanced-mode commit ACK (MSH-15)",
            Severity::May,
            "HL7 v2.5.1 ch.2 §2.9.3",
            Outcome::skipped("SUT does not request enhanced acknowledgement"),
        ),
    ];
    ack.timeline = vec![
        event(
            1,
            0,
            Surface::Control,
            "scenario ack-semantics started",
            &[],
            Some(Verdict::Info),
        ),
        event(
            2,
            40,
            Surface::MllpIn,
            "ADT^A01 MSH-10=MSG00001",
            &["ack-semantics.msa1-accepts-valid-adt"],
            None,
        ),
        event(
            3,
            52,
            Surface::MllpOut,
            "ACK MSA|AA|MSG00001",
            &["ack-semantics.msa1-accepts-valid-adt"],
            Some(Verdict::Pass),
        ),
        event(
            5,
            120,
            Surface::MllpIn,
            "ORU^R01 MSH-10=MSG00002",
            &[
                "ack-semantics.msa2-echoes-msh10",
                "ack-semantics.ack-within-timeout",
            ],
            None,
        ),
        event(
            6,
            31320,
            Surface::MllpOut,
            "ACK MSA|AA|MSG00001",
            &[
                "ack-semantics.msa2-echoes-msh10",
                "ack-semantics.ack-within-timeout",
            ],
            Some(Verdict::Fail),
        ),
        event(7, 31400, Surface::Sink, "ORU^R01 stored", &[], None),
    ];

    let mut smart = ScenarioResult::new(
        "smart-backend",
        "SMART backend services and Part 2",
        "smart",
    );
    smart.checks = vec![
        CheckResult::new(
            "smart-backend.client-assertion-rs384",
            "client_assertion is an RS384 JWT with a fresh jti",
            Severity::Shall,
            "SMART App Launch 2.2 §Backend Services",
            Outcome::Passed,
        )
        .with_evidence(Some(11), "POST /token grant_type=client_credentials")
        .with_duration_ms(4),
        CheckResult::new(
            "smart-backend.least-privilege-scopes",
            "Requests only the scopes the integration needs",
            Severity::Should,
            "ONC §170.315(g)(10); SMART scopes v2",
            Outcome::Passed,
        )
        .with_duration_ms(1),
        CheckResult::new(
            "smart-backend.part2-redisclosure-notice",
            "Part 2 data is not redisclosed without consent",
            Severity::Shall,
            "42 CFR §2.32",
            Outcome::failed_with(
                "Part 2 Observation forwarded without the redisclosure notice",
                "meta.security contains 42CFRPart2 and notice",
                "no security label",
            ),
        )
        .with_evidence(
            Some(14),
            "GET /Observation?patient=p-2 returned 3 Part 2 resources",
        )
        .with_evidence(None, "sink received Observation/o-77 without a label")
        .with_duration_ms(20),
        CheckResult::new(
            "smart-backend.bulk-export-polls",
            "Bulk export status is polled with Retry-After honoured",
            Severity::Shall,
            "FHIR Bulk Data 2.0 §Polling",
            Outcome::errored("simulator bulk surface timed out after 60 s"),
        )
        .with_duration_ms(60000),
    ];
    smart.timeline = vec![
        event(
            10,
            0,
            Surface::Control,
            "scenario smart-backend started",
            &[],
            None,
        ),
        event(
            11,
            15,
            Surface::Oauth,
            "POST /token client_credentials 200",
            &[
                "smart-backend.client-assertion-rs384",
                "smart-backend.least-privilege-scopes",
            ],
            Some(Verdict::Pass),
        ),
        event(12, 30, Surface::Fhir, "GET /metadata 200", &[], None),
        event(
            14,
            80,
            Surface::Fhir,
            "GET /Observation?patient=p-2 200",
            &["smart-backend.part2-redisclosure-notice"],
            Some(Verdict::Info),
        ),
        event(
            15,
            140,
            Surface::Sink,
            "Observation/o-77 received",
            &["smart-backend.part2-redisclosure-notice"],
            Some(Verdict::Fail),
        ),
        event(
            16,
            200,
            Surface::Bulk,
            "GET /$export-poll 202",
            &["smart-backend.bulk-export-polls"],
            Some(Verdict::Error),
        ),
        event(
            17,
            210,
            Surface::Enterprise,
            "GET /persons/p-2 200",
            &[],
            None,
        ),
    ];

    let perf = PerfReport {
        metrics: vec![
            Metric {
                name: "mllp.ack_latency".into(),
                unit: "ms".into(),
                count: 5000,
                mean: 4.2,
                p50: 3.1,
                p90: 7.9,
                p99: 18.4,
                p999: 41.0,
                max: 63.5,
            },
            Metric {
                name: "fhir.read_latency".into(),
                unit: "ms".into(),
                count: 2000,
                mean: 2.0,
                p50: 1.8,
                p90: 2.9,
                p99: 6.1,
                p999: 9.5,
                max: 12.25,
            },
        ],
        throughput_unit: "msg/s".into(),
        throughput_series: (0..10)
            .map(|i| SeriesPoint {
                t_ms: i * 1000,
                value: [
                    480.0, 510.0, 505.0, 498.0, 470.0, 350.0, 420.0, 500.0, 512.0, 507.0,
                ][i as usize],
            })
            .collect(),
        latency_histogram: [
            (500, 120),
            (1000, 900),
            (2000, 1800),
            (4000, 1200),
            (8000, 600),
            (16000, 250),
            (32000, 100),
            (64000, 30),
        ]
        .into_iter()
        .map(|(upper_us, count)| HistogramBucket { upper_us, count })
        .collect(),
        baseline: Some(BaselineComparison {
            name: "main@4f2c1d0".into(),
            max_regression_pct: 10.0,
            rows: vec![
                BaselineRow::compare("mllp.ack_latency.p99", 15.0, 18.4, 10.0, true),
                BaselineRow::compare("fhir.read_latency.p99", 6.0, 6.1, 10.0, true),
                BaselineRow::compare("mllp.throughput.mean", 500.0, 440.0, 10.0, false),
            ],
        }),
    };

    let mut sut = SutInfo::new("acme-interface-engine");
    sut.version = Some("3.4.1".into());
    sut.ehr_profile = Some("enterprise-8.4".into());
    let mut report = RunReport::new(ToolInfo::new("ngsim", "0.1.0"), sut, "2026-11-23T01:00:00Z");
    report.duration_ms = 92_345;
    report.scenarios = vec![ack, smart];
    report.perf = Some(perf);
    report.finish()
}
