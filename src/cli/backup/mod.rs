//! `backup`, `snapshots`, `restore` and `key`: the off-site backup from the command line.
//! Passphrases come from `SHOEBOX_PASSPHRASE` (and `SHOEBOX_NEW_PASSPHRASE` for a new one)
//! or a prompt; remote credentials from the environment (see `backup::remote`).

mod open;
mod upkeep;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use open::{open_remote, open_repo, open_repo_limited, secret};

use crate::backup::remote::{Credentials, RemoteUrl};
use crate::backup::{self, KdfParams, Repo, restore, snapshot, upload};
use crate::jobs::Progress;
use crate::library::{Library, Options};

/// `shoebox backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Repository URL: `s3://BUCKET/PREFIX?endpoint=…&region=…&path_style=true`,
    /// `webdav+http(s)://HOST/PATH` or `file:///PATH`.
    #[arg(long, global = true, env = "SHOEBOX_REPO")]
    pub repo: Option<String>,
    /// Packs uploading at once.
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// Pack size in MiB.
    #[arg(long, default_value_t = 16, hide = true)]
    pub pack_mib: usize,
    /// Upload at most this many KiB per second (with --repo; the stored target uses the
    /// Backup page's setting). Packs are then 4 MiB and sent one at a time.
    #[arg(long, value_name = "KIB")]
    pub limit_upload: Option<u32>,
    /// `init` creates a repository; without it, back up.
    #[command(subcommand)]
    pub action: Option<BackupAction>,
}

/// Backup subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Create an encrypted repository; prints the recovery key once.
    Init {
        /// argon2id memory in MiB for the key objects (lower only for tests).
        #[arg(long, default_value_t = 64, hide = true)]
        kdf_memory_mib: u32,
        /// Also make it this box's target: URL, credentials and passphrase are kept sealed
        /// in the catalog, so `shoebox backup` and `serve`'s nightly runs need none of them.
        #[arg(long)]
        remember: bool,
    },
    /// Check the repository: structure, and with --read-data every byte.
    Check {
        /// Download every pack and authenticate every chunk.
        #[arg(long)]
        read_data: bool,
        /// Download and authenticate only some packs: `N/M` (slice N of M; slices 1..M
        /// together cover every pack once) or `P%`.
        #[arg(long, value_name = "N/M|P%", conflicts_with = "read_data")]
        read_data_subset: Option<String>,
    },
    /// Forget snapshots: those the --keep rules do not keep, or the ones named.
    Forget {
        /// Snapshot ids (a prefix is enough) to forget.
        ids: Vec<String>,
        /// Keep the newest N snapshots.
        #[arg(long, default_value_t = 0)]
        keep_last: u32,
        /// Keep the newest snapshot of each of the last N days.
        #[arg(long, default_value_t = 0)]
        keep_daily: u32,
        /// … of each of the last N weeks.
        #[arg(long, default_value_t = 0)]
        keep_weekly: u32,
        /// … of each of the last N months.
        #[arg(long, default_value_t = 0)]
        keep_monthly: u32,
        /// … of each of the last N years.
        #[arg(long, default_value_t = 0)]
        keep_yearly: u32,
        /// Say what would be forgotten; forget nothing.
        #[arg(long)]
        dry_run: bool,
        /// Prune afterwards.
        #[arg(long)]
        prune: bool,
        /// Apply the rules to this box's snapshots only (as recorded in each snapshot).
        #[arg(long)]
        host: Option<String>,
    },
    /// Give back the space of chunks no snapshot needs (deleted a grace period after they
    /// were found unused; sparse packs are repacked).
    Prune {
        /// Hours between marking an object unused and deleting it.
        #[arg(long, default_value_t = 24)]
        grace_hours: u32,
        /// MiB of sparse packs to repack in one run, at most.
        #[arg(long, default_value_t = 512)]
        max_repack_mib: u64,
        /// Say what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `--repo` alone.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// Repository URL (see `shoebox backup --help`).
    #[arg(long, global = true, env = "SHOEBOX_REPO")]
    pub repo: Option<String>,
}

/// `shoebox restore`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "into_library"])))]
pub struct RestoreArgs {
    /// Repository URL (see `shoebox backup --help`).
    #[arg(long, env = "SHOEBOX_REPO")]
    pub repo: Option<String>,
    /// Snapshot id (a prefix is enough); the newest when omitted.
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Write every photo as plain files in YYYY/MM/DD folders here.
    #[arg(long)]
    pub to: Option<PathBuf>,
    /// Rebuild a whole library (catalog, albums, trash) in this empty data folder.
    #[arg(long)]
    pub into_library: Option<PathBuf>,
}

