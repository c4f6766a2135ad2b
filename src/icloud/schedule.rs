//! Unattended syncs while `shoebox serve` runs: every Apple ID on the box is synced on a
//! fixed period, each as its own job. Accounts waiting for a person (2FA, a refused password)
//! or in a back-off are skipped without contacting Apple.

use std::sync::Arc;
use std::time::Duration;

use super::session::SessionStore;
use super::sync::SyncJob;
use crate::jobs::{Job, Scheduler};
use crate::library::Library;

/// Time between syncs of one Apple ID. Apple notices eager clients; peers default to a day
/// and warn below 12 h. `SHOEBOX_ICLOUD_EVERY_SECS` overrides it (tests).
pub const EVERY: Duration = Duration::from_hours(6);

/// The period in force.
pub fn period() -> Duration {
    std::env::var("SHOEBOX_ICLOUD_EVERY_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(EVERY, Duration::from_secs)
}

/// Runs forever: syncs each account once per period (the first right away).
pub async fn keep_synced(library: Arc<Library>, jobs: Scheduler) {
    let db = library.database();
    let dir = library.data_dir().to_path_buf();
    let sessions = match tokio::task::spawn_blocking(move || SessionStore::open(db, &dir)).await {
        Ok(Ok(s)) => Arc::new(s),
        Ok(Err(e)) => {
            tracing::warn!("iCloud schedule off: {e}");
            return;
        }
        Err(_) => return,
    };
    let mut tick = tokio::time::interval(period());
    loop {
        tick.tick().await;
        let s = Arc::clone(&sessions);
        let Ok(Ok(ids)) = tokio::task::spawn_blocking(move || s.accounts()).await else {
            continue;
        };
        let now = chrono::Utc::now().timestamp();
        for id in ids {
            let s = Arc::clone(&sessions);
            let who = id.clone();
            let Ok(Ok(Some(session))) = tokio::task::spawn_blocking(move || s.load(&who)).await
            else {
                continue;
            };
            if session.needs_login.is_some() || session.blocked_until.is_some_and(|u| u > now) {
                continue;
            }
            let job = SyncJob::new(Arc::clone(&library), Arc::clone(&sessions), &id);
            if jobs.is_running(&job.name()) {
                continue;
            }
            if let Err(e) = jobs.start(job) {
                tracing::warn!("could not start the iCloud sync of {id}: {e}");
            }
        }
    }
}
