//! Serde adapter (`#[serde(with = "simulator::profile::duration")]`) for
//! human-friendly durations in TOML files (`"300ms"`, `"5m"`, `"1h"`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer, de};

/// Serde adapter for `Duration` fields written as humantime strings.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map_err(|e| {
        de::Error::custom(format!(
            "invalid duration `{s}` ({e}); expected a number with a unit, e.g. `250ms`, `30s`, `5m`, `1h`"
        ))
    })
}

pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*v).to_string())
}
