//! `ngsim load`: push an HL7 feed at an integration's MLLP listener, measure
//! its ACK latency and throughput, and compare them with a saved baseline.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use reports::{
    CheckResult, Outcome, PerfReport, Redactor, RunReport, ScenarioResult, Severity, SutInfo,
    ToolInfo,
};

use super::{Failure, report_files};
use crate::exit_code;
use crate::load::baseline::{self, Baseline, Thresholds};
use crate::load::scenario::LoadScenario;
use crate::load::sync::{self, SyncBaseline};
use crate::load::{self, LoadError, Pacing, StopAfter, spec};
use crate::manifest::SutManifest;

/// Arguments of `ngsim load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The SUT manifest; its `[mllp] listen` is the target.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["target", "from_journal"])]
    pub sut: Option<PathBuf>,
    /// The SUT's MLLP listener, instead of a manifest.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "sut")]
    pub target: Option<std::net::SocketAddr>,
    /// Instead of pushing a feed, judge how efficiently a SUT synced: read
    /// this journal (`ngsim serve --journal FILE`) and count the requests of
    /// `--client` (N+1 reads, repeated reads, paging, wall time).
    #[arg(long, value_name = "FILE", requires = "client")]
    pub from_journal: Option<PathBuf>,
    /// Measure the SUT's sync instead: on an embedded simulator, publish a
    /// clinic day, call this hook of the manifest (e.g. `sync`), time it to
    /// completion and judge the SUT's requests from the journal.
    #[arg(
        long,
        value_name = "HOOK",
        requires = "sut",
        conflicts_with = "from_journal"
    )]
    pub sync_hook: Option<String>,
    /// New patients in the clinic day published before `--sync-hook`.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub clinic_day: u32,
    /// Version profile of the embedded simulator, with `--sync-hook`.
    #[arg(long, default_value = simulator::server::DEFAULT_PROFILE, value_name = "NAME|FILE")]
    pub profile: String,
    /// The SUT's client id, with `--from-journal`.
    #[arg(long, value_name = "ID")]
    pub client: Option<String>,
    /// Only journal entries from this sequence number on, with `--from-journal`.
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub since_seq: u64,
    /// A load scenario: a built-in id (`load-mllp-feed`) or a file. Flags
    /// below override its settings.
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Concurrent connections (each stop-and-wait).
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,
    /// Fixed total rate in messages per second (open loop).
    #[arg(long, value_name = "MSG/S", conflicts_with = "ramp")]
    pub rate: Option<f64>,
    /// Linear ramp of the rate, `FROM..TO` messages per second (open loop).
    #[arg(long, value_name = "FROM..TO")]
    pub ramp: Option<String>,
    /// Send as fast as ACKs come back (closed loop), ignoring the scenario's rate.
    #[arg(long, conflicts_with_all = ["rate", "ramp"])]
    pub closed_loop: bool,
    /// Messages to send per repetition.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    pub messages: Option<u64>,
    /// Or how long each repetition sends, e.g. `30s`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Message mix, e.g. `ADT^A04=3,SIU^S12=2,ORU^R01=2,VXU^V04=1`.
    #[arg(long, value_name = "LIST")]
    pub mix: Option<String>,
    /// How long to wait for each ACK.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub ack_timeout: Option<Duration>,
    /// Repetitions; baselines compare the median of the repetitions.
    #[arg(long, value_name = "K")]
    pub repeat: Option<usize>,
    /// Seed of the message content.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Save this run's figures as baseline NAME.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare this run with baseline NAME; a regression exits 4.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Where baselines live.
    #[arg(long, default_value = ".ngsim/baselines", value_name = "DIR")]
    pub baseline_dir: PathBuf,
    /// The worsening of a median beyond which a figure regressed.
    #[arg(long, default_value = "10%", value_name = "PERCENT")]
    pub max_regression: String,
    /// Latency changes smaller than this many milliseconds never regress.
    #[arg(long, default_value_t = 0.05, value_name = "MS")]
    pub noise_floor_ms: f64,
    /// Where the reports go.
    #[arg(long, default_value = "ngsim-load-report", value_name = "DIR")]
    pub report_dir: PathBuf,
    /// Report formats, comma-separated: junit, json, html, md.
    #[arg(
        long,
        default_value = "junit,json,html,md",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub format: Vec<String>,
}

