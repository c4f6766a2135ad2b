//! Import: a folder on disk (a USB stick, an old photo dump) through the one ingest.
//!
//! A source adapter like `icloud` and `dav`: it walks, decides what is unchanged since last
//! time without reading it, and hands files to `library`. Commits in batches, so a kill
//! loses at most the batch in flight, and the next run picks up where this one stopped.

mod readahead;
mod walk;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::jobs::{Job, JobError, Outcome, Progress};
use crate::library::{Batch, Incoming, Ingested, Library, Origin, Stamp};

pub use walk::{FoundFile, Walk, walk};

/// Commit a batch when it holds this many bytes...
const BATCH_BYTES: u64 = 128 * 1024 * 1024;
/// ...or this many files (the default of `--commit-every`)...
pub const BATCH_FILES: u64 = 1000;
/// ...or has been open this long.
const BATCH_AGE: Duration = Duration::from_secs(1);

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// New assets.
    pub new: u64,
    /// Files whose bytes were already in the library (origin recorded).
    pub duplicates: u64,
    /// Halves of Live Photos and sidecars joined to an existing asset.
    pub paired: u64,
    /// Files unchanged since the last import, passed over without reading.
    pub unchanged: u64,
    /// Bytes of the files read.
    pub bytes_read: u64,
    /// Files passed over, by reason, with their paths.
    pub skipped: BTreeMap<String, Vec<PathBuf>>,
    /// Files that could not be imported, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

impl Summary {
    /// Number of files skipped.
    pub fn skipped_count(&self) -> usize {
        self.skipped.values().map(Vec::len).sum()
    }
}

/// The import job.
pub struct ImportJob {
    library: Arc<Library>,
    roots: Vec<PathBuf>,
    commit_every: u64,
    summary: Summary,
}

impl ImportJob {
    /// An import of `roots` into `library`, committing at least every `commit_every` files.
    pub fn new(library: Arc<Library>, roots: Vec<PathBuf>, commit_every: u64) -> Self {
        Self {
            library,
            roots,
            commit_every: commit_every.max(1),
            summary: Summary::default(),
        }
    }

    /// The result so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The result, once the job ran.
    pub fn into_summary(self) -> Summary {
        self.summary
    }

    fn skip(&mut self, path: PathBuf, reason: impl Into<String>) {
        self.summary
            .skipped
            .entry(reason.into())
            .or_default()
            .push(path);
    }

    fn import_all(
        &mut self,
        files: Vec<FoundFile>,
        progress: &Progress,
    ) -> Result<(), crate::library::Error> {
        let library = Arc::clone(&self.library);
        let mut todo = Vec::with_capacity(files.len());
        for file in files {
            let stamp = stamp(&file);
            let origin = Origin::Import {
                path: file.path.to_string_lossy().into_owned(),
            };
            if stamp.size == 0 {
                self.skip(file.path, "empty file");
                progress.advance(1, 0);
            } else if library.is_unchanged(&origin, stamp)? {
                self.summary.unchanged += 1;
                progress.advance(1, stamp.size);
            } else {
                todo.push((file, stamp, origin));
            }
        }
        let readahead = readahead::ReadAhead::start(
            todo.iter()
                .map(|(f, s, _)| (f.path.clone(), s.size))
                .collect(),
        );
        let mut batch: Option<(Batch<'_>, Instant)> = None;
        for (file, stamp, origin) in todo {
            if progress.is_cancelled() {
                break;
            }
            progress.set_current(file.path.display().to_string());
            let (open, started) = match batch.take() {
                Some(b) => b,
                None => (library.begin()?, Instant::now()),
            };
            let mut open = open;
            let name = file
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let item = Incoming {
                file: &file.path,
                origin,
                name,
                stamp: Some(stamp),
                file_time: Some(stamp.mtime_ns / 1_000_000_000),
            };
            match open.ingest(&item) {
                Ok(outcome) => self.count(outcome, &file, stamp.size),
                Err(
                    e @ (crate::library::Error::Io { .. }
                    | crate::library::Error::Store(crate::store::Error::SourceRead(_))),
                ) => {
                    progress.record_error(format!("{}: {e}", file.path.display()));
                    self.summary.failed.push((file.path.clone(), e.to_string()));
                }
                Err(e) => return Err(e),
            }
            progress.advance(1, stamp.size);
            readahead.consumed(stamp.size);
            if open.bytes >= BATCH_BYTES
                || open.files >= self.commit_every
                || started.elapsed() >= BATCH_AGE
            {
                open.commit()?;
            } else {
                batch = Some((open, started));
            }
        }
        if let Some((open, _)) = batch {
            open.commit()?;
        }
        Ok(())
    }

    fn count(&mut self, outcome: Ingested, file: &FoundFile, size: u64) {
        self.summary.bytes_read += size;
        match outcome {
            Ingested::New(_) => self.summary.new += 1,
            Ingested::Duplicate(_) => self.summary.duplicates += 1,
            Ingested::Unchanged(_) => self.summary.unchanged += 1,
            Ingested::Paired(_) => self.summary.paired += 1,
            Ingested::Skipped(reason) => self.skip(file.path.clone(), reason),
        }
    }
}

fn stamp(file: &FoundFile) -> Stamp {
    Stamp {
        size: file.meta.len(),
        mtime_ns: file
            .meta
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(file.meta.mtime_nsec()),
        inode: file.meta.ino(),
    }
}

impl Job for ImportJob {
    fn name(&self) -> String {
        "import".into()
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        progress.set_current("looking for files");
        let found = walk(&self.roots, self.library.data_dir());
        for (path, reason) in found.skipped {
            self.skip(path, reason);
        }
        for (path, reason) in found.failed {
            progress.record_error(format!("{}: {reason}", path.display()));
            self.summary.failed.push((path, reason));
        }
        progress.add_total(
            found.files.len() as u64,
            found.files.iter().map(|f| f.meta.len()).sum(),
        );
        self.import_all(found.files, progress)
            .map_err(|e| JobError(Box::new(e)))?;
        if progress.is_cancelled() {
            return Ok(Outcome::Cancelled);
        }
        Ok(Outcome::Done(format!(
            "{} new, {} duplicates",
            self.summary.new, self.summary.duplicates
        )))
    }
}
