//! The ngsim conformance runner and command-line interface.
//!
//! # Layout
//! - [`cli`]: the `ngsim` subcommands (`serve`, `profiles`, …); `main.rs` only calls [`cli::main`].
//! - [`exit_code`]: the documented process exit codes.

pub mod cli;
pub mod exit_code;
