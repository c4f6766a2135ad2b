//! The command line: parses arguments and maps each command to one library call. No logic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::import::{ImportJob, Summary};
use crate::jobs::{Job, Progress, Scheduler};
use crate::library::{Library, Options};
use crate::store;

mod backup;
mod icloud;
mod render;
mod setup;

/// shoebox: the family photo vault.
#[derive(Debug, Parser)]
#[command(name = "shoebox", version, about)]
pub struct Cli {
    /// Data directory holding the library.
    #[arg(
        long,
        global = true,
        env = "SHOEBOX_DATA",
        default_value = "shoebox-data"
    )]
    pub data: PathBuf,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the appliance's normal mode; the default).
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "0.0.0.0:8080")]
        listen: std::net::SocketAddr,
        /// Do not announce the box as <name>.local on the network.
        #[arg(long)]
        no_mdns: bool,
    },
    /// Do the wizard's required steps without a browser (password on stdin).
    Setup {
        /// The owner's account name.
        #[arg(long)]
        owner: String,
        /// The box's name on the network.
        #[arg(long)]
        device_name: Option<String>,
        /// IANA time zone, e.g. Europe/Paris.
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Manage accounts (passwords on stdin).
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Import photos and videos from folders (recursive).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Commit at least every N files (also every second and every 128 MiB). Smaller
        /// redoes less after a crash; larger is a little faster.
        #[arg(long, default_value_t = crate::import::BATCH_FILES)]
        commit_every: u64,
    },
    /// Write every photo as plain files into YYYY/MM/DD folders.
    Export {
        /// Target folder.
        dir: PathBuf,
    },
    /// Check the library; exits non-zero when anything is damaged.
    Check {
        /// Also re-read and re-hash every stored byte.
        #[arg(long)]
        read_data: bool,
    },
    /// Repair the library.
    Repair {
        /// Rebuild the chunk index from the pack files alone.
        #[arg(long, required = true)]
        rebuild_index: bool,
    },
    /// Purge expired trash and reclaim space no photo uses.
    Gc {
        /// Seconds an unreferenced file is kept before deletion.
        #[arg(long, default_value_t = 3600)]
        grace: u64,
    },
    /// Make missing thumbnails and previews (all of them with --rebuild).
    Thumbnails {
        /// Regenerate every thumbnail.
        #[arg(long)]
        rebuild: bool,
    },
    /// Counts, sizes and dedup savings.
    Stats,
    /// Back up the library, encrypted, to S3, WebDAV or a folder (`backup init` first).
    Backup(backup::BackupArgs),
    /// List the snapshots of a backup repository.
    Snapshots(backup::RepoArgs),
    /// Restore photos or a whole library from a backup repository.
    Restore(backup::RestoreArgs),
    /// Manage the passphrases and recovery keys of a backup repository.
    Key(backup::KeyArgs),
    /// iCloud Photo Library: sign in, sync, status.
    Icloud {
        /// What to do.
        #[command(subcommand)]
        action: icloud::IcloudAction,
    },
    /// Print the version.
    Version,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a person.
    Add {
        /// Account name.
        name: String,
        /// Make them an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Set a person's password.
    Passwd {
        /// Account name.
        name: String,
    },
    /// Remove a person (their photos stay).
    Remove {
        /// Account name.
        name: String,
    },
    /// List accounts.
    List,
    /// Make an app password for a phone or file manager (WebDAV); printed once.
    AppPassword {
        /// Account name.
        name: String,
        /// What it is for, e.g. "Anna's phone".
        #[arg(long, default_value = "app")]
        label: String,
    },
    /// List a person's app passwords (ids and labels, never the secrets).
    AppPasswords {
        /// Account name.
        name: String,
    },
    /// Revoke one app password by its id.
    RevokeAppPassword {
        /// Account name.
        name: String,
        /// The id `app-passwords` lists.
        id: String,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let command = cli.command.unwrap_or(Command::Serve {
        listen: ([0, 0, 0, 0], 8080).into(),
        no_mdns: false,
    });
    let grace = match command {
        Command::Gc { grace } => Duration::from_secs(grace),
        _ => store::Options::default().grace,
    };
    let open = || -> Result<Arc<Library>> {
        let options = Options {
            store: store::Options {
                grace,
                ..store::Options::default()
            },
            ..Options::default()
        };
        let lib = Library::open(&cli.data, options)
            .with_context(|| format!("opening the library in {}", cli.data.display()))?;
        Ok(Arc::new(lib))
    };
    match command {
        Command::Version => println!("shoebox {}", env!("CARGO_PKG_VERSION")),
        Command::Serve { listen, no_mdns } => {
            let options = crate::app::ServeOptions {
                data_dir: cli.data.clone(),
                listen,
                mdns: !no_mdns,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(crate::app::serve(options))?;
        }
        Command::Setup {
            owner,
            device_name,
            timezone,
        } => setup::run(&cli.data, &owner, device_name, timezone)?,
        Command::User { action } => setup::user(&cli.data, action)?,
        Command::Import {
            paths,
            commit_every,
        } => import(&open()?, paths, commit_every)?,
        Command::Export { dir } => {
            let lib = open()?;
            let report = with_bar(&Progress::new("export"), |p| lib.export(&dir, p))?;
            println!("{}", render::export(&report, &dir));
            if !report.failed.is_empty() {
                bail!("{} asset(s) could not be exported", report.failed.len());
            }
        }
        Command::Check { read_data } => {
            let report = open()?.check(read_data)?;
            println!("{}", render::check(&report, read_data));
            if !report.is_clean() {
                bail!("the library has problems (see above)");
            }
        }
        Command::Repair { .. } => {
            let report = open()?.rebuild_store_index()?;
            println!("{}", render::rebuild(&report));
        }
        Command::Gc { .. } => {
            // The trash keeps what the box's settings say (Settings page), not a fixed period.
            let options = Options {
                store: store::Options {
                    grace,
                    ..store::Options::default()
                },
                ..Options::default()
            };
            let services = crate::app::services_with(&cli.data, options)?;
            let done = crate::app::upkeep(&services, true)?;
            let report = done.gc.unwrap_or_default();
            println!("{}", render::gc(done.purged, done.derived_removed, &report));
        }
        Command::Thumbnails { rebuild } => thumbnails(&open()?, rebuild)?,
        Command::Icloud { action } => icloud::run(&cli.data, action)?,
        Command::Stats => println!("{}", render::stats(&open()?.counts()?)),
        Command::Backup(args) => backup::backup(&cli.data, &args)?,
        Command::Snapshots(args) => backup::snapshots(&cli.data, &args)?,
        Command::Restore(args) => backup::restore(&cli.data, &args)?,
        Command::Key(args) => backup::key(&cli.data, &args)?,
    }
    Ok(())
}

fn import(lib: &Arc<Library>, paths: Vec<PathBuf>, commit_every: u64) -> Result<()> {
    let missing: Vec<_> = paths.iter().filter(|p| !p.exists()).collect();
    if let Some(p) = missing.first() {
        bail!("{} does not exist", p.display());
    }
    let job = ImportJob::new(Arc::clone(lib), paths, commit_every);
    let scheduler = Scheduler::new();
    let name = job.name();
    let running = scheduler
        .spawn(job)
        .map_err(|e| anyhow::anyhow!("starting {name}: {e}"))?;
    let progress = running.progress.clone();
    render::watch(&progress, || running.is_finished());
    let (job, _outcome) = running
        .wait()
        .map_err(|e| anyhow::anyhow!("import stopped: {e}"))?;
    let summary: Summary = job.into_summary();
    println!("{}", render::import(&summary));
    if !summary.failed.is_empty() {
        bail!("{} file(s) could not be imported", summary.failed.len());
    }
    Ok(())
}

fn thumbnails(lib: &Arc<Library>, rebuild: bool) -> Result<()> {
    let scheduler = Scheduler::new();
    let running = scheduler
        .spawn(crate::thumbs::ThumbnailJob::new(Arc::clone(lib), rebuild))
        .map_err(|e| anyhow::anyhow!("starting thumbnails: {e}"))?;
    let progress = running.progress.clone();
    render::watch(&progress, || running.is_finished());
    let (job, _) = running
        .wait()
        .map_err(|e| anyhow::anyhow!("thumbnails stopped: {e}"))?;
    let summary = job.into_summary();
    println!("{}", render::thumbnails(&summary));
    if !summary.failed.is_empty() {
        bail!("{} asset(s) could not be read", summary.failed.len());
    }
    Ok(())
}

/// Runs `work` on this thread while a bar shows its progress from another.
fn with_bar<T>(
    progress: &Progress,
    work: impl FnOnce(&Progress) -> crate::library::Result<T> + Send,
) -> Result<T>
where
    T: Send,
{
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let p = progress.clone();
        let done_ref = &done;
        s.spawn(move || render::watch(&p, || done_ref.load(std::sync::atomic::Ordering::Acquire)));
        let result = work(progress);
        done.store(true, std::sync::atomic::Ordering::Release);
        result.map_err(Into::into)
    })
}
