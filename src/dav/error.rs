//! `dav::Error` and its mapping onto dav-server's result codes (which become the WebDAV
//! status codes: 404, 409, 405/412, 403, 507…).

use dav_server::fs::FsError;

/// Result of dav operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A WebDAV operation failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such file or folder.
    #[error("not found")]
    NotFound,
    /// The parent folder does not exist (or is a file).
    #[error("the parent folder does not exist")]
    NoParent,
    /// Something is already there.
    #[error("already exists")]
    Exists,
    /// Not allowed on this path (the root, a folder into itself, a read-only view).
    #[error("not allowed")]
    Forbidden,
    /// The disk would fill.
    #[error("not enough free space")]
    Full,
    /// The operation is not supported (partial PUT).
    #[error("not supported")]
    Unsupported,
    /// The upload ended short of its announced length.
    #[error("the upload is incomplete")]
    Incomplete,
    /// Too many sign-ins are pending at once.
    #[error("too many sign-ins are waiting; try again in a few minutes")]
    Busy,
    /// The accounts refused or failed.
    #[error("accounts: {0}")]
    Accounts(String),
    /// A stored tree entry is unreadable.
    #[error("stored value in dav.tree is unreadable: {0}")]
    BadValue(String),
    /// The database failed.
    #[error("dav database: {0}")]
    Db(#[from] redb::Error),
    /// The library refused or failed.
    #[error("library: {0}")]
    Library(#[from] crate::library::Error),
    /// A spool or kept file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub(super) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
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

impl From<Error> for FsError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound | Error::NoParent => FsError::NotFound,
            Error::Exists => FsError::Exists,
            Error::Forbidden => FsError::Forbidden,
            Error::Full => FsError::InsufficientStorage,
            Error::Unsupported => FsError::NotImplemented,
            Error::Library(e) if e.is_disk_full() => FsError::InsufficientStorage,
            Error::Io { source, .. } if source.raw_os_error() == Some(28) => {
                FsError::InsufficientStorage
            }
            e @ (Error::Incomplete
            | Error::Busy
            | Error::Accounts(_)
            | Error::BadValue(_)
            | Error::Db(_)
            | Error::Library(_)
            | Error::Io { .. }) => {
                tracing::warn!("webdav: {e}");
                FsError::GeneralFailure
            }
        }
    }
}
