//! Load runs against an integration's HL7 receiver (`ngsim load`).
//!
//! The simulator's side of a NextGen interface engine pushes a realistic
//! message mix at the SUT's MLLP listener over N stop-and-wait connections,
//! at a fixed rate, on a ramp, or as fast as the SUT acknowledges. Every
//! ACK's latency goes into an HDR histogram; throughput is sampled every
//! 100 ms; NAKs, timeouts, wrong MSA-2 and dropped connections are counted.
//! A run repeats K times so that [`baseline`] can compare medians.
//!
//! - [`spec`]: what to send, how fast, for how long.
//! - [`feed`]: the connections.
//! - [`recorder`]: the measurements.
//! - [`baseline`]: saving and comparing figures.
//! - [`scenario`]: load scenario files in `profiles/scenarios/`.

pub mod baseline;
pub mod error;
pub mod feed;
pub mod recorder;
pub mod scenario;
pub mod spec;
pub mod sync;
pub mod sync_run;

use reports::{
    BaselineComparison, CheckResult, Outcome, PerfReport, RunReport, ScenarioResult, Severity,
    SutInfo, ToolInfo,
};

pub use error::LoadError;
pub use recorder::Figures;
pub use spec::{LoadSpec, Pacing, StopAfter};

/// Id of the check every load run grades.
pub const NO_ERRORS_CHECK: &str = "load.no-errors";

/// Runs the load `repeat` times (at least once).
pub async fn run(spec: &LoadSpec, repeat: usize) -> error::Result<Vec<Figures>> {
    let mut out = Vec::with_capacity(repeat.max(1));
    for _ in 0..repeat.max(1) {
        out.push(feed::run(spec).await?);
    }
    Ok(out)
}

/// The repetition whose p99 is the median one: the run plotted in reports.
pub fn representative(figures: &[Figures]) -> Option<&Figures> {
    let mut order: Vec<&Figures> = figures.iter().collect();
    order.sort_by(|a, b| a.latency_ms.p99.total_cmp(&b.latency_ms.p99));
    order.get(order.len() / 2).copied()
}

/// A run report of a load run: the `load.no-errors` check and the perf
/// section (median figures, the representative repetition's histogram and
/// throughput series, and the baseline comparison when there is one).
pub fn report(
    sut: SutInfo,
    scenario_id: &str,
    spec: &LoadSpec,
    figures: &[Figures],
    comparison: Option<BaselineComparison>,
    started_at: String,
) -> RunReport {
    let mut report = RunReport::new(
        ToolInfo::new("ngsim", env!("CARGO_PKG_VERSION")),
        sut,
        started_at,
    );
    let mut result = ScenarioResult::new(
        scenario_id,
        format!(
            "MLLP feed load: {} connection(s), {}",
            spec.connections,
            describe_pacing(spec.pacing)
        ),
        "load",
    );
    let sent: u64 = figures.iter().map(|f| f.sent).sum();
    let errors: Vec<String> = figures
        .iter()
        .enumerate()
        .filter(|(_, f)| f.errors.total() > 0)
        .map(|(i, f)| {
            let e = &f.errors;
            format!(
                "repetition {}: {} NAK, {} timeout, {} wrong MSA-2, {} unreadable ACK, {} connection",
                i + 1,
                e.nak,
                e.timeout,
                e.wrong_control_id,
                e.unreadable,
                e.connection
            )
        })
        .collect();
    let outcome = if errors.is_empty() {
        Outcome::Passed
    } else {
        Outcome::failed(errors.join("; "))
    };
    result.checks.push(
        CheckResult::new(
            NO_ERRORS_CHECK,
            "Every message of the load is positively acknowledged, on time, with the right MSA-2",
            Severity::Shall,
            "HL7 v2.5.1 ch.2 §2.9.2 (an ACK per message); MLLP Release 1",
            outcome,
        )
        .with_evidence(
            None,
            format!("{sent} messages over {} repetition(s)", figures.len()),
        ),
    );
    report.scenarios.push(result);

    let mut median_metric = representative(figures)
        .map(|f| f.latency_metric("mllp.ack_latency"))
        .into_iter()
        .collect::<Vec<_>>();
    if let Some(m) = median_metric.first_mut() {
        let med = |get: fn(&Figures) -> f64| {
            baseline::median(&mut figures.iter().map(get).collect::<Vec<_>>())
        };
        m.count = figures.iter().map(|f| f.acked).sum();
        m.mean = med(|f| f.latency_ms.mean);
        m.p50 = med(|f| f.latency_ms.p50);
        m.p90 = med(|f| f.latency_ms.p90);
        m.p99 = med(|f| f.latency_ms.p99);
        m.p999 = med(|f| f.latency_ms.p999);
        m.max = figures
            .iter()
            .map(|f| f.latency_ms.max)
            .fold(f64::NAN, f64::max);
    }
    let rep = representative(figures);
    report.perf = Some(PerfReport {
        metrics: median_metric,
        throughput_unit: "msg/s".to_owned(),
        throughput_series: rep.map(|f| f.series.clone()).unwrap_or_default(),
        latency_histogram: rep.map(|f| f.histogram.clone()).unwrap_or_default(),
        baseline: comparison,
    });
    report.duration_ms = figures.iter().map(|f| f.elapsed_ms).sum();
    report.finish()
}

/// `fixed 500 msg/s`, `ramp 100..2000 msg/s` or `as fast as ACKs allow`.
pub fn describe_pacing(p: Pacing) -> String {
    match p {
        Pacing::AsFastAsPossible => "as fast as ACKs allow".to_owned(),
        Pacing::Fixed { rate } => format!("fixed {rate} msg/s"),
        Pacing::Ramp { from, to } => format!("ramp {from}..{to} msg/s"),
    }
}
