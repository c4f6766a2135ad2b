//! Retention: which snapshots to keep (the newest of each of the last N days, weeks, months,
//! years), and forgetting the others. Forgetting deletes only snapshot objects; the space
//! comes back when `prune` finds their chunks unused.

use chrono::{DateTime, Datelike, Local, TimeZone};

use super::error::{Error, Result};
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot::{self, Snapshot};

/// How many snapshots to keep, by period. A snapshot kept by any rule is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// The newest N, whatever their dates.
    pub last: u32,
    /// The newest of each of the last N days that have one.
    pub daily: u32,
    /// … of each of the last N ISO weeks.
    pub weekly: u32,
    /// … of each of the last N months.
    pub monthly: u32,
    /// … of each of the last N years.
    pub yearly: u32,
}

impl Policy {
    /// What the box does by itself: a week of days, a month of weeks, a year of months,
    /// ten years.
    pub const APPLIANCE: Self = Self {
        last: 1,
        daily: 7,
        weekly: 5,
        monthly: 12,
        yearly: 10,
    };

    /// True when no rule keeps anything (forgetting with it would delete every snapshot).
    pub fn keeps_nothing(&self) -> bool {
        self.last == 0
            && self.daily == 0
            && self.weekly == 0
            && self.monthly == 0
            && self.yearly == 0
    }
}

/// The decision for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Why it is kept ("last", "daily", …), empty when it is forgotten.
    pub reasons: Vec<&'static str>,
}

