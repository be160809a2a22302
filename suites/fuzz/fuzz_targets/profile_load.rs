//! Load arbitrary text as a version profile (TOML, `inherits` chain,
//! schema check). Nothing may panic; an accepted profile serialises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simulator::profile::{ProfileLoader, validate_against_schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate_against_schema(text);
    match ProfileLoader::default().load_str("fuzz.toml", text) {
        Ok(profile) => {
            serde_json::to_string(&profile).expect("a loaded profile serialises");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
