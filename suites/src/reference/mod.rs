//! The reference integration: a small, correct system under test that passes
//! every shipped scenario, plus `--defect` switches that each break exactly one
//! behaviour. Every check in the catalogue is proven by a defect that makes it
//! fail (see `suites/tests/reference_defects.rs` and
//! `suites/tests/reference_client_defects.rs`).

mod bulk_client;
mod circumvent;
mod client;
mod client_defect;
mod defect;
mod reader;
mod receiver;
mod sender;
mod smart_app;
pub mod sync;

pub use client::{ClientTargets, FhirTarget, ReferenceClient, start_client};
pub use client_defect::ClientDefect;
pub use defect::Defect;
pub use receiver::{ReferenceSut, start, start_delayed};
pub use sync::{ReferenceSync, SyncConfig, start_sync};
