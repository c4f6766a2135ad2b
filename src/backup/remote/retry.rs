//! Retries with exponential backoff and full jitter for transient failures (5xx, 429,
//! timeouts, resets), so a flaky uplink slows a backup down instead of failing it.

use std::time::Duration;

use bytes::Bytes;

use super::{Kind, Listed, Remote, Result};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in total, the first included.
    pub attempts: u32,
    /// Upper bound of the first pause.
    pub base: Duration,
    /// Upper bound of any pause.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `n` (0-based): uniform in [0, min(cap, base·2ⁿ)].
    pub fn pause(&self, n: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        let mut r = [0u8; 8];
        let unit = if getrandom::fill(&mut r).is_ok() {
            (u64::from_le_bytes(r) >> 11) as f64 / (1u64 << 53) as f64
        } else {
            0.5
        };
        ceiling.mul_f64(unit)
    }
}

/// Wraps a remote; retries transient failures of any call.
pub struct Retrying<R> {
    inner: R,
    policy: RetryPolicy,
}

impl<R: Remote> Retrying<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    fn run<T>(&self, mut call: impl FnMut() -> Result<T>) -> Result<T> {
        let mut n = 0;
        loop {
            match call() {
                Err(e) if e.is_transient() && n + 1 < self.policy.attempts => {
                    tracing::debug!("retrying after: {e}");
                    std::thread::sleep(self.policy.pause(n));
                    n += 1;
                }
                other => return other,
            }
        }
    }
}

impl<R: Remote> Remote for Retrying<R> {
    fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        self.run(|| self.inner.list(kind))
    }
    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        self.run(|| self.inner.get(kind, name))
    }
    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        self.run(|| self.inner.get_range(kind, name, offset, len))
    }
    fn size(&self, kind: Kind, name: &str) -> Result<u64> {
        self.run(|| self.inner.size(kind, name))
    }
    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
        self.run(|| self.inner.put(kind, name, bytes.clone()))
    }
    fn delete(&self, kind: Kind, name: &str) -> Result<()> {
        self.run(|| self.inner.delete(kind, name))
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ErrorKind, Fault, Faulty, Memory};
    use super::*;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        }
    }

    #[test]
    fn transient_failures_are_retried_until_they_pass() {
        let remote = Retrying::new(Faulty::new(Memory::new(), Fault::EveryNth(2)), fast());
        for i in 0..20 {
            remote
                .put(Kind::Pack, &format!("p{i}"), Bytes::from_static(b"x"))
                .unwrap();
        }
        assert_eq!(remote.list(Kind::Pack).unwrap().len(), 20);
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let faulty = Faulty::new(Memory::new(), Fault::DieAfterPuts(0));
        let remote = Retrying::new(faulty, fast());
        let err = remote
            .put(Kind::Pack, "p", Bytes::from_static(b"x"))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other);
    }

    #[test]
    fn missing_objects_are_not_retried() {
        let remote = Retrying::new(Memory::new(), fast());
        assert_eq!(
            remote.get(Kind::Pack, "nope").unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn pauses_grow_and_stay_under_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for n in 0..30 {
            assert!(p.pause(n) <= Duration::from_secs(1));
        }
        assert!(p.pause(0) <= Duration::from_millis(100));
    }
}
