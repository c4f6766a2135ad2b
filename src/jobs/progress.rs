//! Progress handles: a job writes, any number of readers (CLI bar, status page) take snapshots.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared, cheap-to-clone progress of one job. Writers never block readers for long.
#[derive(Clone, Debug)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: u64,
    name: String,
    started: Instant,
    items_done: AtomicU64,
    items_total: AtomicU64,
    bytes_done: AtomicU64,
    bytes_total: AtomicU64,
    finished: AtomicBool,
    cancel: AtomicBool,
    current: Mutex<String>,
    errors: Mutex<Vec<String>>,
}

/// A moment's view of a job's progress, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Unique within this process, in start order.
    pub id: u64,
    /// Job name.
    pub name: String,
    /// Items finished so far.
    pub items_done: u64,
    /// Items expected (0 = unknown yet).
    pub items_total: u64,
    /// Bytes processed so far.
    pub bytes_done: u64,
    /// Bytes expected (0 = unknown yet).
    pub bytes_total: u64,
    /// What the job is working on.
    pub current: String,
    /// Time since start.
    pub elapsed: Duration,
    /// True once the job ended.
    pub finished: bool,
    /// The last errors, newest last (bounded).
    pub recent_errors: Vec<String>,
}

impl Snapshot {
    /// Bytes per second since the start.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.bytes_done as f64 / secs
        } else {
            0.0
        }
    }

    /// Time left at the average rate so far, when totals are known.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        (self.bytes_total > self.bytes_done && rate > 0.0)
            .then(|| Duration::from_secs_f64((self.bytes_total - self.bytes_done) as f64 / rate))
    }
}

const KEPT_ERRORS: usize = 20;
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Progress {
    /// A fresh handle for a job called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                name: name.into(),
                started: Instant::now(),
                items_done: AtomicU64::new(0),
                items_total: AtomicU64::new(0),
                bytes_done: AtomicU64::new(0),
                bytes_total: AtomicU64::new(0),
                finished: AtomicBool::new(false),
                cancel: AtomicBool::new(false),
                current: Mutex::new(String::new()),
                errors: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Adds to the expected totals (a walk discovers work as it goes).
    pub fn add_total(&self, items: u64, bytes: u64) {
        self.inner.items_total.fetch_add(items, Ordering::Relaxed);
        self.inner.bytes_total.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records finished work.
    pub fn advance(&self, items: u64, bytes: u64) {
        self.inner.items_done.fetch_add(items, Ordering::Relaxed);
        self.inner.bytes_done.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Says what is being worked on.
    pub fn set_current(&self, what: impl Into<String>) {
        *self
            .inner
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = what.into();
    }

    /// Remembers an error for the status page (the job goes on).
    pub fn record_error(&self, what: impl Into<String>) {
        let mut errors = self
            .inner
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if errors.len() == KEPT_ERRORS {
            errors.remove(0);
        }
        errors.push(what.into());
    }

    /// Marks the job ended.
    pub fn finish(&self) {
        self.inner.finished.store(true, Ordering::Release);
    }

    /// Asks the job to stop at its next safe point.
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Release);
    }

    /// True once someone asked the job to stop.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.load(Ordering::Acquire)
    }

    /// The current state.
    pub fn snapshot(&self) -> Snapshot {
        let i = &self.inner;
        Snapshot {
            id: i.id,
            name: i.name.clone(),
            items_done: i.items_done.load(Ordering::Relaxed),
            items_total: i.items_total.load(Ordering::Relaxed),
            bytes_done: i.bytes_done.load(Ordering::Relaxed),
            bytes_total: i.bytes_total.load(Ordering::Relaxed),
            current: i.current.lock().map(|c| c.clone()).unwrap_or_default(),
            elapsed: i.started.elapsed(),
            finished: i.finished.load(Ordering::Acquire),
            recent_errors: i.errors.lock().map(|e| e.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reflects_writes_from_clones() {
        let p = Progress::new("import");
        let writer = p.clone();
        writer.add_total(10, 1000);
        writer.advance(3, 300);
        writer.set_current("a.jpg");
        for i in 0..25 {
            writer.record_error(format!("e{i}"));
        }
        let s = p.snapshot();
        assert_eq!(
            (s.items_done, s.items_total, s.bytes_done, s.bytes_total),
            (3, 10, 300, 1000)
        );
        assert_eq!(s.current, "a.jpg");
        assert_eq!(s.recent_errors.len(), KEPT_ERRORS);
        assert_eq!(s.recent_errors.last().unwrap(), "e24");
        assert!(!s.finished);
        p.cancel();
        assert!(writer.is_cancelled());
    }
}
