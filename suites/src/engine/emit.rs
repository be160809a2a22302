//! `emit-hl7` steps: the simulator, playing NextGen's interface engine, sends
//! feeds to the SUT's MLLP listener and records every ACK it gets back.
//!
//! Each step uses a fresh connection, and a connection whose ACK timed out is
//! closed (as Mirth does), so a late ACK can never be matched to the next message.

use std::time::Duration;

use futures::StreamExt;
use simulator::hl7::generators::{MessageType, generate, sample_context};
use simulator::hl7::{FrameKind, Message, MllpCodec, mllp};
use simulator::journal::{Detail, MllpExchange, Note, Surface};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::evidence::{AckExchange, ReceivedAck};
use crate::scenario::Variant;

/// Where and how to emit.
#[derive(Debug, Clone)]
pub struct EmitTarget {
    /// The SUT's MLLP listener.
    pub addr: std::net::SocketAddr,
    /// How long to wait for each ACK.
    pub ack_timeout: Duration,
    /// The simulator whose journal the exchanges are recorded in.
    pub sim: super::Sim,
    /// Seed for message content.
    pub seed: u64,
}

/// A message ready to send.
struct Outgoing {
    bytes: Vec<u8>,
    message_type: String,
    trigger: String,
    control_id: String,
    msh3_6: [String; 4],
}

/// Parse `TYPE^TRIGGER` into a generator kind; unknown types fall back to ADT^A04
/// (the `unsupported-type` variant rewrites MSH-9 anyway).
fn kind_of(message: &str) -> MessageType {
    MessageType::ALL
        .into_iter()
        .find(|k| {
            let (t, e, _) = k.code();
            message.split_once('^') == Some((t, e))
        })
        .unwrap_or(MessageType::AdtA04)
}

fn build(message: &str, variant: Variant, control_id: &str, seed: u64, index: u64) -> Outgoing {
    let mut ctx = sample_context(seed, index);
    ctx.control_id = control_id.to_owned();
    let mut b = generate(kind_of(message), &ctx);
    let set = |b: &mut simulator::hl7::MessageBuilder, path: &str, v: &str| {
        b.set(path, v).expect("static HL7 paths are valid");
    };
    // The generators emit NextGen's MSH-15/16 `AL|AL`; every variant starts in
    // original mode and only the enhanced ones ask for more.
    set(&mut b, "MSH-15", "");
    set(&mut b, "MSH-16", "");
    match variant {
        // A composite value: set it raw, or the builder escapes the carets.
        Variant::UnsupportedType => {
            b.set_raw("MSH-9", b"ZZZ^Z99^ZZZ_Z99")
                .expect("static HL7 path");
        }
        Variant::UnsupportedVersion => set(&mut b, "MSH-12", "9.9"),
        Variant::EnhancedAl => {
            set(&mut b, "MSH-15", "AL");
            set(&mut b, "MSH-16", "AL");
        }
        Variant::EnhancedNeAl => {
            set(&mut b, "MSH-15", "NE");
            set(&mut b, "MSH-16", "AL");
        }
        _ => {}
    }
    let mut bytes = b.encode();
    match variant {
        Variant::BrokenSegment => insert_after_first_segment(&mut bytes, b"P!D|not a segment\r"),
        Variant::MissingSegment => remove_segment(&mut bytes, b"PID|"),
        _ => {}
    }
    // MSH is intact in every variant, so the header reads back from it alone.
    let header = first_segment_message(&bytes);
    let msh = Message::parse(&header).ok();
    let msh_field = |path: &str| msh.as_ref().map(|m| m.get_lossy(path)).unwrap_or_default();
    Outgoing {
        message_type: format!("{}^{}", msh_field("MSH-9.1"), msh_field("MSH-9.2")),
        trigger: msh_field("MSH-9.2"),
        control_id: msh_field("MSH-10"),
        msh3_6: [
            msh_field("MSH-3"),
            msh_field("MSH-4"),
            msh_field("MSH-5"),
            msh_field("MSH-6"),
        ],
        bytes,
    }
}

/// The MSH segment alone, as a message (for reading header fields of broken messages).
fn first_segment_message(bytes: &[u8]) -> Vec<u8> {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r')
        .map_or(bytes.len(), |i| i + 1);
    bytes[..end].to_vec()
}

fn insert_after_first_segment(bytes: &mut Vec<u8>, segment: &[u8]) {
    let at = bytes
        .iter()
        .position(|&b| b == b'\r')
        .map_or(bytes.len(), |i| i + 1);
    bytes.splice(at..at, segment.iter().copied());
}

