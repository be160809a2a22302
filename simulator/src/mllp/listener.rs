//! The inbound listener: integrations send HL7 to "NextGen".
//!
//! Every socket has a limit and a timeout: a connection cap (a semaphore;
//! past it a connection is closed at once and journaled), an idle timeout on
//! every read (half-open peers, slowloris senders), a write timeout on every
//! ACK, and the profile's `max-frame-bytes` on every frame.
//!
//! The hot path is allocation-light: one reusable read buffer and one reused
//! ACK buffer per connection, a zero-copy parse, and a journal entry holding
//! MSH-9/MSH-10 only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use compact_str::CompactString;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::MllpLimits;
use super::apply;
use super::conn::{self, Stream};
use super::dedupe::{Begin, Pending};
use super::header::Header;
use super::policy::{self, Outcome, Problem};
use crate::faults::{FaultKind, Injected};
use crate::hl7::ack::{self, Ack, ErrorDetail, ErrorLocation, Severity, codes};
use crate::hl7::mllp::{self as framing, FrameKind, Framer, MllpError};
use crate::hl7::{Charset, Message, ParseBuffer, ParseOptions};
use crate::journal::{Detail, MllpExchange, Note, Surface};
use crate::server::AppState;

/// The inbound MLLP(S) listener.
pub struct Listener {
    state: AppState,
    limits: MllpLimits,
    tls: Option<TlsAcceptor>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("limits", &self.limits)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// What the connection must do after a frame was handled.
#[derive(Debug, Default)]
struct Reply {
    delay: Option<Duration>,
    /// Close after the reply; `true`: after writing half of it.
    drop: Option<bool>,
    chunk: Option<usize>,
    /// A duplicate of a message still being processed on another
    /// connection: reply with its ACK once it is stored.
    wait: Option<Arc<Pending>>,
}

/// Replies not yet written and the journal entries waiting for them.
#[derive(Debug, Default)]
struct Held {
    bytes: Vec<u8>,
    entries: Vec<(MllpExchange, Instant)>,
}

impl Listener {
    /// A listener over `state` (TLS when `tls` is set).
    pub fn new(state: AppState, limits: MllpLimits, tls: Option<TlsAcceptor>) -> Listener {
        Listener {
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            state,
            limits,
            tls,
        }
    }

