//! Bad input on the inbound listener: each case gets the right NAK or a clean
//! close, every socket has a limit and a timeout, nothing crashes, and every
//! accepted message is ACKed exactly once and journaled.

#[path = "mllp_support.rs"]
mod support;

use std::time::Duration;

use simulator::journal::Surface;
use simulator::mllp::MllpLimits;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn sim_limited(max_connections: usize) -> simulator::RunningSimulator {
    let mut profile = simulator::profile::ProfileLoader::default()
        .load("nge-5.9.0")
        .unwrap();
    profile.hl7.max_frame_bytes = 4096;
    simulator::Simulator::builder()
        .profile(profile)
        .patients(20)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .mllp_limits(MllpLimits {
            max_connections,
            idle_timeout: Duration::from_millis(300),
            write_timeout: Duration::from_secs(2),
            ..MllpLimits::default()
        })
        .start()
        .await
        .unwrap()
}

/// What the listener must do with one input.
#[derive(Debug)]
enum Expect {
    /// Reply frames with these MSA-1 codes (and ERR-3 codes), connection open.
    Acks(&'static [(&'static str, &'static str)]),
    /// The connection is closed; the journal has this outcome.
    Closed(&'static str),
}

/// Read until EOF (or reset); true when the server closed.
async fn closed_by_server(s: &mut tokio::net::TcpStream) -> bool {
    let mut b = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn bad_input_table() {
    let sim = sim_limited(16).await;
    let (mrn, _, _) = patient(&sim, 2);
    let good = |id: &str| frame(&oru(&mrn, id));
    let mut oversized = frame(&oru(&mrn, "BIG"));
    oversized.splice(10..10, std::iter::repeat_n(b'x', 5000));
    let mut bad_utf8 = oru(&mrn, "U8");
    let at = bad_utf8.windows(4).position(|w| w == b"Doe^").unwrap();
    bad_utf8.splice(at..at, [0xC3, 0x28]);
    let mut no_cr = vec![0x0B];
    no_cr.extend_from_slice(&oru(&mrn, "NOCR"));
    no_cr.extend_from_slice(&[0x1C, b'X']);
    no_cr.extend_from_slice(&good("AFTER-NOCR"));
    let mut leading = b"garbage before the start block\r\n".to_vec();
    leading.extend_from_slice(&good("LEAD"));
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("valid", good("OK1"), Expect::Acks(&[("AA", "")])),
        (
            "bytes before the start block",
            leading,
            Expect::Acks(&[("AA", "")]),
        ),
        (
            "invalid UTF-8",
            frame(&bad_utf8),
            Expect::Acks(&[("AE", "102")]),
        ),
        (
            "no MSH",
            frame(b"PID|1||123\r"),
            Expect::Acks(&[("AR", "100")]),
        ),
        (
            "garbage frame",
            frame(b"\x00\x01garbage"),
            Expect::Acks(&[("AE", "102")]),
        ),
        ("empty frame", frame(b""), Expect::Acks(&[("AR", "100")])),
        (
            "missing CR after FS, then a good frame",
            no_cr,
            Expect::Acks(&[("AE", "100"), ("AA", "")]),
        ),
        (
            "commit block from the sender",
            vec![0x0B, 0x06, 0x1C, 0x0D],
            Expect::Acks(&[]),
        ),
        ("oversized frame", oversized, Expect::Closed("error")),
        (
            "half-open: a frame never finished",
            b"\x0bMSH|^~\\&|".to_vec(),
            Expect::Closed("timeout"),
        ),
        ("idle connection", Vec::new(), Expect::Closed("timeout")),
        (
            "pure garbage then EOF",
            b"not mllp at all".to_vec(),
            Expect::Closed(""),
        ),
    ];
    for (name, input, expect) in cases {
        let before = entries(&sim, Surface::MllpIn).len();
        let mut s = connect(&sim).await;
        s.write_all(&input).await.unwrap();
        match expect {
            Expect::Acks(codes) => {
                if codes.is_empty() {
                    // Nothing comes back; the connection still works.
                    let acks = exchange(&mut s, &oru(&mrn, &format!("probe-{before}")), 1).await;
                    assert_eq!(msa(&acks[0]).0, "AA", "{name}");
                } else {
                    let acks = read_frames(&mut s, codes.len()).await;
                    for (ack, (code, err)) in acks.iter().zip(codes.iter()) {
                        let (c, _, e) = msa(ack);
                        assert_eq!((c.as_str(), e.as_str()), (*code, *err), "{name}");
                    }
                }
            }
            Expect::Closed(outcome) => {
                if name.contains("EOF") {
                    s.shutdown().await.unwrap();
                }
                assert!(closed_by_server(&mut s).await, "{name}: server closes");
                if !outcome.is_empty() {
                    eventually(|| {
                        entries(&sim, Surface::MllpIn)[before..]
                            .iter()
                            .any(|e| e.mllp().unwrap().outcome == outcome)
                    })
                    .await;
                }
            }
        }
    }
    // Every entry that accepted a message carries exactly one AA.
    let all = entries(&sim, Surface::MllpIn);
    let accepted: Vec<_> = all
        .iter()
        .filter_map(|e| e.mllp())
        .filter(|x| x.outcome == "accepted")
        .collect();
    assert!(accepted.iter().all(|x| x.ack_code.as_deref() == Some("AA")));
    let mut ids: Vec<_> = accepted.iter().map(|x| x.msh10.clone().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "each accepted message journaled once");
    assert!(all.iter().any(|e| {
        e.mllp()
            .unwrap()
            .notes
            .iter()
            .any(|n| n.k == "skipped-bytes")
    }));
    // Still serving.
    let mut s = connect(&sim).await;
    assert_eq!(
        msa(&exchange(&mut s, &oru(&mrn, "END"), 1).await[0]).0,
        "AA"
    );
}

#[tokio::test]
async fn connection_cap_closes_extra_connections_and_journals_them() {
    let sim = sim_limited(1).await;
    let (mrn, _, _) = patient(&sim, 0);
    let mut first = connect(&sim).await;
    assert_eq!(
        msa(&exchange(&mut first, &oru(&mrn, "CAP1"), 1).await[0]).0,
        "AA"
    );
    let mut second = connect(&sim).await;
    assert!(closed_by_server(&mut second).await);
    eventually(|| {
        entries(&sim, Surface::MllpIn)
            .iter()
            .any(|e| e.mllp().unwrap().outcome == "refused")
    })
    .await;
    // The first connection is unaffected.
    assert_eq!(
        msa(&exchange(&mut first, &oru(&mrn, "CAP2"), 1).await[0]).0,
        "AA"
    );
}

#[tokio::test]
async fn slowloris_sender_is_cut_off() {
    let sim = sim_limited(4).await;
    let mut s = connect(&sim).await;
    // One byte at a time, slower than the idle timeout.
    let mut closed = false;
    for b in b"\x0bMSH|^~\\&|SLOW" {
        if s.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(closed || closed_by_server(&mut s).await);
    eventually(|| {
        entries(&sim, Surface::MllpIn)
            .iter()
            .any(|e| e.mllp().unwrap().outcome == "timeout")
    })
    .await;
}

/// A sender that keeps the idle timer alive with a byte every 100 ms but
/// never finishes its frame is cut off by the frame timeout (virtual time).
#[tokio::test(start_paused = true)]
async fn trickling_frame_is_cut_off_by_the_frame_timeout() {
    let sim = simulator::Simulator::builder()
        .patients(20)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .mllp_limits(MllpLimits {
            idle_timeout: Duration::from_secs(10),
            frame_timeout: Duration::from_secs(3),
            ..MllpLimits::default()
        })
        .start()
        .await
        .unwrap();
    let mut s = connect(&sim).await;
    let start = tokio::time::Instant::now();
    let mut sent = 0;
    for b in b"\x0bMSH|^~\\&|SLOW".iter().cycle().take(200) {
        if s.write_all(&[*b]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let gone = entries(&sim, Surface::MllpIn)
            .iter()
            .any(|e| e.mllp().unwrap().outcome == "timeout");
        if gone {
            break;
        }
    }
    let took = start.elapsed();
    assert!(sent < 200, "cut off before the sender gave up");
    assert!(
        took >= Duration::from_secs(3),
        "not before the frame timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "before the idle timeout: {took:?}"
    );
    let e = entries(&sim, Surface::MllpIn);
    let x = e.last().unwrap().mllp().unwrap();
    assert_eq!(x.outcome, "timeout");
    assert!(
        x.notes
            .iter()
            .any(|n| n.v.contains("frame not complete within 3s")),
        "{:?}",
        x.notes
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Bytes rich in MLLP framing characters.
    fn noise() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(0x0Bu8),
                Just(0x1C),
                Just(0x0D),
                Just(b'|'),
                Just(b'^'),
                any::<u8>(),
                Just(b'M'),
            ],
            0..600,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever a peer sends, the listener answers only with whole ACK
        /// frames, never crashes, and keeps serving other connections.
        #[test]
        fn arbitrary_bytes_never_break_the_listener(input in noise(), chunk in 1usize..64) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let sim = sim_limited(8).await;
                let (mrn, _, _) = patient(&sim, 1);
                let mut s = connect(&sim).await;
                for part in input.chunks(chunk) {
                    if s.write_all(part).await.is_err() {
                        break;
                    }
                }
                let _ = s.shutdown().await;
                let mut reply = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply)).await;
                // Every reply is a sequence of complete frames.
                let mut rest = &reply[..];
                while !rest.is_empty() {
                    prop_assert_eq!(rest[0], 0x0B);
                    let end = rest.windows(2).position(|w| w == [0x1C, 0x0D]);
                    prop_assert!(end.is_some(), "partial frame in reply");
                    rest = &rest[end.unwrap() + 2..];
                }
                let mut s = connect(&sim).await;
                let acks = exchange(&mut s, &oru(&mrn, "AFTER-FUZZ"), 1).await;
                prop_assert_eq!(msa(&acks[0]).0, "AA");
                Ok(())
            })?;
        }
    }
}
