//! Message generators.
//!
//! - [`MessageContext`] and friends: the plain inputs, filled by the
//!   simulator or by [`sample_context`] (deterministic, synthetic).
//! - [`generate`]: NextGen-shaped ADT A01/A04/A08, ORM O01, ORU R01,
//!   SIU S12–S15, VXU V04, DFT P03 (with the `ZPI` segment documented in
//!   [`messages`]).
//! - [`mutate`]: adversarial damage.
//! - [`write_corpus`]: a directory of generated files.
//! - `strategy` (feature `proptest`): proptest strategies.

pub mod context;
pub mod corpus;
pub mod messages;
pub mod mutate;
pub mod rng;
#[cfg(feature = "proptest")]
pub mod strategy;

pub use context::{MessageContext, PatientSnapshot, Version, sample_context};
pub use corpus::{CorpusSummary, write_corpus};
pub use messages::{MessageType, generate};
pub use mutate::{Mutation, mutate};
pub use rng::Rng;
