//! Restoring a snapshot into this box's own library in the background (the wizard's restore
//! branch), then keeping its repository as the box's target so nightly backups go on there.
//!
//! Opening the repository only reads (config, keys, snapshots), so credentials that may only
//! read still restore; "test connection" is what writes a probe object. The restore is
//! resumable (see [`restore::into_library`]): "try again" after a failure goes on from there.

use std::sync::{Arc, PoisonError};

use super::error::{Error, Result, SetupError};
use super::probe;
use super::remote::RetryPolicy;
use super::repo::Repo;
use super::service::{Backup, connect, describe_failure, refresh, row};
use super::target::{SnapshotRow, Target, TargetStore};
use super::{restore, snapshot};
use crate::jobs::{Job, JobError, Outcome, Progress, Scheduler};
use crate::library::Library;

/// The restore job's name among the scheduler's.
pub const RESTORE_JOB: &str = "restore";

/// Opens the repository at `target` for reading, with the failure in words for the page.
fn open(target: &Target) -> Result<Repo, SetupError> {
    if target.passphrase.is_empty() {
        return Err(SetupError::NoPassphrase);
    }
    let said = |e: Error| match (e, target.location()) {
        (Error::Remote(r), Ok(url)) => SetupError::Connection(probe::classify(&r, &url)),
        (e, _) => SetupError::from(e),
    };
    let (_, remote) = connect(target, RetryPolicy::default()).map_err(said)?;
    Repo::open(remote, &target.passphrase).map_err(said)
}

impl Backup {
    /// The snapshots of the repository at `target`, newest first (reads only).
    pub fn snapshots_at(&self, target: &Target) -> Result<Vec<SnapshotRow>, SetupError> {
        let repo = open(target)?;
        let mut rows: Vec<SnapshotRow> = snapshot::list(&repo)?.into_iter().map(row).collect();
        rows.reverse();
        Ok(rows)
    }

    /// Starts restoring snapshot `name` of `target` into this box's library (which must hold
    /// no photo). Never while a backup or another restore runs.
    pub fn start_restore(&self, jobs: &Scheduler, target: &Target, name: &str) -> Result<Progress> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.as_ref().is_some_and(|p| !p.snapshot().finished) {
            return Err(Error::AlreadyRunning);
        }
        self.store.set_restore_choice(Some(name))?;
        let job = RestoreJob {
            library: Arc::clone(&self.library),
            store: Arc::clone(&self.store),
            target: target.clone(),
            snapshot: name.to_owned(),
        };
        let progress = jobs
            .start(job)
            .map_err(|e| Error::JobStart(e.to_string()))?;
        *running = Some(progress.clone());
        Ok(progress)
    }

    /// The restore this process started last, running or ended, if any.
    pub fn restore_progress(&self) -> Option<Progress> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|p| p.snapshot().name == RESTORE_JOB)
            .cloned()
    }
}

/// One restore: ends with the target stored, or with the failure in words recorded on its
/// progress (so a page can tell a failed restore from a finished one).
struct RestoreJob {
    library: Arc<Library>,
    store: Arc<TargetStore>,
    target: Target,
    snapshot: String,
}

impl RestoreJob {
    fn run_once(&self, progress: &Progress) -> Result<restore::Report> {
        progress.set_current("opening the repository");
        let (_, remote) = connect(&self.target, RetryPolicy::default())?;
        let repo = Repo::open(remote, &self.target.passphrase)?;
        let snap = snapshot::find(&repo, Some(&self.snapshot))?;
        progress.set_current(format!("restoring snapshot {}", snap.short()));
        let report = restore::into_library(&repo, &snap, &self.library, progress)?;
        progress.set_current("keeping the repository as this box's backup target");
        self.store.set_target(&self.target)?;
        self.store.set_restore_choice(None)?;
        refresh(&self.store, &repo)?;
        Ok(report)
    }
}

impl Job for RestoreJob {
    fn name(&self) -> String {
        RESTORE_JOB.into()
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        match self.run_once(progress) {
            Ok(r) => Ok(Outcome::Done(format!(
                "{} files, {} bytes, {} catalog rows",
                r.files, r.bytes, r.rows
            ))),
            Err(e) => {
                let words = match &e {
                    Error::Cancelled => {
                        "The restore stopped before it finished because the box was shutting down."
                            .to_owned()
                    }
                    e => describe_failure(e, Some(&self.target)),
                };
                progress.record_error(words);
                Err(JobError(Box::new(e)))
            }
        }
    }
}
