//! Restore: rebuild a library from a snapshot (catalog, albums, trash state, every file
//! verified against its id), or write every photo as plain dated files.

use super::error::{Error, Result};
use super::index::RemoteIndex;
use super::prefetch::{self, Files, Item};
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot::Snapshot;
use crate::jobs::Progress;
use crate::library::{self, CatalogRow, ExportReport, Library};
use crate::store::{BlobId, ChunkId};
use redb::ReadableDatabase;

mod files;

pub use files::to_dir;

/// Files restored per transaction (a crash redoes at most this much).
const BATCH_FILES: u64 = 256;
const BATCH_BYTES: u64 = 256 * 1024 * 1024;

/// What a restore did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Files restored into the store.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Catalog rows restored.
    pub rows: u64,
    /// The export, for `--to`.
    pub export: Option<ExportReport>,
}

/// Rebuilds `library` (which must hold no photo) from `snapshot`. Chunks are stored as the
/// backup holds them, so the library's next backup finds every one on the remote.
/// Resumable: the catalog comes last, in the final transaction, so after a failure or a stop
/// the library still holds no photo, and a new run skips the files the cut one committed
/// (they are not even fetched). Stops after a committed batch once `progress` is cancelled.
pub fn into_library(
    repo: &Repo,
    snapshot: &Snapshot,
    library: &Library,
    progress: &Progress,
) -> Result<Report> {
    into_library_by(repo, snapshot, library, progress, BATCH_FILES)
}

/// [`into_library`] committing after every `batch_files` files (tests cut restores short).
pub(super) fn into_library_by(
    repo: &Repo,
    snapshot: &Snapshot,
    library: &Library,
    progress: &Progress,
    batch_files: u64,
) -> Result<Report> {
    if library.counts()?.assets > 0 {
        return Err(Error::LibraryNotEmpty(library.data_dir().to_path_buf()));
    }
    let index = RemoteIndex::load(repo)?;
    progress.add_total(snapshot.body.files, snapshot.body.bytes);
    // Files a cut run committed, with the references it gave them (in the same transaction).
    let mut stored = std::collections::HashMap::new();
    let store = library.store();
    store.for_each_blob(&store.db().begin_read()?, |b| {
        stored.insert(b.id, b.size);
        Ok(())
    })?;
    let (done, done_bytes) = (stored.len() as u64, stored.values().sum::<u64>());
    progress.advance(done, done_bytes);
    let want = |blob: &[u8; 32]| !stored.contains_key(&BlobId(*blob));
    let options = prefetch::Options::default();
    let result = prefetch::read_some(repo, &index, snapshot, &options, &want, |files| {
        load(files, library, progress, batch_files)
    });
    if result.is_err() {
        // The transaction in flight is gone; its appends stay unreferenced until `gc`.
        library.store().discard_uncommitted();
    }
    result.map(|mut r| {
        r.files += done;
        r.bytes += done_bytes;
        r
    })
}

fn load(
    files: &mut Files,
    library: &Library,
    progress: &Progress,
    batch_limit: u64,
) -> Result<Report> {
    let store = library.store();
    let db = store.db();
    let mut report = Report::default();
    let mut txn = db.begin_write()?;
    let (mut batch_files, mut batch_bytes) = (0u64, 0u64);
    let first_row = loop {
        match files.next()? {
            Some(Item::File {
                blob,
                size,
                refs,
                chunks,
            }) => {
                restore_file(files, library, &txn, blob, size, refs, chunks)?;
                report.files += 1;
                report.bytes += size;
                progress.advance(1, size);
                batch_files += 1;
                batch_bytes += size;
                if batch_files >= batch_limit || batch_bytes >= BATCH_BYTES {
                    store.prepare_commit(&txn)?;
                    txn.commit().map_err(redb::Error::from)?;
                    if progress.is_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    txn = db.begin_write()?;
                    (batch_files, batch_bytes) = (0, 0);
                }
            }
            Some(Item::Row { table, key, value }) => {
                break Some(CatalogRow { table, key, value });
            }
            None => break None,
        }
    };
    let mut late: Option<Error> = None;
    let rest = std::iter::from_fn(|| match files.next() {
        Ok(Some(Item::Row { table, key, value })) => Some(Ok(CatalogRow { table, key, value })),
        Ok(Some(Item::File { .. })) => {
            late = Some(Error::corrupt(
                "catalog stream",
                "a file record after the catalog rows",
            ));
            None
        }
        Ok(None) => None,
        Err(e) => {
            late = Some(e);
            None
        }
    });
    let rows = first_row
        .into_iter()
        .map(Ok::<_, library::Error>)
        .chain(rest);
    report.rows = library.load_catalog(&txn, rows)?;
    if let Some(e) = late {
        return Err(e);
    }
    store.prepare_commit(&txn)?;
    txn.commit().map_err(redb::Error::from)?;
    Ok(report)
}

/// Stores one file from its chunks and checks it against its id before anything points
/// at it.
fn restore_file(
    files: &mut Files,
    library: &Library,
    txn: &redb::WriteTransaction,
    blob: [u8; 32],
    size: u64,
    refs: u32,
    chunks: usize,
) -> Result<()> {
    let store = library.store();
    let mut hasher = blake3::Hasher::new();
    let mut read = 0u64;
    let source = (0..chunks).map(|_| {
        let (id, opened) = files.chunk()?;
        hasher.update(opened.plain());
        read += u64::from(opened.stored.raw_len);
        Ok((ChunkId(id), opened.stored))
    });
    let put = store.put_stored::<Error>(txn, BlobId(blob), size, source)?;
    if *hasher.finalize().as_bytes() != blob || read != size {
        let id = blake3::Hash::from_bytes(blob).to_hex();
        return Err(Error::corrupt(
            format!("file {}", id.as_str().get(..12).unwrap_or_default()),
            "restored bytes do not hash to the file's id",
        ));
    }
    for _ in 0..refs {
        store.retain(txn, put.blob)?;
    }
    Ok(())
}

/// Re-reads and verifies every byte of the snapshot's files without writing anything.
pub fn verify(repo: &Repo, snapshot: &Snapshot) -> Result<u64> {
    let index = RemoteIndex::load(repo)?;
    prefetch::read(
        repo,
        &index,
        snapshot,
        &prefetch::Options::default(),
        |files| {
            let mut verified = 0;
            while let Some(item) = files.next()? {
                let Item::File { blob, chunks, .. } = item else {
                    continue;
                };
                let mut hasher = blake3::Hasher::new();
                for _ in 0..chunks {
                    hasher.update(files.chunk()?.1.plain());
                }
                if *hasher.finalize().as_bytes() != blob {
                    return Err(Error::corrupt(
                        Kind::Snapshot.path(&snapshot.name),
                        "a file's chunks do not hash to its id",
                    ));
                }
                verified += 1;
            }
            Ok(verified)
        },
    )
}
