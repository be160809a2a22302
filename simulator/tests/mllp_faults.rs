//! Fault injection on the MLLP surfaces, set at runtime (through the control
//! API and `state.faults`); each injected fault is named in the journal.

#[path = "mllp_support.rs"]
mod support;

use std::time::Duration;

use simulator::faults::FaultRule;
use simulator::journal::Surface;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rule(json: &str) -> FaultRule {
    serde_json::from_str(json).unwrap()
}

fn faults_in_journal(sim: &simulator::RunningSimulator, surface: Surface) -> Vec<Option<String>> {
    entries(sim, surface)
        .iter()
        .filter_map(|e| e.mllp())
        .filter(|x| x.msh10.is_some())
        .map(|x| x.fault.as_deref().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn nak_every_second_message_via_the_control_api() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 1);
    let res = reqwest::Client::new()
        .post(format!("{}/_ngsim/faults", sim.base_url()))
        .body(r#"{"surface": "mllp-in", "kind": "nak", "code": "AE", "every": 2}"#)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let mut s = connect(&sim).await;
    let mut codes = Vec::new();
    for k in 0..4 {
        let acks = exchange(&mut s, &oru(&mrn, &format!("N{k}")), 1).await;
        codes.push(msa(&acks[0]).0);
    }
    assert_eq!(codes, ["AE", "AA", "AE", "AA"]);
    eventually(|| faults_in_journal(&sim, Surface::MllpIn).len() == 4).await;
    assert_eq!(
        faults_in_journal(&sim, Surface::MllpIn),
        [Some("nak".into()), None, Some("nak".into()), None]
    );
}

#[tokio::test]
async fn wrong_msa2_commit_ack_split_writes_and_delay() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 1);
    // Each rule fires once; `pick` returns the first rule that fires, so
    // the exhausted rules hand over to the next in order.
    let f = &sim.state().faults;
    f.add(rule(
        r#"{"surface": "mllp-in", "kind": "wrong-msa2", "times": 1}"#,
    ));
    f.add(rule(
        r#"{"surface": "mllp-in", "kind": "commit-ack", "times": 1}"#,
    ));
    f.add(rule(
        r#"{"surface": "mllp-in", "kind": "split-writes", "chunk": 7, "times": 1}"#,
    ));
    f.add(rule(
        r#"{"name": "late-ack", "surface": "mllp-in", "kind": "ack-delay", "ms": 30, "times": 1}"#,
    ));
    let mut s = connect(&sim).await;
    let a = exchange(&mut s, &oru(&mrn, "W1"), 1).await;
    assert_eq!(msa(&a[0]).1, "XW1");
    let a = exchange(&mut s, &oru(&mrn, "W2"), 2).await;
    assert_eq!(a[0], [0x06], "Release 2 commit ACK block first");
    assert_eq!(msa(&a[1]).1, "W2");
    let a = exchange(&mut s, &oru(&mrn, "W3"), 1).await;
    assert_eq!(msa(&a[0]), ("AA".into(), "W3".into(), String::new()));
    let a = exchange(&mut s, &oru(&mrn, "W4"), 1).await;
    assert_eq!(msa(&a[0]).1, "W4");
    eventually(|| faults_in_journal(&sim, Surface::MllpIn).len() == 4).await;
    assert_eq!(
        faults_in_journal(&sim, Surface::MllpIn),
        [
            Some("wrong-msa2".into()),
            Some("commit-ack".into()),
            Some("split-writes".into()),
            Some("late-ack".into())
        ]
    );
}

#[tokio::test]
async fn drop_connection_after_n_and_mid_frame() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 1);
    sim.state().faults.add(rule(
        r#"{"surface": "mllp-in", "kind": "drop-connection", "after": 1, "times": 1}"#,
    ));
    sim.state().faults.add(rule(
        r#"{"surface": "mllp-in", "kind": "drop-connection", "mid-frame": true, "after": 1, "times": 1}"#,
    ));
    let mut s = connect(&sim).await;
    assert_eq!(msa(&exchange(&mut s, &oru(&mrn, "D1"), 1).await[0]).0, "AA");
    s.write_all(&frame(&oru(&mrn, "D2"))).await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await;
    assert!(rest.is_empty(), "closed without an ACK");
    let mut s = connect(&sim).await;
    s.write_all(&frame(&oru(&mrn, "D3"))).await.unwrap();
    let mut half = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut half)).await;
    assert!(
        !half.is_empty() && !half.ends_with(&[0x1C, 0x0D]),
        "half a frame, then close"
    );
    eventually(|| faults_in_journal(&sim, Surface::MllpIn).len() == 3).await;
    let f = faults_in_journal(&sim, Surface::MllpIn);
    assert_eq!(f[1].as_deref(), Some("drop-connection"));
    assert_eq!(f[2].as_deref(), Some("drop-connection"));
}

#[tokio::test]
async fn outbound_duplicate_send() {
    let (addr, got) = aa_destination().await;
    let seen = || -> Vec<String> {
        got.lock()
            .iter()
            .map(|p| {
                String::from_utf8_lossy(simulator::hl7::Message::parse(p).unwrap().control_id())
                    .into_owned()
            })
            .collect()
    };
    let sim = sim_sending_to_default(addr).await;
    sim.state().faults.add(rule(
        r#"{"surface": "mllp-out", "kind": "duplicate-send", "times": 1}"#,
    ));
    publish_update(&sim, 2);
    eventually(|| seen().len() == 2).await;
    let ids = seen();
    assert_eq!(ids[0], ids[1]);
    eventually(|| entries(&sim, Surface::MllpOut).len() == 2).await;
    let out: Vec<_> = entries(&sim, Surface::MllpOut)
        .iter()
        .map(|e| {
            let x = e.mllp().unwrap();
            (x.outcome.to_string(), x.fault.as_deref().map(str::to_owned))
        })
        .collect();
    assert_eq!(
        out,
        [
            ("accepted".to_owned(), Some("duplicate-send".to_owned())),
            (
                "duplicate-sent".to_owned(),
                Some("duplicate-send".to_owned())
            )
        ]
    );
}
