//! The journal: the single, ordered record of every exchange on every surface.
//!
//! The runner judges a system under test only from this record (plus the ACKs it
//! sends and what reaches the recipient sinks), so every verdict can point at
//! entries by sequence number.
//!
//! # Bound and loss policy
//! - In memory the journal keeps the newest `capacity` entries (default 100,000).
//!   Older entries are evicted; [`Journal::stats`] reports how many, and
//!   `GET /_ngsim/journal` returns `first_seq` so a reader can tell.
//! - With a file sink (`ngsim serve --journal FILE`) every entry is also written
//!   as one JSON line. A writer thread flushes at least every
//!   [`sink::FLUSH_INTERVAL`]; a `kill -9` loses at most the entries recorded in
//!   that last interval, and the file is valid JSONL up to its last complete line.
//! - Entries hold no resource bodies and no HL7 segments: only routes, ids, codes
//!   and timings. Secrets (tokens, client secrets, assertions) are never recorded.

mod entry;
mod sink;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The inline string type of journal entries' short text (see [`MllpExchange`]).
pub use compact_str::CompactString;
pub use entry::{Detail, Entry, HttpExchange, MllpExchange, Note, Surface};
pub use sink::FLUSH_INTERVAL;

/// Default number of entries kept in memory.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Counters describing the journal's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Sequence number the next entry will get.
    pub next_seq: u64,
    /// Oldest sequence number still in memory (equals `next_seq` when empty).
    pub first_seq: u64,
    /// Entries evicted from memory because of the bound.
    pub evicted: u64,
    /// Maximum entries kept in memory.
    pub capacity: usize,
}

#[derive(Debug)]
struct Inner {
    ring: Mutex<VecDeque<Arc<Entry>>>,
    capacity: usize,
    next_seq: AtomicU64,
    evicted: AtomicU64,
    notify: Notify,
    origin: Instant,
    sink: Option<sink::FileSink>,
}

/// A shared handle to the journal. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

impl Journal {
    /// An in-memory journal keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Journal {
        Journal::build(capacity, None)
    }

    /// A journal that also appends every entry to `path` as JSON lines.
    pub fn with_file(capacity: usize, path: &Path) -> std::io::Result<Journal> {
        Ok(Journal::build(
            capacity,
            Some(sink::FileSink::create(path)?),
        ))
    }

    fn build(capacity: usize, sink: Option<sink::FileSink>) -> Journal {
        let capacity = capacity.max(1);
        Journal {
            inner: Arc::new(Inner {
                ring: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
                capacity,
                next_seq: AtomicU64::new(1),
                evicted: AtomicU64::new(0),
                notify: Notify::new(),
                origin: Instant::now(),
                sink,
            }),
        }
    }

    /// Microseconds since the journal was created, on tokio's clock (so tests
    /// with `tokio::time::pause()` see virtual time).
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.inner.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Append an exchange and return its sequence number.
    pub fn record(&self, surface: Surface, peer: Option<CompactString>, detail: Detail) -> u64 {
        let t_us = self.now_us();
        let at = time::OffsetDateTime::now_utc();
        let entry;
        // The evicted entry is dropped after the lock is released: freeing
        // its strings is work no other recorder should wait for.
        let evicted;
        {
            let mut ring = self.inner.ring.lock();
            // The sequence is taken under the lock so the ring stays in order.
            let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
            entry = Arc::new(Entry {
                seq,
                at,
                t_us,
                surface,
                peer,
                detail,
            });
            evicted = if ring.len() == self.inner.capacity {
                self.inner.evicted.fetch_add(1, Ordering::Relaxed);
                ring.pop_front()
            } else {
                None
            };
            ring.push_back(entry.clone());
        }
        drop(evicted);
        if let Some(sink) = &self.inner.sink {
            sink.push(entry.clone());
        }
        self.inner.notify.notify_waiters();
        entry.seq
    }

    /// Counters for the bound and the sequence.
    pub fn stats(&self) -> Stats {
        let ring = self.inner.ring.lock();
        let next_seq = self.inner.next_seq.load(Ordering::Relaxed);
        Stats {
            next_seq,
            first_seq: ring.front().map_or(next_seq, |e| e.seq),
            evicted: self.inner.evicted.load(Ordering::Relaxed),
            capacity: self.inner.capacity,
        }
    }

    /// Entries with `seq >= since` that satisfy `filter`, oldest first, at most `limit`.
    pub fn entries(
        &self,
        since: u64,
        limit: usize,
        filter: impl Fn(&Entry) -> bool,
    ) -> Vec<Arc<Entry>> {
        let ring = self.inner.ring.lock();
        let start = match ring.front() {
            Some(first) if since > first.seq => {
                usize::try_from(since - first.seq).unwrap_or(usize::MAX)
            }
            _ => 0,
        };
        ring.iter()
            .skip(start)
            .filter(|e| filter(e))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Every entry still in memory.
    pub fn snapshot(&self) -> Vec<Arc<Entry>> {
        self.entries(0, usize::MAX, |_| true)
    }

    /// Wait until an entry with `seq >= since` satisfies `pred`, or `timeout`
    /// passes. Wakes on each new entry; never polls.
    pub async fn wait_for(
        &self,
        since: u64,
        timeout: Duration,
        pred: impl Fn(&Entry) -> bool,
    ) -> Option<Arc<Entry>> {
        let deadline = Instant::now() + timeout;
        let mut from = since;
        loop {
            // Register for the wake-up before scanning, so an entry recorded
            // between the scan and the await is not missed.
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (hit, next) = self.scan(from, &pred);
            if hit.is_some() {
                return hit;
            }
            from = next;
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.scan(from, &pred).0;
            }
        }
    }

    /// The first entry at or after `from` matching `pred`, and the next sequence
    /// number, read under one lock.
    fn scan(&self, from: u64, pred: &impl Fn(&Entry) -> bool) -> (Option<Arc<Entry>>, u64) {
        let ring = self.inner.ring.lock();
        let next = self.inner.next_seq.load(Ordering::Relaxed);
        let start = match ring.front() {
            Some(first) if from > first.seq => {
                usize::try_from(from - first.seq).unwrap_or(usize::MAX)
            }
            _ => 0,
        };
        (ring.iter().skip(start).find(|e| pred(e)).cloned(), next)
    }

    /// Flush the file sink, if any, and wait until it is on disk.
    pub fn flush(&self) {
        if let Some(sink) = &self.inner.sink {
            sink.flush();
        }
    }
}

#[cfg(test)]
mod tests;
