//! Sessions looked up in the last few seconds, kept in memory so the sixty thumbnail requests
//! of one timeline page cost one database read, not sixty.
//!
//! Correctness over speed: every committed write to the accounts bumps a generation and
//! empties the cache, and a lookup is only cached when no write committed while it read, so a
//! logout, role change, removal or password change is seen by the very next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Session;

/// How long a looked-up session is trusted without reading the database again.
const TTL: Duration = Duration::from_secs(5);
/// At most this many sessions are remembered (a family has a handful).
const MAX: usize = 256;

/// The cache.
#[derive(Default)]
pub(super) struct Recent {
    generation: AtomicU64,
    entries: Mutex<HashMap<[u8; 32], (Session, Instant)>>,
}

impl Recent {
    /// The generation to pass to [`Recent::remember`] after a database read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A session looked up less than [`TTL`] ago that has not expired since.
    pub fn get(&self, key: &[u8; 32], now_unix: i64) -> Option<Session> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(s, at)| at.elapsed() < TTL && s.expires > now_unix)
            .map(|(s, _)| s.clone())
    }

    /// Remembers a lookup made at `generation`, unless a write committed since.
    pub fn remember(&self, key: [u8; 32], session: &Session, generation: u64) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX {
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
            if entries.len() >= MAX {
                entries.clear();
            }
        }
        entries.insert(key, (session.clone(), Instant::now()));
    }

    /// Called after every committed write: nothing cached before it is trusted again.
    pub fn invalidate(&self) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Role;

    fn session() -> Session {
        Session {
            token: "t".into(),
            user: "ann".into(),
            role: Role::Member,
            csrf: "c".into(),
            expires: 100,
            own_uploads_only: false,
        }
    }

    #[test]
    fn a_write_between_read_and_remember_keeps_the_stale_answer_out() {
        let r = Recent::default();
        let g = r.generation();
        r.invalidate(); // a write committed while the lookup read the old state
        r.remember([1; 32], &session(), g);
        assert_eq!(r.get(&[1; 32], 0), None);
        r.remember([1; 32], &session(), r.generation());
        assert_eq!(r.get(&[1; 32], 0).map(|s| s.user), Some("ann".into()));
        assert_eq!(
            r.get(&[1; 32], 100),
            None,
            "expired sessions are not served"
        );
        r.invalidate();
        assert_eq!(r.get(&[1; 32], 0), None);
    }
}