/// The spec, repetitions and report label from the scenario and the flags.
fn resolve(args: &LoadArgs) -> Result<(load::LoadSpec, usize, String, SutInfo), Failure> {
    let (target, sut) = match (&args.sut, args.target) {
        (Some(path), _) => {
            let m = SutManifest::load(path).map_err(Failure::bad_input)?;
            let listen = m.mllp.as_ref().map(|e| e.listen).ok_or_else(|| {
                Failure::bad_input(anyhow!(
                    "{} has no [mllp] listen address to load",
                    path.display()
                ))
            })?;
            let mut info = SutInfo::new(&m.name);
            info.version = m.version.clone();
            (listen, info)
        }
        (None, Some(t)) => (t, SutInfo::new(format!("MLLP receiver at {t}"))),
        (None, None) => return Err(Failure::bad_input(anyhow!("give --sut or --target"))),
    };
    let scenario = args
        .scenario
        .as_deref()
        .map(LoadScenario::load)
        .transpose()
        .map_err(Failure::bad_input)?;
    let mut spec = match &scenario {
        Some(s) => s.spec(target, args.seed),
        None => load::LoadSpec {
            target,
            connections: 1,
            pacing: Pacing::AsFastAsPossible,
            stop: StopAfter::Messages(1000),
            mix: load::LoadSpec::default_mix(),
            ack_timeout: Duration::from_secs(5),
            seed: args.seed,
        },
    };
    if let Some(n) = args.connections {
        spec.connections = n;
    }
    if let Some(rate) = args.rate {
        spec.pacing = Pacing::Fixed { rate };
    }
    if let Some(r) = &args.ramp {
        spec.pacing = spec::parse_ramp(r).map_err(failure)?;
    }
    if args.closed_loop {
        spec.pacing = Pacing::AsFastAsPossible;
    }
    if let Some(n) = args.messages {
        spec.stop = StopAfter::Messages(n);
    }
    if let Some(d) = args.duration {
        spec.stop = StopAfter::Duration(d);
    }
    if let Some(m) = &args.mix {
        spec.mix = spec::parse_mix(m).map_err(failure)?;
    }
    if let Some(t) = args.ack_timeout {
        spec.ack_timeout = t;
    }
    spec.validate().map_err(failure)?;
    let repeat = args
        .repeat
        .or(scenario.as_ref().map(|s| s.load.repeat))
        .unwrap_or(3)
        .max(1);
    let id = scenario.map_or_else(|| "load-mllp-feed".to_owned(), |s| s.id);
    Ok((spec, repeat, id, sut))
}

/// A load error as the CLI failure with its exit code.
fn failure(e: LoadError) -> Failure {
    match e {
        LoadError::Invalid(_) => Failure::bad_input(e),
        LoadError::Infrastructure(_) => Failure::infrastructure(e),
    }
}

fn thresholds(args: &LoadArgs) -> Result<Thresholds, Failure> {
    Ok(Thresholds {
        max_regression_pct: baseline::parse_percent(&args.max_regression).map_err(failure)?,
        latency_floor_ms: args.noise_floor_ms,
    })
}

pub(super) fn run(args: LoadArgs) -> Result<u8, Failure> {
    if let Some(journal) = &args.from_journal {
        return run_sync(&args, journal);
    }
    if let Some(hook) = &args.sync_hook {
        return run_sync_hook(&args, hook);
    }
    let (spec, repeat, id, sut) = resolve(&args)?;
    let formats = report_files::formats(&args.format)?;
    let thresholds = thresholds(&args)?;
    // Read the baseline first: a typo must not cost a whole load run.
    let base = args
        .baseline
        .as_deref()
        .map(|name| Baseline::load(&args.baseline_dir, name))
        .transpose()
        .map_err(failure)?;
    if let Some(b) = &base {
        b.comparable_with(&spec).map_err(|diff| {
            Failure::bad_input(anyhow!(
                "baseline `{}` did different work ({diff}); compare like with like or record a new baseline",
                b.header.name
            ))
        })?;
    }
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    println!(
        "load {id}: {} connection(s) to {}, {}, {:?}, {repeat} repetition(s)",
        spec.connections,
        spec.target,
        load::describe_pacing(spec.pacing),
        spec.stop
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::infrastructure)?;
    let figures = runtime.block_on(async {
        let mut all = Vec::with_capacity(repeat);
        for i in 0..repeat {
            let f = load::feed::run(&spec).await.map_err(failure)?;
            println!(
                "  repetition {}/{repeat}: {} acked of {} sent, {:.0} msg/s, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {} errors",
                i + 1,
                f.acked,
                f.sent,
                f.throughput,
                f.latency_ms.p50,
                f.latency_ms.p99,
                f.latency_ms.max,
                f.errors.total()
            );
            all.push(f);
        }
        Ok::<_, Failure>(all)
    })?;
    let comparison = base
        .as_ref()
        .map(|b| baseline::compare(b, &figures, thresholds));
    if let Some(name) = &args.save_baseline {
        let path = Baseline::new(name, &spec, &figures)
            .save(&args.baseline_dir)
            .map_err(failure)?;
        println!("baseline `{name}` saved to {}", path.display());
    }
    let report = load::report(sut, &id, &spec, &figures, comparison, started_at);
    report_files::write(&report, &Redactor::new(), &formats, &args.report_dir)?;
    print_comparison(&report);
    let errors_failed = report
        .checks()
        .any(|(_, c)| matches!(c.outcome, Outcome::Failed { .. }));
    let s = &report.summary;
    println!(
        "{}: {} perf regression(s), {}; reports in {}",
        s.status.as_str(),
        s.perf_regressions,
        if errors_failed {
            "errors during the load"
        } else {
            "no errors"
        },
        args.report_dir.display()
    );
    Ok(if errors_failed {
        exit_code::CHECKS_FAILED
    } else if s.perf_regressions > 0 {
        exit_code::PERF_REGRESSION
    } else {
        exit_code::OK
    })
}

