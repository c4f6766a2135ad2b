//! Login, session lookup with sliding expiry, logout and purging.
//!
//! A token is 32 random bytes as 64 hex digits; the table key is its blake3, so reading the
//! database does not yield a usable cookie. The role in a session record is the role at
//! login; lookups report the user's current role.

use std::net::IpAddr;

use redb::{ReadableDatabase, ReadableTable};

use super::db::{self, SessionRecord};
use super::error::{Error, LoginError, Result};
use super::{Accounts, Now, Role, Session, normalize_name};

/// Length of a token in hex digits.
const TOKEN_HEX: usize = 64;

impl Accounts {
    /// Checks a password and opens a session. Unknown names cost the same argon2 run as a
    /// wrong password. After repeated failures for this name or this address, attempts are
    /// refused with [`LoginError::Throttled`] without checking the password.
    pub fn login(&self, name: &str, password: &str, client: IpAddr) -> Result<Session, LoginError> {
        self.login_at(name, password, client, Now::real())
    }

    pub(super) fn login_at(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
        now: Now,
    ) -> Result<Session, LoginError> {
        // Invalid names share one throttle key (no user can have the empty name).
        let name = normalize_name(name).unwrap_or_default();
        if let Some(retry_after) = self.throttle().attempt(&name, Some(client), now.mono) {
            tracing::info!(user = %name, %client, "login throttled");
            return Err(LoginError::Throttled { retry_after });
        }
        let record = if name.is_empty() {
            None
        } else {
            let txn = self.db.begin_read()?;
            db::get_user(&txn.open_table(db::USERS)?, &name)?
        };
        let ok = if let Some(record) = &record {
            self.hasher.verify(password, &record.password)?
        } else {
            self.hasher.decoy(password);
            false
        };
        let role = match record {
            Some(record) if ok => record.role,
            _ => {
                tracing::info!(user = %name, %client, "login failed");
                return Err(LoginError::BadCredentials);
            }
        };
        self.throttle().succeeded(&name, Some(client));
        let session = self.open_session(&name, role, now)?;
        tracing::info!(user = %name, %client, "logged in");
        Ok(session)
    }

    /// Stores a new session for `user`, dropping expired ones on the way.
    fn open_session(&self, user: &str, role: Role, now: Now) -> Result<Session> {
        let token = random_hex()?;
        let csrf = random_hex()?;
        let record = SessionRecord {
            user: user.to_owned(),
            role,
            csrf,
            created: now.unix,
            expires: now.unix.saturating_add(self.options.lifetime_secs()),
        };
        let txn = self.db.begin_write()?;
        {
            let mut sessions = txn.open_table(db::SESSIONS)?;
            purge(&mut sessions, now.unix)?;
            sessions.insert(&token_key(&token), db::encode(&record)?.as_slice())?;
        }
        self.commit(txn)?;
        Ok(to_session(token, record))
    }

    /// The live session of this token, or `None` when it is unknown, expired or its user is
    /// gone. A session with less than half its lifetime left is extended to a full one.
    pub fn session(&self, token: &str) -> Result<Option<Session>> {
        let now = Now::real();
        if token.len() != TOKEN_HEX {
            return Ok(None);
        }
        let key = token_key(token);
        if let Some(s) = self.recent.get(&key, now.unix) {
            return Ok(Some(s));
        }
        let generation = self.recent.generation();
        let found = self.session_at(token, now)?;
        if let Some(s) = &found {
            self.recent.remember(key, s, generation);
        }
        Ok(found)
    }

    /// The session of this token if it was looked up a moment ago: no database access, so
    /// the web app can answer without leaving its async threads.
    pub fn recent_session(&self, token: &str) -> Option<Session> {
        (token.len() == TOKEN_HEX)
            .then(|| self.recent.get(&token_key(token), Now::real().unix))
            .flatten()
    }

    pub(super) fn session_at(&self, token: &str, now: Now) -> Result<Option<Session>> {
        if token.len() != TOKEN_HEX {
            return Ok(None);
        }
        let key = token_key(token);
        let (record, user, restricted) = {
            let txn = self.db.begin_read()?;
            let Some(record) = db::get_session(&txn.open_table(db::SESSIONS)?, &key)? else {
                return Ok(None);
            };
            let user = db::get_user(&txn.open_table(db::USERS)?, &record.user)?;
            let restricted = super::scope::is_restricted(&txn, &record.user)?;
            (record, user, restricted)
        };
        let Some(user) = user.filter(|_| record.expires > now.unix) else {
            self.drop_session(&key)?;
            return Ok(None);
        };
        let lifetime = self.options.lifetime_secs();
        let mut record = SessionRecord {
            role: user.role,
            ..record
        };
        if record.expires.saturating_sub(now.unix) < lifetime / 2 {
            let expires = now.unix.saturating_add(lifetime);
            let Some(renewed) = self.renew(&key, expires)? else {
                return Ok(None);
            };
            record.expires = renewed.expires;
        }
        let mut session = to_session(token.to_owned(), record);
        session.own_uploads_only = restricted && session.role != Role::Admin;
        Ok(Some(session))
    }

    /// Moves a session's expiry; `None` when it was deleted meanwhile (a logout race).
    fn renew(&self, key: &[u8; 32], expires: i64) -> Result<Option<SessionRecord>> {
        let txn = self.db.begin_write()?;
        let renewed = {
            let mut sessions = txn.open_table(db::SESSIONS)?;
            let Some(mut record) = db::get_session(&sessions, key)? else {
                return Ok(None);
            };
            record.expires = record.expires.max(expires);
            sessions.insert(key, db::encode(&record)?.as_slice())?;
            record
        };
        self.commit(txn)?;
        Ok(Some(renewed))
    }

    fn drop_session(&self, key: &[u8; 32]) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(db::SESSIONS)?.remove(key)?;
        self.commit(txn)?;
        Ok(())
    }

    /// Ends the session of this token (unknown tokens are fine).
    pub fn logout(&self, token: &str) -> Result<()> {
        self.drop_session(&token_key(token))
    }

    /// Deletes expired sessions; returns how many. Lookups and logins also drop them.
    pub fn purge_expired(&self) -> Result<u64> {
        self.purge_expired_at(Now::real())
    }

    pub(super) fn purge_expired_at(&self, now: Now) -> Result<u64> {
        let txn = self.db.begin_write()?;
        let purged = purge(&mut txn.open_table(db::SESSIONS)?, now.unix)?;
        self.commit(txn)?;
        Ok(purged)
    }
}

/// Deletes sessions expired at `now`. Values this binary cannot read are left alone (a newer
/// binary may have written them).
fn purge(sessions: &mut redb::Table<&'static [u8; 32], &'static [u8]>, now: i64) -> Result<u64> {
    let mut doomed = Vec::new();
    for entry in sessions.iter()? {
        let (k, v) = entry?;
        if let Ok(record) = db::decode::<SessionRecord>(v.value())
            && record.expires <= now
        {
            doomed.push(*k.value());
        }
    }
    for key in &doomed {
        sessions.remove(key)?;
    }
    Ok(doomed.len() as u64)
}

fn to_session(token: String, record: SessionRecord) -> Session {
    Session {
        token,
        user: record.user,
        role: record.role,
        csrf: record.csrf,
        expires: record.expires,
        own_uploads_only: false,
    }
}

/// The table key of a token.
pub(super) fn token_key(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// 32 random bytes as 64 lowercase hex digits.
fn random_hex() -> Result<String> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    let mut hex = String::with_capacity(TOKEN_HEX);
    for b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    Ok(hex)
}