/// `shoebox key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Repository URL (see `shoebox backup --help`).
    #[arg(long, global = true, env = "SHOEBOX_REPO")]
    pub repo: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: KeyAction,
}

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Add a passphrase (from `SHOEBOX_NEW_PASSPHRASE` or a prompt), or a new recovery key.
    Add {
        /// Make a new printable recovery key instead.
        #[arg(long)]
        recovery: bool,
        /// A label to recognise it by.
        #[arg(long, default_value = "passphrase")]
        label: String,
        /// argon2id memory in MiB (lower only for tests).
        #[arg(long, default_value_t = 64, hide = true)]
        kdf_memory_mib: u32,
    },
    /// List the keys.
    List,
    /// Remove a key by id (a prefix is enough).
    Remove {
        /// Key id.
        id: String,
    },
    /// Replace the passphrase used to open the repository.
    Passwd {
        /// argon2id memory in MiB (lower only for tests).
        #[arg(long, default_value_t = 64, hide = true)]
        kdf_memory_mib: u32,
    },
}

fn kdf(memory_mib: u32) -> KdfParams {
    KdfParams {
        memory_kib: memory_mib.max(1) * 1024,
        ..KdfParams::default()
    }
}

/// Runs `work` while a bar shows `progress`.
fn with_bar<T: Send>(progress: &Progress, work: impl FnOnce() -> T + Send) -> T {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let p = progress.clone();
        let done_ref = &done;
        s.spawn(move || {
            super::render::watch(&p, || done_ref.load(std::sync::atomic::Ordering::Acquire));
        });
        let out = work();
        done.store(true, std::sync::atomic::Ordering::Release);
        out
    })
}

pub(super) fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "shoebox".into())
}

