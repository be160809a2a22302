//! `ngsim run`: check a system under test against scenario profiles and write
//! reports.

use std::path::PathBuf;

use clap::Args;
use reports::{Outcome, Redactor, RunReport, RunStatus, SutInfo, ToolInfo};
use simulator::Simulator;
use simulator::profile::{ProfileLoader, builtin_names};

use super::progress::Progress;
use super::{Failure, report_files};
use crate::engine::{RemoteSim, RunContext, Sim, run_scenario_with};
use crate::exit_code;
use crate::manifest::SutManifest;
use crate::scenario::Scenario;

/// Arguments of `ngsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The system-under-test manifest.
    #[arg(long, value_name = "FILE")]
    pub sut: PathBuf,
    /// Scenario to run: a built-in id (e.g. `ack-receiver`) or a file. Repeatable.
    #[arg(long = "scenario", value_name = "NAME|FILE", required = true)]
    pub scenarios: Vec<String>,
    /// Version profile of the embedded simulator. (Attached with `--simulator`,
    /// the run uses the running simulator's active profile.)
    #[arg(long, default_value = simulator::server::DEFAULT_PROFILE, value_name = "NAME|FILE", conflicts_with = "matrix")]
    pub profile: String,
    /// Run every scenario against every built-in version profile.
    #[arg(long)]
    pub matrix: bool,
    /// Attach to a running `ngsim serve` at this URL (e.g. `http://127.0.0.1:8080`)
    /// instead of embedding one: the runner drives it through its `/_ngsim/`
    /// control API, after a `/_ngsim/reset`. A running simulator has one active
    /// profile, so this rules out `--profile`, `--matrix` and `--http`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["matrix", "http", "profile"])]
    pub simulator: Option<String>,
    /// The attached simulator's control token (its `serve --control-token`),
    /// needed when it is not on this machine.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NGSIM_CONTROL_TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Where the reports go.
    #[arg(long, default_value = "ngsim-report", value_name = "DIR")]
    pub report_dir: PathBuf,
    /// Report formats, comma-separated: junit, json, html, md.
    #[arg(
        long,
        default_value = "junit,json,html,md",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub format: Vec<String>,
    /// Treat failed SHOULD checks as warnings (exit 0). By default every failed
    /// check, SHALL or SHOULD, makes the run exit 1.
    #[arg(long)]
    pub should_is_warning: bool,
    /// Where the embedded simulator serves HTTP (FHIR, SMART, Bulk, Enterprise),
    /// so an integration that calls it can be configured in advance. Default:
    /// a free loopback port.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Seed of the synthetic practice and of generated messages.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
}

