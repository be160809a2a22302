//! The ngsim conformance runner and command-line interface.
//!
//! # Layout
//! - [`cli`]: the `ngsim` subcommands; `main.rs` only calls [`cli::main`].
//! - [`catalog`]: every check, with its stable id, severity and requirement.
//! - [`engine`]: runs a scenario's steps, gathers evidence, judges checks.
//! - [`checks`]: check implementations, one module per family.
//! - [`scenario`]: scenario profiles (steps plus the checks they feed).
//! - [`manifest`]: the SUT manifest (`sut.toml`).
//! - [`reference`]: the reference integration and its `--defect` switches.
//! - [`exit_code`]: the documented process exit codes.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod engine;
pub mod exit_code;
pub mod http_client;
pub mod load;
pub mod manifest;
pub mod reference;
pub mod scenario;
