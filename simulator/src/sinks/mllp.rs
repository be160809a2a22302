//! A sink's MLLP listener: every well-framed message is kept, scanned and
//! acknowledged AA (a NAK when it does not parse), like a downstream interface
//! engine that accepts everything it is sent.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use compact_str::ToCompactString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::Protocol;
use crate::hl7::ack::{self, Ack, AckCode, SequentialIds};
use crate::hl7::{Framer, Message, mllp};
use crate::journal::{Detail, MllpExchange};
use crate::server::AppState;

/// Largest frame a sink accepts.
const MAX_FRAME: usize = 4 << 20;
/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(300);

/// Bind `127.0.0.1:0` and serve the sink `name` until `stop`.
pub(super) async fn spawn(
    state: AppState,
    name: String,
    stop: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut conn_no = 0u64;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        conn_no += 1;
                        tokio::spawn(connection(tcp, peer, conn_no, state.clone(), name.clone(), stop.clone()));
                    }
                    Err(e) => tracing::warn!(error = %e, sink = %name, "sink accept failed"),
                },
            }
        }
    });
    Ok(addr)
}

async fn connection(
    mut tcp: TcpStream,
    peer: SocketAddr,
    conn_no: u64,
    state: AppState,
    name: String,
    stop: CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let mut framer = Framer::new(MAX_FRAME);
    let mut ids = SequentialIds::new(format!("SINK{conn_no}-"), 1);
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return,
            r = tokio::time::timeout(IDLE, tcp.read(&mut chunk)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                Ok(Ok(n)) => n,
            },
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            let step = match framer.decode(&buf) {
                Ok(s) => s,
                // An oversized or broken frame: MLLP has no error reply, so close.
                Err(_) => return,
            };
            let frame = step.frame.clone().map(|(k, r)| (k, buf[r].to_vec()));
            buf.drain(..step.consumed);
            match frame {
                Some((mllp::FrameKind::Message, payload)) => {
                    let started = Instant::now();
                    let reply = answer(&state, &name, &payload, &mut ids, peer, conn_no, started);
                    let mut out = Vec::with_capacity(reply.len() + 3);
                    mllp::frame_into(&reply, &mut out);
                    if tcp.write_all(&out).await.is_err() {
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

fn answer(
    state: &AppState,
    name: &str,
    payload: &[u8],
    ids: &mut SequentialIds,
    peer: SocketAddr,
    conn_no: u64,
    started: Instant,
) -> Vec<u8> {
    let ts = crate::mllp::conn::hl7_timestamp(time::OffsetDateTime::now_utc());
    let ts = String::from_utf8_lossy(&ts);
    let (reply, msh9, msh10, sender, code) = match Message::parse(payload) {
        Ok(m) => {
            let a = Ack {
                code: AckCode::AA,
                text: None,
                error: None,
                timestamp: &ts,
            };
            let msh9 = format!("{}^{}", m.get_lossy("MSH-9.1"), m.get_lossy("MSH-9.2"));
            (
                ack::build_ack(&m, &a, ids),
                Some(msh9),
                Some(m.get_lossy("MSH-10").into()),
                Some(m.get_lossy("MSH-3").to_string()),
                "AA",
            )
        }
        Err(e) => {
            let mut nak = Vec::new();
            ack::write_nak(payload, &e, &ts, ids, &mut nak);
            (
                nak,
                None,
                None,
                None,
                e.ack_code(ack::AckMode::Original).as_str(),
            )
        }
    };
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let what = msh9.clone().unwrap_or_else(|| "(unparsed)".into());
    state.sinks.deliver(
        state,
        name,
        Protocol::Mllp,
        what,
        payload.to_vec(),
        |notes| {
            (
                Some(peer.to_compact_string()),
                Detail::Mllp(MllpExchange {
                    connection: conn_no,
                    msh9: msh9.map(Into::into),
                    msh10: msh10.clone(),
                    sender: sender.map(Into::into),
                    ack_code: Some(code.into()),
                    ack_control_id: msh10,
                    latency_us,
                    bytes: payload.len() as u64,
                    outcome: if code == "AA" { "accepted" } else { "rejected" }.into(),
                    fault: None,
                    notes,
                }),
            )
        },
    );
    reply
}
