//! Outbound feeds: NextGen sends HL7 to the integration's destinations.
//!
//! Practice changes from `state.events` (Enterprise API writes, inbound HL7,
//! the control API and scripts) are rendered per destination and queued on
//! ONE ordered queue per destination, so order is kept per patient (and
//! overall). Each message waits for its ACK, following the profile's policy
//! (the Mirth TCP sender's, see `hl7-mllp.md` §12–13):
//!
//! - `AA`/`CA` with MSA-2 = MSH-10: sent. After a `CA` the sender waits for
//!   the application ACK up to `ack-timeout` so it cannot be mistaken for the
//!   next message's ACK.
//! - `AE`/`AR`/`CE`/`CR`: error, no blind resend.
//! - MSA-2 ≠ MSH-10: error ("control ids do not match"), socket closed.
//! - Timeout, unparseable ACK, refused or dropped connection, commit NAK:
//!   the socket is closed (so a late ACK cannot mismatch) and the message is
//!   resent with the SAME MSH-10 after a backoff, up to `max-retries`; then
//!   it is marked failed.
//!
//! An inbound change is not echoed back to a destination whose
//! `application` equals the inbound MSH-3.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use compact_str::{CompactString, ToCompactString};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::conn::{self, IdSource, Stream};
use super::destination::Destination;
use super::render::{self, Addressee};
use crate::events::PracticeChange;
use crate::faults::FaultKind;
use crate::hl7::ack::read_ack;
use crate::hl7::mllp::{FrameKind, Framer, frame_into};
use crate::hl7::{AckCode, Message};
use crate::journal::{Detail, MllpExchange, Note, Surface};
use crate::server::AppState;

/// First retry delay; doubled per attempt, capped at [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_millis(200);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Queue state of one destination, for the runner (`GET /_ngsim/hl7/queues`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct QueueState {
    /// Destination address.
    pub destination: String,
    /// Receiving application (MSH-5).
    pub application: String,
    /// Messages waiting (not counting the one in flight).
    pub pending: u64,
    /// MSH-10 of the message being delivered.
    pub in_flight: Option<String>,
    /// Acknowledged with AA/CA.
    pub sent: u64,
    /// Ended in AE/AR/CE/CR or an MSA-2 mismatch.
    pub errors: u64,
    /// Gave up after `max-retries` resends.
    pub failed: u64,
    /// Resends after a timeout or an unparseable ACK.
    pub retries: u64,
    /// Inbound changes not echoed back to this destination.
    pub suppressed: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
}

#[derive(Debug)]
struct Job {
    msh9: String,
    msh10: String,
    frame: Vec<u8>,
}

#[derive(Debug)]
struct Queue {
    dest: Destination,
    tx: mpsc::UnboundedSender<Job>,
    state: Mutex<QueueState>,
}

/// The outbound side.
#[derive(Debug)]
pub struct Outbound {
    echo: Mutex<HashMap<EchoKey, String>>,
    queues: Mutex<Vec<Arc<Queue>>>,
    ids: IdSource,
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound {
            echo: Mutex::default(),
            queues: Mutex::default(),
            ids: IdSource::new("NGO"),
        }
    }
}

type EchoKey = (u8, String, Option<String>);

fn echo_key(c: &PracticeChange) -> EchoKey {
    (c.kind as u8, c.patient_id.clone(), c.record_id.clone())
}

impl Outbound {
    /// Remember which sender caused an inbound change, so it is not echoed.
    pub fn note_inbound(&self, change: &PracticeChange, msh3: &[u8]) {
        if self.queues.lock().is_empty() {
            return;
        }
        let mut g = self.echo.lock();
        if g.len() > 10_000 {
            g.clear();
        }
        g.insert(echo_key(change), String::from_utf8_lossy(msh3).into_owned());
    }

    /// Every destination's queue state.
    pub fn queues(&self) -> Vec<QueueState> {
        self.queues
            .lock()
            .iter()
            .map(|q| q.state.lock().clone())
            .collect()
    }

