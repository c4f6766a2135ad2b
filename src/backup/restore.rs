//! Restore: rebuild a library from a snapshot (catalog, albums, trash state, every file
//! verified against its id), or write every photo as plain dated files.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::fetch::{Chunks, Fetcher};
use super::format::{StreamReader, StreamRecord};
use super::index::RemoteIndex;
use super::prefetch::{self, Files, Item};
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot::Snapshot;
use crate::jobs::Progress;
use crate::library::{self, CatalogRow, ExportReport, Library};
use crate::store::{BlobId, ChunkId};
use redb::ReadableDatabase;

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

/// Writes every photo of `snapshot` as plain files in `YYYY/MM/DD` folders under `dir`,
/// byte-identical to what was backed up. The catalog is read first (into a small staging
/// catalog in `dir/.shoebox-restore`, removed at the end) to name every file; then only the
/// files to write are fetched, each written once. Files already there with the same bytes
/// are kept, so an interrupted restore run again fetches only what is missing.
pub fn to_dir(repo: &Repo, snapshot: &Snapshot, dir: &Path, progress: &Progress) -> Result<Report> {
    let staging = dir.join(".shoebox-restore");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let index = RemoteIndex::load(repo)?;
    let plan = {
        let catalog = Library::open(&staging, library::Options::default())?;
        load_rows(repo, &index, snapshot, &catalog)?;
        catalog.plan_export(dir)?
    };
    std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    let files = plan.files.values().map(Vec::len).sum::<usize>() as u64;
    progress.add_total(files, plan.bytes);
    let mut report = Report::default();
    let want = |blob: &[u8; 32]| plan.files.contains_key(&BlobId(*blob));
    let options = prefetch::Options::default();
    prefetch::read_some(repo, &index, snapshot, &options, &want, |files| {
        let mut batch = Batch::default();
        while let Some(item) = files.next()? {
            if progress.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let Item::File { blob, chunks, .. } = item else {
                continue;
            };
            let targets = plan.files.get(&BlobId(blob)).map_or(&[][..], Vec::as_slice);
            let written = batch.write(files, blob, chunks, targets)?;
            report.files += targets.len() as u64;
            report.bytes += written;
            progress.advance(targets.len() as u64, written);
            if batch.full() {
                batch.finish()?;
            }
        }
        batch.finish()
    })?;
    let mut export = plan.report;
    export.written = report.files;
    export.bytes = report.bytes;
    report.export = Some(export);
    Ok(report)
}

/// Loads the catalog rows of `snapshot` into `catalog`, skipping its files' chunks.
fn load_rows(
    repo: &Repo,
    index: &RemoteIndex,
    snapshot: &Snapshot,
    catalog: &Library,
) -> Result<()> {
    let object = Kind::Snapshot.path(&snapshot.name);
    let ids = snapshot.body.stream.iter().map(|(id, _)| *id).collect();
    let fetcher = Fetcher::new(repo, index);
    let mut stream = Chunks::new(&fetcher, ids);
    let mut reader = match StreamReader::new(&mut stream) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(Error::corrupt(&object, e)),
        Err(e) => {
            return Err(stream
                .failure
                .take()
                .unwrap_or_else(|| Error::corrupt(&object, e)));
        }
    };
    let mut failed: Option<std::io::Error> = None;
    let rows = std::iter::from_fn(|| {
        loop {
            match reader.next_record() {
                Ok(Some(StreamRecord::Row { table, key, value })) => {
                    return Some(Ok(CatalogRow { table, key, value }));
                }
                Ok(Some(StreamRecord::File { .. })) => {}
                Ok(None) => return None,
                Err(e) => {
                    failed = Some(e);
                    return None;
                }
            }
        }
    });
    let txn = catalog.store().db().begin_write()?;
    catalog.load_catalog(&txn, rows)?;
    if let Some(e) = failed {
        return Err(stream
            .failure
            .take()
            .unwrap_or_else(|| Error::corrupt(&object, e)));
    }
    txn.commit().map_err(redb::Error::from)?;
    Ok(())
}

/// Files written but not yet made durable: each is fsynced and renamed into place at the
/// end of the batch, so the disk writes back in the background meanwhile and a crash leaves
/// only `.shoebox-partial` files behind, never a torn photo under its name.
#[derive(Default)]
struct Batch {
    open: Vec<(std::fs::File, PathBuf, PathBuf)>,
    bytes: u64,
}

impl Batch {
    fn full(&self) -> bool {
        self.open.len() as u64 >= BATCH_FILES || self.bytes >= BATCH_BYTES
    }

    /// Writes one file from its next `chunks` chunks to the first of `targets`, checked
    /// against `blob`, and copies it to the others. Returns the bytes written.
    fn write(
        &mut self,
        files: &mut Files,
        blob: [u8; 32],
        chunks: usize,
        targets: &[(PathBuf, u64)],
    ) -> Result<u64> {
        let Some(((first, when), others)) = targets.split_first() else {
            return Ok(0);
        };
        let tmp = partial(first);
        let mut out = std::fs::File::create(&tmp).map_err(Error::io(&tmp))?;
        let mut hasher = blake3::Hasher::new();
        let mut size = 0u64;
        for _ in 0..chunks {
            let (_, chunk) = files.chunk()?;
            hasher.update(chunk.plain());
            out.write_all(chunk.plain()).map_err(Error::io(&tmp))?;
            size += chunk.plain().len() as u64;
        }
        if *hasher.finalize().as_bytes() != blob {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::corrupt(
                format!("file {}", short_id(&blob)),
                "restored bytes do not hash to the file's id",
            ));
        }
        self.keep(out, tmp.clone(), first, *when, size);
        for (path, when) in others {
            let copy = partial(path);
            std::fs::copy(&tmp, &copy).map_err(Error::io(&copy))?;
            let out = std::fs::File::options()
                .write(true)
                .open(&copy)
                .map_err(Error::io(&copy))?;
            self.keep(out, copy, path, *when, size);
        }
        Ok(size * targets.len() as u64)
    }

    fn keep(&mut self, out: std::fs::File, tmp: PathBuf, path: &Path, when: u64, size: u64) {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(when);
        let _ = out.set_modified(when);
        self.open.push((out, tmp, path.to_path_buf()));
        self.bytes += size;
    }

    fn finish(&mut self) -> Result<()> {
        for (file, tmp, path) in self.open.drain(..) {
            file.sync_all().map_err(Error::io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(Error::io(&path))?;
        }
        self.bytes = 0;
        Ok(())
    }
}

/// The name a file is written under until it is durable (beside its final name, so the
/// rename stays on one disk; `live.jpg` and `live.mov` get different ones).
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".shoebox-partial");
    path.with_file_name(name)
}

fn short_id(blob: &[u8; 32]) -> String {
    let id = blake3::Hash::from_bytes(*blob).to_hex();
    id.as_str().get(..12).unwrap_or_default().to_string()
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
