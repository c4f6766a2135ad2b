//! Restore: rebuild a library from a snapshot (catalog, albums, trash state, every file
//! verified against its id), or write every photo as plain dated files.

use std::path::Path;

use super::error::{Error, Result};
use super::fetch::{Chunks, Fetcher};
use super::format::{StreamReader, StreamRecord};
use super::index::RemoteIndex;
use super::repo::Repo;
use super::snapshot::Snapshot;
use crate::jobs::Progress;
use crate::library::{self, CatalogRow, ExportReport, Library};
use crate::store::BlobId;

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

/// Rebuilds `library` (which must hold no photo) from `snapshot`. Resumable: the catalog
/// comes last, in the final transaction, so after a failure or a stop the library still holds
/// no photo, and a new run finds the files the cut one committed in the store and fetches
/// only the rest. Stops after a committed batch once `progress` is cancelled.
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
    let result = restore_all(repo, snapshot, library, progress, batch_files);
    if result.is_err() {
        // The transaction in flight is gone; its appends stay unreferenced until `gc`.
        library.store().discard_uncommitted();
    }
    result
}

fn restore_all(
    repo: &Repo,
    snapshot: &Snapshot,
    library: &Library,
    progress: &Progress,
    batch_limit: u64,
) -> Result<Report> {
    if library.counts()?.assets > 0 {
        return Err(Error::LibraryNotEmpty(library.data_dir().to_path_buf()));
    }
    let index = RemoteIndex::load(repo)?;
    let object = format!("snapshots/{}", snapshot.name);
    progress.add_total(snapshot.body.files, snapshot.body.bytes);
    let ids = snapshot.body.stream.iter().map(|(id, _)| *id).collect();
    let stream_fetcher = Fetcher::new(repo, &index);
    let files = Fetcher::new(repo, &index);
    let mut stream = Chunks::new(&stream_fetcher, ids);
    let stream_error = |chunks: &mut Chunks<'_, '_>, e: std::io::Error| {
        chunks
            .failure
            .take()
            .unwrap_or_else(|| Error::corrupt(&object, format!("catalog stream: {e}")))
    };
    let mut reader = match StreamReader::new(&mut stream) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(Error::corrupt(&object, e)),
        Err(e) => {
            let err = stream_error(&mut Chunks::new(&stream_fetcher, Vec::new()), e);
            return Err(err);
        }
    };
    let store = library.store();
    let db = store.db();
    let mut report = Report::default();
    let mut txn = db.begin_write()?;
    let (mut batch_files, mut batch_bytes) = (0u64, 0u64);
    let first_row = loop {
        let record = match reader.next_record() {
            Ok(r) => r,
            Err(e) => {
                return Err(stream_error(&mut stream, e));
            }
        };
        match record {
            Some(StreamRecord::File {
                blob,
                size,
                refs,
                chunks,
            }) => {
                restore_file(&files, library, &txn, blob, refs, chunks)?;
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
            Some(StreamRecord::Row { table, key, value }) => {
                break Some(CatalogRow { table, key, value });
            }
            None => break None,
        }
    };
    let mut late: Option<std::io::Error> = None;
    let rest = std::iter::from_fn(|| match reader.next_record() {
        Ok(Some(StreamRecord::Row { table, key, value })) => {
            Some(Ok(CatalogRow { table, key, value }))
        }
        Ok(Some(StreamRecord::File { .. })) => {
            late = Some(std::io::Error::other(
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
        return Err(stream_error(&mut stream, e));
    }
    store.prepare_commit(&txn)?;
    txn.commit().map_err(redb::Error::from)?;
    Ok(report)
}

fn restore_file(
    fetcher: &Fetcher<'_>,
    library: &Library,
    txn: &redb::WriteTransaction,
    blob: [u8; 32],
    refs: u32,
    chunks: Vec<[u8; 32]>,
) -> Result<()> {
    let store = library.store();
    if let Some(have) = store.blob_refs_in(txn, BlobId(blob))? {
        // A cut run stored it already (verified then): only its references may be missing.
        for _ in have..refs {
            store.retain(txn, BlobId(blob))?;
        }
        return Ok(());
    }
    let mut source = Chunks::new(fetcher, chunks);
    let put = match store.put(txn, &mut source, &[], true) {
        Ok(p) => p,
        Err(e) => return Err(source.failure.take().unwrap_or(Error::Store(e))),
    };
    if put.blob.0 != blob {
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

/// Writes every photo of `snapshot` as plain files in `YYYY/MM/DD` folders under `dir`,
/// byte-identical to what was backed up. Stages a library in `dir/.shoebox-restore` (so
/// it needs the space twice while it runs) and removes it at the end.
pub fn to_dir(repo: &Repo, snapshot: &Snapshot, dir: &Path, progress: &Progress) -> Result<Report> {
    let staging = dir.join(".shoebox-restore");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let mut report = {
        let library = Library::open(&staging, library::Options::default())?;
        let mut report = into_library(repo, snapshot, &library, progress)?;
        let export = library.export(dir, &Progress::new("export"))?;
        report.export = Some(export);
        report
    };
    std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    if let Some(e) = report.export.as_mut() {
        e.failed.retain(|_| true);
    }
    Ok(report)
}

/// Re-reads and verifies every byte of the snapshot's files without writing anything.
pub fn verify(repo: &Repo, snapshot: &Snapshot) -> Result<u64> {
    let index = RemoteIndex::load(repo)?;
    let ids = snapshot.body.stream.iter().map(|(id, _)| *id).collect();
    let fetcher = Fetcher::new(repo, &index);
    let file_fetcher = Fetcher::new(repo, &index);
    let mut stream = Chunks::new(&fetcher, ids);
    let object = format!("snapshots/{}", snapshot.name);
    let mut reader = StreamReader::new(&mut stream)
        .map_err(|e| Error::corrupt(&object, e))?
        .map_err(|e| Error::corrupt(&object, e))?;
    let mut files = 0;
    while let Some(r) = reader
        .next_record()
        .map_err(|e| Error::corrupt(&object, e))?
    {
        if let StreamRecord::File { blob, chunks, .. } = r {
            let mut hasher = blake3::Hasher::new();
            for c in &chunks {
                hasher.update(&file_fetcher.chunk(c)?);
            }
            if *hasher.finalize().as_bytes() != blob {
                return Err(Error::corrupt(
                    &object,
                    "a file's chunks do not hash to its id",
                ));
            }
            files += 1;
        }
    }
    Ok(files)
}
