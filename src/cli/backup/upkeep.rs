//! `backup check`, `backup forget` and `backup prune`: keeping a repository whole and small.

use std::path::Path;

use anyhow::{Result, bail};
use indicatif::HumanBytes;

use super::{BackupAction, host};
use crate::backup::check::{self, ReadData};
use crate::backup::format::LeaseAction;
use crate::backup::{Repo, forget, lease, prune};

/// Runs one upkeep action on `repo`.
pub(super) fn run(repo: &Repo, data: &Path, action: &BackupAction) -> Result<()> {
    match action {
        BackupAction::Init { .. } => bail!("init is handled before opening a repository"),
        BackupAction::Check {
            read_data,
            read_data_subset,
        } => {
            let read = match (read_data, read_data_subset) {
                (_, Some(s)) => ReadData::parse_subset(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--read-data-subset takes N/M (1 ≤ N ≤ M) or P% (0–100), not {s:?}"
                    )
                })?,
                (true, None) => ReadData::All,
                (false, None) => ReadData::None,
            };
            check_repo(repo, read)
        }
        BackupAction::Forget {
            ids,
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            dry_run,
            prune: and_prune,
            host,
        } => {
            let policy = forget::Policy {
                last: *keep_last,
                daily: *keep_daily,
                weekly: *keep_weekly,
                monthly: *keep_monthly,
                yearly: *keep_yearly,
            };
            if ids.is_empty() {
                let decisions = forget::run(repo, &policy, host.as_deref(), *dry_run)?;
                let verb = if *dry_run { "would forget" } else { "forgot" };
                for d in &decisions {
                    let when = chrono::DateTime::from_timestamp(d.snapshot.body.time, 0)
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    if d.kept() {
                        println!(
                            "keep   {}  {when}  ({})",
                            d.snapshot.short(),
                            d.reasons.join(", ")
                        );
                    } else {
                        println!("{verb} {}  {when}", d.snapshot.short());
                    }
                }
            } else {
                if !policy.keeps_nothing() {
                    bail!("give snapshot ids or --keep rules, not both");
                }
                if *dry_run {
                    bail!(
                        "--dry-run works with --keep rules; named snapshots are forgotten as asked"
                    );
                }
                for s in forget::remove(repo, ids)? {
                    println!("forgot {}", s.short());
                }
            }
            if *and_prune {
                prune_repo(
                    repo,
                    data,
                    &prune::Options {
                        dry_run: *dry_run,
                        ..prune::Options::default()
                    },
                )?;
            }
            Ok(())
        }
        BackupAction::Prune {
            grace_hours,
            max_repack_mib,
            dry_run,
        } => prune_repo(
            repo,
            data,
            &prune::Options {
                grace_secs: i64::from(*grace_hours) * 3600,
                max_repack_bytes: max_repack_mib.saturating_mul(1024 * 1024),
                dry_run: *dry_run,
                ..prune::Options::default()
            },
        ),
    }
}

fn check_repo(repo: &Repo, read: ReadData) -> Result<()> {
    let report = check::run_reading(repo, read)?;
    println!(
        "backup check: {} packs, {} chunks, {} snapshots{}",
        report.packs,
        report.chunks,
        report.snapshots,
        if read == ReadData::None {
            String::new()
        } else {
            format!(
                ", {} packs ({}) downloaded and verified",
                report.packs_read,
                HumanBytes(report.bytes_read)
            )
        }
    );
    for n in &report.notes {
        println!("  note: {n}");
    }
    for p in &report.problems {
        println!("  problem: {p}");
    }
    if !report.is_clean() {
        bail!("the repository has problems (see above)");
    }
    println!("clean: no problems found");
    Ok(())
}

fn prune_repo(repo: &Repo, data: &Path, options: &prune::Options) -> Result<()> {
    let host = host();
    let _lease = lease::take(repo, lease::box_id(&host, data), &host, LeaseAction::Prune)?;
    let r = prune::run(repo, options)?;
    let would = if options.dry_run { " (dry run)" } else { "" };
    println!(
        "prune{would}: {} snapshots, {} packs; marked {} unused and {} sparse packs holding {}, wrote {} packs and {} index objects",
        r.snapshots,
        r.packs,
        r.marked_unused,
        r.repacked,
        HumanBytes(r.marked_bytes),
        r.new_packs,
        r.new_index
    );
    println!(
        "prune{would}: deleted {} packs ({}) and {} index objects whose grace period had passed; {} objects still wait; {} kept back because a newer snapshot uses them",
        r.deleted_packs,
        HumanBytes(r.deleted_bytes),
        r.deleted_index,
        r.waiting,
        r.kept_back
    );
    Ok(())
}
