//! Message generators.
//!
//! - [`MessageContext`] and friends: the plain inputs, filled by the
//!   simulator or by [`sample_context`] (deterministic, synthetic).
//! - [`generate`]: NextGen-shaped ADT A01/A04/A08, ORM O01, ORU R01,
//!   SIU S12–S15, VXU V04, DFT P03 (with the `ZPI` segment documented in
//!   [`messages`]).
//! - [`mutate`]: adversarial damage.
//! - [`practice_context`]: a context drawn from the synthetic practice
//!   (patient `i`, their latest visit, results, appointment, ...).
//! - [`write_corpus`]: a directory of generated files, drawn from the practice.
//! - `strategy` (feature `proptest`): proptest strategies.

pub mod context;
pub mod corpus;
pub mod messages;
pub mod mutate;
// The fuzz crate compiles `hl7` alone, without the practice.
#[cfg(not(ngsim_hl7_only))]
pub mod practice;
pub mod rng;
#[cfg(feature = "proptest")]
pub mod strategy;

pub use context::{MessageContext, PatientSnapshot, Version, sample_context};
pub use corpus::CorpusSummary;
#[cfg(not(ngsim_hl7_only))]
pub use corpus::{practice_message, write_corpus, write_practice_corpus};
pub use messages::{MessageType, generate};
pub use mutate::{Mutation, mutate};
#[cfg(not(ngsim_hl7_only))]
pub use practice::practice_context;
pub use rng::Rng;
