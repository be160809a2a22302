//! `ngsim checks list`: the check catalogue.

use clap::Subcommand;

use super::Failure;
use crate::{catalog, exit_code};

/// Check subcommands.
#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// List every check: id, severity, requirement and title.
    List,
}

pub(super) fn run(cmd: ChecksCommand) -> Result<u8, Failure> {
    match cmd {
        ChecksCommand::List => {
            for c in catalog::CATALOG {
                let sev = match c.severity {
                    catalog::Severity::Shall => "SHALL",
                    catalog::Severity::Should => "SHOULD",
                };
                println!(
                    "{:<34} {sev:<6} {}\n{:<41}{}",
                    c.id, c.title, "", c.requirement
                );
            }
            Ok(exit_code::OK)
        }
    }
}
