//! Process exit codes of `ngsim`. They are part of the public interface: CI
//! scripts branch on them, so they never change meaning.

/// Everything passed (or the command succeeded).
pub const OK: u8 = 0;
/// At least one conformance check failed.
pub const CHECKS_FAILED: u8 = 1;
/// Bad input: a usage error, or an invalid profile, scenario, manifest or file.
pub const BAD_INPUT: u8 = 2;
/// Infrastructure error: a listener could not bind, the simulator or the system
/// under test could not be reached, a hook could not start.
pub const INFRASTRUCTURE: u8 = 3;
/// A performance figure regressed beyond the allowed threshold.
pub const PERF_REGRESSION: u8 = 4;
