//! Duplicate detection: a message whose MSH-10 this sender (MSH-3 plus MSH-4)
//! already sent gets the stored ACK bytes again and is not processed twice.
//!
//! The check is atomic: [`Dedupe::begin`] either finds the stored ACK, finds
//! the key reserved by a message still being processed (on another
//! connection), or reserves it. A reservation is completed with the ACK
//! bytes ([`Reservation::complete`]); whoever found it pending waits for
//! those bytes ([`Pending::wait`]), so a duplicate racing its original on two
//! connections is processed once and both get the same ACK. A reservation
//! dropped without an ACK (the handler bailed out) is released, and its
//! waiters try again.
//!
//! Memory is bounded: each sender keeps at most `duplicate_memory` control ids
//! (least recently used out first), and at most [`MAX_SENDERS`] senders are
//! tracked.
//!
//! The maps hash with foldhash (randomly seeded per process) rather than
//! SipHash: every message does two lookups under the lock, and SipHash was
//! a visible share of the listener's per-message CPU.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use foldhash::fast::RandomState;

use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

/// Senders tracked at once; past it the least recently seen one is forgotten.
pub const MAX_SENDERS: usize = 1024;

/// Stored ACK replies keyed by sender and control id.
#[derive(Debug, Default)]
pub struct Dedupe {
    inner: Mutex<Senders>,
}

#[derive(Debug, Default)]
struct Senders {
    by_sender: HashMap<Key, Lru, RandomState>,
    tick: u64,
}

/// A sender or control id. Shared, not copied: the map, the use order and
/// a [`Reservation`] hold the same bytes (one allocation per new id).
type Key = Arc<[u8]>;

/// What a key holds: the ACK sent, or a message still being processed.
#[derive(Debug, Clone)]
enum Slot {
    Done(Arc<[u8]>),
    Pending(Arc<Pending>),
}

/// Last-use tick and the slot.
type Stored = (u64, Slot);

#[derive(Debug)]
struct Lru {
    /// The sender this memory is for (its key in [`Senders::by_sender`]).
    sender: Key,
    map: HashMap<Key, Stored, RandomState>,
    /// Use order; entries whose tick no longer matches the map are stale.
    order: VecDeque<(u64, Key)>,
    last_used: u64,
}

impl Lru {
    fn new(sender: Key) -> Lru {
        Lru {
            sender,
            map: HashMap::default(),
            order: VecDeque::new(),
            last_used: 0,
        }
    }

    fn touch(&mut self, id: &[u8], tick: u64) -> Option<Slot> {
        let (key, _) = self.map.get_key_value(id)?;
        let key = key.clone();
        let slot = self.map.get_mut(id)?;
        slot.0 = tick;
        let found = slot.1.clone();
        self.order.push_back((tick, key));
        Some(found)
    }

    fn insert(&mut self, id: Key, slot: Slot, tick: u64, cap: usize) {
        self.map.insert(id.clone(), (tick, slot));
        self.order.push_back((tick, id));
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

/// The state of a reserved key, shared with whoever waits for it.
#[derive(Debug)]
enum PendingState {
    Processing,
    Done(Arc<[u8]>),
    Released,
}

/// A message being processed under a reserved key: waiters get its ACK.
#[derive(Debug)]
pub struct Pending {
    state: Mutex<PendingState>,
    /// Blocking waiters (batch files, on a blocking thread).
    cond: Condvar,
    /// Async waiters (connections).
    notify: Notify,
}

impl Pending {
    fn new() -> Arc<Pending> {
        Arc::new(Pending {
            state: Mutex::new(PendingState::Processing),
            cond: Condvar::new(),
            notify: Notify::new(),
        })
    }

    fn finish(&self, end: PendingState) {
        *self.state.lock() = end;
        self.cond.notify_all();
        self.notify.notify_waiters();
    }

    fn outcome(&self) -> Option<Option<Arc<[u8]>>> {
        match &*self.state.lock() {
            PendingState::Processing => None,
            PendingState::Done(ack) => Some(Some(ack.clone())),
            PendingState::Released => Some(None),
        }
    }

    /// The original's ACK once it is processed; `None` when it was released
    /// without one (then ask [`Dedupe::begin`] again).
    pub async fn wait(&self) -> Option<Arc<[u8]>> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a finish in between is not missed.
            notified.as_mut().enable();
            if let Some(end) = self.outcome() {
                return end;
            }
            notified.await;
        }
    }

    /// [`Pending::wait`] for a blocking thread.
    pub fn wait_blocking(&self) -> Option<Arc<[u8]>> {
        let mut g = self.state.lock();
        loop {
            match &*g {
                PendingState::Processing => self.cond.wait(&mut g),
                PendingState::Done(ack) => return Some(ack.clone()),
                PendingState::Released => return None,
            }
        }
    }
}

/// What [`Dedupe::begin`] found.
#[derive(Debug)]
pub enum Begin<'a> {
    /// Detection is off (no memory, or no MSH-10): process it.
    Off,
    /// A duplicate: these are the ACK bytes sent the first time.
    Stored(Arc<[u8]>),
    /// The same message is being processed right now: wait for its ACK.
    InFlight(Arc<Pending>),
    /// First sight: the key is reserved; process it and complete.
    Reserved(Reservation<'a>),
}

