//! Login throttling in memory, per user name and per client address, bounded in size.
//!
//! Every admitted attempt counts as a failure until a success wipes the counts of its name
//! and address. After `free_failures` failures a key is locked for 1 s, then 2 s, 4 s… per further
//! failure, up to `max_delay`. A key is forgotten once `window` has passed since its lockout
//! ended (or since its last failure when it was not locked). Time is monotonic
//! ([`Instant`]): a Pi without a clock battery jumps its wall clock at boot.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::options::ThrottleOptions;

/// Failure counts by name and by address.
pub(super) struct Throttle {
    names: Tracker<String>,
    addrs: Tracker<IpAddr>,
    options: ThrottleOptions,
}

impl Throttle {
    pub(super) fn new(options: ThrottleOptions) -> Self {
        Self {
            names: Tracker::default(),
            addrs: Tracker::default(),
            options,
        }
    }

    /// Admits an attempt by `name` from `client` (when known), or tells how long until one
    /// is admitted. An admitted attempt counts as a failure at once, in the same lock as the
    /// check, so concurrent guesses cannot all slip past the check while earlier ones are
    /// still hashing; [`Self::succeeded`] wipes the count when the password was right.
    pub(super) fn attempt(
        &mut self,
        name: &str,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Option<Duration> {
        let by_name = self.names.blocked(name, now, &self.options);
        let by_addr = client.and_then(|c| self.addrs.blocked(&addr_key(c), now, &self.options));
        if let Some(wait) = by_name.max(by_addr) {
            return Some(wait);
        }
        self.names.fail(name.to_owned(), now, &self.options);
        if let Some(client) = client {
            self.addrs.fail(addr_key(client), now, &self.options);
        }
        None
    }

    /// Forgets the name's and the address's failures after a success.
    pub(super) fn succeeded(&mut self, name: &str, client: Option<IpAddr>) {
        self.names.entries.remove(name);
        if let Some(client) = client {
            self.addrs.entries.remove(&addr_key(client));
        }
    }
}

/// The key an address is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by
/// its /64, since one client holds a whole /64 and can pick any address in it.
fn addr_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into()),
        },
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    /// Locked until this instant; equals the last failure when not locked.
    until: Instant,
}

impl Entry {
    fn is_stale(&self, now: Instant, options: &ThrottleOptions) -> bool {
        now.saturating_duration_since(self.until) >= options.window
    }
}

struct Tracker<K> {
    entries: HashMap<K, Entry>,
}

impl<K> Default for Tracker<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Tracker<K> {
    fn blocked<Q>(&self, key: &Q, now: Instant, options: &ThrottleOptions) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entry = self.entries.get(key)?;
        (entry.until > now && !entry.is_stale(now, options)).then(|| entry.until - now)
    }

    fn fail(&mut self, key: K, now: Instant, options: &ThrottleOptions) {
        if !self.entries.contains_key(&key) {
            self.make_room(now, options);
        }
        let entry = self.entries.entry(key).or_insert(Entry {
            failures: 0,
            until: now,
        });
        if entry.is_stale(now, options) {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        let delay = lockout(entry.failures, options);
        entry.until = now.checked_add(delay).unwrap_or(now);
    }

    /// Keeps the table under its bound: stale entries go first, then the one whose lockout
    /// ends soonest.
    fn make_room(&mut self, now: Instant, options: &ThrottleOptions) {
        let max = options.max_tracked.max(1);
        if self.entries.len() < max {
            return;
        }
        self.entries.retain(|_, e| !e.is_stale(now, options));
        while self.entries.len() >= max {
            let Some(victim) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.until)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            self.entries.remove(&victim);
        }
    }
}

/// The lockout after `failures` failures: none up to the free ones, then 1 s doubling.
fn lockout(failures: u32, options: &ThrottleOptions) -> Duration {
    let Some(over) = failures.checked_sub(options.free_failures) else {
        return Duration::ZERO;
    };
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(options.max_delay)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn lockout_doubles_from_one_second_and_caps() {
        let o = ThrottleOptions::default();
        assert_eq!(lockout(4, &o), Duration::ZERO);
        assert_eq!(lockout(5, &o), SEC);
        assert_eq!(lockout(6, &o), 2 * SEC);
        assert_eq!(lockout(8, &o), 8 * SEC);
        assert_eq!(lockout(20, &o), o.max_delay);
        assert_eq!(lockout(u32::MAX, &o), o.max_delay);
    }

    #[test]
    fn key_is_forgotten_after_the_window() {
        let mut t = Throttle::new(ThrottleOptions::default());
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(t.attempt("ann", Some(ip("10.0.0.1")), t0), None);
        }
        assert_eq!(t.attempt("ann", Some(ip("10.0.0.2")), t0), Some(SEC));
        assert_eq!(t.attempt("ann", None, t0 + SEC / 2), Some(SEC / 2));
        let later = t0 + SEC + Duration::from_mins(15);
        assert_eq!(t.attempt("ann", Some(ip("10.0.0.2")), later), None);
        assert_eq!(t.attempt("ann", None, later), None, "count restarted");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(addr_key(IpAddr::V6(a)), addr_key(IpAddr::V6(b)));
        assert_ne!(addr_key(IpAddr::V6(a)), addr_key(ip("2001:db8:1:3::1")));
        assert_eq!(addr_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn tracked_keys_are_bounded() {
        let options = ThrottleOptions {
            max_tracked: 3,
            ..ThrottleOptions::default()
        };
        let mut t = Throttle::new(options);
        let t0 = Instant::now();
        for i in 0..10u8 {
            let now = t0 + u32::from(i) * SEC;
            t.attempt(&format!("user{i}"), Some(IpAddr::from([10, 0, 0, i])), now);
        }
        assert_eq!(t.names.entries.len(), 3);
        assert_eq!(t.addrs.entries.len(), 3);
        assert!(t.names.entries.contains_key("user9"), "the newest stays");
    }
}