    /// Start one worker per destination and the event subscriber.
    pub fn start(
        &self,
        state: &AppState,
        destinations: Vec<Destination>,
        tasks: &TaskTracker,
        stop: CancellationToken,
    ) {
        if destinations.is_empty() {
            return;
        }
        let mut queues = self.queues.lock();
        for dest in destinations {
            let (tx, rx) = mpsc::unbounded_channel();
            let q = Arc::new(Queue {
                state: Mutex::new(QueueState {
                    destination: dest.label(),
                    application: dest.application.clone(),
                    ..QueueState::default()
                }),
                dest,
                tx,
            });
            queues.push(q.clone());
            let worker = Worker {
                state: state.clone(),
                q,
                conn: None,
                buf: BytesMut::with_capacity(4096),
                connection: 0,
            };
            tasks.spawn(worker.run(rx, stop.clone()));
        }
        let rx = state.events.subscribe();
        tasks.spawn(subscribe(state.clone(), rx, stop));
    }

    /// Render `change` for every destination and queue it (skipping the
    /// destination that sent it).
    pub fn enqueue(&self, state: &AppState, change: &PracticeChange) {
        let queues = self.queues.lock().clone();
        if queues.is_empty() {
            return;
        }
        let origin_app = (change.origin == super::apply::ORIGIN)
            .then(|| self.echo.lock().remove(&echo_key(change)))
            .flatten();
        let profile = state.profile();
        for q in queues {
            if origin_app.as_deref() == Some(q.dest.application.as_str()) {
                q.state.lock().suppressed += 1;
                continue;
            }
            let msh10 = self.ids.next_string();
            let to = Addressee {
                application: &q.dest.application,
                facility: &q.dest.facility,
            };
            let Some((kind, payload)) =
                render::render(&state.practice, &profile.hl7, change, &to, &msh10)
            else {
                continue;
            };
            let mut frame = Vec::with_capacity(payload.len() + 3);
            frame_into(&payload, &mut frame);
            let job = Job {
                msh9: kind.to_string(),
                msh10,
                frame,
            };
            let mut st = q.state.lock();
            if q.tx.send(job).is_ok() {
                st.pending += 1;
            }
        }
    }
}

