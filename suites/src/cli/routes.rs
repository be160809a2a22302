//! `ngsim routes report`: the pre-beta "detailed route list" check. Every
//! Enterprise API route each client used, classified, compared with a declared
//! route list.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use simulator::enterprise::routes::{RouteUseReport, parse_declared, read_journal};
use simulator::profile::ProfileLoader;

use super::Failure;
use crate::exit_code;

/// Route subcommands.
#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Report the Enterprise routes used in a journal, per client: counts and
    /// class (USCDI GET, other GET, write, GSA-prohibited), and against a
    /// declared route list: undeclared routes used, declared routes unused,
    /// prohibited routes used. Exits 1 when there are findings.
    Report(ReportArgs),
}

/// Output formats of the route report.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RouteFormat {
    /// Markdown, for a PR comment or a beta submission.
    Md,
    /// JSON.
    Json,
}

/// Arguments of `ngsim routes report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A journal written by `ngsim serve --journal FILE` (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// The declared route list: one `METHOD /template` per line, `#` comments.
    #[arg(long, value_name = "FILE")]
    pub declared: Option<PathBuf>,
    /// Version profile whose API base and GSA-prohibited routes apply.
    #[arg(long, default_value = simulator::server::DEFAULT_PROFILE, value_name = "NAME|FILE")]
    pub profile: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: RouteFormat,
}

pub(super) fn run(cmd: RoutesCommand) -> Result<u8, Failure> {
    let RoutesCommand::Report(args) = cmd;
    let profile = ProfileLoader::default()
        .load(&args.profile)
        .map_err(Failure::bad_input)?;
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::bad_input(anyhow!("cannot read {}: {e}", p.display())))
    };
    let entries =
        read_journal(&read(&args.journal)?).map_err(|e| Failure::bad_input(anyhow!("{e}")))?;
    let declared = match &args.declared {
        Some(p) => Some(
            parse_declared(&read(p)?, &profile.enterprise.api_base)
                .map_err(|e| Failure::bad_input(anyhow!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let report = RouteUseReport::from_journal(&entries, declared.as_deref(), &profile);
    match args.format {
        RouteFormat::Md => print!("{}", report.to_markdown()),
        RouteFormat::Json => println!("{}", report.to_json()),
    }
    Ok(if report.has_findings() {
        exit_code::CHECKS_FAILED
    } else {
        exit_code::OK
    })
}
