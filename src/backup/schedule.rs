//! Unattended backups while `serve` runs: once a night at this box's own place in the night
//! window (local time), skipped while no target is configured or a run is going. A failed run
//! is recorded in the status for the page; transient failures were already retried by the
//! remote, so the next try is the next night.
//!
//! `SHOEBOX_BACKUP_EVERY_SECS` replaces the nightly slot with a fixed period after the last
//! attempt (tests, or a box that should back up more often).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Local, NaiveDate, TimeZone, Utc};

use super::service::Backup;
use super::target::Schedule;
use crate::jobs::Scheduler;

/// The fixed period of `SHOEBOX_BACKUP_EVERY_SECS`, when set.
pub fn period_override() -> Option<Duration> {
    std::env::var("SHOEBOX_BACKUP_EVERY_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
}

/// Seconds into the window where this box's slot is.
fn offset_secs(s: Schedule) -> i64 {
    let hours = (i64::from(s.end_hour) - i64::from(s.start_hour)).rem_euclid(24);
    let window = if hours == 0 { 24 } else { hours } * 3600;
    window * i64::from(s.jitter_ppm.min(999_999)) / 1_000_000
}

/// This box's slot on local day `day`, in `zone`.
fn slot_on<Z: TimeZone>(zone: &Z, s: Schedule, day: NaiveDate) -> Option<DateTime<Utc>> {
    let start = day.and_hms_opt(u32::from(s.start_hour.min(23)), 0, 0)?;
    let at = start + Span::seconds(offset_secs(s));
    // In a daylight-saving gap the wall-clock time does not exist: an hour later does.
    zone.from_local_datetime(&at)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(at + Span::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The first nightly slot at or after `now`, in `zone`; `None` when nightly runs are off.
pub fn next_slot<Z: TimeZone>(zone: &Z, s: &Schedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !s.nightly {
        return None;
    }
    let today = now.with_timezone(zone).date_naive();
    (-1..=2)
        .filter_map(|d| slot_on(zone, *s, today + Span::days(d)))
        .find(|t| *t >= now)
}

/// When the next unattended run starts: the nightly slot in local time, or with the period
/// override, that long after the last attempt (right away when there was none).
pub fn next_run(
    s: &Schedule,
    last_attempt: Option<i64>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match period_override() {
        Some(every) => {
            let secs = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
            let at = last_attempt.map_or(now.timestamp(), |t| t.saturating_add(secs));
            DateTime::from_timestamp(at, 0)
        }
        None => next_slot(&Local, s, now),
    }
}

/// Runs forever: starts a backup when its time comes. `host` names the box in snapshots.
pub async fn keep_backed_up(
    backup: Arc<Backup>,
    jobs: Scheduler,
    host: Arc<dyn Fn() -> String + Send + Sync>,
) {
    let tick = period_override().map_or(Duration::from_secs(30), |p| p.min(Duration::from_secs(1)));
    // The slot is fixed when planned, so a restart after tonight's run waits for tomorrow's,
    // and a slot that passes (box busy, nothing configured) is not made up in daytime.
    let mut planned: Option<(Schedule, DateTime<Utc>)> = None;
    loop {
        tokio::time::sleep(tick).await;
        let b = Arc::clone(&backup);
        let Ok(Ok((configured, schedule, status))) = tokio::task::spawn_blocking(move || {
            let store = b.store();
            Ok::<_, super::Error>((
                store.target()?.is_some(),
                store.schedule()?,
                store.status()?,
            ))
        })
        .await
        else {
            continue;
        };
        let now = Utc::now();
        let at = if period_override().is_some() {
            next_run(&schedule, status.last_attempt, now)
        } else {
            match planned {
                Some((s, at)) if s == schedule => Some(at),
                _ => {
                    planned = next_slot(&Local, &schedule, now).map(|at| (schedule, at));
                    planned.map(|(_, at)| at)
                }
            }
        };
        let Some(at) = at else { continue };
        if now < at {
            continue;
        }
        planned = next_slot(&Local, &schedule, now + Span::seconds(1)).map(|at| (schedule, at));
        if !configured || backup.is_running() {
            continue;
        }
        let (b, j, h) = (Arc::clone(&backup), jobs.clone(), Arc::clone(&host));
        match tokio::task::spawn_blocking(move || b.start(&j, &h())).await {
            Ok(Ok(_)) => tracing::info!("scheduled backup started"),
            Ok(Err(e)) => tracing::warn!("scheduled backup not started: {e}"),
            Err(e) => tracing::warn!("scheduled backup task: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn at(zone: FixedOffset, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        zone.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_nightly_slot_is_inside_the_window_in_local_time() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let s = Schedule {
            nightly: true,
            start_hour: 1,
            end_hour: 5,
            jitter_ppm: 500_000,
            upload_kib: None,
        };
        // Half way through 01:00–05:00 is 03:00 local.
        assert_eq!(
            next_slot(&paris, &s, at(paris, 2026, 3, 10, 14, 0)),
            Some(at(paris, 2026, 3, 11, 3, 0))
        );
        assert_eq!(
            next_slot(&paris, &s, at(paris, 2026, 3, 11, 2, 59)),
            Some(at(paris, 2026, 3, 11, 3, 0))
        );
        // Just after tonight's slot: tomorrow's.
        assert_eq!(
            next_slot(&paris, &s, at(paris, 2026, 3, 11, 3, 1)),
            Some(at(paris, 2026, 3, 12, 3, 0))
        );
        let off = Schedule {
            nightly: false,
            ..s
        };
        assert_eq!(next_slot(&paris, &off, at(paris, 2026, 3, 10, 14, 0)), None);
    }

    #[test]
    fn a_window_across_midnight_and_every_jitter_stay_inside_it() {
        let utc = FixedOffset::east_opt(0).unwrap();
        for ppm in [0, 1, 250_000, 999_999, 5_000_000] {
            let s = Schedule {
                nightly: true,
                start_hour: 23,
                end_hour: 2,
                jitter_ppm: ppm,
                upload_kib: None,
            };
            let now = at(utc, 2026, 6, 1, 12, 0);
            let slot = next_slot(&utc, &s, now).unwrap();
            assert!(slot >= at(utc, 2026, 6, 1, 23, 0), "{ppm}: {slot}");
            assert!(slot < at(utc, 2026, 6, 2, 2, 0), "{ppm}: {slot}");
        }
    }
}
