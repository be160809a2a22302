//! Every sync check can fail: the reference integration's sync behaviour
//! passes the part2-segmentation, write-back-scopes and enterprise-pre-beta
//! scenarios, and each sync `--defect` fails exactly the check meant to catch
//! it, and no other, across all three.

use std::collections::BTreeSet;
use std::path::Path;

use reports::Outcome;
use simulator::Simulator;
use suites::engine::{RunContext, run_scenario};
use suites::manifest::SutManifest;
use suites::reference::{self, Defect, SyncConfig};
use suites::scenario::Scenario;

const SCENARIOS: &[&str] = &[
    "part2-segmentation",
    "write-back-scopes",
    "enterprise-pre-beta",
];

/// Run the sync scenarios against a fresh simulator and reference SUT with
/// `defect`; the ids of the checks that did not pass, with their messages.
async fn failing_checks(defect: Option<Defect>) -> (BTreeSet<String>, Vec<String>) {
    let mut ids = BTreeSet::new();
    let mut messages = Vec::new();
    for name in SCENARIOS {
        let sim = Simulator::builder().patients(200).start().await.unwrap();
        let cfg = SyncConfig {
            simulator: sim.base_url().to_owned(),
            panel: reference::sync::default_panel(sim.practice()),
        };
        let sut = reference::start_sync(defect, cfg).await.unwrap();
        let manifest =
            SutManifest::parse("sut.toml", &sut.manifest_toml(), Path::new(".")).unwrap();
        let ctx = RunContext {
            sim: sim.state().clone().into(),
            manifest,
            seed: 7,
        };
        let result = run_scenario(&Scenario::load(name).unwrap(), &ctx).await;
        for c in &result.checks {
            if !matches!(c.outcome, Outcome::Passed) {
                ids.insert(c.id.clone());
                messages.push(format!("{name} {}: {:?}", c.id, c.outcome));
            }
        }
        if !sut.problems().is_empty() {
            messages.push(format!("{name} SUT problems: {:?}", sut.problems()));
        }
    }
    (ids, messages)
}

#[tokio::test]
async fn the_reference_sync_passes_every_sync_check() {
    let (failing, messages) = failing_checks(None).await;
    assert!(
        failing.is_empty(),
        "the good SUT failed:\n{}",
        messages.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sync_defect_fails_exactly_its_check() {
    // Each defect runs against its own simulators, so they run concurrently.
    let runs = futures::future::join_all(
        Defect::ALL
            .into_iter()
            .filter(|d| d.is_sync())
            .map(|d| async move { (d, failing_checks(Some(d)).await) }),
    )
    .await;
    let mut proven = BTreeSet::new();
    for (defect, (failing, messages)) in runs {
        let expected: BTreeSet<String> = [defect.caught_by().to_owned()].into();
        assert_eq!(
            failing,
            expected,
            "defect `{defect}`:\n{}",
            messages.join("\n")
        );
        proven.insert(defect.caught_by());
    }
    for name in SCENARIOS {
        for id in &Scenario::load(name).unwrap().checks {
            assert!(proven.contains(id.as_str()), "no defect makes `{id}` fail");
        }
    }
}

/// The part2-segmentation scenario against the reference sync with `defect`.
async fn part2_run(defect: Defect) -> (simulator::RunningSimulator, reports::ScenarioResult) {
    let sim = Simulator::builder().patients(200).start().await.unwrap();
    let cfg = SyncConfig {
        simulator: sim.base_url().to_owned(),
        panel: reference::sync::default_panel(sim.practice()),
    };
    let sut = reference::start_sync(Some(defect), cfg).await.unwrap();
    let manifest = SutManifest::parse("sut.toml", &sut.manifest_toml(), Path::new(".")).unwrap();
    let ctx = RunContext {
        sim: sim.state().clone().into(),
        manifest,
        seed: 7,
    };
    let result = run_scenario(&Scenario::load("part2-segmentation").unwrap(), &ctx).await;
    (sim, result)
}

#[tokio::test]
async fn a_leak_points_at_the_sink_delivery() {
    let (sim, result) = part2_run(Defect::LeakPart2).await;
    let leak = result
        .checks
        .iter()
        .find(|c| c.id == "part2.no-leak-to-unconsented")
        .unwrap();
    let seq = leak.evidence[0].journal_seq.unwrap();
    let entry = &sim.journal().entries(seq, 1, |_| true)[0];
    assert_eq!(entry.surface, simulator::journal::Surface::Sink);
    let notes = &entry.http().unwrap().notes;
    assert!(notes.iter().any(|n| n.k == "sink" && n.v == "billing"));
    assert!(notes.iter().any(|n| n.k == "consented" && n.v == "false"));
}

#[tokio::test]
async fn a_withheld_patient_fetched_with_another_client_is_circumvention() {
    let (sim, result) = part2_run(Defect::OtherClient).await;
    let check = result
        .checks
        .iter()
        .find(|c| c.id == "part2.no-circumvention")
        .unwrap();
    let message = check.outcome.message().unwrap_or_default();
    assert!(message.contains("as client `demo-public`"), "{message}");
    // The evidence is the other client's request.
    let seq = check.evidence[0].journal_seq.unwrap();
    let entry = &sim.journal().entries(seq, 1, |_| true)[0];
    assert_eq!(entry.client_id(), Some("demo-public"));
}
