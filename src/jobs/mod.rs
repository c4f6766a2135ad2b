//! Jobs: the mechanism that runs long work in the background and lets anyone watch it.
//!
//! Knows nothing of photos: domains implement [`Job`], `app`/`cli` hand jobs to the
//! [`Scheduler`]. May import nothing from the crate. A job checks
//! [`Progress::is_cancelled`] at safe points (between files, after a commit) and stops there.

mod progress;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use progress::{Progress, Snapshot};

/// How a job run ended, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// All work done.
    Done(String),
    /// Stopped at a safe point because cancellation was asked.
    Cancelled,
}

/// A job failed as a whole (single-item failures are progress errors, not job errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub Box<dyn std::error::Error + Send + Sync>);

/// Long-running work.
pub trait Job: Send + 'static {
    /// Short name shown to the user ("import", "gc").
    fn name(&self) -> String;
    /// Does the work, reporting through `progress`.
    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError>;
}

/// A job started by the scheduler.
pub struct Running<J> {
    /// Its progress.
    pub progress: Progress,
    handle: JoinHandle<(J, Result<Outcome, JobError>)>,
}

impl<J> Running<J> {
    /// Waits for the job to end; gives the job back (with whatever it gathered) and its outcome.
    pub fn wait(self) -> Result<(J, Outcome), JobError> {
        match self.handle.join() {
            Ok((job, result)) => result.map(|outcome| (job, outcome)),
            Err(_) => Err(JobError("the job panicked".into())),
        }
    }

    /// True once the job's thread ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Starts jobs on their own threads and keeps their progress handles for status views.
#[derive(Default, Clone)]
pub struct Scheduler {
    seen: Arc<Mutex<Vec<Progress>>>,
    detached: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// How many finished jobs the status views keep showing.
const KEPT_FINISHED: usize = 10;

impl Scheduler {
    /// A scheduler with no jobs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `job` now.
    pub fn spawn<J: Job>(&self, mut job: J) -> Result<Running<J>, JobError> {
        let progress = Progress::new(job.name());
        {
            let mut seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Keep every running job and the last few finished ones.
            let finished = seen.iter().filter(|p| p.snapshot().finished).count();
            let mut surplus = finished.saturating_sub(KEPT_FINISHED - 1);
            seen.retain(|p| {
                let forget = surplus > 0 && p.snapshot().finished;
                surplus -= usize::from(forget);
                !forget
            });
            seen.push(progress.clone());
        }
        let p = progress.clone();
        let handle = std::thread::Builder::new()
            .name(job.name())
            .spawn(move || {
                let result = job.run(&p);
                p.finish();
                (job, result)
            })
            .map_err(|e| JobError(Box::new(e)))?;
        Ok(Running { progress, handle })
    }

    /// Starts `job` in the background; its outcome is logged and shown through its progress.
    /// [`Scheduler::shutdown`] waits for it.
    pub fn start<J: Job>(&self, job: J) -> Result<Progress, JobError> {
        let running = self.spawn(job)?;
        let progress = running.progress.clone();
        let name = progress.snapshot().name;
        let watcher = std::thread::Builder::new()
            .name(format!("{name}-watch"))
            .spawn(move || match running.wait() {
                Ok((_, Outcome::Done(what))) => tracing::info!(job = %name, "finished: {what}"),
                Ok((_, Outcome::Cancelled)) => tracing::info!(job = %name, "cancelled"),
                Err(e) => tracing::error!(job = %name, "failed: {e}"),
            })
            .map_err(|e| JobError(Box::new(e)))?;
        let mut detached = self
            .detached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        detached.retain(|h| !h.is_finished());
        detached.push(watcher);
        Ok(progress)
    }

    /// True while a job of this name runs.
    pub fn is_running(&self, name: &str) -> bool {
        self.statuses()
            .iter()
            .any(|s| s.name == name && !s.finished)
    }

    /// Asks every job to stop at its next safe point and waits for the background ones.
    pub fn shutdown(&self) {
        self.cancel_all();
        let handles: Vec<_> = self
            .detached
            .lock()
            .map(|mut d| d.drain(..).collect())
            .unwrap_or_default();
        for h in handles {
            let _ = h.join();
        }
    }

    /// Snapshots of every job started, oldest first.
    pub fn statuses(&self) -> Vec<Snapshot> {
        self.seen
            .lock()
            .map(|s| s.iter().map(Progress::snapshot).collect())
            .unwrap_or_default()
    }

    /// Asks every running job to stop at its next safe point.
    pub fn cancel_all(&self) {
        if let Ok(s) = self.seen.lock() {
            s.iter().for_each(Progress::cancel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(u64);
    impl Job for Count {
        fn name(&self) -> String {
            "count".into()
        }
        fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
            progress.add_total(self.0, 0);
            for _ in 0..self.0 {
                if progress.is_cancelled() {
                    return Ok(Outcome::Cancelled);
                }
                progress.advance(1, 0);
            }
            Ok(Outcome::Done(format!("counted {}", self.0)))
        }
    }

    #[test]
    fn spawned_job_reports_progress_and_outcome() {
        let s = Scheduler::new();
        let running = s.spawn(Count(5)).unwrap();
        assert_eq!(running.wait().unwrap().1, Outcome::Done("counted 5".into()));
        let st = s.statuses();
        assert_eq!((st[0].items_done, st[0].finished), (5, true));
    }
}
