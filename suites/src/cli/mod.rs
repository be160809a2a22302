//! The `ngsim` command line.

mod checks;
mod generate;
mod load;
mod profiles;
mod progress;
mod report_files;
mod routes;
mod run;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit_code;

/// ngsim: a mock NextGen Healthcare EHR (FHIR R4 + SMART, Enterprise API, HL7 v2
/// over MLLP) and a conformance runner for the integrations that talk to it.
///
/// All data is synthetic. Exit codes: 0 success, 1 checks failed, 2 bad input,
/// 3 infrastructure error, 4 performance regression.
#[derive(Debug, Parser)]
#[command(
    name = "ngsim",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the simulator and serve until Ctrl-C or SIGTERM.
    Serve(serve::ServeArgs),
    /// Check a system under test against scenario profiles and write reports.
    Run(run::RunArgs),
    /// Load-test an integration's HL7 receiver, or judge its sync, against a baseline.
    Load(Box<load::LoadArgs>),
    /// List, show and validate version profiles.
    #[command(subcommand)]
    Profiles(profiles::ProfilesCommand),
    /// List the conformance checks.
    #[command(subcommand)]
    Checks(checks::ChecksCommand),
    /// Report the Enterprise API routes an integration used (pre-beta route list).
    #[command(subcommand)]
    Routes(routes::RoutesCommand),
    /// Generate test data (HL7 corpora for fuzzing).
    #[command(subcommand)]
    Gen(generate::GenCommand),
}

/// Parse the command line, run it, and map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit_code::BAD_INPUT
            } else {
                exit_code::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing();
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Run(args) => run::run(args),
        Command::Load(args) => load::run(*args),
        Command::Profiles(cmd) => profiles::run(cmd),
        Command::Checks(cmd) => checks::run(cmd),
        Command::Gen(cmd) => generate::run(cmd),
        Command::Routes(cmd) => routes::run(cmd),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("ngsim: error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: u8,
    /// What went wrong.
    pub error: anyhow::Error,
}

impl Failure {
    /// Bad input (exit code 2).
    pub fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: exit_code::BAD_INPUT,
            error: e.into(),
        }
    }

    /// Infrastructure error (exit code 3).
    pub fn infrastructure(e: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: exit_code::INFRASTRUCTURE,
            error: e.into(),
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NGSIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
