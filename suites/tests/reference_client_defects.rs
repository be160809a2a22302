//! Every client-side check can fail: the reference client passes every check
//! of the client scenarios, and each client `--defect` fails exactly the check
//! meant to catch it, and no other.

use std::collections::BTreeSet;
use std::path::Path;

use simulator::Simulator;
use suites::engine::{RunContext, run_scenario};
use suites::manifest::SutManifest;
use suites::reference::{self, ClientDefect, ClientTargets, FhirTarget};
use suites::scenario::Scenario;

mod support;

/// Run `scenario` against the reference client with `defect`; return the ids
/// of the checks that did not pass, with their messages.
async fn failing_checks(
    scenario: &str,
    defect: Option<ClientDefect>,
) -> (BTreeSet<String>, Vec<String>) {
    let sim = Simulator::builder()
        .mllp_addr("127.0.0.1:0".parse().unwrap())
        .patients(60)
        .start()
        .await
        .unwrap();
    let fhir = FhirTarget {
        base: sim.fhir_base_url(),
        client_id: "demo-backend".into(),
        key: sim.state().auth.demo_backend_key().clone(),
    };
    let client = reference::start_client(
        defect,
        ClientTargets {
            mllp: sim.mllp_addr(),
            fhir: Some(fhir),
        },
    )
    .await
    .unwrap();
    let manifest = SutManifest::parse("sut.toml", &client.manifest_toml(), Path::new(".")).unwrap();
    let ctx = RunContext {
        sim: sim.state().clone().into(),
        manifest,
        seed: 7,
    };
    let result = run_scenario(&Scenario::load(scenario).unwrap(), &ctx).await;
    support::not_passed(&result)
}

async fn passes(scenario: &str) {
    let (failing, messages) = failing_checks(scenario, None).await;
    assert!(
        failing.is_empty(),
        "the good SUT failed {scenario}:\n{}",
        messages.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_sender_check() {
    passes("ack-sender").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_resilience_check() {
    passes("resilience").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_bulk_check() {
    passes("bulk-client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_smart_check() {
    passes("smart-client").await;
    passes("smart-discovery").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_defect_fails_exactly_its_check() {
    let mut proven = BTreeSet::new();
    for defect in ClientDefect::ALL {
        let (failing, messages) = failing_checks(defect.scenario(), Some(defect)).await;
        let expected: BTreeSet<String> = [defect.caught_by().to_owned()].into();
        assert_eq!(
            failing,
            expected,
            "defect `{defect}`:\n{}",
            messages.join("\n")
        );
        proven.insert(defect.caught_by());
    }
    for scenario in [
        "ack-sender",
        "resilience",
        "bulk-client",
        "smart-client",
        "smart-discovery",
    ] {
        for id in &Scenario::load(scenario).unwrap().checks {
            assert!(proven.contains(id.as_str()), "no defect makes `{id}` fail");
        }
    }
}
