//! Duplicate detection: a message whose MSH-10 this sender (MSH-3 plus MSH-4)
//! already sent gets the stored ACK bytes again and is not processed twice.
//!
//! Memory is bounded: each sender keeps at most `duplicate_memory` control ids
//! (least recently used out first), and at most [`MAX_SENDERS`] senders are
//! tracked.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;

/// Senders tracked at once; past it the least recently seen one is forgotten.
pub const MAX_SENDERS: usize = 1024;

/// Stored ACK replies keyed by sender and control id.
#[derive(Debug, Default)]
pub struct Dedupe {
    inner: Mutex<Senders>,
    /// Held from the duplicate check until the reply is stored (see
    /// [`Dedupe::claim`]).
    processing: Mutex<()>,
}

#[derive(Debug, Default)]
struct Senders {
    by_sender: HashMap<Box<[u8]>, Lru>,
    tick: u64,
}

/// Last-use tick and the stored reply.
type Stored = (u64, Arc<[u8]>);

#[derive(Debug, Default)]
struct Lru {
    map: HashMap<Box<[u8]>, Stored>,
    /// Use order; entries whose tick no longer matches the map are stale.
    order: VecDeque<(u64, Box<[u8]>)>,
    last_used: u64,
}

impl Lru {
    fn touch(&mut self, id: &[u8], tick: u64) -> Option<Arc<[u8]>> {
        let slot = self.map.get_mut(id)?;
        slot.0 = tick;
        let reply = slot.1.clone();
        self.order.push_back((tick, id.into()));
        Some(reply)
    }

    fn insert(&mut self, id: &[u8], reply: Arc<[u8]>, tick: u64, cap: usize) {
        self.map.insert(id.into(), (tick, reply));
        self.order.push_back((tick, id.into()));
        while self.map.len() > cap {
            let Some((t, key)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&key).is_some_and(|e| e.0 == t) {
                self.map.remove(&key);
            }
        }
        // Drop stale order entries so the queue stays proportional to the map.
        if self.order.len() > 2 * cap.max(16) {
            let map = &self.map;
            self.order
                .retain(|(t, k)| map.get(k).is_some_and(|e| e.0 == *t));
        }
    }
}

impl Dedupe {
    /// Hold this from [`Dedupe::get`] until [`Dedupe::put`]: a sender that
    /// drops a connection before the ACK and resends on a new one must not
    /// have both copies pass the check while the first is still being
    /// processed (the chaos soak, `simulator/tests/soak.rs`, saw a message
    /// applied twice). The section is synchronous and short.
    pub fn claim(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.processing.lock()
    }

    /// The stored reply for `(sender, control_id)`, refreshed as recently used.
    pub fn get(&self, sender: &[u8], control_id: &[u8]) -> Option<Arc<[u8]>> {
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        let lru = g.by_sender.get_mut(sender)?;
        lru.last_used = tick;
        lru.touch(control_id, tick)
    }

    /// Remember the reply sent for `(sender, control_id)`; `cap` is the
    /// profile's `duplicate_memory` (0 turns detection off).
    pub fn put(&self, sender: &[u8], control_id: &[u8], reply: Arc<[u8]>, cap: usize) {
        if cap == 0 || control_id.is_empty() {
            return;
        }
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        if !g.by_sender.contains_key(sender) && g.by_sender.len() >= MAX_SENDERS {
            let oldest = g
                .by_sender
                .iter()
                .min_by_key(|(_, l)| l.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                g.by_sender.remove(&k);
            }
        }
        let lru = g.by_sender.entry(sender.into()).or_default();
        lru.last_used = tick;
        lru.insert(control_id, reply, tick, cap);
    }

    /// Control ids remembered for `sender`.
    pub fn len_for(&self, sender: &[u8]) -> usize {
        self.inner
            .lock()
            .by_sender
            .get(sender)
            .map_or(0, |l| l.map.len())
    }

    /// Forget everything (practice reset).
    pub fn clear(&self) {
        *self.inner.lock() = Senders::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_keeps_recent_and_is_bounded() {
        let d = Dedupe::default();
        let r: Arc<[u8]> = Arc::from(&b"ack"[..]);
        for id in [b"1", b"2", b"3"] {
            d.put(b"APP|FAC", id, r.clone(), 2);
        }
        assert_eq!(d.len_for(b"APP|FAC"), 2);
        assert!(d.get(b"APP|FAC", b"1").is_none());
        assert!(d.get(b"APP|FAC", b"2").is_some());
        d.put(b"APP|FAC", b"4", r.clone(), 2);
        // 2 was used more recently than 3.
        assert!(d.get(b"APP|FAC", b"2").is_some());
        assert!(d.get(b"APP|FAC", b"3").is_none());
        assert!(d.get(b"OTHER|FAC", b"2").is_none());
        for i in 0..10_000u32 {
            d.put(b"APP|FAC", i.to_string().as_bytes(), r.clone(), 2);
            let _ = d.get(b"APP|FAC", b"9");
        }
        assert_eq!(d.len_for(b"APP|FAC"), 2);
    }
}