fn remove_segment(bytes: &mut Vec<u8>, prefix: &[u8]) {
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\r')
            .map_or(bytes.len(), |i| start + i + 1);
        if bytes[start..].starts_with(prefix) {
            bytes.drain(start..end);
            return;
        }
        start = end;
    }
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    mllp::frame_into(payload, &mut out);
    out
}

/// Run one `emit-hl7` step: `count` messages of `message`, shaped by `variant`.
pub async fn emit(
    target: &EmitTarget,
    step: usize,
    message: &str,
    count: u32,
    variant: Variant,
    next_id: &mut u64,
) -> Vec<AckExchange> {
    let mut out = Vec::new();
    let connection = u64::try_from(step).unwrap_or(u64::MAX);
    let mut conn = match TcpStream::connect(target.addr).await {
        Ok(tcp) => {
            let _ = tcp.set_nodelay(true);
            Some(Framed::new(tcp, MllpCodec::default()))
        }
        Err(e) => {
            let error = format!(
                "cannot connect to the SUT's MLLP listener {}: {e}",
                target.addr
            );
            for _ in 0..count {
                let o = build(
                    message,
                    variant,
                    &next_control_id(next_id),
                    target.seed,
                    *next_id,
                );
                out.push(exchange(step, variant, &o, Some(error.clone())));
            }
            return out;
        }
    };
    for _ in 0..count {
        let Some(io) = conn.as_mut() else { break };
        match variant {
            Variant::BackToBack => {
                let a = build(
                    message,
                    variant,
                    &next_control_id(next_id),
                    target.seed,
                    *next_id,
                );
                let b = build(
                    message,
                    variant,
                    &next_control_id(next_id),
                    target.seed,
                    *next_id,
                );
                let mut bytes = framed(&a.bytes);
                bytes.extend(framed(&b.bytes));
                let sent = write(io, &bytes, None).await;
                let mut xa = exchange(step, variant, &a, sent.clone().err());
                let mut xb = exchange(step, variant, &b, sent.err());
                if xa.transport_error.is_none() {
                    read_acks(target, io, &mut xa, connection, 1).await;
                    read_acks(target, io, &mut xb, connection, 1).await;
                }
                let timed_out = xa.timed_out || xb.timed_out;
                out.push(xa);
                out.push(xb);
                if timed_out {
                    conn = None;
                }
            }
            Variant::Duplicate => {
                let o = build(
                    message,
                    variant,
                    &next_control_id(next_id),
                    target.seed,
                    *next_id,
                );
                for _ in 0..2 {
                    let Some(io) = conn.as_mut() else { break };
                    let sent = write(io, &framed(&o.bytes), None).await;
                    let mut x = exchange(step, variant, &o, sent.err());
                    if x.transport_error.is_none() {
                        read_acks(target, io, &mut x, connection, 1).await;
                    }
                    if x.timed_out {
                        conn = None;
                    }
                    out.push(x);
                }
            }
            _ => {
                let o = build(
                    message,
                    variant,
                    &next_control_id(next_id),
                    target.seed,
                    *next_id,
                );
                let chunk = (variant == Variant::SplitFrame).then_some(7);
                let sent = write(io, &framed(&o.bytes), chunk).await;
                let mut x = exchange(step, variant, &o, sent.err());
                if x.transport_error.is_none() {
                    // Enhanced mode with MSH-15 = AL may bring an accept ACK and
                    // an application ACK; read the second one only if it comes.
                    let expected = if variant == Variant::EnhancedAl { 2 } else { 1 };
                    read_acks(target, io, &mut x, connection, expected).await;
                }
                if x.timed_out {
                    conn = None;
                }
                out.push(x);
            }
        }
    }
    out
}

fn next_control_id(next: &mut u64) -> String {
    *next += 1;
    format!("NGSIM{:08}", *next)
}

fn exchange(
    step: usize,
    variant: Variant,
    o: &Outgoing,
    transport_error: Option<String>,
) -> AckExchange {
    AckExchange {
        step,
        variant,
        message_type: o.message_type.clone(),
        trigger: o.trigger.clone(),
        control_id: o.control_id.clone(),
        msh3_6: o.msh3_6.clone(),
        acks: Vec::new(),
        timed_out: false,
        transport_error,
    }
}

