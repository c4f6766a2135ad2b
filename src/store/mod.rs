//! Content-addressed, deduplicated storage of file bytes.
//!
//! Owns the `packs/` directory and the `store.*` redb tables. May import nothing from the
//! crate. Invariants: a chunk is referenced by the index only after the pack holding it was
//! fsynced ([`Store::prepare_commit`] runs before the caller commits); refcounts in the index
//! equal the references that exist; bytes past a pack's committed length are never read.

mod chunker;
mod counters;
mod error;
mod gc;
mod ids;
mod inbound;
mod index;
mod manifest;
mod outbound;
mod pack;
mod reader;
mod rebuild;
mod syncer;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};

pub use chunker::{AVG_SIZE, MAX_SIZE, MIN_SIZE};
pub use counters::Stats;
pub use error::{Error, Result};
pub use gc::GcReport;
pub use ids::{BlobId, ChunkId, PackId};
pub use outbound::{ChunkReader, StoredBlob, StoredChunk};
pub use reader::BlobReader;
pub use rebuild::RebuildReport;
pub use syncer::Syncer;
pub use verify::{CheckReport, Damage};

use chunker::Chunker;
use index::{BLOBS, META};
use writer::Writer;

/// Newest store format this binary writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Tuning knobs; the defaults suit a Raspberry Pi with a USB disk.
#[derive(Debug, Clone)]
pub struct Options {
    /// A pack is sealed once it reaches this size.
    pub pack_target: u64,
    /// How long an unreferenced blob or a retired pack is kept before deletion. Readers hold
    /// locations from older transactions (an export, a backup upload); deleting under them
    /// would turn a consistent read into a missing chunk.
    pub grace: Duration,
    /// Packs whose live bytes fall below this fraction are rewritten by GC.
    pub repack_below: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pack_target: 64 * 1024 * 1024,
            grace: Duration::from_hours(1),
            repack_below: 0.5,
        }
    }
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put {
    /// The file's id.
    pub blob: BlobId,
    /// File size.
    pub size: u64,
    /// False when the store already held these exact bytes.
    pub new_blob: bool,
    /// Bytes appended to packs for this file (0 for a duplicate).
    pub stored_bytes: u64,
}

/// The store facade.
pub struct Store {
    db: Arc<Database>,
    packs_dir: PathBuf,
    chunker: Chunker,
    options: Options,
    writer: Mutex<Option<Writer>>,
}

impl Store {
    /// Opens (creating on first use) the store of the library at `data_dir`.
    pub fn open(db: Arc<Database>, data_dir: &Path, options: Options) -> Result<Self> {
        let packs_dir = data_dir.join("packs");
        std::fs::create_dir_all(&packs_dir).map_err(Error::io(&packs_dir))?;
        let seed = init_meta(&db)?;
        Ok(Self {
            db,
            packs_dir,
            chunker: Chunker::new(seed),
            options,
            writer: Mutex::new(None),
        })
    }

    /// Stores the bytes of `source` (chunked, deduplicated, compressed where `compressible`
    /// and it saves ≥ 10 %), cutting also at `cuts`. Part of the caller's transaction: call
    /// [`Store::prepare_commit`] before committing it. The new blob holds no reference yet;
    /// [`Store::retain`] it in the same transaction.
    pub fn put(
        &self,
        txn: &WriteTransaction,
        source: impl std::io::Read,
        cuts: &[u64],
        compressible: bool,
    ) -> Result<Put> {
        let mut guard = self.writer_guard();
        let result = writer::put(self, &mut guard, txn, source, cuts, compressible);
        if result.is_err() {
            // The pack may hold a torn record; reopen at the committed length next time.
            *guard = None;
        }
        result
    }

    /// Makes every record appended in this transaction durable and records the packs'
    /// lengths in `txn`. Call right before `txn.commit()`.
    pub fn prepare_commit(&self, txn: &WriteTransaction) -> Result<()> {
        let mut guard = self.writer_guard();
        let result = match guard.as_mut() {
            Some(w) => w.sync_and_record(txn),
            None => Ok(()),
        };
        if result.is_err() {
            *guard = None;
        }
        result
    }

    /// Forgets appends of a transaction that was aborted (its records stay unreferenced).
    pub fn discard_uncommitted(&self) {
        *self.writer_guard() = None;
    }

    /// Adds a reference to a stored blob.
    pub fn retain(&self, txn: &WriteTransaction, blob: BlobId) -> Result<()> {
        self.adjust_refs(txn, blob, 1)
    }

