//! `store::Error`: what can go wrong storing or reading bytes.

use std::path::PathBuf;

use super::{BlobId, ChunkId, PackId};

/// Result of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A store failure. Variants name the fact, foreign errors ride along as sources.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or pack could not be read or written (disk full, permissions, I/O error).
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the bytes handed to the store failed.
    #[error("reading the source: {0}")]
    SourceRead(#[from] std::io::Error),
    /// The catalog database failed.
    #[error("catalog database: {0}")]
    Db(#[from] redb::Error),
    /// A blob was asked for that the store does not hold.
    #[error("blob {0} is not in the store")]
    BlobMissing(BlobId),
    /// The index names a chunk that is not in the index or not where it says.
    #[error("chunk {id} is missing")]
    ChunkMissing {
        /// The chunk.
        id: ChunkId,
    },
    /// Bytes in a pack do not match what the index expects.
    #[error("pack {pack} is corrupt at offset {offset}: {what}")]
    PackCorrupt {
        /// The pack.
        pack: PackId,
        /// Byte offset of the record.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// A stored value has a version or layout this binary does not understand.
    #[error("stored value in {table} is unreadable: {what}")]
    BadValue {
        /// The table.
        table: &'static str,
        /// What was wrong.
        what: String,
    },
    /// The library was written by a newer shoebox.
    #[error("store format {found} is newer than this binary understands ({supported})")]
    FormatTooNew {
        /// Version found on disk.
        found: u32,
        /// Newest version this binary reads.
        supported: u32,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// True when the failure is the disk being full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::Io { source, .. } | Self::SourceRead(source) if source.raw_os_error() == Some(28))
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
    redb::CommitError,
    redb::DatabaseError
);
