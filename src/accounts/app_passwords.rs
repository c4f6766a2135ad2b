//! App passwords: per-user random secrets for phone apps and file managers (WebDAV, the
//! Nextcloud app), so the main password never has to sit in a phone. Each one can be revoked
//! on its own, and only its blake3 is stored.
//!
//! [`Accounts::check_basic`] is the HTTP Basic check of the WebDAV transports: an app
//! password (a table lookup) or the account password (argon2, so a verified one is remembered
//! in memory under a hash of the name, the password and the stored PHC string: a changed
//! password misses the cache at once). Failures go through the same throttle as web logins.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::db::{self, Versioned};
use super::error::{Error, LoginError, Result};
use super::{Accounts, Now, Role, normalize_name};

/// blake3 of the secret → [`AppPasswordRecord`].
pub(super) const APP_PASSWORDS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("accounts.app_passwords");

/// Letters of a secret: lowercase without look-alikes (no 0/o, 1/l), 32 of them = 5 bits.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Groups of [`GROUP`] letters: 5 × 5 × 5 bits = 125 bits, typeable on a phone.
const GROUPS: usize = 5;
const GROUP: usize = 5;
/// How long a verified account password is remembered (WebDAV clients send it every request).
const CACHE_TTL: Duration = Duration::from_mins(5);
/// At most this many remembered account passwords.
const CACHE_MAX: usize = 256;

/// An app password as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct AppPasswordRecord {
    pub user: String,
    /// What the user called it ("Anna's iPhone").
    pub label: String,
    /// Unix seconds.
    pub created: i64,
}

impl Versioned for AppPasswordRecord {
    const TABLE: &'static str = "accounts.app_passwords";
    const VERSION: u8 = 1;
}

/// An app password as listed (the secret itself is shown once, at minting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPassword {
    /// Short public id (hex of the first 6 bytes of the stored hash), used to revoke it.
    pub id: String,
    /// The user it belongs to.
    pub user: String,
    /// The label given at minting.
    pub label: String,
    /// Unix seconds.
    pub created: i64,
}

/// Account password checks: the verified ones (key → when) and the ones in progress.
#[derive(Default)]
pub(super) struct BasicCache {
    verified: HashMap<[u8; 32], Instant>,
    verifying: HashSet<[u8; 32]>,
}

impl Accounts {
    /// Mints an app password for `user` and returns it with the secret, which is never
    /// retrievable again.
    pub fn mint_app_password(&self, user: &str, label: &str) -> Result<(AppPassword, String)> {
        let name = normalize_name(user)?;
        let secret = random_secret()?;
        let key = *blake3::hash(secret.as_bytes()).as_bytes();
        let record = AppPasswordRecord {
            user: name.clone(),
            label: label.trim().chars().take(64).collect(),
            created: Now::real().unix,
        };
        let txn = self.db.begin_write()?;
        {
            if db::get_user(&txn.open_table(db::USERS)?, &name)?.is_none() {
                return Err(Error::NoSuchUser { name });
            }
            txn.open_table(APP_PASSWORDS)?
                .insert(&key, db::encode(&record)?.as_slice())?;
        }
        txn.commit()?;
        tracing::info!(user = %name, "app password minted");
        Ok((to_app_password(&key, record), secret))
    }

    /// The app passwords of `user`, oldest first.
    pub fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>> {
        let name = normalize_name(user)?;
        let txn = self.db.begin_read()?;
        let Ok(table) = txn.open_table(APP_PASSWORDS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let record: AppPasswordRecord = db::decode(v.value())?;
            if record.user == name {
                out.push(to_app_password(k.value(), record));
            }
        }
        out.sort_by_key(|p| p.created);
        Ok(out)
    }

