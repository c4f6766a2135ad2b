//! Creating, removing and changing users. Hashing happens before the write transaction so
//! the database is never locked for the length of an argon2 run.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::db::{self, UserRecord};
use super::error::{Error, Result};
use super::strength::{MIN_CHARS, MIN_SCORE, password_strength};
use super::{Accounts, Now, Role, User, normalize_name, to_user};

/// Names that would collide with the box's own paths: `/dav/library/` is the read-only view
/// of the whole library, so a user called "library" could never reach their upload folder.
const RESERVED: [&str; 1] = ["library"];

impl Accounts {
    /// Creates the owner, an admin that cannot be removed. Fails with
    /// [`Error::OwnerExists`] when any user exists, so there is never a second owner.
    pub fn create_owner(&self, name: &str, password: &str) -> Result<User> {
        if self.has_users()? {
            return Err(Error::OwnerExists);
        }
        self.insert_user(name, password, Role::Admin, true, Now::real())
    }

    /// Adds a user. Names the box uses in its own paths (`/dav/library/`) are refused. Fails with [`Error::InvalidName`], [`Error::WeakPassword`],
    /// [`Error::NameTaken`], or [`Error::NoOwnerYet`] before the owner exists.
    pub fn add_user(&self, name: &str, password: &str, role: Role) -> Result<User> {
        self.insert_user(name, password, role, false, Now::real())
    }