    /// Accept on `tcp` until `stop` is cancelled; connections run on `tasks`.
    pub fn spawn(self, tcp: TcpListener, tasks: &TaskTracker, stop: CancellationToken) {
        let this = Arc::new(self);
        let inner_tasks = tasks.clone();
        tasks.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.cancelled() => return,
                    a = tcp.accept() => a,
                };
                let Ok((sock, peer)) = accepted else { continue };
                let conn = this.state.mllp.next_connection();
                let Ok(permit) = this.slots.clone().try_acquire_owned() else {
                    this.refuse(peer, conn);
                    drop(sock);
                    continue;
                };
                let _ = sock.set_nodelay(true);
                let this = this.clone();
                let stop = stop.clone();
                inner_tasks.spawn(async move {
                    let _permit = permit;
                    match &this.tls {
                        None => this.serve(sock, peer, conn, stop).await,
                        Some(acceptor) => {
                            let hs = tokio::time::timeout(
                                this.limits.idle_timeout,
                                acceptor.accept(sock),
                            )
                            .await;
                            match hs {
                                Ok(Ok(tls)) => this.serve(tls, peer, conn, stop).await,
                                Ok(Err(e)) => {
                                    this.closed(
                                        &peer.to_string(),
                                        conn,
                                        "tls-failed",
                                        e.to_string(),
                                    );
                                }
                                Err(_) => this.closed(
                                    &peer.to_string(),
                                    conn,
                                    "tls-failed",
                                    "handshake timed out".into(),
                                ),
                            }
                        }
                    }
                });
            }
        });
    }

    fn refuse(&self, peer: SocketAddr, conn: u64) {
        self.closed(
            &peer.to_string(),
            conn,
            "refused",
            format!("connection cap of {} reached", self.limits.max_connections),
        );
    }

    fn closed(&self, peer: &str, conn: u64, outcome: &str, why: String) {
        self.state.journal.record(
            Surface::MllpIn,
            Some(peer.into()),
            Detail::Mllp(MllpExchange {
                connection: conn,
                outcome: outcome.into(),
                notes: vec![Note::new("reason", why)],
                ..MllpExchange::default()
            }),
        );
    }

    async fn serve<S: Stream>(
        &self,
        mut io: S,
        peer: SocketAddr,
        conn: u64,
        stop: CancellationToken,
    ) {
        // Formatted once: every journal entry of this connection names it.
        let peer = peer.to_string();
        let peer = peer.as_str();
        let max = self
            .limits
            .max_frame_bytes
            .unwrap_or(self.state.profile().hl7.max_frame_bytes) as usize;
        let mut framer = Framer::new(max);
        // When the frame now being received started (slowloris cut-off).
        let mut frame_started: Option<tokio::time::Instant> = None;
        let mut buf = BytesMut::with_capacity(2 * READ_ROOM);
        let mut out = Vec::with_capacity(1024);
        let mut scratch = Vec::with_capacity(512);
        // Segment spans of the frame being handled, reused for every frame.
        let mut spans = ParseBuffer::default();
        let mut skipped = 0usize;
        // ACKs of the frames decoded from one read, written together when
        // the read buffer is drained (one write per read, not per frame);
        // their journal entries are recorded after that write.
        let mut held = Held::default();
        // One timer and one cancellation waiter per connection, re-armed per
        // read (cheaper than a new `timeout` per read on the hot path).
        let mut armed = tokio::time::Instant::now() + self.limits.idle_timeout;
        let idle = tokio::time::sleep_until(armed);
        tokio::pin!(idle);
        let stopped = stop.cancelled();
        tokio::pin!(stopped);
        loop {
            loop {
                let step = match framer.decode(&buf) {
                    Ok(step) => step,
                    Err(MllpError::BadEndBlock { offset, found }) => {
                        // The framer keeps the broken frame in `buf` until
                        // the next step drops it: answer it with a NAK.
                        if !self.flush(&mut io, &mut held, peer).await {
                            return;
                        }
                        let started = Instant::now();
                        let payload = buf.get(1..=offset).unwrap_or_default();
                        let mut x = self.bad_end_block(payload, found, &mut out, &mut scratch);
                        if !self.write(&mut io, &out, None, &mut x).await {
                            return self.record(peer, x, started);
                        }
                        self.record(peer, x, started);
                        continue;
                    }
                    Err(e) => {
                        // Oversized: NAK it if its MSH is readable, then
                        // close, so a flood never reaches memory.
                        if !self.flush(&mut io, &mut held, peer).await {
                            return;
                        }
                        let started = Instant::now();
                        let Some(mut x) = self.oversized(&buf, &e, conn, &mut out, &mut scratch)
                        else {
                            return self.closed(peer, conn, "error", e.to_string());
                        };
                        let _ = self.write(&mut io, &out, None, &mut x).await;
                        x.notes.push(Note::new("closed", "frame limit"));
                        return self.record(peer, x, started);
                    }
                };
                skipped += step.skipped;
                let Some((kind, range)) = step.frame else {
                    if step.consumed == 0 {
                        if !self.flush(&mut io, &mut held, peer).await {
                            return;
                        }
                        break;
                    }
                    buf.advance(step.consumed);
                    continue;
                };
                let started = Instant::now();
                let frame = &buf[range];
                let (mut x, mut reply) =
                    self.handle(kind, frame, conn, &mut out, &mut scratch, &mut spans);
                while let Some(original) = reply.wait.take() {
                    match original.wait().await {
                        Some(stored) => self.replay(&stored, &mut out, &mut x),
                        // Released without an ACK: handle it afresh.
                        None => {
                            (x, reply) =
                                self.handle(kind, frame, conn, &mut out, &mut scratch, &mut spans);
                        }
                    }
                }
                buf.advance(step.consumed);
                frame_started = None;
                if skipped > 0 {
                    x.notes.push(Note::new(
                        "skipped-bytes",
                        std::mem::take(&mut skipped).to_string(),
                    ));
                }
                if reply.delay.is_none() && reply.drop.is_none() && reply.chunk.is_none() {
                    held.bytes.extend_from_slice(&out);
                    held.entries.push((x, started));
                    continue;
                }
                // A fault shapes this reply: what is held goes out first.
                if !self.flush(&mut io, &mut held, peer).await {
                    return;
                }
                if let Some(d) = reply.delay {
                    tokio::time::sleep(d).await;
                }
                let keep = match reply.drop {
                    Some(mid) => {
                        let half = if mid { out.len() / 2 } else { 0 };
                        let _ = self.write(&mut io, &out[..half], reply.chunk, &mut x).await;
                        x.notes.push(Note::new("closed", "fault"));
                        false
                    }
                    None => self.write(&mut io, &out, reply.chunk, &mut x).await,
                };
                self.record(peer, x, started);
                if !keep {
                    return;
                }
            }
            let now = tokio::time::Instant::now();
            let mut deadline = now + self.limits.idle_timeout;
            if framer.in_frame(&buf) {
                let t0 = *frame_started.get_or_insert(now);
                deadline = deadline.min(t0 + self.limits.frame_timeout);
            } else {
                frame_started = None;
            }
            // The timer is re-armed lazily: only when the deadline comes
            // earlier, or when it fires before the real deadline. No timer
            // wheel work per message.
            if deadline < armed {
                idle.as_mut().reset(deadline);
                armed = deadline;
            }
            conn::make_room(&mut buf, READ_ROOM);
            let read = loop {
                tokio::select! {
                    biased;
                    r = io.read_buf(&mut buf) => break Ok(r),
                    _ = &mut idle => {
                        if tokio::time::Instant::now() >= deadline {
                            break Err(());
                        }
                        idle.as_mut().reset(deadline);
                        armed = deadline;
                    }
                    _ = &mut stopped => return,
                }
            };
            match read {
                Err(_) => {
                    let slow =
                        frame_started.is_some_and(|t0| t0 + self.limits.frame_timeout <= deadline);
                    let why = if slow {
                        format!(
                            "frame not complete within {:?} ({} bytes buffered)",
                            self.limits.frame_timeout,
                            buf.len()
                        )
                    } else if framer.in_frame(&buf) {
                        format!("idle timeout inside a frame ({} bytes buffered)", buf.len())
                    } else {
                        "idle timeout".to_owned()
                    };
                    return self.closed(peer, conn, "timeout", why);
                }
                Ok(Ok(0)) => {
                    if framer.in_frame(&buf) {
                        let e = MllpError::Truncated { bytes: buf.len() };
                        self.closed(peer, conn, "error", e.to_string());
                    }
                    return;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return self.closed(peer, conn, "error", e.to_string()),
            }
        }
    }

    /// Write the held ACKs in one go, then journal their frames (with the
    /// write error, if any); false when the connection is unusable.
    async fn flush<S: Stream>(&self, io: &mut S, held: &mut Held, peer: &str) -> bool {
        if held.entries.is_empty() {
            return true;
        }
        let failed = if held.bytes.is_empty() {
            None
        } else {
            let limit = self.limits.write_timeout;
            conn::write_all(io, &held.bytes, None, limit)
                .await
                .err()
                .map(|e| e.to_string())
        };
        held.bytes.clear();
        for (mut x, started) in held.entries.drain(..) {
            if let Some(e) = &failed {
                x.notes.push(Note::new("write-error", e.clone()));
            }
            self.record(peer, x, started);
        }
        failed.is_none()
    }

    async fn write<S: Stream>(
        &self,
        io: &mut S,
        bytes: &[u8],
        chunk: Option<usize>,
        x: &mut MllpExchange,
    ) -> bool {
        if bytes.is_empty() {
            return true;
        }
        match conn::write_all(io, bytes, chunk, self.limits.write_timeout).await {
            Ok(()) => true,
            Err(e) => {
                x.notes.push(Note::new("write-error", e.to_string()));
                false
            }
        }
    }

    fn record(&self, peer: &str, mut x: MllpExchange, started: Instant) {
        x.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.state
            .journal
            .record(Surface::MllpIn, Some(peer.into()), Detail::Mllp(x));
    }

    /// A frame over the size limit: an AR NAK built from its MSH when the
    /// MSH segment is readable in what arrived (`None`: just close).
    fn oversized(
        &self,
        buf: &[u8],
        e: &MllpError,
        conn: u64,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Option<MllpExchange> {
        let head = buf.strip_prefix(&[framing::SB])?;
        let head = &head[..head.len().min(MAX_HEADER)];
        let msh = &head[..=memchr::memchr(b'\r', head)?];
        let m = Message::parse(msh).ok()?;
        out.clear();
        let mut x = MllpExchange {
            connection: conn,
            bytes: buf.len() as u64,
            outcome: Outcome::Rejected.as_str().into(),
            notes: vec![Note::new("framing", e.to_string())],
            ..MllpExchange::default()
        };
        let h = Header::read(&m);
        describe(&h, &m, &mut x);
        let problem = Problem {
            code: codes::INTERNAL_ERROR,
            location: None,
            text: e.to_string(),
        };
        let p = self.state.profile();
        let plan = policy::plan(&p.hl7, &h, Outcome::Rejected);
        self.write_acks(&m, plan, Some(&problem), out, scratch, &mut x);
        Some(x)
    }

    /// A frame whose end block lacked its CR: answer with a NAK built from
    /// whatever header it carries.
    fn bad_end_block(
        &self,
        payload: &[u8],
        found: u8,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> MllpExchange {
        out.clear();
        let text = format!("MLLP end block 0x1C is followed by 0x{found:02X}, not CR");
        let mut x = MllpExchange {
            bytes: payload.len() as u64 + 2,
            outcome: Outcome::Error.as_str().into(),
            notes: vec![Note::new("framing", text.clone())],
            ..MllpExchange::default()
        };
        let problem = Problem {
            code: codes::SEGMENT_SEQUENCE,
            location: None,
            text,
        };
        match Message::parse(payload) {
            Ok(m) => {
                let h = Header::read(&m);
                describe(&h, &m, &mut x);
                let p = self.state.profile();
                let plan = policy::plan(&p.hl7, &h, Outcome::Error);
                self.write_acks(&m, plan, Some(&problem), out, scratch, &mut x);
            }
            Err(e) => self.write_parse_nak(payload, &e, out, scratch, &mut x),
        }
        x
    }

    fn write_parse_nak(
        &self,
        payload: &[u8],
        e: &crate::hl7::ParseError,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        x: &mut MllpExchange,
    ) {
        let ts = conn::hl7_now();
        scratch.clear();
        let ids = &self.state.mllp.ack_ids;
        ack::write_nak(
            payload,
            e,
            conn::ts_str(&ts),
            &mut |o: &mut Vec<u8>| ids.write_next(o),
            scratch,
        );
        framing::frame_into(scratch, out);
        if let Ok(m) = Message::parse(scratch) {
            if let Ok(v) = ack::read_ack(&m) {
                x.ack_code = Some(v.code.as_str().into());
                x.ack_control_id = Some(conn::text(v.control_id));
            }
        }
        x.notes.push(Note::new("parse-error", e.to_string()));
        x.notes.push(Note::new("offset", e.offset().to_string()));
    }

    /// Handle one message outside a connection (batch files): the same
    /// policy, duplicate memory, practice writes and journal as a frame;
    /// returns the outcome and the framed ACK bytes.
    pub fn process(&self, payload: &[u8], source: &str) -> (CompactString, Vec<u8>) {
        let started = Instant::now();
        let mut out = Vec::with_capacity(512);
        let mut scratch = Vec::with_capacity(512);
        let mut spans = ParseBuffer::default();
        let (mut x, mut reply) = self.handle(
            FrameKind::Message,
            payload,
            0,
            &mut out,
            &mut scratch,
            &mut spans,
        );
        // Batch import runs on a blocking thread: wait for a racing original.
        while let Some(original) = reply.wait.take() {
            match original.wait_blocking() {
                Some(stored) => self.replay(&stored, &mut out, &mut x),
                None => {
                    (x, reply) = self.handle(
                        FrameKind::Message,
                        payload,
                        0,
                        &mut out,
                        &mut scratch,
                        &mut spans,
                    );
                }
            }
        }
        x.fault = None;
        x.notes.push(Note::new("source", source));
        let outcome = x.outcome.clone();
        x.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.state
            .journal
            .record(Surface::MllpIn, None, Detail::Mllp(x));
        (outcome, out)
    }

    /// Handle one frame: parse, dedupe, admit, apply, ACK, faults. Fills
    /// `out` with the framed reply bytes; the parse reuses `spans` (one per
    /// connection: no span allocation per message).
    fn handle(
        &self,
        kind: FrameKind,
        payload: &[u8],
        conn: u64,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        spans: &mut ParseBuffer,
    ) -> (MllpExchange, Reply) {
        out.clear();
        let mut x = MllpExchange {
            connection: conn,
            bytes: payload.len() as u64 + 3,
            ..MllpExchange::default()
        };
        if kind != FrameKind::Message {
            x.outcome = "ignored".into();
            x.notes.push(Note::new(
                "frame",
                "unexpected commit block from the sender",
            ));
            return (x, Reply::default());
        }
        let m = match Message::parse_in(payload, ParseOptions::default(), std::mem::take(spans)) {
            Ok(m) => m,
            Err(e) => {
                self.write_parse_nak(payload, &e, out, scratch, &mut x);
                x.outcome = match x.ack_code.as_deref() {
                    Some("AR" | "CR") => Outcome::Rejected,
                    _ => Outcome::Error,
                }
                .as_str()
                .into();
                return (x, Reply::default());
            }
        };
        let reply = self.handle_parsed(&m, &mut x, out, scratch);
        *spans = m.into_buffer();
        (x, reply)
    }

    /// [`Listener::handle`] for a message that parsed.
    fn handle_parsed(
        &self,
        m: &Message<'_>,
        x: &mut MllpExchange,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Reply {
        let h = Header::read(m);
        describe(&h, m, x);
        let profile = self.state.profile();
        let hl7 = &profile.hl7;
        // The sender's identity for duplicates: MSH-3 plus MSH-4, built in
        // the connection's scratch buffer (free until the ACK is written).
        let msh3 = h.sending_application;
        scratch.clear();
        scratch.extend_from_slice(msh3);
        scratch.push(b'|');
        scratch.extend_from_slice(h.sending_facility);
        let control_id = h.control_id;
        let memory = hl7.duplicate_memory as usize;
        let reservation = match self.state.mllp.dedupe.begin(scratch, control_id, memory) {
            Begin::Off => None,
            Begin::Reserved(r) => Some(r),
            Begin::Stored(stored) => {
                x.outcome = "duplicate".into();
                self.replay(&stored, out, x);
                return Reply::default();
            }
            Begin::InFlight(original) => {
                // Processed right now on another connection: its ACK is ours.
                x.outcome = "duplicate".into();
                let reply = Reply {
                    wait: Some(original),
                    ..Reply::default()
                };
                return reply;
            }
        };
        let fault = self.pick_fault(x.msh9.as_deref().unwrap_or_default());
        let mut reply = Reply::default();
        let (outcome, problem) = match (&fault, policy::admit(hl7, &h)) {
            (_, Err(p)) => (Outcome::Rejected, Some(p)),
            (
                Some(Injected {
                    kind: FaultKind::Nak { code },
                    ..
                }),
                Ok(()),
            ) => {
                let o = if code.eq_ignore_ascii_case("AR") {
                    Outcome::Rejected
                } else {
                    Outcome::Error
                };
                let p = Problem {
                    code: codes::INTERNAL_ERROR,
                    location: None,
                    text: "injected fault".into(),
                };
                (o, Some(p))
            }
            (_, Ok(())) => match check_charset(m, h.charset) {
                Err(p) => (Outcome::Error, Some(p)),
                Ok(()) => match apply::apply(&self.state.practice, m, &h) {
                    Ok(applied) => {
                        if let Some(n) = applied.note {
                            x.notes.push(Note::new("practice", n));
                        }
                        for c in applied.changes {
                            if let Some(id) = &c.record_id {
                                x.notes.push(Note::new("record", id.clone()));
                            }
                            self.state.mllp.outbound.note_inbound(&c, msh3);
                            self.state.events.publish(c);
                        }
                        (Outcome::Accepted, None)
                    }
                    Err(p) => (Outcome::Error, Some(p)),
                },
            },
        };
        x.outcome = outcome.as_str().into();
        if let Some(p) = &problem {
            x.notes.push(Note::new("error", p.text.clone()));
        }
        let plan = policy::plan(hl7, &h, outcome);
        self.write_acks(m, plan, problem.as_ref(), out, scratch, x);
        if let Some(r) = reservation {
            r.complete(Arc::from(&out[..]));
        }
        if let Some(f) = fault {
            match &f.kind {
                FaultKind::AckDelay { ms } => reply.delay = Some(Duration::from_millis(*ms)),
                FaultKind::DropConnection { mid_frame } => reply.drop = Some(*mid_frame),
                FaultKind::SplitWrites { chunk } => reply.chunk = Some(*chunk),
                FaultKind::WrongMsa2 => {
                    wrong_msa2(out);
                    self.describe_reply(out, x);
                }
                FaultKind::CommitAck => {
                    out.splice(0..0, [framing::SB, framing::ACK, framing::EB, framing::CR]);
                }
                _ => {}
            }
            x.fault = Some(f.name.into());
        }
        reply
    }

    fn pick_fault(&self, msh9: &str) -> Option<Injected> {
        if !self.state.faults.any_for(Surface::MllpIn) {
            return None;
        }
        self.state.faults.pick(Surface::MllpIn, msh9, |k| {
            matches!(
                k,
                FaultKind::AckDelay { .. }
                    | FaultKind::Nak { .. }
                    | FaultKind::DropConnection { .. }
                    | FaultKind::SplitWrites { .. }
                    | FaultKind::WrongMsa2
                    | FaultKind::CommitAck
            )
        })
    }

    /// Write each planned ACK as its own frame.
    fn write_acks(
        &self,
        m: &Message<'_>,
        plan: policy::Plan,
        problem: Option<&Problem>,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        x: &mut MllpExchange,
    ) {
        let ts = conn::hl7_now();
        let ids = &self.state.mllp.ack_ids;
        let mut written = 0;
        let mut last = None;
        for code in plan.codes() {
            let error = (!code.is_accept()).then(|| {
                problem.map_or_else(
                    || ErrorDetail {
                        location: None,
                        code: codes::INTERNAL_ERROR,
                        severity: Severity::Error,
                        text: None,
                    },
                    |p| ErrorDetail {
                        location: p.location,
                        code: p.code,
                        severity: Severity::Error,
                        text: Some(p.text.as_str().into()),
                    },
                )
            });
            let a = Ack {
                code,
                text: None,
                error,
                timestamp: conn::ts_str(&ts),
            };
            scratch.clear();
            ack::write_ack(m, &a, &mut |o: &mut Vec<u8>| ids.write_next(o), scratch);
            framing::frame_into(scratch, out);
            written += 1;
            last = Some(code.as_str());
        }
        if written == 0 {
            x.notes.push(Note::new("ack", "none (per MSH-15/16)"));
        } else if written > 1 {
            let all: Vec<_> = plan.codes().map(|c| c.as_str()).collect();
            x.notes.push(Note::new("acks", all.join(",")));
        }
        // MSA-2 echoes MSH-10 (no re-parse of the ACK on the hot path);
        // `describe` has already put it in the entry.
        x.ack_code = last.map(Into::into);
        x.ack_control_id = match x.ack_code {
            Some(_) => x.msh10.clone().or_else(|| Some(conn::text(m.control_id()))),
            None => None,
        };
    }

    /// A duplicate: the stored ACK bytes again.
    fn replay(&self, stored: &[u8], out: &mut Vec<u8>, x: &mut MllpExchange) {
        out.clear();
        out.extend_from_slice(stored);
        self.describe_reply(out, x);
    }

    /// Put the last ACK's code and MSA-2 in the journal entry.
    fn describe_reply(&self, out: &[u8], x: &mut MllpExchange) {
        let last = out
            .split(|b| *b == framing::SB)
            .rfind(|f| f.len() > 3)
            .map(|f| f.strip_suffix(&[framing::EB, framing::CR]).unwrap_or(f));
        let Some(payload) = last else {
            x.ack_code = None;
            return;
        };
        if let Ok(m) = Message::parse(payload) {
            x.ack_code = m.get("MSA-1").ok().flatten().map(conn::text);
            x.ack_control_id = m.get("MSA-2").ok().flatten().map(conn::text);
        }
    }
}

/// How far into an oversized frame the MSH segment is looked for.
const MAX_HEADER: usize = 4096;

/// Spare room in a connection's read buffer before each read (its initial
/// capacity is twice this).
const READ_ROOM: usize = 8 * 1024;

/// MSH-9 and MSH-10 (and the sender and patient) for the journal: never whole segments.
fn describe(h: &Header<'_>, m: &Message<'_>, x: &mut MllpExchange) {
    let mut msh9 = conn::text(h.message_code);
    msh9.push('^');
    msh9.push_str(&conn::text(h.trigger_event));
    x.msh9 = Some(msh9);
    x.msh10 = Some(conn::text(h.control_id));
    x.sender = Some(conn::text(h.sending_application));
    // The patient (PID-3.1 MRN) lets a runner judge per-patient ordering of
    // an integration's feed; an identifier only, never the segment.
    let mrn = m.get("PID-3.1").ok().flatten().unwrap_or_default();
    if !mrn.is_empty() {
        x.notes.push(Note::new("patient", conn::text(mrn)));
    }
}

/// Text is checked against MSH-18: an ASCII or UTF-8 message must be valid
/// UTF-8 (Latin-1 takes any byte).
fn check_charset(m: &Message<'_>, charset: Charset) -> Result<(), Problem> {
    if charset == Charset::Latin1 {
        return Ok(());
    }
    let raw = m.as_bytes();
    let Err(e) = std::str::from_utf8(raw) else {
        return Ok(());
    };
    let offset = e.valid_up_to();
    let start = memchr::memrchr(b'\r', &raw[..offset]).map_or(0, |i| i + 1);
    let segment: [u8; 3] = raw
        .get(start..start + 3)
        .and_then(|s| s.try_into().ok())
        .unwrap_or(*b"MSH");
    let sequence = raw[..start]
        .split(|b| *b == b'\r')
        .filter(|s| s.starts_with(&segment))
        .count()
        + 1;
    let field = memchr::memchr_iter(m.delimiters().field, &raw[start..offset]).count();
    Err(Problem {
        code: codes::DATA_TYPE,
        location: Some(ErrorLocation {
            segment,
            sequence,
            field,
        }),
        text: format!("invalid UTF-8 at byte offset {offset}"),
    })
}

/// The wrong-MSA-2 fault: prefix every MSA-2 with `X`.
fn wrong_msa2(out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(at) = memchr::memmem::find(&out[i..], b"\rMSA|") {
        let msa = i + at + 5;
        match memchr::memchr(b'|', &out[msa..]) {
            Some(bar) => {
                out.insert(msa + bar + 1, b'X');
                i = msa + bar + 2;
            }
            None => break,
        }
    }
}
