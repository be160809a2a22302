//! The ngsim conformance runner and command-line interface.
//!
//! # Layout
//! - [`cli`]: the `ngsim` subcommands; `main.rs` only calls [`cli::main`].
//! - [`catalog`]: every check, with its stable id, severity and requirement.
//! - [`scenario`]: scenario profiles (steps plus the checks they feed).
//! - [`manifest`]: the SUT manifest (`sut.toml`).
//! - [`exit_code`]: the documented process exit codes.

pub mod catalog;
pub mod cli;
pub mod exit_code;
pub mod manifest;
pub mod scenario;