    fn insert_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
        owner: bool,
        now: Now,
    ) -> Result<User> {
        let name = normalize_name(name)?;
        if RESERVED.contains(&name.as_str()) {
            return Err(Error::InvalidName {
                reason: "that name is taken by the box itself; choose another",
            });
        }
        check_password(&name, password)?;
        let record = UserRecord {
            role,
            owner,
            created: now.unix,
            password: self.hasher.hash(password)?,
        };
        let txn = self.db.begin_write()?;
        {
            let mut users = txn.open_table(db::USERS)?;
            if owner && !users.is_empty()? {
                return Err(Error::OwnerExists);
            }
            if !owner && users.is_empty()? {
                return Err(Error::NoOwnerYet);
            }
            if users.get(name.as_str())?.is_some() {
                return Err(Error::NameTaken { name });
            }
            users.insert(name.as_str(), db::encode(&record)?.as_slice())?;
        }
        self.commit(txn)?;
        tracing::info!(user = %name, ?role, owner, "user created");
        Ok(to_user(&name, &record))
    }

    /// Removes a user and ends their sessions. Fails with [`Error::CannotRemoveOwner`] or
    /// [`Error::NoSuchUser`].
    pub fn remove_user(&self, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        let txn = self.db.begin_write()?;
        let ended = {
            let mut users = txn.open_table(db::USERS)?;
            let record = db::get_user(&users, &name)?.ok_or_else(|| no_such(&name))?;
            if record.owner {
                return Err(Error::CannotRemoveOwner);
            }
            users.remove(name.as_str())?;
            txn.open_table(super::scope::OWN_UPLOADS_ONLY)?
                .remove(name.as_str())?;
            super::app_passwords::revoke_all(&txn, &name)?;
            db::end_sessions(&mut txn.open_table(db::SESSIONS)?, &name, None)?
        };
        self.commit(txn)?;
        tracing::info!(user = %name, sessions = ended, "user removed");
        Ok(())
    }

    /// Changes a user's role; their sessions see it on their next lookup. Fails with
    /// [`Error::CannotChangeOwnerRole`] when demoting the owner, or [`Error::NoSuchUser`].
    pub fn set_role(&self, name: &str, role: Role) -> Result<()> {
        let name = normalize_name(name)?;
        let txn = self.db.begin_write()?;
        {
            let mut users = txn.open_table(db::USERS)?;
            let mut record = db::get_user(&users, &name)?.ok_or_else(|| no_such(&name))?;
            if record.owner && role != Role::Admin {
                return Err(Error::CannotChangeOwnerRole);
            }
            record.role = role;
            users.insert(name.as_str(), db::encode(&record)?.as_slice())?;
        }
        self.commit(txn)?;
        tracing::info!(user = %name, ?role, "role changed");
        Ok(())
    }

    /// Sets a new password without knowing the old one (an admin's reset) and ends all of the
    /// user's sessions. Fails with [`Error::WeakPassword`] or [`Error::NoSuchUser`].
    pub fn set_password(&self, name: &str, new_password: &str) -> Result<()> {
        let name = normalize_name(name)?;
        check_password(&name, new_password)?;
        if self.user(&name)?.is_none() {
            return Err(no_such(&name));
        }
        let hash = self.hasher.hash(new_password)?;
        self.replace_password(&name, hash, None)?;
        tracing::info!(user = %name, "password reset");
        Ok(())
    }

    /// Changes a user's own password after checking the current one, and ends their other
    /// sessions; `keep_session` (the token of the session making the change) stays valid.
    /// Fails with [`Error::BadPassword`], [`Error::WeakPassword`], [`Error::NoSuchUser`], or
    /// [`Error::Throttled`] after repeated wrong current passwords.
    pub fn change_password(
        &self,
        name: &str,
        old: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        self.change_password_at(name, old, new, keep_session, Now::real())
    }

    pub(super) fn change_password_at(
        &self,
        name: &str,
        old: &str,
        new: &str,
        keep_session: Option<&str>,
        now: Now,
    ) -> Result<()> {
        let name = normalize_name(name)?;
        if let Some(retry_after) = self.throttle().attempt(&name, None, now.mono) {
            return Err(Error::Throttled { retry_after });
        }
        check_password(&name, new)?;
        let record = {
            let txn = self.db.begin_read()?;
            db::get_user(&txn.open_table(db::USERS)?, &name)?.ok_or_else(|| no_such(&name))?
        };
        if !self.hasher.verify(old, &record.password)? {
            tracing::info!(user = %name, "password change refused: wrong current password");
            return Err(Error::BadPassword);
        }
        self.throttle().succeeded(&name, None);
        let hash = self.hasher.hash(new)?;
        let keep = keep_session.map(super::sessions::token_key);
        self.replace_password(&name, hash, keep.as_ref())?;
        tracing::info!(user = %name, "password changed");
        Ok(())
    }

    /// Stores a new hash and ends the user's sessions but `keep`, in one transaction.
    fn replace_password(&self, name: &str, hash: String, keep: Option<&[u8; 32]>) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut users = txn.open_table(db::USERS)?;
            let mut record = db::get_user(&users, name)?.ok_or_else(|| no_such(name))?;
            record.password = hash;
            users.insert(name, db::encode(&record)?.as_slice())?;
            db::end_sessions(&mut txn.open_table(db::SESSIONS)?, name, keep)?;
        }
        self.commit(txn)?;
        Ok(())
    }
}

pub(super) fn no_such(name: &str) -> Error {
    Error::NoSuchUser {
        name: name.to_owned(),
    }
}

/// Refuses passwords shorter than [`MIN_CHARS`], scoring below [`MIN_SCORE`], or holding
/// the user's own name.
fn check_password(name: &str, password: &str) -> Result<()> {
    let strength = password_strength(password);
    let hint = if password.chars().count() < MIN_CHARS {
        "Use at least 8 characters — 12 or more is good".to_owned()
    } else if strength.score < MIN_SCORE {
        strength.hint
    } else if name.len() >= 3 && password.to_lowercase().contains(name) {
        "Leave your user name out of the password".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::WeakPassword { hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_carry_a_hint() {
        for (pw, words) in [
            ("short", "at least 8"),
            ("password1", "common"),
            ("aaaaaaaaaaaa", "repeated"),
            ("annabelle-garden-7", "user name"),
        ] {
            match check_password("annabelle", pw) {
                Err(Error::WeakPassword { hint }) => assert!(hint.contains(words), "{pw}: {hint}"),
                other => panic!("{pw}: {other:?}"),
            }
        }
        check_password("ann", "kitten42").unwrap();
    }
}
