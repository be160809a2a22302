//! The reference HL7 receiver: an MLLP listener that acknowledges the way a
//! careful integration should, and an HTTP hook server (`GET /processed`,
//! `POST /sync`) for the runner.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use simulator::hl7::ack::{self, Ack, AckCode, AckPolicy, ErrorDetail, ErrorLocation, Severity};
use simulator::hl7::{Framer, Message, MessageBuilder, mllp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::Defect;

/// Message types the reference integration handles.
const SUPPORTED_TYPES: &[&str] = &[
    "ADT^A01", "ADT^A04", "ADT^A08", "SIU^S12", "SIU^S13", "SIU^S14", "SIU^S15", "ORU^R01",
    "ORM^O01", "VXU^V04", "DFT^P03",
];
/// HL7 versions it accepts.
const SUPPORTED_VERSIONS: &[&str] = &["2.3", "2.3.1", "2.4", "2.5", "2.5.1"];

#[derive(Debug)]
struct Shared {
    defect: Option<Defect>,
    /// How long `slow-ack` waits: beyond any sensible sender timeout.
    slow_delay: Duration,
    /// Added before every ACK (`--delay-ms`): a known latency for checking
    /// the load recorder.
    ack_delay: Duration,
    processed: Mutex<Vec<String>>,
    seen: Mutex<HashSet<String>>,
    ack_ids: AtomicU64,
}

/// A running reference integration. Dropping it stops it.
#[derive(Debug)]
pub struct ReferenceSut {
    /// Its MLLP listener.
    pub mllp_addr: SocketAddr,
    /// Its hook server (`GET /processed`, `POST /sync`).
    pub hooks_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl ReferenceSut {
    /// Control ids processed so far, in order (duplicates only with the defect).
    pub fn processed(&self) -> Vec<String> {
        self.shared.processed.lock().clone()
    }

    /// A `sut.toml` describing this SUT, with the given ACK timeout.
    pub fn manifest_toml(&self, ack_timeout: Duration) -> String {
        format!(
            "name = \"ngsim reference integration\"\nversion = \"{}\"\n\n[mllp]\nlisten = \"{}\"\nack-timeout = \"{}ms\"\n\n\
             [hooks.processed]\nhttp = {{ method = \"GET\", url = \"http://{}/processed\" }}\ntimeout = \"5s\"\n\n\
             [hooks.sync]\nhttp = {{ method = \"POST\", url = \"http://{}/sync\" }}\ntimeout = \"30s\"\n",
            env!("CARGO_PKG_VERSION"),
            self.mllp_addr,
            ack_timeout.as_millis(),
            self.hooks_addr,
            self.hooks_addr
        )
    }
}

impl Drop for ReferenceSut {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Start the reference integration on loopback ports, optionally with a defect.
/// `slow_delay` is how late `slow-ack` answers.
pub async fn start(defect: Option<Defect>, slow_delay: Duration) -> std::io::Result<ReferenceSut> {
    start_delayed(defect, slow_delay, Duration::ZERO).await
}

/// As [`start`], adding `ack_delay` before every ACK: a SUT with a known
/// latency, for checking load measurements against.
pub async fn start_delayed(
    defect: Option<Defect>,
    slow_delay: Duration,
    ack_delay: Duration,
) -> std::io::Result<ReferenceSut> {
    let shared = Arc::new(Shared {
        defect,
        slow_delay,
        ack_delay,
        processed: Mutex::new(Vec::new()),
        seen: Mutex::new(HashSet::new()),
        ack_ids: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();
    let mllp = TcpListener::bind("127.0.0.1:0").await?;
    let mllp_addr = mllp.local_addr()?;
    let hooks = TcpListener::bind("127.0.0.1:0").await?;
    let hooks_addr = hooks.local_addr()?;

    let (s, st) = (shared.clone(), stop.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = st.cancelled() => break,
                accepted = mllp.accept() => match accepted {
                    Ok((tcp, _)) => { tokio::spawn(connection(tcp, s.clone(), st.clone())); }
                    Err(e) => { tracing::warn!(error = %e, "reference SUT accept failed"); }
                },
            }
        }
    });

    let s = shared.clone();
    let router = axum::Router::new()
        .route(
            "/processed",
            axum::routing::get(move || {
                let s = s.clone();
                async move { axum::Json(s.processed.lock().clone()) }
            }),
        )
        .route(
            "/sync",
            axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
        );
    let st = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(hooks, router)
            .with_graceful_shutdown(st.cancelled_owned())
            .await;
    });
    Ok(ReferenceSut {
        mllp_addr,
        hooks_addr,
        shared,
        stop,
    })
}

