//! The MLLP feed driver: N stop-and-wait connections pushing a message mix at
//! the SUT, each recording every ACK's latency.
//!
//! Messages are built once into a small pool of templates (one per draw from
//! the mix); each send copies a template and writes its own MSH-10 in place,
//! so building messages never shows up in the measured latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::error::{Result, infra, invalid};
use futures::{SinkExt, StreamExt};
use simulator::hl7::ack::read_ack;
use simulator::hl7::generators::{Rng, generate, sample_context};
use simulator::hl7::{FrameKind, Message, MllpCodec, MllpFrame};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_util::codec::Framed;

use super::recorder::{ErrorKind, Figures, Recorder};
use super::spec::{LoadSpec, StopAfter};

/// Distinct messages in the template pool.
const POOL: usize = 64;
/// Digits of the per-message counter in MSH-10.
const COUNTER_DIGITS: usize = 12;

/// One message with a placeholder MSH-10 whose counter digits are patched
/// per send.
#[derive(Debug, Clone)]
struct Template {
    bytes: Vec<u8>,
    /// Offset of the counter digits inside `bytes`.
    counter_at: usize,
}

/// Builds the template pool: `POOL` messages drawn from the mix, in original
/// acknowledgment mode, with MSH-10 = `LD<run><counter>`.
fn templates(spec: &LoadSpec, run_tag: &str) -> Result<Vec<Template>> {
    let kinds = spec.weighted_kinds()?;
    let total = kinds.last().map_or(1, |(_, c)| *c);
    let mut rng = Rng::new(spec.seed);
    let placeholder = format!("LD{run_tag}{}", "0".repeat(COUNTER_DIGITS));
    (0..POOL)
        .map(|i| {
            let draw = (rng.next_u64() % u64::from(total)) as u32;
            let kind = kinds
                .iter()
                .find(|(_, cum)| draw < *cum)
                .map(|(k, _)| *k)
                .expect("a draw below the total weight falls in a bucket");
            let mut ctx = sample_context(spec.seed, i as u64);
            ctx.control_id = placeholder.clone();
            let mut b = generate(kind, &ctx);
            // Original mode: one ACK per message, as the receiver checks expect.
            b.set("MSH-15", "")
                .map_err(|e| invalid(format!("MSH-15: {e}")))?;
            b.set("MSH-16", "")
                .map_err(|e| invalid(format!("MSH-16: {e}")))?;
            let bytes = b.encode();
            let at = find(&bytes, placeholder.as_bytes())
                .ok_or_else(|| invalid("MSH-10 placeholder missing from a generated message"))?;
            Ok(Template {
                counter_at: at + placeholder.len() - COUNTER_DIGITS,
                bytes,
            })
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes `k` as zero-padded decimal into `out`.
fn write_counter(out: &mut [u8], mut k: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (k % 10) as u8;
        k /= 10;
    }
}

/// A tag unique to this run, so repeated runs against a receiver that
/// deduplicates MSH-10 never collide.
fn run_tag() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64 ^ d.as_secs());
    let n = nanos.wrapping_add(RUNS.fetch_add(1, Ordering::Relaxed).wrapping_mul(7919));
    format!("{:04X}", n % 0x1_0000)
}

struct Shared {
    spec: LoadSpec,
    templates: Vec<Template>,
    next: AtomicU64,
    start: Instant,
}

/// Runs one repetition of the load and returns its figures.
pub async fn run(spec: &LoadSpec) -> Result<Figures> {
    spec.validate()?;
    // Fail fast, with a clear message, when nothing listens.
    TcpStream::connect(spec.target).await.map_err(|e| {
        infra(format!(
            "cannot connect to the SUT's MLLP listener at {}: {e}",
            spec.target
        ))
    })?;
    let shared = Arc::new(Shared {
        templates: templates(spec, &run_tag())?,
        spec: spec.clone(),
        next: AtomicU64::new(0),
        start: Instant::now(),
    });
    let tasks: Vec<_> = (0..spec.connections)
        .map(|_| tokio::spawn(connection(shared.clone())))
        .collect();
    let mut total = Recorder::default();
    for t in tasks {
        let r = t
            .await
            .map_err(|e| infra(format!("a load connection task failed: {e}")))?;
        total.merge(&r);
    }
    Ok(total.figures(shared.start.elapsed()))
}

type Conn = Framed<TcpStream, MllpCodec>;

async fn connect(shared: &Shared) -> Option<Conn> {
    let tcp = timeout(
        shared.spec.ack_timeout,
        TcpStream::connect(shared.spec.target),
    )
    .await
    .ok()?
    .ok()?;
    let _ = tcp.set_nodelay(true);
    Some(Framed::new(tcp, MllpCodec::default()))
}

