//! Unattended syncs while `shoebox serve` runs: every Apple ID on the box is synced on a
//! fixed period, each as its own job. Accounts waiting for a person (2FA, a refused password)
//! or in a back-off are skipped without contacting Apple. The time of the next round is kept
//! so the pages can say when an Apple ID really syncs next.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::session::{Session, SessionStore};
use super::sync::SyncJob;
use crate::jobs::{Job, Scheduler};
use crate::library::Library;

/// Time between syncs of one Apple ID. Apple notices eager clients; peers default to a day
/// and warn below 12 h. `SHOEBOX_ICLOUD_EVERY_SECS` overrides it (tests).
pub const EVERY: Duration = Duration::from_hours(6);

/// Unix second of the next round of this process's schedule; 0 while none runs (the CLI).
static NEXT_ROUND: AtomicI64 = AtomicI64::new(0);

/// When the schedule next syncs `session` (unix second): the first round that finds it
/// neither waiting for a person nor backing off. None when no schedule runs or a person must
/// sign in first.
pub fn next_sync(session: &Session) -> Option<i64> {
    let round = NEXT_ROUND.load(Ordering::Relaxed);
    if round == 0 || session.needs_login.is_some() {
        return None;
    }
    Some(first_round_after(
        round,
        period_secs(),
        session.blocked_until.unwrap_or(0),
    ))
}

/// The first of the rounds `round + k * period` (k ≥ 0) at or after `not_before`.
fn first_round_after(round: i64, period: i64, not_before: i64) -> i64 {
    if not_before <= round {
        return round;
    }
    let k = (not_before - round + period - 1) / period;
    round + k * period
}

fn period_secs() -> i64 {
    i64::try_from(period().as_secs()).unwrap_or(i64::MAX).max(1)
}

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
        let now = chrono::Utc::now().timestamp();
        NEXT_ROUND.store(now.saturating_add(period_secs()), Ordering::Relaxed);
        let s = Arc::clone(&sessions);
        let Ok(Ok(ids)) = tokio::task::spawn_blocking(move || s.accounts()).await else {
            continue;
        };
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

#[cfg(test)]
mod tests {
    use super::first_round_after;

    #[test]
    fn a_back_off_moves_the_next_sync_to_the_first_round_after_it() {
        assert_eq!(first_round_after(1000, 100, 0), 1000);
        assert_eq!(first_round_after(1000, 100, 1000), 1000);
        assert_eq!(first_round_after(1000, 100, 1001), 1100);
        assert_eq!(first_round_after(1000, 100, 1250), 1300);
    }
}