async fn connection(mut tcp: TcpStream, shared: Arc<Shared>, stop: CancellationToken) {
    let _ = tcp.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut framer = Framer::new(1 << 20);
    let mut chunk = [0u8; 8192];
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return,
            r = tcp.read(&mut chunk) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut handled_in_this_read = 0;
        loop {
            let step = match framer.decode(&buf) {
                Ok(step) => step,
                Err(mllp::MllpError::BadEndBlock { offset, found }) => {
                    // The framer keeps the broken frame until its next step
                    // drops it: reject it with an AE naming the framing
                    // fault, as a careful receiver does, and go on.
                    let payload = buf.get(1..=offset).unwrap_or_default();
                    let why = format!("MLLP end block 0x1C is followed by 0x{found:02X}, not CR");
                    let replies = respond(payload, &shared, Some(&why)).await;
                    if !send(&mut tcp, replies).await {
                        return;
                    }
                    continue;
                }
                // Oversized: close rather than buffer a flood.
                Err(_) => return,
            };
            let frame = step
                .frame
                .clone()
                .map(|(kind, range)| (kind, buf[range].to_vec()));
            buf.drain(..step.consumed);
            match frame {
                Some((mllp::FrameKind::Message, payload)) => {
                    handled_in_this_read += 1;
                    if !shared.ack_delay.is_zero() {
                        tokio::time::sleep(shared.ack_delay).await;
                    }
                    if shared.defect == Some(Defect::FirstFrameOnly) && handled_in_this_read > 1 {
                        continue;
                    }
                    if !send(&mut tcp, respond(&payload, &shared, None).await).await {
                        return;
                    }
                }
                Some(_) => {}
                None if step.consumed == 0 => break,
                None => {}
            }
        }
    }
}

