//! The ngsim mock NextGen EHR.
//!
//! # Layout
//! - [`profile`]: version profiles (quirks as data), loading and validation.
//! - [`journal`]: the ordered record of every exchange, which the runner judges.
//! - [`faults`]: fault rules, from profiles and set at runtime.
//! - [`practice`]: the synthetic practice: a function of (seed, index) plus an overlay of writes.
//! - [`clients`]: the client registry (SMART apps, backend services, GSA accounts).
//! - [`events`]: the practice-change bus.
//! - [`hl7`]: the HL7 v2 core: zero-copy parser, escapes, builder, ACKs, MLLP codec, generators.
//! - [`mllp`]: the MLLP peer: inbound listener, outbound sender, batch files.
//! - [`server`]: the in-process simulator (`Simulator::builder()`), its HTTP
//!   router and listeners.
//! - [`control`]: the `/_ngsim/` control API.
//! - [`tls`]: TLS settings for MLLPS.
//! - [`ratelimit`]: the fixed-window rate limiter every HTTP surface shares.
//! - [`practice`]: the synthetic practice every surface renders.
//! - [`enterprise`]: the NextGen Enterprise JSON API (GSA/EAL auth, routes, route-use report).
//! - [`sinks`]: recipient sinks standing in for the SUT's downstream systems (HTTP, FHIR, MLLP).
//!
//! See `ARCHITECTURE.md` at the repository root for the data flow and invariants.

pub mod auth;
pub mod bulk;
pub mod clients;
pub mod control;
pub mod enterprise;
pub mod events;
pub mod faults;
pub mod fhir;
pub mod hl7;
pub mod journal;
pub mod mllp;
pub mod practice;
pub mod profile;
pub mod ratelimit;
pub mod server;
pub mod sinks;
pub mod tls;
pub mod toml_located;

pub use server::{RunningSimulator, Simulator, SimulatorBuilder};
