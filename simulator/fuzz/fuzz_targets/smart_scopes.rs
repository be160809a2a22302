//! Parse arbitrary text as a SMART scope string. Nothing may panic; an
//! accepted set prints in a form that re-parses to the same set, a set
//! grants itself, and narrowing never widens.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The scope grammar compiled from the simulator's own source (it needs
// only thiserror), so a build does not instrument the whole simulator.
#[path = "../../src/auth/scopes.rs"]
#[allow(dead_code)]
mod scopes;
use scopes::{Access, ScopeSet};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the requested set, the rest the client's maximum.
    let (requested, allowed) = src.split_once('\n').unwrap_or((
        src,
        "patient/*.cruds user/*.cruds system/*.cruds launch/patient openid fhirUser offline_access",
    ));
    let Ok(req) = ScopeSet::parse(requested) else {
        return;
    };
    let printed = req.to_string();
    let again = ScopeSet::parse(&printed)
        .unwrap_or_else(|e| panic!("printed scopes `{printed}` do not parse: {e:?}"));
    assert_eq!(
        again, req,
        "printed scopes `{printed}` parse to another set"
    );
    for s in &req.0 {
        assert!(req.contains(s));
    }
    let _ = req.has_patient_context();
    for rt in ["Patient", "Observation", "Condition", "*"] {
        for bits in 0..32u8 {
            let _ = matches!(req.access(rt, bits), Access::Allowed(_));
        }
    }
    if let Ok(max) = ScopeSet::parse(allowed) {
        if let Ok(granted) = max.grant(&req) {
            // What is granted is itself grantable from the maximum again.
            let _ = max.grant(&granted);
            for r in granted.resources() {
                assert!(
                    max.resources().any(|m| m.covers(r)),
                    "granted {r:?} exceeds the maximum"
                );
            }
        }
    }
});
