//! The reference HL7 sender: delivers a small per-patient feed (ADT^A04,
//! ADT^A08, ORU^R01 for each of three patients) to the simulator's MLLP
//! listener the way a careful integration should:
//!
//! - after an ACK timeout, an ACK for another control id, or a closed
//!   connection, it reconnects and resends the same bytes (same MSH-10);
//! - it never resends a message answered AE or AR;
//! - a failed message is retried before anything else is sent (so per-patient
//!   order holds);
//! - it waits before each retry, doubling the wait, up to a few attempts.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use simulator::hl7::generators::{MessageType, generate, sample_context};
use simulator::hl7::{FrameKind, Message, MllpCodec, MllpFrame};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::ClientDefect;

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The simulator's MLLP listener.
    pub target: SocketAddr,
    /// How long to wait for each ACK.
    pub ack_timeout: Duration,
    /// The first retry's wait (doubled on each further retry).
    pub backoff: Duration,
    /// Attempts per message before giving up.
    pub max_attempts: u32,
    /// The deliberate misbehaviour, if any.
    pub defect: Option<ClientDefect>,
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Control ids acknowledged AA/CA.
    pub delivered: Vec<String>,
    /// Control ids answered AE/AR (or given up on), with the reason.
    pub rejected: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Queued {
    bytes: Vec<u8>,
    control_id: String,
    attempts: u32,
}

/// How one attempt ended.
#[derive(Debug)]
enum Attempt {
    Accepted,
    Rejected(String),
    /// Timeout, an ACK for another message, a closed connection: resend.
    Lost(String),
}

/// The feed for run number `run`: three patients, three messages each, with
/// control ids unique per run.
fn feed(run: u64, seed: u64) -> VecDeque<Queued> {
    let mut out = VecDeque::new();
    for patient in 0..3u64 {
        for (k, kind) in [
            MessageType::AdtA04,
            MessageType::AdtA08,
            MessageType::OruR01,
        ]
        .into_iter()
        .enumerate()
        {
            let mut ctx = sample_context(seed, patient);
            ctx.control_id = format!("REF{run:04}P{patient}M{k}");
            let mut b = generate(kind, &ctx);
            // Original acknowledgment mode: one ACK per message. (The
            // generators emit NextGen's enhanced-mode MSH-15/16 `AL|AL`.)
            for path in ["MSH-15", "MSH-16"] {
                b.set(path, "").expect("static HL7 path");
            }
            let bytes = b.encode();
            out.push_back(Queued {
                control_id: ctx.control_id,
                bytes,
                attempts: 0,
            });
        }
    }
    out
}

/// Replace MSH-10 (for the `resend-new-id` defect).
fn with_control_id(bytes: &[u8], id: &str) -> Vec<u8> {
    let Ok(m) = Message::parse(bytes) else {
        return bytes.to_vec();
    };
    let mut b = simulator::hl7::MessageBuilder::from_message(&m);
    let _ = b.set("MSH-10", id);
    b.encode()
}

type Conn = Framed<TcpStream, MllpCodec>;

async fn attempt(cfg: &SenderConfig, conn: &mut Option<Conn>, q: &Queued) -> Attempt {
    if conn.is_none() {
        match TcpStream::connect(cfg.target).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                *conn = Some(Framed::new(tcp, MllpCodec::default()));
            }
            Err(e) => return Attempt::Lost(format!("connect: {e}")),
        }
    }
    let Some(io) = conn.as_mut() else {
        return Attempt::Lost("no connection".into());
    };
    if let Err(e) = io.send(MllpFrame::message(q.bytes.clone())).await {
        return Attempt::Lost(format!("write: {e}"));
    }
    loop {
        match tokio::time::timeout(cfg.ack_timeout, io.next()).await {
            Err(_) => return Attempt::Lost("ACK timeout".into()),
            Ok(None) => return Attempt::Lost("connection closed".into()),
            Ok(Some(Err(e))) => return Attempt::Lost(format!("framing: {e}")),
            Ok(Some(Ok(f))) if f.kind != FrameKind::Message => continue,
            Ok(Some(Ok(f))) => {
                let Ok(m) = Message::parse(&f.payload) else {
                    return Attempt::Lost("unreadable ACK".into());
                };
                let Ok(ack) = simulator::hl7::ack::read_ack(&m) else {
                    return Attempt::Lost("not an ACK".into());
                };
                if ack.control_id != q.control_id.as_bytes() {
                    return Attempt::Lost("ACK for another control id".into());
                }
                return match ack.code.as_str() {
                    "AA" | "CA" => Attempt::Accepted,
                    other => Attempt::Rejected(other.to_owned()),
                };
            }
        }
    }
}

/// Deliver the feed for `run`.
pub async fn deliver(cfg: &SenderConfig, run: u64, seed: u64) -> SendReport {
    let mut queue = feed(run, seed);
    let mut report = SendReport::default();
    let mut conn: Option<Conn> = None;
    let mut fresh_ids = 0u32;
    while let Some(mut q) = queue.pop_front() {
        loop {
            q.attempts += 1;
            let outcome = attempt(cfg, &mut conn, &q).await;
            let lost = match outcome {
                Attempt::Accepted => {
                    report.delivered.push(q.control_id.clone());
                    break;
                }
                Attempt::Rejected(code) => {
                    if cfg.defect == Some(ClientDefect::ResendOnReject)
                        && q.attempts < cfg.max_attempts
                    {
                        wait(cfg, q.attempts).await;
                        continue;
                    }
                    report.rejected.push((q.control_id.clone(), code));
                    break;
                }
                Attempt::Lost(why) => why,
            };
            // The connection's state is unknown: start a fresh one.
            conn = None;
            if q.attempts >= cfg.max_attempts {
                report.rejected.push((q.control_id.clone(), lost));
                break;
            }
            wait(cfg, q.attempts).await;
            match cfg.defect {
                Some(ClientDefect::Reorder) => {
                    queue.push_back(q);
                    break;
                }
                Some(ClientDefect::ResendNewId) => {
                    fresh_ids += 1;
                    q.control_id = format!("{}R{fresh_ids}", q.control_id);
                    q.bytes = with_control_id(&q.bytes, &q.control_id);
                }
                _ => {}
            }
        }
    }
    report
}

/// The pause before retry number `attempts` (1-based): `backoff`, doubled each
/// time, at most 32 times `backoff`.
async fn wait(cfg: &SenderConfig, attempts: u32) {
    if cfg.defect == Some(ClientDefect::NoBackoff) {
        return;
    }
    let factor = 1u32 << attempts.saturating_sub(1).min(5);
    tokio::time::sleep(cfg.backoff * factor).await;
}