/// Frame and write `replies`; false when the peer is gone.
async fn send(tcp: &mut TcpStream, replies: Vec<Vec<u8>>) -> bool {
    for reply in replies {
        let mut out = Vec::with_capacity(reply.len() + 3);
        mllp::frame_into(&reply, &mut out);
        if tcp.write_all(&out).await.is_err() {
            return false;
        }
    }
    true
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// The ACK frames (payloads) for one inbound message; `framing` names a
/// framing fault that makes it an error whatever its content.
async fn respond(payload: &[u8], s: &Shared, framing: Option<&str>) -> Vec<Vec<u8>> {
    let ts = timestamp();
    let mut ids = |out: &mut Vec<u8>| {
        let n = s.ack_ids.fetch_add(1, Ordering::Relaxed) + 1;
        out.extend_from_slice(format!("REFACK{n:06}").as_bytes());
    };
    let m = match Message::parse(payload) {
        Ok(m) => m,
        Err(e) => {
            let mut nak = Vec::new();
            ack::write_nak(payload, &e, &ts, &mut ids, &mut nak);
            if s.defect == Some(Defect::AaForGarbage) {
                nak = with_code(&nak, "AA");
            }
            return vec![finish(nak, s)];
        }
    };
    let text = |p: &str| m.get_lossy(p);
    let kind = format!("{}^{}", text("MSH-9.1"), text("MSH-9.2"));
    let version = text("MSH-12.1");
    let control_id = text("MSH-10");
    let policy = AckPolicy::of(&m);
    let enhanced =
        policy.mode == ack::AckMode::Enhanced && s.defect != Some(Defect::NoEnhancedMode);

    // Decide the application outcome.
    let (code, error) = if let Some(why) = framing {
        (AckCode::AE, Some(detail(b"MSH", 0, 100, why.to_owned())))
    } else if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        (
            AckCode::AR,
            Some(detail(b"MSH", 12, 203, "unsupported version id")),
        )
    } else if !SUPPORTED_TYPES.contains(&kind.as_str()) {
        (
            AckCode::AR,
            Some(detail(b"MSH", 9, 200, "unsupported message type")),
        )
    } else if kind.starts_with("ADT") && m.segment("PID").is_none() {
        (
            AckCode::AE,
            Some(detail(b"PID", 0, 100, "required PID segment is missing")),
        )
    } else {
        (AckCode::AA, None)
    };
    let code = match (code, s.defect) {
        (AckCode::AR, Some(Defect::AaForUnsupported)) => AckCode::AA,
        (AckCode::AE, Some(Defect::AaForGarbage)) => AckCode::AA,
        (AckCode::AA, Some(Defect::AeForValid)) if kind.starts_with("SIU") => AckCode::AE,
        (c, _) => c,
    };
    if code == AckCode::AA {
        let fresh = s.seen.lock().insert(control_id.clone());
        if fresh || s.defect == Some(Defect::ReprocessDuplicates) {
            s.processed.lock().push(control_id.clone());
        }
    }
    if s.defect == Some(Defect::SlowAck) && kind == "SIU^S12" {
        tokio::time::sleep(s.slow_delay).await;
    }
    let success = code == AckCode::AA;
    let build = |code: AckCode, ids: &mut dyn ack::ControlIds| {
        let a = Ack {
            code,
            text: None,
            error: error.clone(),
            timestamp: &ts,
        };
        finish(ack::build_ack(&m, &a, ids), s)
    };
    let mut replies = Vec::new();
    if enhanced {
        if policy.wants_accept_ack(success) {
            replies.push(build(
                if success { AckCode::CA } else { AckCode::CE },
                &mut ids,
            ));
        }
        if policy.wants_application_ack(success) {
            replies.push(build(code, &mut ids));
        }
    } else {
        replies.push(build(code, &mut ids));
    }
    replies
}

fn detail(
    segment: &[u8; 3],
    field: usize,
    code: u16,
    text: impl Into<std::borrow::Cow<'static, str>>,
) -> ErrorDetail<'static> {
    ErrorDetail {
        location: Some(ErrorLocation {
            segment: *segment,
            sequence: 1,
            field,
        }),
        code,
        severity: Severity::Error,
        text: Some(text.into()),
    }
}

/// Apply the header defects to a built ACK.
fn finish(ack_bytes: Vec<u8>, s: &Shared) -> Vec<u8> {
    let Some(defect) = s.defect else {
        return ack_bytes;
    };
    let Ok(m) = Message::parse(&ack_bytes) else {
        return ack_bytes;
    };
    let get = |p: &str| m.get_lossy(p);
    let mut b = MessageBuilder::from_message(&m);
    let mut set = |p: &str, v: &str| {
        let _ = b.set(p, v);
    };
    match defect {
        Defect::WrongMsa2 => set("MSA-2", &format!("X{}", get("MSA-2"))),
        Defect::NoMshSwap => {
            let (m3, m4, m5, m6) = (get("MSH-3"), get("MSH-4"), get("MSH-5"), get("MSH-6"));
            set("MSH-3", &m5);
            set("MSH-4", &m6);
            set("MSH-5", &m3);
            set("MSH-6", &m4);
        }
        Defect::WrongMsh9 => set("MSH-9", "ACK"),
        Defect::ConstantAckId => set("MSH-10", "ACK"),
        _ => return ack_bytes,
    }
    b.encode()
}

fn with_code(ack_bytes: &[u8], code: &str) -> Vec<u8> {
    let Ok(m) = Message::parse(ack_bytes) else {
        return ack_bytes.to_vec();
    };
    let mut b = MessageBuilder::from_message(&m);
    let _ = b.set("MSA-1", code);
    b.encode()
}
