//! The backup facade that `serve`, the web app and the CLI hold: the configured target,
//! "test connection", creating or adopting its repository, and runs (never two at once)
//! whose outcome lands in the stored status.
//!
//! Every method here blocks and talks to the remote through `OpenDAL`'s own runtime, so it
//! must run on a plain thread, not inside the tokio runtime (not even `spawn_blocking`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::check::{self, ReadData};
use super::crypto::KdfParams;
use super::error::{Error, Result, SetupError};
use super::format::LeaseAction;
use super::probe::{self, Problem};
use super::remote::{Kind, Opendal, Remote, RemoteUrl, RetryPolicy, Retrying, Throttled};
use super::repo::Repo;
use super::target::{ScrubRun, SnapshotRow, Status, Success, Target, TargetStore, UpkeepRun};
use super::{forget, lease, prune, snapshot, upload};
use crate::jobs::{Job, JobError, Outcome, Progress, Scheduler};
use crate::library::Library;

/// Retries of a connection test: a person is waiting for the answer.
const PROBE_RETRIES: RetryPolicy = RetryPolicy {
    attempts: 2,
    base: Duration::from_millis(200),
    cap: Duration::from_secs(1),
};

/// Forget + prune run at most this often (with a run, so never at an unattended hour).
const UPKEEP_EVERY_SECS: i64 = 6 * 24 * 3600;
/// A scrub slice runs at most this often; 30 slices read the whole remote.
const SCRUB_EVERY_SECS: i64 = 20 * 3600;
const SCRUB_SLICES: u32 = 30;

/// A failed run is announced once the last good one is this old (or there never was one):
/// one bad night is not worth waking anybody for.
const TELL_AFTER_SECS: i64 = 2 * 24 * 3600;
const NOTIFY_KEY: &str = "backup";

/// The words sent when backups keep failing.
fn failure_message(
    last_success: Option<i64>,
    why: &str,
    box_url: Option<&str>,
) -> crate::notify::Message {
    let page = box_url.map_or_else(
        || "the Backup page of your shoebox".to_string(),
        |u| format!("{}/backup", u.trim_end_matches('/')),
    );
    let since = last_success
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map_or_else(
            || "No backup has finished yet.".to_string(),
            |t| {
                format!(
                    "The last backup that worked finished {}.",
                    t.format("%Y-%m-%d %H:%M UTC")
                )
            },
        );
    crate::notify::Message {
        title: "shoebox: the off-site backup is failing".into(),
        body: format!(
            "{since}\nThe last attempt failed: {why}\n\nWhat to do: open {page} to see the problem and test the connection. The photos on the box are safe; shoebox keeps trying every night.\n"
        ),
    }
}

/// The backup service of one box.
pub struct Backup {
    pub(super) library: Arc<Library>,
    pub(super) store: Arc<TargetStore>,
    /// The run in progress (or the last one, a restore included); holding the lock while
    /// starting makes "never two at once" hold between the schedule, the button and a restore.
    pub(super) running: Mutex<Option<Progress>>,
    /// The repository last opened for browsing snapshots.
    opened: super::picking::Opened,
}

/// Opens the remote a target names, wrapped in retries.
pub fn connect(target: &Target, policy: RetryPolicy) -> Result<(RemoteUrl, Arc<dyn Remote>)> {
    let url = target.location()?;
    let remote = Opendal::open(&url, &target.credentials())?;
    Ok((url, Arc::new(Retrying::new(remote, policy))))
}

/// Packs a limited run writes: small, so each burst at line speed is short.
const LIMITED_PACK: usize = 4 * 1024 * 1024;

/// Opens the remote a target names, wrapped in retries and an upload limit in KiB/s.
pub fn connect_limited(
    target: &Target,
    policy: RetryPolicy,
    upload_kib: Option<u32>,
) -> Result<(RemoteUrl, Arc<dyn Remote>)> {
    let (url, remote) = connect(target, policy)?;
    Ok(match upload_kib {
        None => (url, remote),
        Some(k) => (
            url,
            Arc::new(Throttled::new(remote, Some(u64::from(k) * 1024), None)),
        ),
    })
}