pub(super) fn run(args: RunArgs) -> Result<u8, Failure> {
    let manifest = SutManifest::load(&args.sut).map_err(Failure::bad_input)?;
    let scenarios = args
        .scenarios
        .iter()
        .map(|s| Scenario::load(s).map_err(Failure::bad_input))
        .collect::<Result<Vec<_>, _>>()?;
    let formats = report_files::formats(&args.format)?;
    let loader = ProfileLoader::default();
    let profiles = if args.matrix {
        builtin_names()
            .filter(|n| *n != "nge-base")
            .map(|n| loader.load(n))
            .collect::<Result<Vec<_>, _>>()
    } else {
        loader.load(&args.profile).map(|p| vec![p])
    }
    .map_err(Failure::bad_input)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::infrastructure)?;
    let live = Progress::detect();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let clock = std::time::Instant::now();
    let mut sut = SutInfo::new(&manifest.name);
    sut.version = manifest.version.clone();
    let mut report = RunReport::new(
        ToolInfo::new("ngsim", env!("CARGO_PKG_VERSION")),
        sut,
        started_at,
    );
    runtime.block_on(async {
        if let Some(url) = &args.simulator {
            let remote = RemoteSim::connect(url, args.control_token.clone())
                .await
                .map_err(|e| {
                    Failure::infrastructure(anyhow::anyhow!(
                        "cannot attach to the simulator at {url}: {e}"
                    ))
                })?;
            let sim = Sim::Remote(remote);
            sim.reset().await.map_err(|e| {
                Failure::infrastructure(anyhow::anyhow!("cannot reset the simulator: {e}"))
            })?;
            let profile = sim.profile().await.map_err(|e| {
                Failure::infrastructure(anyhow::anyhow!("cannot read the simulator's profile: {e}"))
            })?;
            report.profiles.push(profile.name.clone());
            let ctx = RunContext {
                sim,
                manifest: manifest.clone(),
                seed: args.seed,
            };
            run_all(&scenarios, &ctx, &profile.name, live, &mut report).await;
            return Ok(());
        }
        for profile in &profiles {
            report.profiles.push(profile.name.clone());
            let mut builder = Simulator::builder()
                .profile(profile.clone())
                .seed(args.seed);
            if let Some(addr) = args.http {
                builder = builder.http_addr(addr);
            }
            // The SUT's clients are registered by the engine before each
            // scenario (engine::downstream::prepare), as in attach mode: a
            // backend gets the wide BACKEND_CEILING, so its grant equals its
            // request and scopes.least-privilege can judge what it asked for.
            if let Some(sender) = &manifest.mllp_sender {
                // The SUT sends HL7 to this address: the embedded simulator listens there.
                builder = builder.mllp_addr(sender.simulator_listen);
            }
            let sim = builder.start().await.map_err(Failure::infrastructure)?;
            let ctx = RunContext {
                sim: sim.state().clone().into(),
                manifest: manifest.clone(),
                seed: args.seed,
            };
            run_all(&scenarios, &ctx, &profile.name, live, &mut report).await;
            sim.shutdown().await;
        }
        Ok::<(), Failure>(())
    })?;
    report.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = report.finish();

    let mut redactor = Redactor::new();
    if let Some(secret) = manifest.smart.as_ref().and_then(|s| s.secret.clone()) {
        redactor.add_secret(secret);
    }
    if let Some(secret) = manifest
        .enterprise
        .as_ref()
        .and_then(|e| e.gsa_client_secret.clone())
    {
        redactor.add_secret(secret);
    }
    report_files::write(&report, &redactor, &formats, &args.report_dir)?;
    let s = &report.summary;
    println!(
        "{}: {} checks, {} passed, {} failed, {} warnings, {} errored, {} skipped; reports in {}",
        s.status.as_str(),
        s.total,
        s.passed,
        s.failed,
        s.warnings,
        s.errored,
        s.skipped,
        args.report_dir.display()
    );
    Ok(match s.status {
        RunStatus::Passed => exit_code::OK,
        RunStatus::PassedWithWarnings if args.should_is_warning => exit_code::OK,
        RunStatus::PassedWithWarnings => exit_code::CHECKS_FAILED,
        RunStatus::Failed if s.perf_regressions > 0 && s.failed == 0 => exit_code::PERF_REGRESSION,
        RunStatus::Failed => exit_code::CHECKS_FAILED,
        _ => exit_code::INFRASTRUCTURE,
    })
}

/// Run every scenario on one simulator, printing each check's verdict.
async fn run_all(
    scenarios: &[Scenario],
    ctx: &RunContext,
    profile: &str,
    live: Progress,
    report: &mut RunReport,
) {
    for scenario in scenarios {
        let on_step = |i: usize, n: usize, name: &str| live.step(profile, &scenario.id, i, n, name);
        let result = run_scenario_with(scenario, ctx, &on_step).await;
        live.clear();
        for c in &result.checks {
            let mark = match &c.outcome {
                Outcome::Passed => "pass",
                Outcome::Failed { .. } => "FAIL",
                Outcome::Errored { .. } => "ERROR",
                Outcome::Skipped { .. } => "skip",
                _ => "?",
            };
            let detail = c
                .outcome
                .message()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            println!("{mark:<5} {profile}/{} {}{detail}", scenario.id, c.id);
        }
        report.scenarios.push(result);
    }
}
