//! The sync job: first a full listing of every zone (private library, hidden, shared library),
//! then the change feed from the saved token. Identity is the `CPLAsset` record name; an edit
//! adds the new rendering to the same asset; a deletion at Apple moves the asset to the trash,
//! a restore at Apple brings it back. Per page: `plan` says what to fetch, `download` fetches
//! it a few at a time into the spool (resumed with `Range` after a crash), and `pipeline`
//! ingests it in one batch while the next page downloads. `walk` drives the pages.

mod download;
mod pipeline;
mod plan;
mod walk;

use std::path::PathBuf;
use std::sync::Arc;

use super::api::{Db, Photos, Zone};
use super::auth::Client;
use super::error::{Error, Result};
use super::session::{Counts, SessionStore};
use crate::jobs::{Job, JobError, Outcome, Progress};
use crate::library::{Library, Origin};

/// Records per listing page (Apple serves up to 100 masters + 100 assets per 200).
const PAGE: u64 = 100;
/// A full listing is redone this often, to catch anything the change feed missed (Apple's
/// feed for Photos is lightly exercised by peers). Known items cost no download.
/// `SHOEBOX_ICLOUD_RECONCILE_SECS` overrides it (tests).
const RECONCILE_SECS: i64 = 7 * 86_400;

fn reconcile_secs() -> i64 {
    std::env::var("SHOEBOX_ICLOUD_RECONCILE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(RECONCILE_SECS)
}

/// Downloads at once: Apple serves each stream slowly, a few in parallel fill the line.
pub const PARALLEL: usize = 4;

/// What a sync did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// New assets.
    pub new: u64,
    /// Already in the library from another source or library.
    pub duplicates: u64,
    /// Edited renderings added.
    pub edits: u64,
    /// Live Photo clips and RAW alternatives added.
    pub extras: u64,
    /// Moved to the trash because iCloud deleted them.
    pub trashed: u64,
    /// Brought back because they came back in iCloud.
    pub restored: u64,
    /// Zones looked at.
    pub zones: u64,
    /// Requests sent to Apple.
    pub requests: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Items that could not be fetched, and why.
    pub failed: Vec<String>,
    /// iCloud albums made, changed and removed here.
    pub albums: super::albums::AlbumReport,
}

/// Pulls one Apple ID's libraries into the library.
pub struct SyncJob {
    lib: Arc<Library>,
    sessions: Arc<SessionStore>,
    apple_id: String,
    spool: PathBuf,
    parallel: usize,
    report: Report,
    /// The page being ingested while the next one downloads.
    in_flight: Option<pipeline::InFlight>,
    /// The ingest thread, started with the first page.
    ingester: Option<pipeline::Ingester>,
}

impl SyncJob {
    /// A sync of `apple_id`, spooling under the library's data directory.
    pub fn new(lib: Arc<Library>, sessions: Arc<SessionStore>, apple_id: &str) -> Self {
        let spool = lib.data_dir().join("spool").join("icloud");
        Self {
            lib,
            sessions,
            apple_id: apple_id.to_string(),
            spool,
            parallel: PARALLEL,
            report: Report::default(),
            in_flight: None,
            ingester: None,
        }
    }

    /// What it did.
    pub fn into_report(self) -> Report {
        self.report
    }

    /// One sync, then its outcome recorded and announced when it starts a problem.
    async fn sync(&mut self, progress: &Progress) -> Result<()> {
        let outcome = self.sync_once(progress).await;
        let notifier = crate::notify::Notifier::open(self.lib.database(), self.lib.data_dir())
            .inspect_err(|e| tracing::warn!("notifications off: {e}"))
            .ok();
        super::alerts::after_sync(
            &self.sessions,
            notifier.as_ref(),
            &self.apple_id,
            outcome.is_ok(),
        )
        .await;
        outcome
    }

    async fn sync_once(&mut self, progress: &Progress) -> Result<()> {
        let session = self
            .sessions
            .load(&self.apple_id)?
            .ok_or_else(|| Error::UnknownAccount(self.apple_id.clone()))?;
        let mut client = Client::new(session)?;
        let signed_in = client.resume().await;
        self.sessions.save(client.snapshot())?;
        let account = signed_in?;
        std::fs::create_dir_all(&self.spool).map_err(Error::io(&self.spool))?;
        download::clean_spool(&self.spool);
        let mut pulled = {
            let photos = Photos::new(&client, &account);
            self.pull(&photos, progress).await
        };
        if matches!(pulled, Err(Error::SessionExpired)) {
            // The saved session ended at Apple: sign in again once (trust token, no person),
            // then go on from where the listing stopped.
            tracing::info!(apple_id = %self.apple_id, "the iCloud session ended; signing in again");
            let again = client.revalidate().await;
            self.sessions.save(client.snapshot())?;
            pulled = match again {
                Ok(account) => {
                    let photos = Photos::new(&client, &account);
                    self.pull(&photos, progress).await
                }
                Err(e) => Err(e),
            };
        }
        self.report.requests = client.http.requests();
        let now = chrono::Utc::now().timestamp();
        match &pulled {
            Ok(()) => {
                client.clear_back_off();
                client.session.last_sync = Some((now, "ok".into()));
                client.session.last_ok = Some(now);
            }
            Err(Error::Throttled { until }) => {
                let wait = until - now;
                client.back_off(Some(wait.max(1)));
            }
            Err(Error::AccessDenied(_)) => {
                client.back_off(None);
            }
            Err(Error::SessionExpired) => {
                client.session.session_token = None;
            }
            Err(_) => {}
        }
        if let Err(e) = &pulled {
            client.session.last_sync = Some((now, e.to_string()));
        }
        self.sessions.save(client.snapshot())?;
        pulled
    }

