//! `ngsim profiles list | show NAME | validate FILE`.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Subcommand;
use simulator::profile::{self, ProfileLoader};

use super::Failure;
use crate::exit_code;

/// Profile subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the built-in version profiles.
    List,
    /// Print a profile fully resolved (inheritance applied) as TOML.
    Show {
        /// A built-in profile name, or a path to a profile file.
        name: String,
    },
    /// Check a profile file: syntax, keys, values, inheritance and the JSON Schema.
    Validate {
        /// Profile file to check.
        file: PathBuf,
    },
}

pub(super) fn run(cmd: ProfilesCommand) -> Result<u8, Failure> {
    let loader = ProfileLoader::default();
    match cmd {
        ProfilesCommand::List => {
            for name in profile::builtin_names() {
                let p = loader.load(name).map_err(Failure::bad_input)?;
                let marker = if name == simulator::server::DEFAULT_PROFILE {
                    " (default)"
                } else {
                    ""
                };
                println!("{name:<12} {}{marker}", p.description);
            }
            Ok(exit_code::OK)
        }
        ProfilesCommand::Show { name } => {
            let p = loader.load(&name).map_err(Failure::bad_input)?;
            let text = toml::to_string(&p).map_err(|e| Failure::bad_input(anyhow!(e)))?;
            print!("{text}");
            Ok(exit_code::OK)
        }
        ProfilesCommand::Validate { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::bad_input(anyhow!("cannot read {}: {e}", file.display())))?;
            let p = loader.load_file(&file).map_err(Failure::bad_input)?;
            if let Err(errors) = profile::validate_against_schema(&text) {
                return Err(Failure::bad_input(anyhow!(
                    "{} does not match the profile schema:\n  {}",
                    file.display(),
                    errors.join("\n  ")
                )));
            }
            println!("ok: {} ({})", p.name, file.display());
            Ok(exit_code::OK)
        }
    }
}