/// `shoebox backup [init]`.
pub fn backup(data: &Path, args: &BackupArgs) -> Result<()> {
    if let Some(BackupAction::Init {
        kdf_memory_mib,
        remember,
    }) = args.action
    {
        let remote = open_remote(args.repo.as_deref())?;
        let pass = secret("SHOEBOX_PASSPHRASE", "New passphrase")?;
        let (_, recovery) = Repo::init(remote.clone(), &pass, kdf(kdf_memory_mib))?;
        if remember {
            remember_target(data, args.repo.as_deref().unwrap_or_default(), &pass)?;
            println!("this box now backs up there by itself (nightly while `serve` runs)");
        }
        println!("created an encrypted repository at {}", remote.describe());
        println!(
            "recovery key (write it down and keep it apart from the box; it is shown only now):"
        );
        println!("  {recovery}");
        return Ok(());
    }
    if args.repo.is_none() && args.action.is_none() {
        return backup_configured(data, args);
    }
    let repo = open_repo_limited(data, args.repo.as_deref(), args.limit_upload)?;
    if let Some(action) = &args.action {
        return upkeep::run(&repo, data, action);
    }
    let lib = Library::open(data, Options::default())
        .with_context(|| format!("opening the library in {}", data.display()))?;
    let limited = args.limit_upload.is_some();
    let options = upload::Options {
        pack_target: (args.pack_mib.max(1) * 1024 * 1024).min(if limited {
            4 * 1024 * 1024
        } else {
            usize::MAX
        }),
        parallel: if limited { 1 } else { args.parallel.max(1) },
        host: host(),
    };
    let progress = Progress::new("backup");
    let started = std::time::Instant::now();
    let lease = backup::lease::take(
        &repo,
        backup::lease::box_id(&options.host, data),
        &options.host,
        backup::format::LeaseAction::Backup,
    )?;
    if let Some(w) = lease.warning() {
        eprintln!("warning: {w}");
    }
    let report = with_bar(&progress, || upload::run(&repo, &lib, &options, &progress))?;
    drop(lease);
    let secs = started.elapsed().as_secs_f64();
    if report.unchanged {
        println!(
            "backup: nothing changed since snapshot {} ({} files, {}); nothing uploaded",
            short(&report.snapshot),
            report.files,
            HumanBytes(report.bytes)
        );
    } else {
        println!(
            "backup: snapshot {} of {} files ({}); uploaded {} new chunks in {} packs ({}) in {secs:.1} s{}",
            short(&report.snapshot),
            report.files,
            HumanBytes(report.bytes),
            report.new_chunks,
            report.packs,
            HumanBytes(report.uploaded),
            if report.adopted > 0 {
                format!("; kept {} packs of an interrupted run", report.adopted)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Stores the target sealed in the library's catalog.
fn remember_target(data: &Path, url: &str, passphrase: &str) -> Result<()> {
    let lib = Library::open(data, Options::default())
        .with_context(|| format!("opening the library in {}", data.display()))?;
    let store = backup::TargetStore::open(lib.database(), data)?;
    let creds = Credentials::from_env();
    store.set_target(&backup::Target {
        url: RemoteUrl::parse(url)?.to_url(),
        access_key: creds.access_key,
        secret_key: creds.secret_key,
        user: creds.user,
        password: creds.password,
        passphrase: passphrase.to_string(),
    })?;
    Ok(())
}

/// `shoebox backup` without `--repo`: the target configured on the Backup page, with its
/// stored credentials and passphrase; the outcome shows on that page too.
fn backup_configured(data: &Path, args: &BackupArgs) -> Result<()> {
    let lib = Library::open(data, Options::default())
        .with_context(|| format!("opening the library in {}", data.display()))?;
    let service = backup::Backup::open(Arc::new(lib))?;
    if service.store().target()?.is_none() {
        bail!(
            "no repository: pass --repo URL, set SHOEBOX_REPO, or configure a target on the Backup page"
        );
    }
    let options = upload::Options {
        pack_target: args.pack_mib.max(1) * 1024 * 1024,
        parallel: args.parallel.max(1),
        host: host(),
    };
    let progress = Progress::new("backup");
    let report = with_bar(&progress, || service.run_here(options, &progress))?;
    println!(
        "backup: snapshot {} of {} files ({}); uploaded {}{}",
        short(&report.snapshot),
        report.files,
        HumanBytes(report.bytes),
        HumanBytes(report.uploaded),
        if report.unchanged {
            " (nothing changed)"
        } else {
            ""
        }
    );
    Ok(())
}

pub(super) fn short(name: &str) -> &str {
    name.get(..12).unwrap_or(name)
}

/// `shoebox snapshots`.
pub fn snapshots(data: &Path, args: &RepoArgs) -> Result<()> {
    let repo = open_repo(data, args.repo.as_deref())?;
    let all = snapshot::list(&repo)?;
    if all.is_empty() {
        println!("no snapshots yet");
    }
    for s in all {
        let when = chrono::DateTime::from_timestamp(s.body.time, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        println!(
            "{}  {when}  {}  {} assets  {} files  {}",
            s.short(),
            s.body.host,
            s.body.assets,
            s.body.files,
            HumanBytes(s.body.bytes)
        );
    }
    Ok(())
}

/// `shoebox restore`.
pub fn restore(data: &Path, args: &RestoreArgs) -> Result<()> {
    let repo = open_repo(data, args.repo.as_deref())?;
    let snap = snapshot::find(&repo, args.snapshot.as_deref())?;
    let progress = Progress::new("restore");
    if let Some(dir) = &args.into_library {
        let lib = Library::open(dir, Options::default())
            .with_context(|| format!("opening the library in {}", dir.display()))?;
        let report = with_bar(&progress, || {
            restore::into_library(&repo, &snap, &lib, &progress)
        })?;
        println!(
            "restore: snapshot {} into {}: {} files ({}), {} catalog rows",
            snap.short(),
            dir.display(),
            report.files,
            HumanBytes(report.bytes),
            report.rows
        );
    } else if let Some(dir) = &args.to {
        let report = with_bar(&progress, || restore::to_dir(&repo, &snap, dir, &progress))?;
        let export = report.export.unwrap_or_default();
        println!(
            "restore: snapshot {} to {}: {} files written ({})",
            snap.short(),
            dir.display(),
            export.written,
            HumanBytes(export.bytes)
        );
        if !export.failed.is_empty() {
            bail!("{} asset(s) could not be written", export.failed.len());
        }
    }
    Ok(())
}

/// `shoebox key …`.
pub fn key(data: &Path, args: &KeyArgs) -> Result<()> {
    let mut repo = open_repo(data, args.repo.as_deref())?;
    match &args.action {
        KeyAction::List => {
            for k in repo.list_keys()? {
                let when = chrono::DateTime::from_timestamp(k.created, 0)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                println!(
                    "{}  {when}  {}  {}{}",
                    short(&k.name),
                    if k.recovery {
                        "recovery  "
                    } else {
                        "passphrase"
                    },
                    k.label,
                    if k.in_use { "  (in use)" } else { "" }
                );
            }
        }
        KeyAction::Add {
            recovery,
            label,
            kdf_memory_mib,
        } => {
            let params = kdf(*kdf_memory_mib);
            if *recovery {
                let secret = backup::repo_recovery_key()?;
                let name = repo.add_key(&secret, true, "recovery key", params)?;
                println!(
                    "added recovery key {} (shown only now):\n  {secret}",
                    short(&name)
                );
            } else {
                let secret = secret("SHOEBOX_NEW_PASSPHRASE", "New passphrase")?;
                let name = repo.add_key(&secret, false, label, params)?;
                println!("added key {}", short(&name));
            }
        }
        KeyAction::Remove { id } => {
            let name = repo.remove_key(id)?;
            println!("removed key {}", short(&name));
        }
        KeyAction::Passwd { kdf_memory_mib } => {
            let secret = secret("SHOEBOX_NEW_PASSPHRASE", "New passphrase")?;
            let name = repo.change_passphrase(&secret, kdf(*kdf_memory_mib))?;
            println!("passphrase changed (key {})", short(&name));
        }
    }
    Ok(())
}
