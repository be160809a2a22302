//! Scenario profiles (`profiles/scenarios/*.toml`): steps that drive the system
//! under test, and the checks those steps feed.
//!
//! ```toml
//! id = "ack-receiver"
//! title = "HL7 ACK semantics, the SUT receiving"
//! checks = ["ack.msa2-echoes-msh10", "ack.aa-for-valid"]
//!
//! [[steps]]
//! action = "emit-hl7"
//! message = "ADT^A04"
//! count = 3
//! variant = "valid"
//! ```

mod builtin;
mod listener_fault;

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use simulator::faults::FaultRule;
use simulator::toml_located::{self, LocatedError};

pub use builtin::{BUILTIN_SCENARIOS, builtin_scenario};
pub use listener_fault::ListenerFault;

use crate::catalog;

/// A scenario: ordered steps plus the checks judged afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Stable id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What the scenario exercises.
    #[serde(default)]
    pub description: String,
    /// Check ids (from the catalogue) judged on this scenario's evidence.
    pub checks: Vec<String>,
    /// Steps, run in order.
    pub steps: Vec<Step>,
}

/// How an emitted HL7 message is shaped, to provoke one class of ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// A valid, supported message: expect AA.
    Valid,
    /// MSH-9 of a type the receiver does not support (`ZZZ^Z99`): expect AR.
    UnsupportedType,
    /// MSH-12 of a version nobody supports (`9.9`): expect AR.
    UnsupportedVersion,
    /// A segment with a malformed id in the middle: expect AE or AR.
    BrokenSegment,
    /// PID missing from an ADT: expect AE or AR.
    MissingSegment,
    /// The same message (same MSH-10) twice: both ACKed, processed once.
    Duplicate,
    /// One frame written in small chunks with pauses: expect a normal ACK.
    SplitFrame,
    /// Two frames in one write: expect two ACKs, in order.
    BackToBack,
    /// MSH-15/16 = `AL`/`AL`: expect CA (accept) in enhanced mode.
    EnhancedAl,
    /// MSH-15 = `NE`, MSH-16 = `AL`: expect no accept ACK, only the application ACK.
    EnhancedNeAl,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum Step {
    /// The simulator sends HL7 to the SUT's MLLP listener and records the ACKs.
    EmitHl7 {
        /// Message type, `TYPE^TRIGGER`.
        message: String,
        /// How many messages.
        #[serde(default = "one")]
        count: u32,
        /// Shape of the messages.
        #[serde(default = "valid")]
        variant: Variant,
    },
    /// Call one of the SUT's hooks (from its manifest).
    Hook {
        /// Hook name.
        name: String,
    },
    /// Add a fault rule to the simulator.
    Fault {
        /// The rule, as in a profile's `[[faults]]`.
        rule: FaultRule,
    },
    /// Remove every fault rule.
    ClearFaults,
    /// Move the SMART authorize and token endpoints to `{prefix}/authorize` and
    /// `{prefix}/token` for the rest of the scenario (`.well-known` follows),
    /// as a NextGen upgrade may; the profile is restored when the scenario ends.
    MoveSmartEndpoints {
        /// Path prefix, e.g. `/nge/moved/oauth`.
        prefix: String,
    },
    /// Make the simulator's MLLP listener misbehave towards the SUT (as an HL7
    /// sender) for the next `times` messages of type `message`.
    ListenerFault {
        /// What goes wrong.
        fault: ListenerFault,
        /// MSH-9 (`TYPE^TRIGGER`) of the messages it applies to.
        message: String,
        /// How many messages it applies to.
        #[serde(default = "one")]
        times: u32,
    },
    /// Wait until a journal entry of `surface` (optionally whose route contains
    /// `route-contains`) appears, or fail the scenario after `timeout`.
    Wait {
        /// Journal surface name.
        surface: String,
        /// Text the route must contain.
        #[serde(default)]
        route_contains: Option<String>,
        /// How long to wait.
        #[serde(with = "simulator::profile::duration")]
        timeout: Duration,
    },
    /// Grant or revoke Part 2 consent (through the control API), for the
    /// listed patients or every Part 2 patient.
    Consent {
        /// `granted` or `revoked`.
        state: ConsentChange,
        /// Person ids.
        #[serde(default)]
        patients: Vec<String>,
        /// Every Part 2 patient instead of a list.
        #[serde(default)]
        all: bool,
    },
}

/// What a `consent` step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentChange {
    /// Grant consent.
    Granted,
    /// Revoke consent.
    Revoked,
}

impl ConsentChange {
    /// The control API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentChange::Granted => "granted",
            ConsentChange::Revoked => "revoked",
        }
    }
}

fn one() -> u32 {
    1
}

fn valid() -> Variant {
    Variant::Valid
}

impl Scenario {
    /// Parse and check a scenario file's text.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, LocatedError> {
        let s: Scenario = toml_located::from_str(file, text)?;
        for (i, id) in s.checks.iter().enumerate() {
            if catalog::lookup(id).is_none() {
                return Err(toml_located::at_key(
                    file,
                    &format!("checks[{i}]"),
                    format!("unknown check `{id}` (see `ngsim checks list`)"),
                ));
            }
        }
        if s.steps.is_empty() {
            return Err(toml_located::at_key(
                file,
                "steps",
                "a scenario needs at least one step",
            ));
        }
        Ok(s)
    }

    /// Load a built-in scenario by id, or a scenario file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, LocatedError> {
        if let Some(text) = builtin_scenario(name_or_path) {
            return Scenario::parse(&format!("profiles/scenarios/{name_or_path}.toml"), text);
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|e| LocatedError {
            file: name_or_path.to_owned(),
            line: 0,
            column: 0,
            key: None,
            message: format!(
                "{e} (built-in scenarios: {})",
                BUILTIN_SCENARIOS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        Scenario::parse(&path.display().to_string(), &text)
    }
}

#[cfg(test)]
mod tests;
