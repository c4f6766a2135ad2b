//! The facade's calls for one snapshot of the configured target: what it holds, one photo
//! restored inline (a handful of files), one album restored as a background job (it can be
//! thousands of photos), one original read straight from the remote. Like the rest of the
//! facade these block on `OpenDAL`'s own runtime: call them from a plain thread.

use std::sync::{Arc, Mutex, PoisonError};

use super::bring::{self, Brought};
use super::browse::{self, Contents};
use super::error::{Error, Result};
use super::remote::RetryPolicy;
use super::repo::Repo;
use super::service::{Backup, connect};
use super::snapshot::{self, Snapshot};
use super::target::Target;
use crate::jobs::{Job, JobError, Outcome, Progress, Scheduler};
use crate::library::{Album, AssetId, Library, Part};

/// The repository last opened, with the target it was opened with: opening costs an argon2
/// run (about a second on a Pi), too much for every page of a snapshot.
#[derive(Default)]
pub(super) struct Opened(Mutex<Option<(Target, Repo)>>);

impl Opened {
    /// The repository at `target`, opened again only when the target changed.
    pub(super) fn open(&self, target: Target) -> Result<Repo> {
        let mut opened = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((t, repo)) = opened.as_ref()
            && *t == target
        {
            return Ok(repo.clone());
        }
        let (_, remote) = connect(&target, RetryPolicy::default())?;
        let repo = Repo::open(remote, &target.passphrase)?;
        *opened = Some((target, repo.clone()));
        Ok(repo)
    }
}

impl Drop for Opened {
    /// The remote owns `OpenDAL`'s runtime, which must not be dropped on an async thread (the
    /// facade itself may be dropped on one): let it go on a plain thread of its own.
    fn drop(&mut self) {
        let held = self
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(held) = held
            && let Ok(thread) = std::thread::Builder::new()
                .name("backup-close".into())
                .spawn(move || drop(held))
        {
            let _ = thread.join();
        }
    }
}

impl Backup {
    /// The snapshot named exactly `name` in the configured target's repository.
    fn snapshot_named(&self, name: &str) -> Result<(Repo, Snapshot)> {
        let repo = self.open_repo()?;
        let snap = snapshot::list(&repo)?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::SnapshotNotFound(name.to_string()))?;
        Ok((repo, snap))
    }

    /// The albums of snapshot `name` and a page of its photos (see [`browse::contents`]).
    pub fn contents(&self, name: &str, after: Option<AssetId>, limit: usize) -> Result<Contents> {
        let (repo, snap) = self.snapshot_named(name)?;
        browse::contents(&repo, &snap, after, limit)
    }

    /// Restores photo `id` of snapshot `name` now; returns its id in the library.
    pub fn restore_photo(&self, name: &str, id: AssetId) -> Result<(AssetId, Brought)> {
        let (repo, snap) = self.snapshot_named(name)?;
        bring::asset(
            &repo,
            &snap,
            self.library(),
            id,
            &Progress::new("restore photo"),
        )
    }

    /// Finds album `id` of snapshot `name` and starts restoring it in the background;
    /// returns the album as the snapshot has it, and the job's progress.
    pub fn start_album_restore(
        &self,
        jobs: &Scheduler,
        name: &str,
        id: u64,
    ) -> Result<(Album, Progress)> {
        let (repo, snap) = self.snapshot_named(name)?;
        let (album, members) = bring::find_album(&repo, &snap, id)?;
        let job = AlbumJob {
            library: Arc::clone(self.library()),
            repo,
            snap,
            album: Some((album.clone(), members)),
        };
        let progress = jobs
            .start(job)
            .map_err(|e| Error::JobStart(e.to_string()))?;
        Ok((album, progress))
    }

    /// Reads the original of photo `id` of snapshot `name` (see [`browse::read_original`]).
    pub fn read_original(
        &self,
        name: &str,
        id: AssetId,
        start: impl FnOnce(&Part) -> bool,
        sink: impl FnMut(&[u8]) -> bool,
    ) -> Result<()> {
        let (repo, snap) = self.snapshot_named(name)?;
        browse::read_original(&repo, &snap, id, start, sink)
    }
}

/// Restores one album of a snapshot.
struct AlbumJob {
    library: Arc<Library>,
    repo: Repo,
    snap: Snapshot,
    album: Option<(Album, Vec<AssetId>)>,
}

impl Job for AlbumJob {
    fn name(&self) -> String {
        "restore album".into()
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        let Some(found) = self.album.take() else {
            return Ok(Outcome::Done("nothing to do".into()));
        };
        let name = found.0.name.clone();
        match bring::album(&self.repo, &self.snap, &self.library, found, progress) {
            Ok((_, b)) => Ok(Outcome::Done(format!(
                "album \"{name}\" is back: {} photos restored ({} files), {} were still here",
                b.restored, b.files, b.present
            ))),
            Err(Error::Cancelled) => Ok(Outcome::Cancelled),
            Err(e) => Err(JobError(Box::new(e))),
        }
    }
}