async fn connection(shared: Arc<Shared>) -> Recorder {
    let spec = &shared.spec;
    let deadline = match spec.stop {
        StopAfter::Duration(d) => Some(shared.start + d),
        StopAfter::Messages(_) => None,
    };
    let mut rec = Recorder::default();
    let mut conn: Option<Conn> = None;
    loop {
        let k = shared.next.fetch_add(1, Ordering::Relaxed);
        if let StopAfter::Messages(n) = spec.stop
            && k >= n
        {
            break;
        }
        let due = spec.scheduled_at(k).map(|d| shared.start + d);
        if let Some(deadline) = deadline
            && due.unwrap_or_else(Instant::now) >= deadline
        {
            break;
        }
        if let Some(due) = due {
            sleep_until(due).await;
        }
        let mut framed = match conn.take() {
            Some(c) => c,
            None => match connect(&shared).await {
                Some(c) => c,
                None => {
                    rec.error(ErrorKind::Connection);
                    // Don't spin against a closed port in closed loop.
                    sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let t = &shared.templates[(k as usize) % shared.templates.len()];
        let mut bytes = t.bytes.clone();
        write_counter(&mut bytes[t.counter_at..t.counter_at + COUNTER_DIGITS], k);
        let control_id = control_id_of(&bytes, t.counter_at);
        let sent_at = due.unwrap_or_else(Instant::now);
        if framed.send(MllpFrame::message(bytes)).await.is_err() {
            rec.error(ErrorKind::Connection);
            continue;
        }
        rec.sent();
        match timeout(spec.ack_timeout, framed.next()).await {
            Err(_) => {
                // Close after a timeout (as Mirth does) so a late ACK can't be
                // taken for the next message's.
                rec.error(ErrorKind::Timeout);
            }
            Ok(None | Some(Err(_))) => rec.error(ErrorKind::Connection),
            Ok(Some(Ok(frame))) => {
                let now = Instant::now();
                match judge(&frame, &control_id) {
                    Ok(()) => rec.acked(now - sent_at, now - shared.start),
                    Err(kind) => rec.error(kind),
                }
                conn = Some(framed);
            }
        }
    }
    rec
}

/// The MSH-10 of a patched message: from the field start to the counter's end.
fn control_id_of(bytes: &[u8], counter_at: usize) -> Vec<u8> {
    let end = counter_at + COUNTER_DIGITS;
    let start = bytes[..counter_at]
        .iter()
        .rposition(|&b| b == b'|')
        .map_or(0, |i| i + 1);
    bytes[start..end].to_vec()
}

fn judge(frame: &MllpFrame, control_id: &[u8]) -> std::result::Result<(), ErrorKind> {
    if frame.kind != FrameKind::Message {
        return Err(ErrorKind::Unreadable);
    }
    let m = Message::parse(&frame.payload).map_err(|_| ErrorKind::Unreadable)?;
    let ack = read_ack(&m).map_err(|_| ErrorKind::Unreadable)?;
    if ack.control_id != control_id {
        return Err(ErrorKind::WrongControlId);
    }
    if ack.code.is_accept() {
        Ok(())
    } else {
        Err(ErrorKind::Nak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_patch_in_place_and_control_ids_read_back() {
        let spec = LoadSpec {
            target: "127.0.0.1:1".parse().unwrap(),
            connections: 1,
            pacing: super::super::spec::Pacing::AsFastAsPossible,
            stop: StopAfter::Messages(1),
            mix: LoadSpec::default_mix(),
            ack_timeout: Duration::from_secs(1),
            seed: 7,
        };
        let pool = templates(&spec, "ABCD").unwrap();
        assert_eq!(pool.len(), POOL);
        let t = &pool[3];
        let mut bytes = t.bytes.clone();
        write_counter(&mut bytes[t.counter_at..t.counter_at + COUNTER_DIGITS], 42);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.get_lossy("MSH-10"), "LDABCD000000000042");
        assert_eq!(control_id_of(&bytes, t.counter_at), b"LDABCD000000000042");
        assert_eq!(m.get_lossy("MSH-15"), "");
        // The mix is honoured: more than one message type in the pool.
        let kinds: std::collections::HashSet<String> = pool
            .iter()
            .map(|t| Message::parse(&t.bytes).unwrap().get_lossy("MSH-9"))
            .collect();
        assert!(kinds.len() > 1, "{kinds:?}");
    }
}