    async fn pull(&mut self, photos: &Photos<'_>, progress: &Progress) -> Result<()> {
        let mut zones = photos.zones(Db::Private).await?;
        match photos.zones(Db::Shared).await {
            Ok(shared) => zones.extend(shared),
            Err(e @ (Error::Throttled { .. } | Error::AccessDenied(_) | Error::SessionExpired)) => {
                return Err(e);
            }
            Err(e) => tracing::info!(error = %e, "no shared library"),
        }
        for zone in zones {
            if progress.is_cancelled() {
                break;
            }
            self.report.zones += 1;
            self.sync_zone(photos, &zone, progress).await?;
        }
        Ok(())
    }

    fn zone_key(&self, zone: &Zone) -> String {
        format!("{}|{}|{}", self.apple_id, zone.db.name(), zone.name)
    }

    async fn sync_zone(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        progress: &Progress,
    ) -> Result<()> {
        let key = self.zone_key(zone);
        let mut state = self.sessions.zone(&key)?;
        let mut changed = false;
        let mut albums_due = !state.albums_done;
        let now = chrono::Utc::now().timestamp();
        if state.full_done && state.cursor == (0, 0) && now - state.last_full >= reconcile_secs() {
            // Periodic reconciliation: list everything again from the current token.
            state.full_done = false;
        }
        if !state.full_done {
            if state.cursor == (0, 0) {
                photos.check_indexing(zone).await?;
                state.pending_token.clone_from(&zone.sync_token);
                // Strictly increasing, so two listings in one second stay apart.
                state.full_started = now.max(state.full_started + 1);
                self.sessions.save_zone(&key, &state)?;
            }
            self.full(photos, zone, &key, &mut state, progress).await?;
            if progress.is_cancelled() {
                return Ok(());
            }
            self.sweep(photos, zone, &key, &mut state).await?;
            state.full_done = true;
            state.sync_token = state.pending_token.take();
            state.cursor = (0, 0);
            state.last_full = chrono::Utc::now().timestamp();
            self.sessions.save_zone(&key, &state)?;
            changed = true;
            albums_due = true;
        }
        if state.sync_token.is_none() || state.sync_token != zone.sync_token {
            albums_due |= self
                .follow(photos, zone, &key, &mut state, progress)
                .await?;
            changed = true;
        }
        // Albums live in the private library only (the shared library has none).
        if albums_due && zone.db == Db::Private && !progress.is_cancelled() {
            progress.set_current(format!("{} albums", zone.name));
            let r = super::albums::mirror(&self.lib, photos, &self.apple_id, zone).await?;
            self.report.albums.created += r.created;
            self.report.albums.changed += r.changed;
            self.report.albums.removed += r.removed;
            state.albums_done = true;
            self.sessions.save_zone(&key, &state)?;
        }
        if changed {
            let apple = photos.counts(zone).await?;
            state.counts = Counts {
                photos: apple.all.saturating_sub(apple.videos),
                videos: apple.videos,
                hidden: apple.hidden,
                recently_deleted: apple.deleted,
                downloaded: state.counts.downloaded,
                trashed: state.counts.trashed,
            };
            self.sessions.save_zone(&key, &state)?;
        }
        Ok(())
    }
}

pub(super) fn origin(zone: &Zone, record: &str) -> Origin {
    Origin::Icloud {
        zone: zone.name.clone(),
        record: record.to_string(),
    }
}

impl Job for SyncJob {
    fn name(&self) -> String {
        format!("iCloud sync {}", self.apple_id)
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| JobError(Box::new(e)))?;
        runtime
            .block_on(self.sync(progress))
            .map_err(|e| JobError(Box::new(e)))?;
        if progress.is_cancelled() {
            return Ok(Outcome::Cancelled);
        }
        let r = &self.report;
        Ok(Outcome::Done(format!(
            "{} new, {} edits, {} to trash, {} restored, {} albums made, {} changed, {} removed",
            r.new,
            r.edits,
            r.trashed,
            r.restored,
            r.albums.created,
            r.albums.changed,
            r.albums.removed
        )))
    }
}
