//! The accounts' redb tables and their versioned value encodings.
//!
//! Values are one version byte followed by postcard. The current version decodes directly;
//! an older one goes through [`Versioned::migrate`], so a schema change migrates values as
//! they are read and rewritten.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::Role;
use super::error::{Error, Result};

/// Normalised user name → [`UserRecord`].
pub(super) const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts.users");
/// blake3 of the session token → [`SessionRecord`]. The token itself is never stored, so a
/// copy of the database does not hold live sessions.
pub(super) const SESSIONS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("accounts.sessions");

/// A value stored with a version byte.
pub(super) trait Versioned: Serialize + DeserializeOwned {
    /// Table name, for errors.
    const TABLE: &'static str;
    /// Version written by this binary.
    const VERSION: u8;
    /// Decodes an older version. No older versions exist yet.
    fn migrate(version: u8, _bytes: &[u8]) -> Result<Self> {
        Err(Error::BadValue {
            table: Self::TABLE,
            what: format!("unknown value version {version}"),
        })
    }
}

pub(super) fn encode<T: Versioned>(value: &T) -> Result<Vec<u8>> {
    let mut out = vec![T::VERSION];
    postcard::to_io(value, &mut out).map_err(|e| Error::BadValue {
        table: T::TABLE,
        what: e.to_string(),
    })?;
    Ok(out)
}

pub(super) fn decode<T: Versioned>(bytes: &[u8]) -> Result<T> {
    let (&version, rest) = bytes.split_first().ok_or(Error::BadValue {
        table: T::TABLE,
        what: "empty value".into(),
    })?;
    if version == T::VERSION {
        postcard::from_bytes(rest).map_err(|e| Error::BadValue {
            table: T::TABLE,
            what: e.to_string(),
        })
    } else {
        T::migrate(version, rest)
    }
}

/// A user as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct UserRecord {
    pub role: Role,
    pub owner: bool,
    /// Unix seconds.
    pub created: i64,
    /// argon2id PHC string (algorithm, parameters, salt and hash).
    pub password: String,
}

impl Versioned for UserRecord {
    const TABLE: &'static str = "accounts.users";
    const VERSION: u8 = 1;
}

/// A session as stored under the blake3 of its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SessionRecord {
    pub user: String,
    /// Role at login; [`super::Accounts::session`] reports the current role instead.
    pub role: Role,
    /// Hex CSRF token for forms of this session.
    pub csrf: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; the session is dead at and after this instant.
    pub expires: i64,
}

impl Versioned for SessionRecord {
    const TABLE: &'static str = "accounts.sessions";
    const VERSION: u8 = 1;
}

pub(super) fn get_user(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &str,
) -> Result<Option<UserRecord>> {
    t.get(name)?.map(|v| decode(v.value())).transpose()
}

pub(super) fn get_session(
    t: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    key: &[u8; 32],
) -> Result<Option<SessionRecord>> {
    t.get(key)?.map(|v| decode(v.value())).transpose()
}

/// Deletes every session of `user` except the one under `keep`; returns how many went.
pub(super) fn end_sessions(
    t: &mut redb::Table<&'static [u8; 32], &'static [u8]>,
    user: &str,
    keep: Option<&[u8; 32]>,
) -> Result<u64> {
    // A family box has tens of sessions, so a scan beats keeping a second index consistent.
    let mut doomed = Vec::new();
    for entry in t.iter()? {
        let (k, v) = entry?;
        let key = *k.value();
        if Some(&key) == keep {
            continue;
        }
        let record: SessionRecord = decode(v.value())?;
        if record.user == user {
            doomed.push(key);
        }
    }
    for key in &doomed {
        t.remove(key)?;
    }
    Ok(doomed.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_record_round_trips_with_version_byte() {
        let r = SessionRecord {
            user: "ann".into(),
            role: Role::Member,
            csrf: "ab".into(),
            created: 1,
            expires: 2,
        };
        let bytes = encode(&r).unwrap();
        assert_eq!(bytes[0], SessionRecord::VERSION);
        assert_eq!(decode::<SessionRecord>(&bytes).unwrap(), r);
    }

    #[test]
    fn unknown_version_is_an_error_not_a_panic() {
        assert!(matches!(
            decode::<UserRecord>(&[9, 1, 2]),
            Err(Error::BadValue { .. })
        ));
        assert!(matches!(
            decode::<UserRecord>(&[]),
            Err(Error::BadValue { .. })
        ));
    }
}
