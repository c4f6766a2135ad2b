//! `shoebox icloud login|sync|status`: thin front doors to the `icloud` module.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;

use crate::icloud::{self, Client, Prompt, Session, SessionStore, SyncJob};
use crate::jobs::Scheduler;
use crate::library::{self, Library, Options};

/// iCloud commands.
#[derive(Debug, Subcommand)]
pub enum IcloudAction {
    /// Sign in an Apple ID (password from `SHOEBOX_ICLOUD_PASSWORD` or a prompt; the
    /// verification code is read from standard input when Apple asks for one).
    Login {
        /// The Apple ID (e-mail address or phone number).
        #[arg(long)]
        apple_id: String,
        /// The account lives on the China-mainland iCloud (iCloud.com.cn).
        #[arg(long)]
        china: bool,
    },
    /// Pull new, edited and deleted photos from iCloud (every signed-in Apple ID by default).
    Sync {
        /// Only this Apple ID.
        #[arg(long)]
        apple_id: Option<String>,
    },
    /// Sign-in state, trust expiry, last sync and counts per library.
    Status,
}

/// Reads answers from standard input, asking on standard error.
struct StdinPrompt;

impl Prompt for StdinPrompt {
    fn ask(&mut self, question: &str) -> Option<String> {
        eprintln!("{question}");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_string()),
        }
    }
}

fn open(data: &Path) -> Result<(Arc<Library>, Arc<SessionStore>)> {
    let options = Options::default();
    let db = Arc::new(
        library::open_database(data, options.db_cache_bytes)
            .with_context(|| format!("opening the library in {}", data.display()))?,
    );
    let lib = Arc::new(Library::with_db(Arc::clone(&db), data, options)?);
    let sessions = Arc::new(SessionStore::open(db, data)?);
    Ok((lib, sessions))
}

/// Runs an iCloud command.
pub fn run(data: &Path, action: IcloudAction) -> Result<()> {
    match action {
        IcloudAction::Login { apple_id, china } => login(data, &apple_id, china),
        IcloudAction::Sync { apple_id } => sync(data, apple_id),
        IcloudAction::Status => status(data),
    }
}

fn login(data: &Path, apple_id: &str, china: bool) -> Result<()> {
    let (_lib, sessions) = open(data)?;
    let mut session = sessions
        .load(apple_id)?
        .unwrap_or_else(|| Session::new(apple_id, china));
    session.china = china;
    let password = match std::env::var("SHOEBOX_ICLOUD_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => StdinPrompt
            .ask(&format!("Password for {apple_id}:"))
            .ok_or_else(|| anyhow!("no password given"))?,
    };
    let mut client = Client::new(session)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(client.login(&password, &mut StdinPrompt));
    sessions.save(client.snapshot())?;
    outcome?;
    let days = client
        .session
        .trust_days_left(chrono::Utc::now().timestamp())
        .map_or_else(String::new, |d| {
            format!("; this box is trusted for {d} more days")
        });
    println!("signed in to iCloud as {apple_id}{days}");
    Ok(())
}

fn sync(data: &Path, apple_id: Option<String>) -> Result<()> {
    let (lib, sessions) = open(data)?;
    let ids = match apple_id {
        Some(id) => vec![id],
        None => sessions.accounts()?,
    };
    if ids.is_empty() {
        bail!("no iCloud account on this box; add one with `shoebox icloud login --apple-id ID`");
    }
    let mut failed = 0;
    for id in ids {
        let job = SyncJob::new(Arc::clone(&lib), Arc::clone(&sessions), &id);
        let running = Scheduler::new()
            .spawn(job)
            .map_err(|e| anyhow!("starting the sync: {e}"))?;
        let progress = running.progress.clone();
        super::render::watch(&progress, || running.is_finished());
        match running.wait() {
            Ok((job, _)) => {
                let r = job.into_report();
                println!(
                    "{id}: {} new, {} already here, {} edits, {} extras (Live Photo clips, RAW), {} moved to trash, {} restored; {} requests, {} bytes",
                    r.new,
                    r.duplicates,
                    r.edits,
                    r.extras,
                    r.trashed,
                    r.restored,
                    r.requests,
                    r.bytes
                );
                println!(
                    "{id}: albums from iCloud: {} made, {} changed, {} removed",
                    r.albums.created, r.albums.changed, r.albums.removed
                );
                for f in &r.failed {
                    println!("  not fetched: {f}");
                }
                let now = chrono::Utc::now().timestamp();
                if let Some(days) = sessions
                    .load(&id)?
                    .and_then(|s| s.trust_days_left(now))
                    .filter(|d| *d <= icloud::session::WARN_DAYS)
                {
                    println!(
                        "  Apple's trust of this box ends in {days} days: sign in again with `shoebox icloud login --apple-id {id}`"
                    );
                }
                if !r.failed.is_empty() {
                    failed += 1;
                }
            }
            Err(e) => {
                eprintln!("{id}: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!("{failed} iCloud account(s) did not sync completely");
    }
    Ok(())
}

fn status(data: &Path) -> Result<()> {
    let (_lib, sessions) = open(data)?;
    let now = chrono::Utc::now().timestamp();
    let ids = sessions.accounts()?;
    if ids.is_empty() {
        println!("no iCloud account on this box");
    }
    for id in ids {
        let Some(s) = sessions.load(&id)? else {
            continue;
        };
        println!("{id}");
        match &s.needs_login {
            Some(why) => println!("  sign-in needed: {why}"),
            None => println!("  signed in"),
        }
        if let Some(days) = s.trust_days_left(now) {
            let warn = if days <= icloud::session::WARN_DAYS {
                " (sign in again soon)"
            } else {
                ""
            };
            println!("  trust expires in {days} days{warn}");
        }
        if let Some(until) = s.blocked_until.filter(|u| *u > now) {
            println!("  waiting {} s before contacting Apple again", until - now);
        }
        match &s.last_sync {
            Some((at, outcome)) => println!("  last sync: {} s ago, {outcome}", now - at),
            None => println!("  last sync: never"),
        }
        for (zone, z) in sessions.zones_of(&id)? {
            let c = &z.counts;
            println!(
                "  {zone}: at Apple {} photos, {} videos, {} hidden, {} recently deleted; here {} downloaded, {} moved to trash",
                c.photos, c.videos, c.hidden, c.recently_deleted, c.downloaded, c.trashed
            );
        }
    }
    Ok(())
}