/// Tests a target: writes, reads back and deletes a probe object.
pub fn test(target: &Target) -> Result<(), Problem> {
    let url = target
        .location()
        .map_err(|e| Problem::BadTarget(e.to_string()))?;
    let (_, remote) = connect(target, PROBE_RETRIES).map_err(|e| match e {
        Error::Remote(r) => probe::classify(&r, &url),
        other => Problem::BadTarget(other.to_string()),
    })?;
    probe::probe(remote.as_ref(), &url)
}

/// Words for a failed run: remote failures as the problem a person fixes.
pub fn describe_failure(e: &Error, target: Option<&Target>) -> String {
    match (e, target.and_then(|t| t.location().ok())) {
        (Error::Remote(r), Some(url)) => probe::classify(r, &url).to_string(),
        _ => e.to_string(),
    }
}

impl Backup {
    /// Opens the target tables of `library`'s catalog.
    pub fn open(library: Arc<Library>) -> Result<Self> {
        let store = TargetStore::open(library.database(), library.data_dir())?;
        Ok(Self {
            library,
            store: Arc::new(store),
            running: Mutex::new(None),
            opened: super::picking::Opened::default(),
        })
    }

    /// Target, status and schedule.
    pub fn store(&self) -> &TargetStore {
        &self.store
    }

    /// Makes a new repository at `target` and stores the target; returns the recovery key,
    /// which is shown once and stored nowhere.
    pub fn create(&self, target: &Target, kdf: KdfParams) -> Result<String, SetupError> {
        if target.passphrase.is_empty() {
            return Err(SetupError::NoPassphrase);
        }
        test(target)?;
        let (_, remote) = connect(target, RetryPolicy::default())?;
        let (repo, recovery) = Repo::init(remote, &target.passphrase, kdf)?;
        self.store.set_target(target)?;
        self.refresh(&repo)?;
        Ok(recovery)
    }

    /// Checks the passphrase against the repository at `target` and stores the target;
    /// returns how many snapshots it holds.
    pub fn adopt(&self, target: &Target) -> Result<usize, SetupError> {
        if target.passphrase.is_empty() {
            return Err(SetupError::NoPassphrase);
        }
        test(target)?;
        let (_, remote) = connect(target, RetryPolicy::default())?;
        let repo = Repo::open(remote, &target.passphrase)?;
        self.store.set_target(target)?;
        Ok(self.refresh(&repo)?.snapshots.len())
    }

    /// True while a run is going.
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|p| !p.snapshot().finished)
    }

    /// Starts a run in the background (its progress shows with the other jobs).
    pub fn start(&self, jobs: &Scheduler, host: &str) -> Result<Progress> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.as_ref().is_some_and(|p| !p.snapshot().finished) {
            return Err(Error::AlreadyRunning);
        }
        if self.store.target()?.is_none() {
            return Err(Error::NotConfigured);
        }
        let job = BackupJob {
            library: Arc::clone(&self.library),
            store: Arc::clone(&self.store),
            host: host.to_string(),
            options: upload::Options::default(),
        };
        let progress = jobs
            .start(job)
            .map_err(|e| Error::JobStart(e.to_string()))?;
        *running = Some(progress.clone());
        Ok(progress)
    }

    /// One run on this thread (the CLI); records its outcome like a background run.
    pub fn run_here(
        &self,
        options: upload::Options,
        progress: &Progress,
    ) -> Result<upload::Report> {
        let _held = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let job = BackupJob {
            library: Arc::clone(&self.library),
            store: Arc::clone(&self.store),
            host: options.host.clone(),
            options,
        };
        job.run_recorded(progress)
    }

    /// The library this service backs up.
    pub(super) fn library(&self) -> &Arc<Library> {
        &self.library
    }

    /// Opens the configured target's repository (again only when the target changed).
    pub(super) fn open_repo(&self) -> Result<Repo> {
        let target = self.store.target()?.ok_or(Error::NotConfigured)?;
        self.opened.open(target)
    }

    /// Lists the snapshots and measures the repository; stores both in the status.
    fn refresh(&self, repo: &Repo) -> Result<Status> {
        refresh(&self.store, repo)
    }
}

