//! Every check can fail: the reference integration passes every check of the
//! shipped scenarios, and each `--defect` fails exactly the check meant to
//! catch it, and no other.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use simulator::Simulator;
use suites::engine::{RunContext, run_scenario};
use suites::manifest::SutManifest;
use suites::reference::{self, Defect};
use suites::scenario::Scenario;

mod support;

const ACK_TIMEOUT: Duration = Duration::from_millis(400);

/// Run the ack-receiver scenario against the reference SUT with `defect`, and
/// return the ids of the checks that did not pass, with their messages.
async fn failing_checks(defect: Option<Defect>) -> (BTreeSet<String>, Vec<String>) {
    let sim = Simulator::builder().start().await.unwrap();
    let sut = reference::start(defect, ACK_TIMEOUT * 3).await.unwrap();
    let manifest =
        SutManifest::parse("sut.toml", &sut.manifest_toml(ACK_TIMEOUT), Path::new(".")).unwrap();
    let scenario = Scenario::load("ack-receiver").unwrap();
    let ctx = RunContext {
        sim: sim.state().clone().into(),
        manifest,
        seed: 7,
    };
    let result = run_scenario(&scenario, &ctx).await;
    support::not_passed(&result)
}

#[tokio::test]
async fn the_reference_integration_passes_every_ack_check() {
    let (failing, messages) = failing_checks(None).await;
    assert!(
        failing.is_empty(),
        "the good SUT failed:\n{}",
        messages.join("\n")
    );
}

#[tokio::test]
async fn each_defect_fails_exactly_its_check() {
    let scenario = Scenario::load("ack-receiver").unwrap();
    let mut proven = BTreeSet::new();
    // The sync defects are proven by `reference_sync.rs`.
    for defect in Defect::ALL.into_iter().filter(|d| !d.is_sync()) {
        let (failing, messages) = failing_checks(Some(defect)).await;
        let expected: BTreeSet<String> = [defect.caught_by().to_owned()].into();
        assert_eq!(
            failing,
            expected,
            "defect `{defect}`:\n{}",
            messages.join("\n")
        );
        proven.insert(defect.caught_by());
    }
    // Every check the scenario judges is proven by some defect.
    for id in &scenario.checks {
        assert!(proven.contains(id.as_str()), "no defect makes `{id}` fail");
    }
}

#[tokio::test]
async fn exchanges_are_journaled_for_the_timeline() {
    let sim = Simulator::builder().start().await.unwrap();
    let sut = reference::start(Some(Defect::WrongMsa2), ACK_TIMEOUT * 3)
        .await
        .unwrap();
    let manifest =
        SutManifest::parse("sut.toml", &sut.manifest_toml(ACK_TIMEOUT), Path::new(".")).unwrap();
    let ctx = RunContext {
        sim: sim.state().clone().into(),
        manifest,
        seed: 7,
    };
    let result = run_scenario(&Scenario::load("ack-receiver").unwrap(), &ctx).await;
    let msa2 = result
        .checks
        .iter()
        .find(|c| c.id == "ack.msa2-echoes-msh10")
        .unwrap();
    assert!(
        !msa2.evidence.is_empty(),
        "a failure points at journal entries"
    );
    let seq = msa2.evidence[0].journal_seq.unwrap();
    let event = result
        .timeline
        .iter()
        .find(|e| e.seq == seq)
        .expect("the evidence is on the timeline");
    assert!(
        event
            .check_ids
            .contains(&"ack.msa2-echoes-msh10".to_owned())
    );
    let mllp_out = sim.journal().entries(0, 1000, |e| e.mllp().is_some());
    assert!(mllp_out.len() >= 15, "every exchange is in the journal");
}