async fn subscribe(
    state: AppState,
    mut rx: broadcast::Receiver<PracticeChange>,
    stop: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => return,
            n = rx.recv() => n,
        };
        match next {
            Ok(change) => state.mllp.outbound.enqueue(&state, &change),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                state.journal.record(
                    Surface::MllpOut,
                    None,
                    Detail::Event {
                        name: "events-lagged".into(),
                        notes: vec![Note::new("missed", n.to_string())],
                    },
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// What one attempt ended in.
#[derive(Debug)]
enum Attempt {
    Ack {
        code: AckCode,
        msa2: CompactString,
    },
    /// No ACK in time, an unparseable ACK, a refused or dropped connection:
    /// resend with the same MSH-10.
    Retry(String),
}

struct Worker {
    state: AppState,
    q: Arc<Queue>,
    conn: Option<Box<dyn Stream>>,
    buf: BytesMut,
    connection: u64,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, stop: CancellationToken) {
        loop {
            let job = tokio::select! {
                _ = stop.cancelled() => return,
                j = rx.recv() => match j { Some(j) => j, None => return },
            };
            {
                let mut st = self.q.state.lock();
                st.pending = st.pending.saturating_sub(1);
                st.in_flight = Some(job.msh10.clone());
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.deliver(&job) => {}
            }
            self.q.state.lock().in_flight = None;
        }
    }

    fn journal(
        &self,
        job: &Job,
        outcome: &str,
        started: Instant,
        f: impl FnOnce(&mut MllpExchange),
    ) {
        let mut x = MllpExchange {
            connection: self.connection,
            msh9: Some(job.msh9.as_str().into()),
            msh10: Some(job.msh10.as_str().into()),
            sender: Some(self.state.profile().hl7.sending_application.as_str().into()),
            latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            bytes: job.frame.len() as u64,
            outcome: outcome.into(),
            ..MllpExchange::default()
        };
        f(&mut x);
        self.state.journal.record(
            Surface::MllpOut,
            Some(self.q.dest.addr.to_compact_string()),
            Detail::Mllp(x),
        );
    }

    async fn deliver(&mut self, job: &Job) {
        let max_retries = self.state.profile().hl7.max_retries;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let fault = if self.state.faults.any_for(Surface::MllpOut) {
                self.state.faults.pick(Surface::MllpOut, &job.msh9, |k| {
                    matches!(
                        k,
                        FaultKind::DuplicateSend
                            | FaultKind::SplitWrites { .. }
                            | FaultKind::DropConnection { .. }
                    )
                })
            } else {
                None
            };
            let started = Instant::now();
            let result = self.attempt(job, fault.as_ref().map(|f| &f.kind)).await;
            let fault_name = fault.as_ref().map(|f| f.name.clone());
            let note_attempt = |x: &mut MllpExchange| {
                x.fault = fault_name.as_deref().map(Into::into);
                x.notes.push(Note::new("attempt", attempt.to_string()));
            };
            match result {
                Attempt::Ack { code, msa2 } => {
                    let ok_id = msa2 == job.msh10;
                    let outcome = match (code.is_accept(), ok_id) {
                        (true, true) => "accepted",
                        (_, false) => "error",
                        (false, true) => {
                            if code == AckCode::AR || code == AckCode::CR {
                                "rejected"
                            } else {
                                "error"
                            }
                        }
                    };
                    self.journal(job, outcome, started, |x| {
                        note_attempt(x);
                        x.ack_code = Some(code.as_str().into());
                        x.ack_control_id = Some(msa2.clone());
                        if !ok_id {
                            x.notes
                                .push(Note::new("error", "message control ids do not match"));
                        }
                    });
                    {
                        let mut st = self.q.state.lock();
                        if outcome == "accepted" {
                            st.sent += 1;
                        } else {
                            st.errors += 1;
                            st.last_error = Some(if ok_id {
                                format!("{} for {}", code.as_str(), job.msh10)
                            } else {
                                format!("MSA-2 {msa2:?} does not match MSH-10 {}", job.msh10)
                            });
                        }
                    }
                    if !ok_id {
                        self.conn = None;
                    }
                    if outcome == "accepted"
                        && matches!(fault.map(|f| f.kind), Some(FaultKind::DuplicateSend))
                    {
                        let again = Instant::now();
                        let r = self.attempt(job, None).await;
                        self.journal(job, "duplicate-sent", again, |x| {
                            x.fault = fault_name.as_deref().map(Into::into);
                            if let Attempt::Ack { code, msa2 } = &r {
                                x.ack_code = Some(code.as_str().into());
                                x.ack_control_id = Some(msa2.clone());
                            }
                        });
                    }
                    return;
                }
                Attempt::Retry(why) => {
                    self.conn = None;
                    let give_up = attempt > max_retries;
                    let outcome = if give_up { "failed" } else { "queued" };
                    self.journal(job, outcome, started, |x| {
                        note_attempt(x);
                        x.notes.push(Note::new("reason", why.clone()));
                    });
                    {
                        let mut st = self.q.state.lock();
                        if give_up {
                            st.failed += 1;
                            st.last_error = Some(format!("{}: {why}", job.msh10));
                        } else {
                            st.retries += 1;
                        }
                    }
                    if give_up {
                        return;
                    }
                    let backoff = BASE_BACKOFF
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(MAX_BACKOFF);
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    async fn connect(&mut self, limit: Duration) -> Result<(), String> {
        if self.conn.is_some() {
            return Ok(());
        }
        let tcp = match tokio::time::timeout(limit, TcpStream::connect(self.q.dest.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(format!("connect: {e}")),
            Err(_) => return Err("connect timed out".into()),
        };
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> = match &self.q.dest.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let name = tls.server_name.clone();
                let shown = name.to_str().into_owned();
                let hs = TlsConnector::from(tls.config.clone()).connect(name, tcp);
                match tokio::time::timeout(limit, hs).await {
                    Ok(Ok(s)) => Box::new(s),
                    Ok(Err(e)) => return Err(format!("TLS handshake with {shown}: {e}")),
                    Err(_) => return Err(format!("TLS handshake with {shown} timed out")),
                }
            }
        };
        self.conn = Some(stream);
        self.buf.clear();
        self.connection = self.state.mllp.next_connection();
        Ok(())
    }

    async fn attempt(&mut self, job: &Job, fault: Option<&FaultKind>) -> Attempt {
        let profile = self.state.profile();
        let limit = profile.hl7.ack_timeout;
        let max_frame = profile.hl7.max_frame_bytes as usize;
        if let Err(e) = self.connect(limit).await {
            return Attempt::Retry(e);
        }
        let Some(sock) = self.conn.as_mut() else {
            return Attempt::Retry("not connected".into());
        };
        let (bytes, chunk) = match fault {
            Some(FaultKind::DropConnection { mid_frame }) => {
                let n = if *mid_frame { job.frame.len() / 2 } else { 0 };
                let _ = conn::write_all(sock, &job.frame[..n], None, limit).await;
                self.conn = None;
                return Attempt::Retry("connection dropped (fault)".into());
            }
            Some(FaultKind::SplitWrites { chunk }) => (&job.frame[..], Some(*chunk)),
            _ => (&job.frame[..], None),
        };
        if let Err(e) = conn::write_all(sock, bytes, chunk, limit).await {
            return Attempt::Retry(format!("write: {e}"));
        }
        let deadline = tokio::time::Instant::now() + limit;
        let first = match read_frame(sock, &mut self.buf, max_frame, deadline).await {
            Ok(f) => f,
            Err(e) => return Attempt::Retry(e),
        };
        let Some((code, msa2)) = parse_ack(&first) else {
            return Attempt::Retry("invalid HL7 v2 acknowledgement received".into());
        };
        if code == AckCode::CA {
            // Enhanced mode: the application ACK may follow; wait for it so
            // it cannot answer the next message. None in time: committed.
            let deadline = tokio::time::Instant::now() + limit;
            match read_frame(sock, &mut self.buf, max_frame, deadline).await {
                Ok(second) => {
                    if let Some((c, m)) = parse_ack(&second) {
                        return Attempt::Ack { code: c, msa2: m };
                    }
                }
                Err(_) => self.conn = None,
            }
        }
        Attempt::Ack { code, msa2 }
    }
}

fn parse_ack(payload: &[u8]) -> Option<(AckCode, CompactString)> {
    let m = Message::parse(payload).ok()?;
    let v = read_ack(&m).ok()?;
    Some((v.code, conn::text(v.control_id)))
}

/// Read the next HL7 frame (skipping Release 2 commit ACKs) before `deadline`.
async fn read_frame(
    sock: &mut Box<dyn Stream>,
    buf: &mut BytesMut,
    max_frame: usize,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, String> {
    let mut framer = Framer::new(max_frame);
    loop {
        loop {
            let step = framer.decode(buf).map_err(|e| e.to_string())?;
            if let Some((kind, range)) = step.frame {
                let payload = buf[range].to_vec();
                buf.advance(step.consumed);
                match kind {
                    FrameKind::Message => return Ok(payload),
                    FrameKind::CommitAck => continue,
                    FrameKind::CommitNak => return Err("commit NAK received".into()),
                }
            }
            if step.consumed == 0 {
                break;
            }
            buf.advance(step.consumed);
        }
        conn::make_room(buf, 1024);
        match tokio::time::timeout_at(deadline, sock.read_buf(buf)).await {
            Err(_) => return Err("ACK timeout".into()),
            Ok(Ok(0)) => return Err("connection closed before the ACK".into()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("read: {e}")),
        }
    }
}
