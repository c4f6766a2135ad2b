//! A remote that fails on purpose: transient errors, truncated reads, or "the process died"
//! after a number of writes. Tests use it to prove retries and resumption.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::{Error, ErrorKind, Kind, Listed, Remote, Result};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every `n`th call fails with a transient error (as a 503 or a reset would).
    EveryNth(u64),
    /// Every `n`th `get`/`get_range` returns its bytes cut in half (a truncated body).
    TruncateEveryNth(u64),
    /// After `n` successful puts every call fails for good (the box lost power).
    DieAfterPuts(u64),
    /// After `n` successful puts and deletes together every call fails for good.
    DieAfterWrites(u64),
}

/// Wraps a remote and injects one [`Fault`].
pub struct Faulty<R> {
    inner: R,
    fault: Fault,
    calls: AtomicU64,
    puts: AtomicU64,
    writes: AtomicU64,
    log: Mutex<Vec<String>>,
}

impl<R: Remote> Faulty<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, fault: Fault) -> Self {
        Self {
            inner,
            fault,
            calls: AtomicU64::new(0),
            puts: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    /// The wrapped remote.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Successful puts and deletes so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Calls of any kind so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Successful puts so far.
    pub fn puts(&self) -> u64 {
        self.puts.load(Ordering::SeqCst)
    }

    /// Paths of the objects put, in order.
    pub fn put_log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn before(&self, what: &'static str, path: &str) -> Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.fault {
            Fault::EveryNth(k) if k > 0 && n.is_multiple_of(k) => Err(Error::new(
                ErrorKind::Transient,
                what,
                path,
                "injected: 503 Slow Down",
            )),
            Fault::DieAfterPuts(k) if self.puts.load(Ordering::SeqCst) >= k => Err(Error::new(
                ErrorKind::Other,
                what,
                path,
                "injected: the process died",
            )),
            Fault::DieAfterWrites(k) if self.writes.load(Ordering::SeqCst) >= k => Err(Error::new(
                ErrorKind::Other,
                what,
                path,
                "injected: the process died",
            )),
            _ => Ok(()),
        }
    }

    fn maybe_truncate(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        if let Fault::TruncateEveryNth(k) = self.fault {
            let n = self.calls.load(Ordering::SeqCst);
            if k > 0 && n.is_multiple_of(k) {
                bytes.truncate(bytes.len() / 2);
            }
        }
        bytes
    }
}

impl<R: Remote> Remote for Faulty<R> {
    fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        self.before("list", kind.folder())?;
        self.inner.list(kind)
    }

    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        self.before("get", &kind.path(name))?;
        self.inner.get(kind, name).map(|b| self.maybe_truncate(b))
    }

    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        self.before("get", &kind.path(name))?;
        self.inner
            .get_range(kind, name, offset, len)
            .map(|b| self.maybe_truncate(b))
    }

    fn size(&self, kind: Kind, name: &str) -> Result<u64> {
        self.before("stat", &kind.path(name))?;
        self.inner.size(kind, name)
    }

    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
        self.before("put", &kind.path(name))?;
        self.inner.put(kind, name, bytes)?;
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut log) = self.log.lock() {
            log.push(kind.path(name));
        }
        Ok(())
    }

    fn delete(&self, kind: Kind, name: &str) -> Result<()> {
        self.before("delete", &kind.path(name))?;
        self.inner.delete(kind, name)?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("faulty({})", self.inner.describe())
    }
}