/// A reserved key; complete it with the ACK bytes. Dropped unfinished, it
/// is released and its waiters try again.
#[derive(Debug)]
pub struct Reservation<'a> {
    dedupe: &'a Dedupe,
    sender: Key,
    control_id: Key,
    pending: Arc<Pending>,
    done: bool,
}

impl Reservation<'_> {
    /// Store `reply` as the ACK for the reserved key and wake the waiters.
    pub fn complete(mut self, reply: Arc<[u8]>) {
        self.done = true;
        self.dedupe.settle(
            &self.sender,
            &self.control_id,
            &self.pending,
            Some(reply.clone()),
        );
        self.pending.finish(PendingState::Done(reply));
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.dedupe
                .settle(&self.sender, &self.control_id, &self.pending, None);
            self.pending.finish(PendingState::Released);
        }
    }
}

impl Dedupe {
    /// Look up `(sender, control_id)` and, on first sight, reserve it, in
    /// one step under the lock; `cap` is the profile's `duplicate_memory`
    /// (0 turns detection off).
    pub fn begin(&self, sender: &[u8], control_id: &[u8], cap: usize) -> Begin<'_> {
        if cap == 0 || control_id.is_empty() {
            return Begin::Off;
        }
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        // A known sender (the hot path): one lookup, no sender allocation.
        let lru = match g.by_sender.get_mut(sender) {
            Some(lru) => {
                lru.last_used = tick;
                match lru.touch(control_id, tick) {
                    Some(Slot::Done(ack)) => return Begin::Stored(ack),
                    Some(Slot::Pending(p)) => return Begin::InFlight(p),
                    None => lru,
                }
            }
            None => g.lru_for(sender, tick),
        };
        let pending = Pending::new();
        let id: Key = Arc::from(control_id);
        lru.insert(id.clone(), Slot::Pending(pending.clone()), tick, cap);
        let sender = lru.sender.clone();
        drop(g);
        Begin::Reserved(Reservation {
            dedupe: self,
            sender,
            control_id: id,
            pending,
            done: false,
        })
    }

    /// Replace the reserved slot (if it is still ours: a reset or eviction
    /// may have dropped it) with the ACK, or remove it.
    fn settle(
        &self,
        sender: &[u8],
        control_id: &[u8],
        ours: &Arc<Pending>,
        ack: Option<Arc<[u8]>>,
    ) {
        let mut g = self.inner.lock();
        let Some(lru) = g.by_sender.get_mut(sender) else {
            return;
        };
        let Some(entry) = lru.map.get_mut(control_id) else {
            return;
        };
        if !matches!(&entry.1, Slot::Pending(p) if Arc::ptr_eq(p, ours)) {
            return;
        }
        match ack {
            Some(ack) => entry.1 = Slot::Done(ack),
            None => {
                lru.map.remove(control_id);
            }
        }
    }

    /// The stored reply for `(sender, control_id)`, refreshed as recently
    /// used (`None` while the original is still being processed).
    pub fn get(&self, sender: &[u8], control_id: &[u8]) -> Option<Arc<[u8]>> {
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        let lru = g.by_sender.get_mut(sender)?;
        lru.last_used = tick;
        match lru.touch(control_id, tick)? {
            Slot::Done(ack) => Some(ack),
            Slot::Pending(_) => None,
        }
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
        g.lru_for(sender, tick)
            .insert(Arc::from(control_id), Slot::Done(reply), tick, cap);
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

impl Senders {
    /// The sender's LRU (created, evicting the least recently seen sender
    /// past [`MAX_SENDERS`]), marked used at `tick`.
    fn lru_for(&mut self, sender: &[u8], tick: u64) -> &mut Lru {
        if !self.by_sender.contains_key(sender) && self.by_sender.len() >= MAX_SENDERS {
            let oldest = self
                .by_sender
                .iter()
                .min_by_key(|(_, l)| l.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.by_sender.remove(&k);
            }
        }
        let key: Key = Arc::from(sender);
        let lru = self
            .by_sender
            .entry(key.clone())
            .or_insert_with(|| Lru::new(key));
        lru.last_used = tick;
        lru
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

    #[test]
    fn begin_reserves_once_and_waiters_get_the_ack() {
        let d = Dedupe::default();
        let Begin::Reserved(r) = d.begin(b"A|F", b"1", 8) else {
            panic!("first sight reserves");
        };
        let Begin::InFlight(p) = d.begin(b"A|F", b"1", 8) else {
            panic!("second sight waits");
        };
        let waiter = std::thread::spawn(move || p.wait_blocking());
        r.complete(Arc::from(&b"ack"[..]));
        assert_eq!(waiter.join().unwrap().as_deref(), Some(&b"ack"[..]));
        assert!(matches!(d.begin(b"A|F", b"1", 8), Begin::Stored(a) if &*a == b"ack"));
        assert!(matches!(d.begin(b"A|F", b"", 8), Begin::Off));
        assert!(matches!(d.begin(b"A|F", b"2", 0), Begin::Off));
    }

    #[test]
    fn a_dropped_reservation_is_released() {
        let d = Dedupe::default();
        let r = d.begin(b"A|F", b"1", 8);
        let Begin::InFlight(p) = d.begin(b"A|F", b"1", 8) else {
            panic!("in flight");
        };
        drop(r);
        assert_eq!(p.wait_blocking(), None);
        assert!(matches!(d.begin(b"A|F", b"1", 8), Begin::Reserved(_)));
        assert_eq!(d.get(b"A|F", b"1"), None);
    }
}