    /// Revokes `user`'s app password with this id. Returns whether one was found.
    pub fn revoke_app_password(&self, user: &str, id: &str) -> Result<bool> {
        let name = normalize_name(user)?;
        let txn = self.db.begin_write()?;
        let found = {
            let mut table = txn.open_table(APP_PASSWORDS)?;
            let mut doomed = None;
            for entry in table.iter()? {
                let (k, v) = entry?;
                let record: AppPasswordRecord = db::decode(v.value())?;
                if record.user == name && short_id(k.value()) == id {
                    doomed = Some(*k.value());
                }
            }
            if let Some(key) = &doomed {
                table.remove(key)?;
            }
            doomed.is_some()
        };
        txn.commit()?;
        if found {
            tracing::info!(user = %name, id, "app password revoked");
        }
        Ok(found)
    }

    /// Checks HTTP Basic credentials: an app password of `name`, or its account password.
    /// Returns the normalised name and current role. Guesses are throttled like
    /// [`Accounts::login`]; right credentials are not counted as guesses: a valid app password
    /// (a lookup) and an account password verified a moment ago pass before the throttle,
    /// and requests with the same credentials wait for the one being verified, so a phone
    /// opening ten connections at once is not locked out by its own burst.
    pub fn check_basic(
        &self,
        name: &str,
        secret: &str,
        client: IpAddr,
    ) -> Result<(String, Role), LoginError> {
        let name = normalize_name(name).unwrap_or_default();
        let txn = self.db.begin_read()?;
        let user = if name.is_empty() {
            None
        } else {
            db::get_user(&txn.open_table(db::USERS)?, &name)?
        };
        let app_ok = user.is_some()
            && match txn.open_table(APP_PASSWORDS) {
                Ok(table) => table
                    .get(blake3::hash(secret.as_bytes()).as_bytes())?
                    .map(|v| db::decode::<AppPasswordRecord>(v.value()))
                    .transpose()?
                    .is_some_and(|r| r.user == name),
                Err(_) => false,
            };
        drop(txn);
        if let (true, Some(user)) = (app_ok, &user) {
            return Ok((name, user.role));
        }
        let key = user.as_ref().map(|u| cache_key(&name, secret, &u.password));
        let _flight = key.map(|k| self.in_flight(k));
        if let (Some(k), Some(user)) = (key, &user)
            && self.remembered(&k)
        {
            return Ok((name, user.role));
        }
        if let Some(retry_after) = self.throttle().attempt(&name, Some(client), Instant::now()) {
            tracing::info!(user = %name, %client, "basic auth throttled");
            return Err(LoginError::Throttled { retry_after });
        }
        let (Some(user), Some(key)) = (user, key) else {
            self.hasher.decoy(secret);
            return Err(LoginError::BadCredentials);
        };
        if !self.hasher.verify(secret, &user.password)? {
            tracing::info!(user = %name, %client, "basic auth failed");
            return Err(LoginError::BadCredentials);
        }
        self.remember(key);
        self.throttle().succeeded(&name, Some(client));
        Ok((name, user.role))
    }

    /// Whether these credentials were verified less than [`CACHE_TTL`] ago.
    fn remembered(&self, key: &[u8; 32]) -> bool {
        self.basic_cache()
            .verified
            .get(key)
            .is_some_and(|at| at.elapsed() < CACHE_TTL)
    }

    fn remember(&self, key: [u8; 32]) {
        let mut cache = self.basic_cache();
        cache.verified.retain(|_, at| at.elapsed() < CACHE_TTL);
        if cache.verified.len() >= CACHE_MAX {
            cache.verified.clear();
        }
        cache.verified.insert(key, Instant::now());
    }

    /// Waits until no other request is verifying `key`, then marks it as being verified
    /// until the returned guard drops.
    fn in_flight(&self, key: [u8; 32]) -> InFlight<'_> {
        let mut cache = self.basic_cache();
        while cache.verifying.contains(&key) {
            cache = self
                .basic_done
                .wait(cache)
                .unwrap_or_else(PoisonError::into_inner);
        }
        cache.verifying.insert(key);
        InFlight {
            accounts: self,
            key,
        }
    }
}

/// The cache key of an account password check: a hash of the name, the password and the
/// stored PHC string (a changed password misses at once).
fn cache_key(name: &str, secret: &str, phc: &str) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for part in [name, secret, phc] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// A credential check in progress (see [`Accounts::in_flight`]).
struct InFlight<'a> {
    accounts: &'a Accounts,
    key: [u8; 32],
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.accounts.basic_cache().verifying.remove(&self.key);
        self.accounts.basic_done.notify_all();
    }
}

