//! Socket helpers shared by the listener and the sender: a stream trait for
//! plain TCP and TLS alike, HL7 timestamps, control ids, read-buffer room,
//! and writes that honour the split-writes fault and a write timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use compact_str::CompactString;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// Anything an MLLP exchange runs over: TCP, or TLS over TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// The current UTC time as an HL7 `YYYYMMDDHHMMSS` timestamp, on the stack.
pub fn hl7_now() -> [u8; 14] {
    hl7_timestamp(time::OffsetDateTime::now_utc())
}

/// `YYYYMMDDHHMMSS` for `t`.
pub fn hl7_timestamp(t: time::OffsetDateTime) -> [u8; 14] {
    let mut out = [b'0'; 14];
    let parts = [
        (t.year().clamp(0, 9999) as u32, 4),
        (u8::from(t.month()) as u32, 2),
        (u32::from(t.day()), 2),
        (u32::from(t.hour()), 2),
        (u32::from(t.minute()), 2),
        (u32::from(t.second()), 2),
    ];
    let mut at = 0;
    for (mut v, width) in parts {
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        at += width;
    }
    out
}

/// The timestamp as `&str` (it is always ASCII digits).
pub fn ts_str(ts: &[u8; 14]) -> &str {
    std::str::from_utf8(ts).unwrap_or("00000000000000")
}

/// A process-wide source of control ids: `<prefix><n>`.
#[derive(Debug)]
pub struct IdSource {
    prefix: &'static str,
    next: AtomicU64,
}

impl IdSource {
    /// Ids `prefix1`, `prefix2`, …
    pub const fn new(prefix: &'static str) -> IdSource {
        IdSource {
            prefix,
            next: AtomicU64::new(1),
        }
    }

    /// Append the next id to `out`.
    pub fn write_next(&self, out: &mut Vec<u8>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        out.extend_from_slice(self.prefix.as_bytes());
        push_u64(out, n);
    }

    /// The next id as a string.
    pub fn next_string(&self) -> String {
        let mut v = Vec::with_capacity(24);
        self.write_next(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }
}

/// Append the decimal digits of `n` without allocating.
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    use std::io::Write as _;
    let _ = write!(out, "{n}");
}

/// Spare room for at least `room` bytes before a read into `buf`.
///
/// `BytesMut` reclaims the front it has advanced past only when asked to
/// reserve, so a buffer that is read into and advanced frame by frame
/// shrinks until a read returns part of a frame and the rest costs another
/// read (measured on the listener: one extra read per ten 1.6 KB frames).
/// With no partial frame held this moves nothing and allocates nothing.
pub fn make_room(buf: &mut BytesMut, room: usize) {
    if buf.capacity() - buf.len() < room {
        buf.reserve(room);
    }
}

/// Write `bytes` in one go, or in `chunk`-byte writes (each flushed) when the
/// split-writes fault is active; the whole write must finish within `limit`.
pub async fn write_all<S: AsyncWrite + Unpin>(
    io: &mut S,
    bytes: &[u8],
    chunk: Option<usize>,
    limit: Duration,
) -> std::io::Result<()> {
    let write = async {
        match chunk {
            Some(n) if n > 0 => {
                for part in bytes.chunks(n) {
                    io.write_all(part).await?;
                    io.flush().await?;
                }
            }
            _ => io.write_all(bytes).await?,
        }
        io.flush().await
    };
    tokio::pin!(write);
    // Most writes complete at once: the timer is armed only for one that
    // blocks (no timer wheel work per ACK on the hot path).
    let first = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match write.as_mut().poll(cx) {
            std::task::Poll::Ready(r) => Some(r),
            std::task::Poll::Pending => None,
        })
    })
    .await;
    if let Some(r) = first {
        return r;
    }
    match tokio::time::timeout(limit, write).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "write timed out",
        )),
    }
}

/// Lossy text of a field, for journal keys and lookups (never whole segments).
pub fn text(raw: &[u8]) -> CompactString {
    // Valid UTF-8 is copied as it is: compact_str's own `from_utf8_lossy`
    // pushes chunk by chunk, about 1,000 instructions for a short id.
    match std::str::from_utf8(raw) {
        Ok(s) => CompactString::new(s),
        Err(_) => CompactString::from(String::from_utf8_lossy(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Buf, BufMut};

    /// Bytes a read of `data` gets: what fits in the spare room, as
    /// `read_buf` fills it (it reserves only when there is no room at all).
    fn read_into(buf: &mut BytesMut, data: &[u8]) -> usize {
        let n = data.len().min(buf.capacity() - buf.len());
        buf.put_slice(&data[..n]);
        n
    }

    /// Frames read into a buffer and advanced past, as the listener does:
    /// without `make_room` reads start returning part of a frame; with it
    /// every read takes a whole frame, in the same allocation, and a
    /// partial frame held across it is kept.
    #[test]
    fn make_room_reclaims_the_consumed_front_without_allocating() {
        let frame = [7u8; 1644];
        let cap = 16 * 1024;

        let mut plain = BytesMut::with_capacity(cap);
        let split = (0..100)
            .filter(|_| {
                let n = read_into(&mut plain, &frame);
                plain.advance(plain.len());
                n < frame.len()
            })
            .count();
        assert!(split > 0, "a plain BytesMut's spare room runs out");

        let mut buf = BytesMut::with_capacity(cap);
        let base = buf.as_ptr() as usize;
        for _ in 0..100 {
            make_room(&mut buf, 8 * 1024);
            let at = buf.as_ptr() as usize;
            assert!((base..base + cap).contains(&at), "the same allocation");
            assert_eq!(read_into(&mut buf, &frame), frame.len());
            buf.advance(frame.len());
        }
        buf.put_slice(b"partial");
        make_room(&mut buf, 8 * 1024);
        assert_eq!(&buf[..], b"partial");
        assert!(buf.capacity() - buf.len() >= 8 * 1024);
    }
}
