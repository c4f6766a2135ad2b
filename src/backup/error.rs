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
    /// The snapshot holds no such photo or album (it names which).
    #[error("the snapshot holds no {0}")]
    NotInSnapshot(String),
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
    /// The run (backup or restore) was asked to stop; what it did is kept and the next run
    /// goes on from there.
    #[error("the run was stopped before it finished; the next run goes on from there")]
    Cancelled,
    /// No backup target is configured on this box.
    #[error("no backup target is configured (set one up on the Backup page, or pass --repo)")]
    NotConfigured,
    /// A backup is already running.
    #[error("a backup is already running")]
    AlreadyRunning,
    /// The background job could not be started.
    #[error("could not start the backup: {0}")]
    JobStart(String),
    /// The box key or a value sealed with it failed.
    #[error("sealed settings: {0}")]
    Sealed(#[from] crate::boxkey::Error),
    /// `forget` with no rule that keeps anything.
    #[error(
        "say what to keep (--keep-last, --keep-daily, …): forgetting with no rule would delete every snapshot"
    )]
    KeepsNothing,
    /// Another box holds a fresh lease on the repository.
    #[error(
        "{host} is writing to this repository ({what} since {since}); try again after it finished, or after {until} when its lease ends"
    )]
    Leased {
        /// The other box's host name.
        host: String,
        /// What it does ("backup", "prune").
        what: &'static str,
        /// When it took the lease (UTC, readable).
        since: String,
        /// When the lease goes stale (UTC, readable).
        until: String,
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

/// Why setting up a target (creating or adopting its repository) failed, in words for the page.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The remote cannot be used (see [`super::probe::Problem`]).
    #[error("{0}")]
    Connection(#[from] super::probe::Problem),
    /// "Create" where a repository already is.
    #[error(
        "There is already a shoebox repository there. Choose \"Use existing repository\" and give its passphrase, or pick another place."
    )]
    AlreadyARepository,
    /// "Use existing" where none is.
    #[error("There is no shoebox repository there yet. Choose \"Create repository\".")]
    NotARepository,
    /// The passphrase opens no key.
    #[error("This passphrase (or recovery key) does not open the repository there.")]
    WrongPassphrase,
    /// No passphrase typed.
    #[error("Type a passphrase: the backup is encrypted with it.")]
    NoPassphrase,
    /// Anything else.
    #[error("{0}")]
    Other(Error),
}

impl From<Error> for SetupError {
    fn from(e: Error) -> Self {
        match e {
            Error::AlreadyARepository(_) => Self::AlreadyARepository,
            Error::NotARepository(_) => Self::NotARepository,
            Error::WrongPassphrase { .. } => Self::WrongPassphrase,
            other => Self::Other(other),
        }
    }
}
