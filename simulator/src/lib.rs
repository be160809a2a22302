//! The ngsim mock NextGen EHR.
//!
//! # Layout
//! - [`profile`]: version profiles (quirks as data), loading and validation.
//! - [`journal`]: the ordered record of every exchange, which the runner judges.
//! - [`faults`]: fault rules, from profiles and set at runtime.
//! - [`server`]: the in-process simulator (`Simulator::builder()`), its HTTP
//!   router and listeners.
//! - [`control`]: the `/_ngsim/` control API.
//!
//! See `ARCHITECTURE.md` at the repository root for the data flow and invariants.

pub mod clients;
pub mod control;
pub mod events;
pub mod faults;
pub mod journal;
pub mod profile;
pub mod server;
pub mod tls;
pub mod toml_located;

pub use server::{RunningSimulator, Simulator, SimulatorBuilder};
