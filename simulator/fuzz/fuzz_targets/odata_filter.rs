//! Parse arbitrary text as an OData `$filter` and `$orderby`. Nothing may
//! panic; a syntax error's position lies inside the input; an accepted
//! filter's canonical `Display` re-parses to the same tree, and evaluating
//! it against a sample record either answers or names an unknown property.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The parser compiled from the simulator's own source (it needs only
// serde_json and uuid), so a build does not instrument the whole simulator.
#[path = "../../src/enterprise/odata.rs"]
#[allow(dead_code)]
mod odata;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match odata::parse_filter(src) {
        Ok(expr) => {
            let canonical = expr.to_string();
            let again = odata::parse_filter(&canonical)
                .unwrap_or_else(|e| panic!("canonical form `{canonical}` does not parse: {e:?}"));
            assert_eq!(
                again, expr,
                "canonical form `{canonical}` parses to another tree"
            );
            let item = serde_json::json!({
                "lastName": "O'Brien", "age": 41, "isKept": true, "duration": 20,
                "appointmentDate": "2026-07-02T00:00:00",
                "personId": "8f5b1c9e-0000-4000-8000-000000000001",
                "address": {"city": "Springfield"}, "note": null
            });
            let _ = odata::eval(&expr, &item);
            let _ = expr.properties();
        }
        Err(e) => {
            let _ = e.describe("$filter", src);
        }
    }
    match odata::parse_orderby(src) {
        Ok(keys) => assert!(keys.iter().all(|k| !k.prop.is_empty())),
        Err(e) => {
            let _ = e.describe("$orderby", src);
        }
    }
});
