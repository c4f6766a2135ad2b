//! [`Options`]: password hashing cost, session lifetime and login throttling.

use std::time::Duration;

use super::error::{Error, Result};

/// Account settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// argon2id memory per hash, in KiB.
    ///
    /// The default, 19 MiB with `t_cost` 2 and one lane, is the OWASP minimum for argon2id
    /// (the same as the argon2 crate's default). It takes well under a second on a Pi 4's
    /// Cortex-A72, and with [`Self::max_parallel_hashes`] at 2 the hashing peak stays under
    /// 40 MiB of a 1 GiB board that also runs imports, thumbnails and the web server. One lane
    /// keeps a login from occupying both cores. Changing these affects new hashes only: a
    /// stored hash carries its own parameters and still verifies.
    pub argon2_m_cost_kib: u32,
    /// argon2id passes over memory.
    pub argon2_t_cost: u32,
    /// argon2id lanes.
    pub argon2_p_cost: u32,
    /// Hashes allowed to run at once; further logins wait. Bounds RAM when many requests
    /// arrive together (a blocking thread pool would otherwise run hundreds at once).
    pub max_parallel_hashes: usize,
    /// How long a session lives without use. It is renewed to this length when less than
    /// half of it is left.
    pub session_lifetime: Duration,
    /// Login throttling.
    pub throttle: ThrottleOptions,
}

/// When failed logins start to be refused.
#[derive(Debug, Clone)]
pub struct ThrottleOptions {
    /// Failures accepted for one name or address before refusals start.
    pub free_failures: u32,
    /// A name or address is forgotten after this long without failures (counted from the
    /// end of its current lockout).
    pub window: Duration,
    /// Lockouts double from one second per further failure up to this.
    pub max_delay: Duration,
    /// Names tracked, and addresses tracked, at most each; the stalest are evicted first.
    pub max_tracked: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            argon2_m_cost_kib: 19 * 1024,
            argon2_t_cost: 2,
            argon2_p_cost: 1,
            max_parallel_hashes: 2,
            session_lifetime: Duration::from_hours(30 * 24),
            throttle: ThrottleOptions::default(),
        }
    }
}

impl Default for ThrottleOptions {
    fn default() -> Self {
        Self {
            free_failures: 5,
            window: Duration::from_mins(15),
            max_delay: Duration::from_mins(15),
            max_tracked: 4096,
        }
    }
}

impl Options {
    /// The defaults with the cheapest argon2 parameters the algorithm allows (8 KiB, one
    /// pass), for fast tests. Never use these for real accounts.
    pub fn for_tests() -> Self {
        Self {
            argon2_m_cost_kib: argon2::Params::MIN_M_COST,
            argon2_t_cost: 1,
            argon2_p_cost: 1,
            ..Self::default()
        }
    }

    /// The argon2 parameters, checked.
    pub(super) fn argon2_params(&self) -> Result<argon2::Params> {
        argon2::Params::new(
            self.argon2_m_cost_kib,
            self.argon2_t_cost,
            self.argon2_p_cost,
            None,
        )
        .map_err(Error::BadParams)
    }

    /// The session lifetime in whole seconds (at least one).
    pub(super) fn lifetime_secs(&self) -> i64 {
        i64::try_from(self.session_lifetime.as_secs())
            .unwrap_or(i64::MAX)
            .max(1)
    }
}
