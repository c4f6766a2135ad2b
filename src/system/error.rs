//! `system::Error`.

use std::path::PathBuf;

/// Result of system operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A system failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings database failed.
    #[error("settings database: {0}")]
    Db(#[from] redb::Error),
    /// A stored value could not be decoded.
    #[error("stored value in {table} is unreadable: {what}")]
    BadValue {
        /// The table.
        table: &'static str,
        /// What was wrong.
        what: String,
    },
    /// The setup wizard was finished; it cannot be reopened.
    #[error("setup is finished and cannot be reopened")]
    SetupFinished,
    /// A device name that is not a valid DNS label.
    #[error(
        "{0:?} is not a valid device name: use 1 to 63 lowercase letters, digits or '-', not starting or ending with '-'"
    )]
    InvalidDeviceName(String),
    /// A time zone this system does not know.
    #[error("{0:?} is not a known time zone")]
    UnknownTimeZone(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A folder outside the places the UI may browse.
    #[error("{path} is outside the folders that may be browsed")]
    OutsideAllowedRoots {
        /// The folder asked for (as given, not resolved, so nothing outside leaks).
        path: PathBuf,
    },
    /// The mDNS responder could not be set up.
    #[error("mDNS {what}: {source}")]
    Mdns {
        /// The step that failed.
        what: &'static str,
        /// Why.
        #[source]
        source: mdns_sd::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn mdns(what: &'static str) -> impl FnOnce(mdns_sd::Error) -> Self {
        move |source| Self::Mdns { what, source }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Self::Db(e.into())
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