/// A snapshot as pages list it.
pub(super) fn row(s: snapshot::Snapshot) -> SnapshotRow {
    SnapshotRow {
        time: s.body.time,
        host: s.body.host.clone(),
        assets: s.body.assets,
        files: s.body.files,
        bytes: s.body.bytes,
        name: s.name,
    }
}

pub(super) fn refresh(store: &TargetStore, repo: &Repo) -> Result<Status> {
    let rows: Vec<SnapshotRow> = snapshot::list(repo)?.into_iter().map(row).collect();
    let mut size = 0u64;
    for kind in [
        Kind::Config,
        Kind::Key,
        Kind::Pack,
        Kind::Index,
        Kind::Snapshot,
    ] {
        size += repo
            .remote()
            .list(kind)?
            .iter()
            .map(|l| l.size)
            .sum::<u64>();
    }
    store.update_status(|s| {
        s.snapshots = rows;
        s.remote_bytes = Some(size);
    })
}

/// One backup run of the configured target.
struct BackupJob {
    library: Arc<Library>,
    store: Arc<TargetStore>,
    host: String,
    options: upload::Options,
}

impl BackupJob {
    fn run_recorded(&self, progress: &Progress) -> Result<upload::Report> {
        let started = chrono::Utc::now().timestamp();
        self.store
            .update_status(|s| s.last_attempt = Some(started))?;
        let target = self.store.target()?;
        let result = target
            .as_ref()
            .ok_or(Error::NotConfigured)
            .and_then(|t| self.run_once(t, progress));
        let now = chrono::Utc::now().timestamp();
        match &result {
            Ok(report) => {
                let success = Success {
                    at: now,
                    snapshot: report.snapshot.clone(),
                    files: report.files,
                    bytes: report.bytes,
                    uploaded: report.uploaded,
                };
                self.store.update_status(|s| {
                    s.last_success = Some(success);
                    s.last_error = None;
                })?;
            }
            Err(Error::Cancelled) => {}
            Err(e) => {
                let words = describe_failure(e, target.as_ref());
                self.store
                    .update_status(|s| s.last_error = Some((now, words)))?;
            }
        }
        self.tell(&result, now);
        result
    }

    /// Tells a person (through `notify`) once the box has gone [`TELL_AFTER_SECS`] without a
    /// backup, or never made one, and a run failed; a run that works ends the episode. A
    /// notification problem is only logged: the Backup page shows the failure anyway.
    fn tell(&self, result: &Result<upload::Report>, now: i64) {
        let notifier =
            match crate::notify::Notifier::open(self.library.database(), self.library.data_dir()) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!("backup: notification settings unreadable: {e}");
                    return;
                }
            };
        let outcome = match result {
            Ok(_) => notifier.resolved(NOTIFY_KEY),
            Err(Error::Cancelled) => Ok(()),
            Err(_) => {
                let status = self.store.status().unwrap_or_default();
                let overdue = status
                    .last_success
                    .as_ref()
                    .is_none_or(|s| now.saturating_sub(s.at) >= TELL_AFTER_SECS);
                let why = status.last_error.map(|(_, w)| w).unwrap_or_default();
                if overdue {
                    let link = notifier.channels().ok().and_then(|c| c.box_url);
                    let msg =
                        failure_message(status.last_success.map(|s| s.at), &why, link.as_deref());
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| {
                            crate::notify::Error::Push(format!("no runtime to send with: {e}"))
                        })
                        .and_then(|rt| rt.block_on(notifier.problem(NOTIFY_KEY, "failing", &msg)))
                        .map(drop)
                } else {
                    Ok(())
                }
            }
        };
        if let Err(e) = outcome {
            tracing::warn!("backup: notification bookkeeping failed: {e}");
        }
    }

    fn run_once(&self, target: &Target, progress: &Progress) -> Result<upload::Report> {
        progress.set_current("opening the repository");
        let limit = self.store.schedule()?.upload_kib;
        let (url, remote) = connect_limited(target, RetryPolicy::default(), limit)?;
        let repo = Repo::open(remote, &target.passphrase)?;
        progress.set_current(format!("backing up to {url}"));
        let mut options = upload::Options {
            host: self.host.clone(),
            ..self.options.clone()
        };
        if limit.is_some() {
            options.pack_target = options.pack_target.min(LIMITED_PACK);
            options.parallel = 1;
        }
        let held = lease::take(&repo, self.box_id(), &self.host, LeaseAction::Backup)?;
        let warning = held.warning();
        let report = upload::run(&repo, &self.library, &options, progress)?;
        drop(held);
        self.store.update_status(|s| s.other_writer = warning)?;
        self.upkeep(&repo, progress)?;
        progress.set_current("listing snapshots");
        refresh(&self.store, &repo)?;
        Ok(report)
    }
}

