//! Restore to a folder: every photo as a plain file, written once, straight from the backup.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::super::error::{Error, Result};
use super::super::fetch::{Chunks, Fetcher};
use super::super::format::{StreamReader, StreamRecord};
use super::super::index::RemoteIndex;
use super::super::prefetch::{self, Files, Item};
use super::super::remote::Kind;
use super::super::repo::Repo;
use super::super::snapshot::Snapshot;
use super::{BATCH_BYTES, BATCH_FILES, Report};
use crate::jobs::Progress;
use crate::library::{self, CatalogRow, Library};
use crate::store::{BlobId, Syncer};

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

/// Files written but not yet made durable: each goes to the background fsync as soon as it
/// is written, and is renamed into place once the batch is on disk, so the disk works while
/// the next files arrive and a crash leaves only `.shoebox-partial` files behind, never a
/// torn photo under its name.
#[derive(Default)]
struct Batch {
    open: Vec<(PathBuf, PathBuf)>,
    bytes: u64,
    syncer: Syncer,
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
        self.keep(&out, tmp.clone(), first, *when, size)?;
        for (path, when) in others {
            let copy = partial(path);
            std::fs::copy(&tmp, &copy).map_err(Error::io(&copy))?;
            let out = std::fs::File::options()
                .write(true)
                .open(&copy)
                .map_err(Error::io(&copy))?;
            self.keep(&out, copy, path, *when, size)?;
        }
        Ok(size * targets.len() as u64)
    }

    fn keep(
        &mut self,
        out: &std::fs::File,
        tmp: PathBuf,
        path: &Path,
        when: u64,
        size: u64,
    ) -> Result<()> {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(when);
        let _ = out.set_modified(when);
        self.syncer.submit(out, &tmp).map_err(Error::io(&tmp))?;
        self.open.push((tmp, path.to_path_buf()));
        self.bytes += size;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.syncer.drain().map_err(|(tmp, e)| Error::io(tmp)(e))?;
        for (tmp, path) in self.open.drain(..) {
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
