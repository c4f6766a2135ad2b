//! `backup::Error`: what can go wrong backing up, restoring or managing keys. Every damage
//! found on the remote names the object, so "which file do I look at" is never a question.

use std::path::PathBuf;

use super::remote;

/// Result of backup operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A backup failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The remote refused or failed a call (after retries).
    #[error("remote: {0}")]
    Remote(#[from] remote::Error),
    /// The repository URL is malformed.
    #[error(transparent)]
    Url(#[from] remote::url::UrlError),
    /// `init` on a remote that already holds a repository.
    #[error("{0} already holds a shoebox repository")]
    AlreadyARepository(String),
    /// The remote holds no repository (run `shoebox backup init`).
    #[error("{0} holds no shoebox repository (create one with `shoebox backup init`)")]
    NotARepository(String),
    /// No key object opens with the given passphrase or recovery key.
    #[error(
        "wrong passphrase or recovery key: none of the repository's {keys} key(s) opens with it"
    )]
    WrongPassphrase {
        /// Key objects tried.
        keys: usize,
    },
    /// An object on the remote is damaged, truncated or was tampered with.
    #[error("{object} is damaged: {what}")]
    Corrupt {
        /// Kind and name, e.g. `packs/3fa9…`.
        object: String,
        /// What was wrong.
        what: String,
    },
    /// A snapshot names a chunk no pack holds.
    #[error("chunk {chunk} of the snapshot is in no pack on the remote")]
    ChunkLost {
        /// Its remote id, hex.
        chunk: String,
    },
    /// The upload workers stopped before every pack was sent.
    #[error("the upload stopped before every pack was sent")]
    UploadStopped,
    /// The repository has no snapshot yet.
    #[error("the repository holds no snapshot yet")]
    NoSnapshot,
    /// `--snapshot` matched nothing (or more than one).
    #[error("no single snapshot matches {0:?}")]
    SnapshotNotFound(String),
    /// `key remove` of an unknown key.
    #[error("no key matches {0:?}")]
    KeyNotFound(String),
    /// Removing the key would leave the repository unopenable, or it is the one in use.
    #[error("refusing to remove {0}: it is the key in use or the last passphrase")]
    KeyInUse(String),
    /// Restoring into a library that already holds photos.
    #[error("{0} already holds photos; restore into an empty data folder")]
    LibraryNotEmpty(PathBuf),
    /// The local store failed.
    #[error("local store: {0}")]
    Store(#[from] crate::store::Error),
    /// The local library failed.
    #[error("library: {0}")]
    Library(#[from] crate::library::Error),
    /// The catalog database failed.
    #[error("catalog database: {0}")]
    Db(#[from] redb::Error),
    /// A local file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The system's random source or the key derivation failed.
    #[error("cryptography: {0}")]
    Crypto(super::crypto::CryptoError),
}

impl Error {
    pub(crate) fn corrupt(object: impl Into<String>, what: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            object: object.into(),
            what: what.to_string(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

impl From<redb::TransactionError> for Error {
    fn from(e: redb::TransactionError) -> Self {
        Self::Db(e.into())
    }
}
