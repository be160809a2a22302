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

/// Write one raw frame to the reference receiver and read its ACK frames up
/// to the application ACK (the messages ask for commit ACKs too):
/// `MSA-1|MSA-2|detail text`, or `None` when it closed.
async fn exchange(tcp: &mut tokio::net::TcpStream, raw: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if tcp.write_all(raw).await.is_err() {
        return None;
    }
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = got.windows(2).position(|w| w == b"\x1c\r") {
            let frame: Vec<u8> = got.drain(..end + 2).collect();
            let ack = simulator::hl7::Message::parse(&frame[1..end]).unwrap();
            let code = ack.get_lossy("MSA-1");
            if code.starts_with('C') {
                continue;
            }
            // The detail text sits in ERR-7 from 2.5 on, in MSA-3 before.
            let text = [ack.get_lossy("ERR-7"), ack.get_lossy("MSA-3")].concat();
            return Some(format!("{code}|{}|{text}", ack.get_lossy("MSA-2")));
        }
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut chunk))
            .await
            .expect("an answer, not silence");
        // A close with our unread flood in its buffer arrives as a reset.
        let Ok(n @ 1..) = n else {
            return None;
        };
        got.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn the_reference_receiver_rejects_a_broken_end_block_and_closes_on_a_flood() {
    use simulator::hl7::generators::{MessageType, generate, sample_context};
    let sut = reference::start(None, ACK_TIMEOUT * 3).await.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(sut.mllp_addr).await.unwrap();
    let message = |id: &str| {
        let mut ctx = sample_context(7, 1);
        ctx.control_id = id.into();
        generate(MessageType::AdtA04, &ctx).encode()
    };
    // 0x1C followed by 'X' instead of CR: an AE naming the fault, for that
    // message's MSH-10, and the message is not processed.
    let mut broken = vec![0x0b];
    broken.extend_from_slice(&message("BROKEN1"));
    broken.extend_from_slice(b"\x1cX");
    let nak = exchange(&mut tcp, &broken).await.expect("a NAK");
    assert_eq!(
        nak,
        "AE|BROKEN1|MLLP end block 0x1C is followed by 0x58, not CR"
    );
    // The connection goes on: the next good frame is accepted.
    let mut good = Vec::new();
    simulator::hl7::mllp::frame_into(&message("GOOD1"), &mut good);
    assert_eq!(exchange(&mut tcp, &good).await.unwrap(), "AA|GOOD1|");
    assert_eq!(sut.processed(), ["GOOD1"]);
    // A frame past the 1 MiB limit is never buffered: the receiver closes.
    let mut flood = vec![0x0b];
    flood.extend_from_slice(&message("FLOOD1"));
    flood.resize((1 << 20) + 4096, b'A');
    assert_eq!(exchange(&mut tcp, &flood).await, None, "closed");
    assert_eq!(sut.processed(), ["GOOD1"]);
}