    /// Drops a reference; at zero the blob becomes collectable after the grace period.
    pub fn release(&self, txn: &WriteTransaction, blob: BlobId) -> Result<()> {
        self.adjust_refs(txn, blob, -1)
    }

    fn adjust_refs(&self, txn: &WriteTransaction, blob: BlobId, delta: i64) -> Result<()> {
        let mut blobs = txn.open_table(BLOBS)?;
        let mut entry = index::get_blob(&blobs, &blob)?.ok_or(Error::BlobMissing(blob))?;
        let refs = (i64::from(entry.refs) + delta).clamp(0, i64::from(u32::MAX));
        entry.refs = u32::try_from(refs).unwrap_or(u32::MAX);
        entry.unreferenced_since = if entry.refs == 0 { unix_now() } else { 0 };
        blobs.insert(&blob.0, entry.encode().as_slice())?;
        Ok(())
    }

    /// Whether the store holds this chunk (backup asks this for every chunk it considers).
    pub fn has_chunk(&self, txn: &ReadTransaction, chunk: ChunkId) -> Result<bool> {
        Ok(txn.open_table(index::CHUNKS)?.get(&chunk.0)?.is_some())
    }

    /// References a stored blob holds, or `None` when absent.
    pub fn blob_refs(&self, txn: &ReadTransaction, blob: BlobId) -> Result<Option<u32>> {
        let blobs = txn.open_table(BLOBS)?;
        Ok(index::get_blob(&blobs, &blob)?.map(|b| b.refs))
    }

    /// Size of a stored blob, or `None` when absent.
    pub fn blob_size(&self, txn: &ReadTransaction, blob: BlobId) -> Result<Option<u64>> {
        let blobs = txn.open_table(BLOBS)?;
        Ok(index::get_blob(&blobs, &blob)?.map(|b| b.size))
    }

    /// Streams a blob's bytes, verifying every chunk against its id as it goes.
    pub fn reader(&self, blob: BlobId) -> Result<BlobReader> {
        let txn = self.db.begin_read()?;
        BlobReader::new(&txn, self.packs_dir.clone(), blob)
    }

    /// Counters kept up to date by every write.
    pub fn stats(&self) -> Result<Stats> {
        counters::read(&self.db.begin_read()?)
    }

    /// The database this store lives in.
    pub fn db(&self) -> &Arc<Database> {
        &self.db
    }

    fn writer_guard(&self) -> MutexGuard<'_, Option<Writer>> {
        // A panic while holding the lock cannot leave the writer worse than a crash would.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Creates the meta table on first open; returns the chunker seed. Writes nothing when the
/// store exists already, so a full disk can still be checked and read.
fn init_meta(db: &Database) -> Result<u64> {
    if let Ok(meta) = db.begin_read()?.open_table(META) {
        let format = meta
            .get("format")?
            .and_then(|v| v.value().try_into().ok())
            .map(u32::from_le_bytes);
        let seed = meta
            .get("seed")?
            .and_then(|v| v.value().try_into().ok())
            .map(u64::from_le_bytes);
        if let (Some(found), Some(seed)) = (format, seed) {
            if found > FORMAT_VERSION {
                return Err(Error::FormatTooNew {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            return Ok(seed);
        }
    }
    let txn = db.begin_write()?;
    txn.open_table(index::CHUNKS)?;
    txn.open_table(index::BLOBS)?;
    txn.open_table(index::PACKS)?;
    let seed = {
        let mut meta = txn.open_table(META)?;
        if let Some(v) = meta.get("format")? {
            let found = v.value().try_into().map_or(u32::MAX, u32::from_le_bytes);
            if found > FORMAT_VERSION {
                return Err(Error::FormatTooNew {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        } else {
            meta.insert("format", FORMAT_VERSION.to_le_bytes().as_slice())?;
        }
        let existing = meta
            .get("seed")?
            .and_then(|v| v.value().try_into().ok())
            .map(u64::from_le_bytes);
        if let Some(seed) = existing {
            seed
        } else {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(|e| Error::Io {
                path: PathBuf::from("getrandom"),
                source: std::io::Error::other(e.to_string()),
            })?;
            meta.insert("seed", bytes.as_slice())?;
            u64::from_le_bytes(bytes)
        }
    };
    txn.commit()?;
    Ok(seed)
}

#[cfg(test)]
mod tests;

/// Deterministic noise for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn tests_noise(len: usize, seed: u64) -> Vec<u8> {
    chunker::tests::noise(len, seed)
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
