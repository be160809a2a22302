//! MLLP codec under arbitrary chunking, with garbage between frames.

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simulator::hl7::mllp::{self, FrameKind, Framer};
use simulator::hl7::{MllpCodec, MllpFrame};
use tokio_util::codec::{Decoder, Encoder};

/// One item of a stream: garbage (no start block) then a frame.
fn item() -> impl Strategy<Value = (Vec<u8>, MllpFrame)> {
    let garbage =
        proptest::collection::vec(any::<u8>().prop_filter("no SB", |b| *b != mllp::SB), 0..8);
    let payload = proptest::collection::vec(
        any::<u8>().prop_filter("no framing bytes", |b| *b != mllp::SB && *b != mllp::EB),
        0..64,
    );
    let frame = prop_oneof![
        6 => payload.prop_map(MllpFrame::message),
        1 => Just(MllpFrame::commit_ack()),
        1 => Just(MllpFrame::commit_nak()),
    ];
    (garbage, frame)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/hl7_mllp.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_chunking_yields_the_same_frames(
        items in proptest::collection::vec(item(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = BytesMut::new();
        let mut codec = MllpCodec::default();
        let mut expected = Vec::new();
        for (garbage, frame) in &items {
            stream.extend_from_slice(garbage);
            codec.encode(frame.clone(), &mut stream).unwrap();
            // Payloads of exactly 0x06/0x15 are commit blocks by definition.
            let kind = match frame.payload.as_ref() {
                [mllp::ACK] => FrameKind::CommitAck,
                [mllp::NAK] => FrameKind::CommitNak,
                _ => frame.kind,
            };
            expected.push((kind, frame.payload.clone(), garbage.len()));
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut decoder = MllpCodec::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut at = 0;
        for cut in cuts {
            buf.extend_from_slice(&stream[at..cut]);
            at = cut;
            while let Some(f) = decoder.decode(&mut buf).unwrap() {
                got.push((f.kind, f.payload, f.skipped));
            }
        }
        prop_assert!(decoder.decode_eof(&mut buf).unwrap().is_none());
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn framer_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8), max in 0usize..64) {
        let mut framer = Framer::new(max);
        let mut buf = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            loop {
                match framer.decode(&buf) {
                    Ok(step) => {
                        prop_assert!(step.consumed <= buf.len());
                        if let Some((_, range)) = &step.frame {
                            prop_assert!(range.end <= step.consumed);
                            prop_assert!(range.len() <= max);
                        }
                        buf.drain(..step.consumed);
                        if step.consumed == 0 {
                            break;
                        }
                    }
                    Err(_) => continue,
                }
            }
        }
    }
}

#[test]
fn several_frames_in_one_read_and_split_reads() {
    let mut codec = MllpCodec::new(1024);
    let mut buf = BytesMut::from(&b"\x0bMSH|1\x1c\r\x0bMSH|2\x1c\r\x0bMSH|"[..]);
    assert_eq!(
        codec.decode(&mut buf).unwrap().unwrap().payload.as_ref(),
        b"MSH|1"
    );
    assert_eq!(
        codec.decode(&mut buf).unwrap().unwrap().payload.as_ref(),
        b"MSH|2"
    );
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(b"3\x1c");
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(b"\r");
    assert_eq!(
        codec.decode(&mut buf).unwrap().unwrap().payload.as_ref(),
        b"MSH|3"
    );
}

/// Found by `framer_never_panics`: after an oversized frame the framer
/// searched from index 1 of an empty buffer (and would have skipped an end
/// block kept at index 0).
#[test]
fn regression_discarding_with_empty_buffer() {
    let mut framer = Framer::new(0);
    let mut buf = vec![0x0B, 0, 0, 0, 0, 0];
    assert!(framer.decode(&buf).is_err());
    let step = framer.decode(&buf).unwrap();
    buf.drain(..step.consumed);
    assert!(buf.is_empty());
    assert_eq!(framer.decode(&buf).unwrap().consumed, 0);
    // The end block arrives at the front of the next read.
    buf.extend_from_slice(b"\x1c\r\x0b\x1c\r");
    let step = framer.decode(&buf).unwrap();
    assert_eq!(step.consumed, 2);
    buf.drain(..2);
    let step = framer.decode(&buf).unwrap();
    assert_eq!(step.frame, Some((FrameKind::Message, 1..1)));
}