async fn write(
    io: &mut Framed<TcpStream, MllpCodec>,
    bytes: &[u8],
    chunk: Option<usize>,
) -> Result<(), String> {
    let tcp = io.get_mut();
    let result = match chunk {
        None => tcp.write_all(bytes).await,
        Some(n) => {
            let mut r = Ok(());
            for piece in bytes.chunks(n) {
                r = tcp.write_all(piece).await;
                if r.is_err() {
                    break;
                }
                // Give the peer a chance to read each piece on its own: the
                // point of the step is to split the frame across reads.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            r
        }
    };
    result.map_err(|e| format!("write failed: {e}"))
}

/// Read up to `max` ACK frames for `x`; the first must come within the timeout,
/// a second (enhanced mode) within a short grace period.
async fn read_acks(
    target: &EmitTarget,
    io: &mut Framed<TcpStream, MllpCodec>,
    x: &mut AckExchange,
    connection: u64,
    max: usize,
) {
    let started = Instant::now();
    while x.acks.len() < max {
        let limit = if x.acks.is_empty() {
            target.ack_timeout
        } else {
            target.ack_timeout / 4
        };
        match tokio::time::timeout(limit, io.next()).await {
            Err(_) => {
                if x.acks.is_empty() {
                    x.timed_out = true;
                    record(target, x, connection, None, "timeout", 0).await;
                }
                return;
            }
            Ok(None) => {
                if x.acks.is_empty() {
                    x.transport_error = Some("the SUT closed the connection without an ACK".into());
                    record(target, x, connection, None, "closed", 0).await;
                }
                return;
            }
            Ok(Some(Err(e))) => {
                x.transport_error = Some(format!("bad MLLP framing from the SUT: {e}"));
                record(target, x, connection, None, "bad-frame", 0).await;
                return;
            }
            Ok(Some(Ok(frame))) if frame.kind != FrameKind::Message => continue,
            Ok(Some(Ok(frame))) => {
                let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                let mut ack = read_ack(&frame.payload, latency_us);
                ack.journal_seq = record(
                    target,
                    x,
                    connection,
                    Some(&ack),
                    "acked",
                    frame.payload.len(),
                )
                .await;
                x.acks.push(ack);
            }
        }
    }
}

fn read_ack(raw: &[u8], latency_us: u64) -> ReceivedAck {
    let mut ack = ReceivedAck {
        raw: raw.to_vec(),
        code: None,
        msa2: None,
        msh3_6: Default::default(),
        msh9: Default::default(),
        msh10: String::new(),
        problem: None,
        latency_us,
        journal_seq: 0,
    };
    let m = match Message::parse(raw) {
        Ok(m) => m,
        Err(e) => {
            ack.problem = Some(format!("the ACK does not parse: {e}"));
            return ack;
        }
    };
    let get = |p: &str| m.get_lossy(p);
    ack.msh3_6 = [get("MSH-3"), get("MSH-4"), get("MSH-5"), get("MSH-6")];
    ack.msh9 = (get("MSH-9.1"), get("MSH-9.2"));
    ack.msh10 = get("MSH-10");
    match simulator::hl7::ack::read_ack(&m) {
        Ok(v) => {
            ack.code = Some(v.code.as_str().to_owned());
            ack.msa2 = Some(String::from_utf8_lossy(v.control_id).into_owned());
        }
        Err(e) => ack.problem = Some(format!("not an ACK: {e}")),
    }
    ack
}

async fn record(
    target: &EmitTarget,
    x: &AckExchange,
    connection: u64,
    ack: Option<&ReceivedAck>,
    outcome: &str,
    bytes: usize,
) -> u64 {
    let detail = MllpExchange {
        connection,
        msh9: Some(x.message_type.as_str().into()),
        msh10: Some(x.control_id.as_str().into()),
        sender: x.msh3_6.first().map(|s| s.as_str().into()),
        ack_code: ack.and_then(|a| a.code.as_deref()).map(Into::into),
        ack_control_id: ack.and_then(|a| a.msa2.as_deref()).map(Into::into),
        latency_us: ack.map_or(0, |a| a.latency_us),
        bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
        outcome: outcome.into(),
        fault: None,
        notes: vec![
            Note::new("variant", format!("{:?}", x.variant)),
            Note::new("step", x.step.to_string()),
        ],
    };
    // A journal that cannot be reached loses the entry, not the ACK: the
    // checks judge the ACKs themselves; only the timeline link is lost.
    target
        .sim
        .record(
            Surface::MllpOut,
            Some(target.addr.to_string()),
            Detail::Mllp(detail),
        )
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("cannot journal an exchange with the SUT: {e}");
            0
        })
}
