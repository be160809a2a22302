//! The reference integration: a small, correct system under test that passes
//! every shipped scenario, plus `--defect` switches that each break exactly one
//! behaviour. Every check in the catalogue is proven by a defect that makes it
//! fail (see `suites/tests/reference_defects.rs`).

mod defect;
mod receiver;
pub mod sync;

pub use defect::Defect;
pub use receiver::{ReferenceSut, start, start_delayed};
pub use sync::{ReferenceSync, SyncConfig, start_sync};
