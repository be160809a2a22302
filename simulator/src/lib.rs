//! The ngsim mock NextGen EHR.
//!
//! # Layout
//! The crate is organised one concept per module; see `ARCHITECTURE.md` at the
//! repository root for the data flow and the invariants between modules.

pub mod hl7;