impl Decision {
    /// True when it stays.
    pub fn kept(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// Maps a local time to its period (a day, a week, …) for one rule.
type Bucket = fn(&DateTime<chrono::FixedOffset>) -> i64;

/// Applies `policy` to `snapshots` in the time zone `tz`. Returns newest first.
pub fn decide<Tz: TimeZone>(
    policy: &Policy,
    mut snapshots: Vec<Snapshot>,
    tz: &Tz,
) -> Vec<Decision> {
    snapshots.sort_by(|a, b| (b.body.time, &b.name).cmp(&(a.body.time, &a.name)));
    let rules: [(&'static str, u32, Bucket); 4] = [
        ("daily", policy.daily, |t| {
            i64::from(t.year()) * 1000 + i64::from(t.ordinal())
        }),
        ("weekly", policy.weekly, |t| {
            let w = t.iso_week();
            i64::from(w.year()) * 100 + i64::from(w.week())
        }),
        ("monthly", policy.monthly, |t| {
            i64::from(t.year()) * 100 + i64::from(t.month())
        }),
        ("yearly", policy.yearly, |t| i64::from(t.year())),
    ];
    let mut left: Vec<u32> = rules.iter().map(|r| r.1).collect();
    let mut last_bucket: Vec<Option<i64>> = vec![None; rules.len()];
    let mut out = Vec::with_capacity(snapshots.len());
    for (i, snapshot) in snapshots.into_iter().enumerate() {
        let mut reasons = Vec::new();
        if (i as u64) < u64::from(policy.last) {
            reasons.push("last");
        }
        if let Some(local) = tz.timestamp_opt(snapshot.body.time, 0).single() {
            let local = local.fixed_offset();
            for (r, (name, _, bucket)) in rules.iter().enumerate() {
                let b = bucket(&local);
                let (Some(n), Some(prev)) = (left.get_mut(r), last_bucket.get_mut(r)) else {
                    continue;
                };
                if *n > 0 && *prev != Some(b) {
                    *n -= 1;
                    *prev = Some(b);
                    reasons.push(name);
                }
            }
        }
        out.push(Decision { snapshot, reasons });
    }
    out
}

/// Forgets the snapshots `policy` does not keep (unless `dry_run`); returns every decision.
/// With `host`, only that box's snapshots are considered: another box's are not ours to thin.
pub fn run(
    repo: &Repo,
    policy: &Policy,
    host: Option<&str>,
    dry_run: bool,
) -> Result<Vec<Decision>> {
    if policy.keeps_nothing() {
        return Err(Error::KeepsNothing);
    }
    let mut snapshots = snapshot::list(repo)?;
    if let Some(h) = host {
        snapshots.retain(|s| s.body.host == h);
    }
    let decisions = decide(policy, snapshots, &Local);
    if !dry_run {
        for d in decisions.iter().filter(|d| !d.kept()) {
            repo.remote().delete(Kind::Snapshot, &d.snapshot.name)?;
        }
    }
    Ok(decisions)
}

/// Forgets the snapshots named (by full name or a unique prefix each).
pub fn remove(repo: &Repo, names: &[String]) -> Result<Vec<Snapshot>> {
    let mut gone = Vec::with_capacity(names.len());
    for n in names {
        gone.push(snapshot::find(repo, Some(n))?);
    }
    for s in &gone {
        repo.remote().delete(Kind::Snapshot, &s.name)?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::format::SnapshotBody;
    use chrono::Utc;

    fn snap(i: usize, iso: &str) -> Snapshot {
        let time = DateTime::parse_from_rfc3339(iso).unwrap().timestamp();
        Snapshot {
            name: format!("{i:064x}"),
            body: SnapshotBody {
                time,
                host: "box".into(),
                files: 0,
                bytes: 0,
                assets: 0,
                stream_len: 0,
                stream: Vec::new(),
            },
        }
    }

    fn kept(policy: Policy, snaps: &[Snapshot]) -> Vec<String> {
        decide(&policy, snaps.to_vec(), &Utc)
            .into_iter()
            .filter(Decision::kept)
            .map(|d| d.snapshot.name[60..].to_string())
            .collect()
    }

    #[test]
    fn the_newest_of_each_day_week_month_and_year_is_kept() {
        let snaps = vec![
            snap(1, "2025-12-31T02:00:00Z"),
            snap(2, "2026-01-05T02:00:00Z"),
            snap(3, "2026-01-05T14:00:00Z"),
            snap(4, "2026-01-06T02:00:00Z"),
            snap(5, "2026-01-07T02:00:00Z"),
            snap(6, "2026-01-13T02:00:00Z"),
            snap(7, "2026-02-01T02:00:00Z"),
        ];
        let daily = Policy {
            daily: 3,
            ..Policy::default()
        };
        assert_eq!(kept(daily, &snaps), ["0007", "0006", "0005"]);
        let days_and_last = Policy {
            last: 1,
            daily: 5,
            ..Policy::default()
        };
        // Of 5 January only the later snapshot is the day's.
        assert_eq!(
            kept(days_and_last, &snaps),
            ["0007", "0006", "0005", "0004", "0003"]
        );
        let weekly = Policy {
            weekly: 3,
            ..Policy::default()
        };
        // Weeks: 2026-W05 (1 Feb is a Sunday), W03, W02 (5–7 Jan: the 7th is newest).
        assert_eq!(kept(weekly, &snaps), ["0007", "0006", "0005"]);
        let monthly = Policy {
            monthly: 5,
            ..Policy::default()
        };
        assert_eq!(kept(monthly, &snaps), ["0007", "0006", "0001"]);
        let yearly = Policy {
            yearly: 1,
            ..Policy::default()
        };
        assert_eq!(kept(yearly, &snaps), ["0007"]);
        assert!(Policy::default().keeps_nothing());
        assert!(!Policy::APPLIANCE.keeps_nothing());
    }

    #[test]
    fn forgetting_deletes_only_what_the_policy_drops() {
        use crate::backup::remote::{Memory, Remote};
        use std::sync::Arc;
        let remote = Arc::new(Memory::new());
        let (repo, _) = Repo::init(
            Arc::clone(&remote) as Arc<dyn Remote>,
            "p",
            crate::backup::KdfParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
        )
        .unwrap();
        for (i, day) in ["2026-03-01", "2026-03-02", "2026-03-03"]
            .iter()
            .enumerate()
        {
            let s = snap(i, &format!("{day}T03:00:00Z"));
            repo.put_sealed(
                Kind::Snapshot,
                &crate::backup::format::encode_snapshot(&s.body),
            )
            .unwrap();
        }
        let policy = Policy {
            last: 2,
            ..Policy::default()
        };
        let dry = run(&repo, &policy, None, true).unwrap();
        assert_eq!(dry.iter().filter(|d| !d.kept()).count(), 1);
        assert_eq!(snapshot::list(&repo).unwrap().len(), 3);
        run(&repo, &policy, None, false).unwrap();
        let left = snapshot::list(&repo).unwrap();
        assert_eq!(left.len(), 2);
        assert!(
            left.iter()
                .all(|s| s.body.time > snap(0, "2026-03-01T03:00:00Z").body.time)
        );
        assert!(matches!(
            run(&repo, &Policy::default(), None, false),
            Err(Error::KeepsNothing)
        ));
    }
}
