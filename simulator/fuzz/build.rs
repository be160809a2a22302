//! Marks this crate's own compilation of the simulator's `hl7` sources
//! (`fuzz_targets/hl7_module.rs`) as HL7-only, so the generators leave out
//! what needs the synthetic practice. A crate-local cfg, unlike cargo-fuzz's
//! global `fuzzing`, which also reaches the full simulator that
//! `suites/fuzz` links.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(ngsim_hl7_only)");
    println!("cargo::rustc-cfg=ngsim_hl7_only");
}