impl BackupJob {
    fn box_id(&self) -> [u8; 16] {
        lease::box_id(&self.host, self.library.data_dir())
    }

    /// After a backup: thin out old snapshots and prune about weekly, and verify one slice
    /// of the remote about daily. Their failures are recorded, never the backup's.
    fn upkeep(&self, repo: &Repo, progress: &Progress) -> Result<()> {
        let status = self.store.status()?;
        let now = chrono::Utc::now().timestamp();
        if status
            .upkeep
            .as_ref()
            .is_none_or(|u| now.saturating_sub(u.at) >= UPKEEP_EVERY_SECS)
        {
            progress.set_current("thinning out old snapshots and pruning");
            let outcome = self.forget_and_prune(repo);
            let run = match outcome {
                Ok((forgotten, r)) => UpkeepRun {
                    at: chrono::Utc::now().timestamp(),
                    forgotten,
                    freed: r.deleted_bytes,
                    marked: r.marked_bytes,
                    error: None,
                },
                Err(e) => UpkeepRun {
                    at: chrono::Utc::now().timestamp(),
                    error: Some(e.to_string()),
                    ..UpkeepRun::default()
                },
            };
            self.store.update_status(|s| s.upkeep = Some(run))?;
        }
        if status
            .scrub
            .as_ref()
            .is_none_or(|s| now.saturating_sub(s.at) >= SCRUB_EVERY_SECS)
        {
            let day = u32::try_from(now.div_euclid(86_400).rem_euclid(i64::from(SCRUB_SLICES)))
                .unwrap_or(0);
            let slice = (day + 1, SCRUB_SLICES);
            progress.set_current(format!(
                "verifying slice {} of {} of the remote",
                slice.0, slice.1
            ));
            let run = match check::run_reading(repo, ReadData::Slice(slice.0, slice.1)) {
                Ok(r) => ScrubRun {
                    at: chrono::Utc::now().timestamp(),
                    slice,
                    packs: r.packs_read,
                    bytes: r.bytes_read,
                    problems: r.problems,
                },
                Err(e) => ScrubRun {
                    at: chrono::Utc::now().timestamp(),
                    slice,
                    problems: vec![e.to_string()],
                    ..ScrubRun::default()
                },
            };
            self.store.update_status(|s| s.scrub = Some(run))?;
        }
        Ok(())
    }

    fn forget_and_prune(&self, repo: &Repo) -> Result<(usize, prune::Report)> {
        let _held = lease::take(repo, self.box_id(), &self.host, LeaseAction::Prune)?;
        let decisions = forget::run(repo, &forget::Policy::APPLIANCE, Some(&self.host), false)?;
        let forgotten = decisions.iter().filter(|d| !d.kept()).count();
        let report = prune::run(repo, &prune::Options::default())?;
        Ok((forgotten, report))
    }
}

impl Job for BackupJob {
    fn name(&self) -> String {
        "backup".into()
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        match self.run_recorded(progress) {
            Ok(r) if r.unchanged => Ok(Outcome::Done(format!(
                "nothing changed since snapshot {}",
                r.snapshot.get(..12).unwrap_or_default()
            ))),
            Ok(r) => Ok(Outcome::Done(format!(
                "snapshot {} of {} files, {} bytes sent",
                r.snapshot.get(..12).unwrap_or_default(),
                r.files,
                r.uploaded
            ))),
            Err(Error::Cancelled) => Ok(Outcome::Cancelled),
            Err(e) => Err(JobError(Box::new(e))),
        }
    }
}
