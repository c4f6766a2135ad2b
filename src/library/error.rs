//! `library::Error`.

use std::path::PathBuf;

use super::AssetId;

/// Result of library operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A library failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed underneath.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The catalog database failed.
    #[error("catalog database: {0}")]
    Db(#[from] redb::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No asset with this id.
    #[error("asset {0} does not exist")]
    NoSuchAsset(AssetId),
    /// No album with this id.
    #[error("album {0} does not exist")]
    NoSuchAlbum(u64),
    /// A stored value could not be decoded.
    #[error("stored value in {table} is unreadable: {what}")]
    BadValue {
        /// The table.
        table: &'static str,
        /// What was wrong.
        what: String,
    },
    /// An earlier failure in this batch left it unusable; nothing of it was committed.
    #[error(
        "the batch was abandoned after an earlier storage failure; nothing of it was committed"
    )]
    BatchAbandoned,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// True when the disk is full (nothing was lost; free space and retry).
    pub fn is_disk_full(&self) -> bool {
        match self {
            Self::Store(e) => e.is_disk_full(),
            Self::Io { source, .. } => source.raw_os_error() == Some(28),
            _ => false,
        }
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
