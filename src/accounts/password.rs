//! argon2id hashing behind a gate that bounds how many hashes run at once.

use std::sync::{Condvar, Mutex, PoisonError};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use super::error::{Error, Result};

/// Salt length in bytes (the PHC recommendation).
const SALT_LEN: usize = 16;
/// Salt for the decoy hash run for unknown users; its output is thrown away.
const DECOY_SALT: [u8; SALT_LEN] = *b"shoebox-decoy-16";

/// Hashes and verifies passwords.
pub(super) struct Hasher {
    argon2: Argon2<'static>,
    gate: Gate,
}

impl Hasher {
    pub(super) fn new(params: argon2::Params, max_parallel: usize) -> Self {
        Self {
            argon2: Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params),
            gate: Gate::new(max_parallel),
        }
    }

    /// A PHC string for `password` with a fresh random salt.
    pub(super) fn hash(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(Error::Random)?;
        let hash = self
            .gate
            .run(|| {
                self.argon2
                    .hash_password_with_salt(password.as_bytes(), &salt)
            })
            .map_err(Error::Hash)?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches the stored PHC string (whose own parameters are used).
    pub(super) fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        let hash = PasswordHash::new(phc).map_err(|e| Error::BadValue {
            table: "accounts.users",
            what: format!("password hash: {e}"),
        })?;
        match self
            .gate
            .run(|| self.argon2.verify_password(password.as_bytes(), &hash))
        {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(Error::Hash(e)),
        }
    }

    /// Spends what a verification costs, for a user that does not exist, so that timing
    /// does not tell which names exist.
    pub(super) fn decoy(&self, password: &str) {
        let _ = self.gate.run(|| {
            self.argon2
                .hash_password_with_salt(password.as_bytes(), &DECOY_SALT)
        });
    }
}

/// A counting semaphore: at most `limit` closures run inside it at once.
struct Gate {
    busy: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl Gate {
    fn new(limit: usize) -> Self {
        Self {
            busy: Mutex::new(0),
            freed: Condvar::new(),
            limit: limit.max(1),
        }
    }

    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        {
            let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
            while *busy >= self.limit {
                busy = self
                    .freed
                    .wait(busy)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            *busy += 1;
        }
        let _permit = Permit(self);
        f()
    }
}

/// Gives the slot back even if the closure panics.
struct Permit<'a>(&'a Gate);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(PoisonError::into_inner);
        *busy = busy.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::accounts::Options;

    fn hasher() -> Hasher {
        Hasher::new(Options::for_tests().argon2_params().unwrap(), 2)
    }

    #[test]
    fn hash_is_argon2id_phc_with_random_salt() {
        let h = hasher();
        let a = h.hash("correct horse").unwrap();
        let b = h.hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "salts must differ");
        assert!(h.verify("correct horse", &a).unwrap());
        assert!(!h.verify("correct horsf", &a).unwrap());
    }

    #[test]
    fn stored_parameters_win_over_current_ones() {
        let old = hasher().hash("pw").unwrap();
        let params = argon2::Params::new(16, 2, 1, None).unwrap();
        assert!(Hasher::new(params, 1).verify("pw", &old).unwrap());
    }

    #[test]
    fn corrupt_hash_is_an_error() {
        assert!(matches!(
            hasher().verify("pw", "not a phc string"),
            Err(Error::BadValue { .. })
        ));
    }

    #[test]
    fn gate_bounds_concurrency() {
        let gate = Arc::new(Gate::new(2));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, now, peak) = (gate.clone(), now.clone(), peak.clone());
                std::thread::spawn(move || {
                    gate.run(|| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::yield_now();
                        now.fetch_sub(1, Ordering::SeqCst);
                    });
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }
}
