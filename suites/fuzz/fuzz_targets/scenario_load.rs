//! Parse arbitrary text as a scenario file. Nothing may panic, and an error
//! points inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use suites::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Scenario::parse("fuzz.toml", text) {
        let lines = text.split('\n').count();
        assert!(
            e.line <= lines + 1,
            "error line {} outside the {lines}-line text",
            e.line
        );
        let _ = e.to_string();
    }
});
