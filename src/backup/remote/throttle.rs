//! A bandwidth limit: a remote that paces its transfers so that, over a run, no more than
//! the given bytes per second go up (or come down). Each transfer waits until the ones
//! before it would have taken at that rate; a single object still moves at line speed, so
//! callers that want short bursts use smaller packs when a limit is set.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Kind, Listed, Remote, Result};

/// Paces transfers to `bytes_per_sec`.
#[derive(Debug)]
pub struct Pace {
    bytes_per_sec: u64,
    /// When the bytes reserved so far will have gone at the limited rate.
    free_at: Mutex<Option<Instant>>,
}

impl Pace {
    /// A pace of `bytes_per_sec` (at least 1).
    pub fn new(bytes_per_sec: u64) -> Self {
        Self {
            bytes_per_sec: bytes_per_sec.max(1),
            free_at: Mutex::new(None),
        }
    }

    /// Reserves the time `n` bytes take at the limit; returns how long to wait at `now`
    /// before sending them.
    pub fn reserve(&self, n: u64, now: Instant) -> Duration {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let start = free_at.map_or(now, |t| t.max(now));
        let takes = Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        *free_at = Some(start + takes);
        start.saturating_duration_since(now)
    }
}

/// Wraps a remote with an upload and/or a download limit.
pub struct Throttled<R> {
    inner: R,
    up: Option<Pace>,
    down: Option<Pace>,
}

impl<R: Remote> Throttled<R> {
    /// Limits `inner` to `up` and `down` bytes per second (`None`: no limit that way).
    pub fn new(inner: R, up: Option<u64>, down: Option<u64>) -> Self {
        Self {
            inner,
            up: up.map(Pace::new),
            down: down.map(Pace::new),
        }
    }
}

fn pace(p: Option<&Pace>, n: u64) {
    if let Some(p) = p {
        let wait = p.reserve(n, Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

impl<R: Remote> Remote for Throttled<R> {
    fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        self.inner.list(kind)
    }

    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        let bytes = self.inner.get(kind, name)?;
        // Downloads are paced after the fact: the next one waits for this one's share.
        pace(self.down.as_ref(), bytes.len() as u64);
        Ok(bytes)
    }

    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let bytes = self.inner.get_range(kind, name, offset, len)?;
        pace(self.down.as_ref(), bytes.len() as u64);
        Ok(bytes)
    }

    fn size(&self, kind: Kind, name: &str) -> Result<u64> {
        self.inner.size(kind, name)
    }

    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
        pace(self.up.as_ref(), bytes.len() as u64);
        self.inner.put(kind, name, bytes)
    }

    fn delete(&self, kind: Kind, name: &str) -> Result<()> {
        self.inner.delete(kind, name)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::remote::Memory;

    #[test]
    fn transfers_wait_for_the_share_of_those_before_them() {
        let pace = Pace::new(1_000_000);
        let t0 = Instant::now();
        assert_eq!(pace.reserve(2_000_000, t0), Duration::ZERO);
        assert_eq!(pace.reserve(500_000, t0), Duration::from_secs(2));
        let later = t0 + Duration::from_millis(2_100);
        assert_eq!(pace.reserve(1_000, later), Duration::from_millis(400));
        // After a quiet spell nothing is owed: idle time is not saved up as a burst.
        let idle = t0 + Duration::from_mins(1);
        assert_eq!(pace.reserve(1_000_000, idle), Duration::ZERO);
        assert_eq!(pace.reserve(1, idle), Duration::from_secs(1));
    }

    #[test]
    fn a_throttled_remote_still_moves_every_byte() {
        let remote = Throttled::new(Memory::new(), Some(u64::MAX), Some(u64::MAX));
        crate::backup::remote::conformance(&remote).unwrap();
    }
}
