//! User accounts of the box: the owner and the people they invite, password checks, login
//! sessions and login throttling. Knows nothing of HTTP; the transport maps these results.
//!
//! May import nothing from the crate. Owns the `accounts.*` tables. Invariants: there is at
//! most one owner, it is an admin and it cannot be removed; names are stored lowercase;
//! passwords are stored only as argon2id PHC strings and sessions only under the blake3 of
//! their token; passwords and tokens are never logged; a password change or reset ends the
//! user's other sessions in the same transaction that stores the new hash.

mod app_passwords;
mod db;
mod error;
mod options;
mod password;
mod recent;
mod scope;
mod sessions;
mod strength;
mod throttle;
mod users;

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

pub use app_passwords::AppPassword;
pub use error::{Error, LoginError, Result};
pub use options::{Options, ThrottleOptions};
pub use strength::Strength;

use password::Hasher;
use throttle::Throttle;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages users and the box.
    Admin,
    /// Uses the library.
    Member,
}

/// A user, without secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Lowercase name, 1–32 of `a-z 0-9 . _ -`.
    pub name: String,
    /// Current role.
    pub role: Role,
    /// Whether this is the owner (created first, always an admin, never removed).
    pub owner: bool,
    /// Creation time, unix seconds.
    pub created: i64,
}

/// A live login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The cookie value (64 hex digits). Only its blake3 is stored.
    pub token: String,
    /// The user's name.
    pub user: String,
    /// The user's role now (a demotion applies to existing sessions at once).
    pub role: Role,
    /// Token that forms of this session must echo back (64 hex digits).
    pub csrf: String,
    /// Expiry, unix seconds; moves forward as the session is used.
    pub expires: i64,
    /// A member an administrator restricted to their own uploads.
    pub own_uploads_only: bool,
}

/// The accounts facade.
pub struct Accounts {
    db: Arc<Database>,
    hasher: Hasher,
    throttle: Mutex<Throttle>,
    basic_cache: Mutex<app_passwords::BasicCache>,
    /// Signalled when an account password check in progress ends.
    basic_done: Condvar,
    options: Options,
    recent: recent::Recent,
}

impl Accounts {
    /// Opens the accounts on a shared database with [`Options::default`], creating the tables
    /// on first use (nothing is written when they exist).
    pub fn open(db: Arc<Database>) -> Result<Self> {
        Self::with_options(db, Options::default())
    }

    /// Opens the accounts with these options. Fails with [`Error::BadParams`] when the
    /// argon2 parameters are out of range.
    pub fn with_options(db: Arc<Database>, options: Options) -> Result<Self> {
        let hasher = Hasher::new(options.argon2_params()?, options.max_parallel_hashes);
        let accounts = Self {
            db,
            hasher,
            throttle: Mutex::new(Throttle::new(options.throttle.clone())),
            basic_cache: Mutex::default(),
            basic_done: Condvar::new(),
            options,
            recent: recent::Recent::default(),
        };
        accounts.init_tables()?;
        Ok(accounts)
    }

    /// Commits a write and forgets the sessions cached before it.
    fn commit(&self, txn: redb::WriteTransaction) -> Result<()> {
        txn.commit()?;
        self.recent.invalidate();
        Ok(())
    }

    fn init_tables(&self) -> Result<()> {
        let read = self.db.begin_read()?;
        if read.open_table(db::USERS).is_ok()
            && read.open_table(db::SESSIONS).is_ok()
            && read.open_table(scope::OWN_UPLOADS_ONLY).is_ok()
        {
            return Ok(());
        }
        drop(read);
        let txn = self.db.begin_write()?;
        txn.open_table(db::USERS)?;
        txn.open_table(db::SESSIONS)?;
        txn.open_table(scope::OWN_UPLOADS_ONLY)?;
        self.commit(txn)?;
        Ok(())
    }

    /// Whether any user exists (false until the setup wizard created the owner).
    pub fn has_users(&self) -> Result<bool> {
        let txn = self.db.begin_read()?;
        Ok(!txn.open_table(db::USERS)?.is_empty()?)
    }

    /// All users, sorted by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(db::USERS)?;
        let mut users = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            users.push(to_user(k.value(), &db::decode(v.value())?));
        }
        Ok(users)
    }

    /// The user of this name (any case), if there is one.
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        let Ok(name) = normalize_name(name) else {
            return Ok(None);
        };
        let txn = self.db.begin_read()?;
        let table = txn.open_table(db::USERS)?;
        Ok(db::get_user(&table, &name)?.map(|r| to_user(&name, &r)))
    }

    /// Estimates how strong `password` is, with advice. Pure.
    pub fn password_strength(password: &str) -> Strength {
        strength::password_strength(password)
    }

    fn throttle(&self) -> MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn basic_cache(&self) -> MutexGuard<'_, app_passwords::BasicCache> {
        self.basic_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn to_user(name: &str, record: &db::UserRecord) -> User {
    User {
        name: name.to_owned(),
        role: record.role,
        owner: record.owner,
        created: record.created,
    }
}

/// Longest user name, in characters.
const MAX_NAME: usize = 32;

/// The stored form of a user name: trimmed, lowercase, 1–32 of `a-z 0-9 . _ -`, starting
/// with a letter or digit (so it is never `.` or `..` where it ends up in a path).
pub fn normalize_name(name: &str) -> Result<String> {
    let name = name.trim().to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
    let reason = if name.is_empty() {
        "a name is needed"
    } else if name.len() > MAX_NAME {
        "use at most 32 characters"
    } else if !name.chars().all(allowed) {
        "use only letters a–z, digits, dots, dashes and underscores"
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        "start with a letter or digit"
    } else {
        return Ok(name);
    };
    Err(Error::InvalidName { reason })
}

/// The current time, both as the wall clock (stored expiries) and monotonic (throttling).
/// Private functions take it as a parameter so tests can move time.
#[derive(Clone, Copy, Debug)]
struct Now {
    unix: i64,
    mono: Instant,
}

impl Now {
    fn real() -> Self {
        Self {
            unix: chrono::Utc::now().timestamp(),
            mono: Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests;
