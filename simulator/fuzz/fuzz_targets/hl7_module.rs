// The HL7 core, compiled from the simulator's own sources.
#[path = "../../src/hl7/mod.rs"]
#[allow(dead_code, unused_imports)]
pub mod hl7;