/// Drops every app password of `name` (the user is being removed; a later user of the
/// same name must not inherit them).
pub(super) fn revoke_all(txn: &redb::WriteTransaction, name: &str) -> Result<()> {
    let mut table = txn.open_table(APP_PASSWORDS)?;
    let mut doomed = Vec::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        if db::decode::<AppPasswordRecord>(v.value()).is_ok_and(|r| r.user == name) {
            doomed.push(*k.value());
        }
    }
    for key in &doomed {
        table.remove(key)?;
    }
    Ok(())
}

fn to_app_password(key: &[u8; 32], record: AppPasswordRecord) -> AppPassword {
    AppPassword {
        id: short_id(key),
        user: record.user,
        label: record.label,
        created: record.created,
    }
}

fn short_id(key: &[u8; 32]) -> String {
    blake3::Hash::from_bytes(*key).to_hex()[..12].to_owned()
}

/// `xxxxx-xxxxx-xxxxx-xxxxx-xxxxx` from [`ALPHABET`].
fn random_secret() -> Result<String> {
    let mut bytes = [0u8; GROUPS * GROUP];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    let mut out = String::with_capacity(GROUPS * (GROUP + 1));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;
    use crate::accounts::Options;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn accounts() -> (tempfile::TempDir, Accounts) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(redb::Database::create(dir.path().join("c.redb")).unwrap());
        let accounts = Accounts::with_options(db, Options::for_tests()).unwrap();
        accounts
            .create_owner("anna", "correct horse battery staple")
            .unwrap();
        (dir, accounts)
    }

    #[test]
    fn secret_has_five_groups_of_the_alphabet() {
        let s = random_secret().unwrap();
        assert_eq!(s.len(), 29);
        assert_eq!(s.split('-').count(), 5);
        assert!(s.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)));
        assert_ne!(s, random_secret().unwrap());
    }

    #[test]
    fn app_password_works_until_revoked_and_only_for_its_user() {
        let (_d, a) = accounts();
        a.add_user("ben", "another long pass phrase", Role::Member)
            .unwrap();
        let (listed, secret) = a.mint_app_password("anna", "phone").unwrap();
        assert_eq!(a.check_basic("Anna", &secret, CLIENT).unwrap().0, "anna");
        assert!(matches!(
            a.check_basic("ben", &secret, CLIENT),
            Err(LoginError::BadCredentials)
        ));
        assert_eq!(a.app_passwords("anna").unwrap(), vec![listed.clone()]);
        assert!(a.app_passwords("ben").unwrap().is_empty());
        assert!(!a.revoke_app_password("ben", &listed.id).unwrap());
        assert!(a.revoke_app_password("anna", &listed.id).unwrap());
        assert!(a.check_basic("anna", &secret, CLIENT).is_err());
        let (_, ben) = a.mint_app_password("ben", "tablet").unwrap();
        a.remove_user("ben").unwrap();
        a.add_user("ben", "another long pass phrase", Role::Member)
            .unwrap();
        assert!(a.check_basic("ben", &ben, CLIENT).is_err());
    }

    #[test]
    fn account_password_works_and_a_change_invalidates_the_cache() {
        let (_d, a) = accounts();
        let pw = "correct horse battery staple";
        assert!(a.check_basic("anna", pw, CLIENT).is_ok());
        assert!(a.check_basic("anna", pw, CLIENT).is_ok()); // cached
        a.set_password("anna", "a brand new long phrase here")
            .unwrap();
        assert!(a.check_basic("anna", pw, CLIENT).is_err());
        assert!(a.check_basic("nobody", pw, CLIENT).is_err());
    }

    #[test]
    fn repeated_failures_are_throttled() {
        let (_d, a) = accounts();
        let mut throttled = false;
        for _ in 0..20 {
            if let Err(LoginError::Throttled { .. }) = a.check_basic("anna", "wrong", CLIENT) {
                throttled = true;
                break;
            }
        }
        assert!(throttled);
    }
}
