//! `accounts::Error` and [`LoginError`], the one operation whose callers branch on the outcome.

use std::time::Duration;

/// Result of account operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An account failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The accounts database failed.
    #[error("accounts database: {0}")]
    Db(#[from] redb::Error),
    /// A stored value could not be decoded.
    #[error("stored value in {table} is unreadable: {what}")]
    BadValue {
        /// The table.
        table: &'static str,
        /// What was wrong.
        what: String,
    },
    /// An owner can only be created while there are no users at all.
    #[error("this shoebox already has an owner")]
    OwnerExists,
    /// Another user already has this name (names compare case-insensitively).
    #[error("the name {name} is taken")]
    NameTaken {
        /// The normalised name.
        name: String,
    },
    /// The name breaks the naming rule.
    #[error("invalid user name: {reason}")]
    InvalidName {
        /// Which rule, in plain words.
        reason: &'static str,
    },
    /// The password is too weak to accept.
    #[error("the password is too weak: {hint}")]
    WeakPassword {
        /// What would make it acceptable, in plain words.
        hint: String,
    },
    /// No user has this name.
    #[error("there is no user {name}")]
    NoSuchUser {
        /// The normalised name.
        name: String,
    },
    /// Users other than the owner can only be added once the owner exists.
    #[error("create the owner first")]
    NoOwnerYet,
    /// The owner cannot be removed.
    #[error("the owner cannot be removed")]
    CannotRemoveOwner,
    /// The owner is always an admin.
    #[error("the owner's role cannot be changed")]
    CannotChangeOwnerRole,
    /// The current password given to a password change is wrong.
    #[error("the current password is wrong")]
    BadPassword,
    /// Too many wrong passwords for this user recently; try again later.
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    Throttled {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// The password hasher failed or was given parameters it rejects.
    #[error("password hashing: {0}")]
    Hash(#[source] argon2::password_hash::Error),
    /// The argon2 parameters in [`super::Options`] are out of range.
    #[error("invalid argon2 parameters: {0}")]
    BadParams(#[source] argon2::Error),
    /// The system random generator failed.
    #[error("system random generator: {0}")]
    Random(#[source] getrandom::Error),
}

impl Error {
    /// True when the person asking can fix it (a taken name, a weak password), so the words
    /// may be shown to them; false for failures of the box itself, which are only logged.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::OwnerExists
                | Self::NameTaken { .. }
                | Self::InvalidName { .. }
                | Self::WeakPassword { .. }
                | Self::NoSuchUser { .. }
                | Self::NoOwnerYet
                | Self::CannotRemoveOwner
                | Self::CannotChangeOwnerRole
                | Self::BadPassword
                | Self::Throttled { .. }
        )
    }
}

/// Why a login did not produce a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user or wrong password (deliberately not told apart).
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many recent failures for this name or address; the password was not checked.
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    Throttled {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// Storage or hashing failed.
    #[error(transparent)]
    Other(#[from] Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Self::Db(e.into())
            }
        }
        impl From<$t> for LoginError {
            fn from(e: $t) -> Self {
                Self::Other(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
