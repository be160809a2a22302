//! Load scenario files (`profiles/scenarios/load-*.toml`): a load run's
//! settings, kept in the repository next to the conformance scenarios so CI
//! compares like with like across releases. The target comes from the SUT
//! manifest (`[mllp] listen`).
//!
//! ```toml
//! id = "load-mllp-feed"
//! title = "A clinic's outbound feed at 200 msg/s"
//!
//! [load]
//! connections = 4
//! rate = 200              # or `ramp = "50..400"`; omit both for closed loop
//! messages = 2000         # or `duration = "30s"`
//! ack-timeout = "5s"
//! repeat = 3
//! mix = { "ADT^A04" = 3, "SIU^S12" = 2, "ORU^R01" = 2, "VXU^V04" = 1 }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use simulator::toml_located::{self, LocatedError};

use super::spec::{self, LoadSpec, Pacing, StopAfter};

/// Shipped load scenarios, embedded so `--scenario NAME` works anywhere.
pub const BUILTIN: &[(&str, &str)] = &[(
    "load-mllp-feed",
    include_str!("../../../profiles/scenarios/load-mllp-feed.toml"),
)];

/// A parsed load scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadScenario {
    /// Stable id.
    pub id: String,
    /// One line for reports.
    pub title: String,
    /// What to do.
    pub load: LoadSection,
}

/// The `[load]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoadSection {
    /// Concurrent connections.
    #[serde(default = "one")]
    pub connections: usize,
    /// Fixed rate, messages per second.
    pub rate: Option<f64>,
    /// Ramp `FROM..TO`, messages per second.
    pub ramp: Option<String>,
    /// Messages to send.
    pub messages: Option<u64>,
    /// Or how long to send.
    #[serde(default, with = "humantime_opt")]
    pub duration: Option<Duration>,
    /// ACK timeout.
    #[serde(default = "five_seconds", with = "simulator::profile::duration")]
    pub ack_timeout: Duration,
    /// Repetitions compared by median.
    #[serde(default = "three")]
    pub repeat: usize,
    /// Message type → weight.
    #[serde(default)]
    pub mix: BTreeMap<String, u32>,
}

fn one() -> usize {
    1
}
fn three() -> usize {
    3
}
fn five_seconds() -> Duration {
    Duration::from_secs(5)
}

mod humantime_opt {
    use std::time::Duration;

    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        simulator::profile::duration::deserialize(d).map(Some)
    }
}

impl LoadScenario {
    /// Parses a load scenario, naming file, line and key on error.
    pub fn parse(file: &str, text: &str) -> Result<LoadScenario, LocatedError> {
        let s: LoadScenario = toml_located::from_str(file, text)?;
        let at = |key: &str, msg: String| toml_located::at_key(file, key, msg);
        let l = &s.load;
        if l.rate.is_some() && l.ramp.is_some() {
            return Err(at(
                "load.ramp",
                "give `rate` or `ramp`, not both".to_owned(),
            ));
        }
        if l.messages.is_some() == l.duration.is_some() {
            return Err(at(
                "load.messages",
                "give exactly one of `messages` and `duration`".to_owned(),
            ));
        }
        if let Some(r) = &l.ramp {
            spec::parse_ramp(r).map_err(|e| at("load.ramp", e.to_string()))?;
        }
        for name in l.mix.keys() {
            spec::message_type(name).map_err(|e| at(&format!("load.mix.{name}"), e.to_string()))?;
        }
        s.spec("127.0.0.1:9".parse().expect("static address"), 0)
            .validate()
            .map_err(|e| at("load", e.to_string()))?;
        Ok(s)
    }

    /// Loads a built-in load scenario by id, or a file by path.
    pub fn load(name_or_path: &str) -> Result<LoadScenario, LocatedError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(&format!("profiles/scenarios/{name_or_path}.toml"), text);
        }
        let text = std::fs::read_to_string(Path::new(name_or_path)).map_err(|e| LocatedError {
            file: name_or_path.to_owned(),
            line: 0,
            column: 0,
            key: None,
            message: format!(
                "{e} (built-in load scenarios: {})",
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        Self::parse(name_or_path, &text)
    }

    /// The load spec against `target`.
    pub fn spec(&self, target: SocketAddr, seed: u64) -> LoadSpec {
        let l = &self.load;
        let pacing = match (l.rate, &l.ramp) {
            (Some(rate), _) => Pacing::Fixed { rate },
            (None, Some(r)) => spec::parse_ramp(r).unwrap_or(Pacing::AsFastAsPossible),
            (None, None) => Pacing::AsFastAsPossible,
        };
        let stop = match (l.messages, l.duration) {
            (Some(n), _) => StopAfter::Messages(n),
            (None, Some(d)) => StopAfter::Duration(d),
            (None, None) => StopAfter::Messages(0),
        };
        let mix = if l.mix.is_empty() {
            LoadSpec::default_mix()
        } else {
            l.mix.iter().map(|(k, v)| (k.clone(), *v)).collect()
        };
        LoadSpec {
            target,
            connections: l.connections,
            pacing,
            stop,
            mix,
            ack_timeout: l.ack_timeout,
            seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_load_scenarios_parse() {
        for (id, _) in BUILTIN {
            let s = LoadScenario::load(id).unwrap();
            assert_eq!(&s.id, id);
        }
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let e = LoadScenario::parse(
            "x.toml",
            "id = \"a\"\ntitle = \"b\"\n[load]\nmessages = 10\nmix = { \"ADT^Z99\" = 1 }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("x.toml") && e.contains("ADT^Z99"), "{e}");
        let e = LoadScenario::parse(
            "x.toml",
            "id = \"a\"\ntitle = \"b\"\n[load]\nmessages = 10\nrate = 5\nramp = \"1..2\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not both"), "{e}");
        let e = LoadScenario::parse("x.toml", "id = \"a\"\ntitle = \"b\"\n[load]\nrats = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml:4"), "{e}");
    }
}