/// `ngsim load --from-journal FILE --client ID`: the sync-efficiency figures.
fn run_sync(args: &LoadArgs, journal: &std::path::Path) -> Result<u8, Failure> {
    let client = args.client.as_deref().unwrap_or_default();
    let entries = sync::read_journal(journal).map_err(failure)?;
    let figures = sync::analyse(entries.iter().filter(|e| e.seq >= args.since_seq), client);
    if figures.requests == 0 {
        return Err(Failure::bad_input(anyhow!(
            "no requests by client `{client}` in {} (from seq {})",
            journal.display(),
            args.since_seq
        )));
    }
    report_sync(args, client, &figures)
}

/// `ngsim load --sut sut.toml --sync-hook NAME`: a clinic day, the SUT's sync.
fn run_sync_hook(args: &LoadArgs, hook: &str) -> Result<u8, Failure> {
    let path = args
        .sut
        .as_deref()
        .unwrap_or(std::path::Path::new("sut.toml"));
    let manifest = SutManifest::load(path).map_err(Failure::bad_input)?;
    let profile = simulator::profile::ProfileLoader::default()
        .load(&args.profile)
        .map_err(Failure::bad_input)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::infrastructure)?;
    let run = runtime
        .block_on(load::sync_run::run(
            &manifest,
            profile,
            args.seed,
            args.clinic_day,
            hook,
        ))
        .map_err(failure)?;
    println!(
        "clinic day: {} practice changes published; hook `{hook}` took {:.1} ms",
        run.clinic_changes, run.figures.wall_time_ms
    );
    report_sync(args, &run.clients.join("+"), &run.figures)
}

/// Prints, baselines and reports one sync's figures.
fn report_sync(args: &LoadArgs, client: &str, figures: &sync::SyncFigures) -> Result<u8, Failure> {
    let formats = report_files::formats(&args.format)?;
    let thresholds = thresholds(args)?;
    let base = args
        .baseline
        .as_deref()
        .map(|name| SyncBaseline::load(&args.baseline_dir, name))
        .transpose()
        .map_err(failure)?;
    let f = &figures;
    println!(
        "sync by `{client}`: {} requests ({} FHIR, {} Enterprise, {} OAuth, {} Bulk) in {:.1} ms, {:.1} req/s; \
         {} searches, {} pages followed, {} reads by id ({} N+1, {} repeated), {} error responses",
        f.requests,
        f.fhir,
        f.enterprise,
        f.oauth,
        f.bulk,
        f.wall_time_ms,
        f.request_rate,
        f.searches,
        f.pages_followed,
        f.reads_by_id,
        f.n_plus_one_reads,
        f.repeated_reads,
        f.error_responses
    );
    let comparison = base.as_ref().map(|b| sync::compare(b, figures, thresholds));
    if let Some(name) = &args.save_baseline {
        let path = SyncBaseline::new(name, figures)
            .save(&args.baseline_dir)
            .map_err(failure)?;
        println!("baseline `{name}` saved to {}", path.display());
    }
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut report = RunReport::new(
        ToolInfo::new("ngsim", env!("CARGO_PKG_VERSION")),
        SutInfo::new(client),
        started_at,
    );
    let mut scenario = ScenarioResult::new("load-sync", "How efficiently the SUT synced", "load");
    let findings = figures.findings();
    scenario.checks.push(
        CheckResult::new(
            "load.sync-no-waste",
            "The sync reads each resource once and uses the searches it makes (no N+1 or repeated reads)",
            Severity::Should,
            "NextGen API usage guidance (rate limits, daily quotas); FHIR R4 §3.1.0 search",
            if findings.is_empty() {
                Outcome::Passed
            } else {
                Outcome::failed(findings.join("; "))
            },
        )
        .with_evidence(None, format!("{} requests in {:.1} ms", f.requests, f.wall_time_ms)),
    );
    report.scenarios.push(scenario);
    report.perf = Some(PerfReport {
        baseline: comparison,
        ..PerfReport::default()
    });
    let report = report.finish();
    report_files::write(&report, &Redactor::new(), &formats, &args.report_dir)?;
    print_comparison(&report);
    for finding in &findings {
        println!("  finding: {finding}");
    }
    let s = &report.summary;
    Ok(if s.warnings > 0 || s.failed > 0 {
        exit_code::CHECKS_FAILED
    } else if s.perf_regressions > 0 {
        exit_code::PERF_REGRESSION
    } else {
        exit_code::OK
    })
}

fn print_comparison(report: &RunReport) {
    if let Some(c) = report.perf.as_ref().and_then(|p| p.baseline.as_ref()) {
        println!(
            "compared with baseline `{}` (max regression {}%):",
            c.name, c.max_regression_pct
        );
        for r in &c.rows {
            println!(
                "  {:<24} {:>12.3} -> {:>12.3} ({:+.1}%){}",
                r.metric,
                r.baseline,
                r.current,
                r.change_pct,
                if r.regressed { "  REGRESSED" } else { "" }
            );
        }
    }
}
