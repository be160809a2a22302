//! The JSONL file sink: a writer thread that drains a buffer on a fixed interval,
//! so recording an entry never waits on disk I/O.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::Entry;

/// The longest an entry waits in memory before it is written and flushed to the
/// file. A `kill -9` loses at most the entries of this last interval.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Debug, Default)]
struct Shared {
    pending: Vec<Arc<Entry>>,
    /// Batches written so far; `flush` waits for it to pass a target.
    written: u64,
    /// Batches requested so far.
    requested: u64,
    stop: bool,
}

#[derive(Debug)]
pub(super) struct FileSink {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl FileSink {
    pub(super) fn create(path: &Path) -> std::io::Result<FileSink> {
        let file = File::create(path)?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("ngsim-journal".into())
            .spawn(move || write_loop(BufWriter::with_capacity(1 << 16, file), &worker))?;
        Ok(FileSink {
            shared,
            thread: Some(thread),
        })
    }

    pub(super) fn push(&self, e: Arc<Entry>) {
        self.shared.0.lock().pending.push(e);
    }

    /// Write everything pushed so far and wait until it is flushed.
    pub(super) fn flush(&self) {
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock();
        s.requested += 1;
        let target = s.requested;
        cv.notify_all();
        while s.written < target && !s.stop {
            cv.wait(&mut s);
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        {
            let (lock, cv) = &*self.shared;
            lock.lock().stop = true;
            cv.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_loop(mut out: BufWriter<File>, shared: &(Mutex<Shared>, Condvar)) {
    let (lock, cv) = shared;
    let mut line = Vec::with_capacity(512);
    loop {
        let (batch, stop, target) = {
            let mut s = lock.lock();
            if s.pending.is_empty() && !s.stop && s.requested == s.written {
                cv.wait_for(&mut s, FLUSH_INTERVAL);
            }
            (std::mem::take(&mut s.pending), s.stop, s.requested)
        };
        for e in &batch {
            line.clear();
            if serde_json::to_writer(&mut line, &**e).is_ok() {
                line.push(b'\n');
                // A full disk must not take the simulator down; the entries
                // stay in the in-memory journal.
                let _ = out.write_all(&line);
            }
        }
        let _ = out.flush();
        {
            let mut s = lock.lock();
            s.written = s.written.max(target);
            cv.notify_all();
        }
        if stop {
            return;
        }
    }
}
