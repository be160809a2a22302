//! Helpers shared by the integration tests.

use std::collections::BTreeSet;

use reports::{Outcome, ScenarioResult};

/// The ids of the checks that did not pass, and a line per such check.
pub fn not_passed(result: &ScenarioResult) -> (BTreeSet<String>, Vec<String>) {
    let mut ids = BTreeSet::new();
    let mut messages = Vec::new();
    for c in &result.checks {
        if !matches!(c.outcome, Outcome::Passed) {
            ids.insert(c.id.clone());
            messages.push(format!("{}: {:?}", c.id, c.outcome));
        }
    }
    (ids, messages)
}
