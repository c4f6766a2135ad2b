//! The sync job: first a full listing of every zone (private library, hidden, shared library),
//! then the change feed from the saved token. Identity is the `CPLAsset` record name; an edit
//! adds the new rendering to the same asset; a deletion at Apple moves the asset to the trash,
//! a restore at Apple brings it back. Downloads run a few at a time into the spool (resumed
//! with `Range` after a crash), then one ingest batch per page commits them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;

use super::api::{Db, Item, Photos, Record, Res, View, Zone};
use super::auth::Client;
use super::error::{Error, Result};
use super::session::{Counts, SessionStore, ZoneState};
use crate::jobs::{Job, JobError, Outcome, Progress};
use crate::library::{AssetId, Incoming, Ingested, Library, Origin, Role, Stamp, State};

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
        clean_spool(&self.spool);
        let pulled = {
            let photos = Photos::new(&client, &account);
            self.pull(&photos, progress).await
        };
        self.report.requests = client.http.requests();
        let now = chrono::Utc::now().timestamp();
        match &pulled {
            Ok(()) => {
                client.clear_back_off();
                client.session.last_sync = Some((now, "ok".into()));
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

    async fn full(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<()> {
        let views = [View::Library, View::Hidden];
        for (i, view) in views.iter().enumerate().skip(usize::from(state.cursor.0)) {
            let mut rank = if usize::from(state.cursor.0) == i {
                state.cursor.1
            } else {
                0
            };
            loop {
                if progress.is_cancelled() {
                    return Ok(());
                }
                let records = photos.page(zone, *view, rank, PAGE).await?;
                let (items, masters) = pair(&records);
                if masters == 0 {
                    break;
                }
                progress.set_current(format!("{} ({} from {rank})", zone.name, masters));
                self.apply(photos, zone, items, state, true, progress)
                    .await?;
                rank += masters;
                state.cursor = (u8::try_from(i).unwrap_or(0), rank);
                self.sessions.save_zone(key, state)?;
            }
        }
        Ok(())
    }

    async fn follow(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<bool> {
        let mut albums = false;
        loop {
            let page = photos.changes(zone, state.sync_token.as_deref()).await?;
            let mut masters: HashMap<String, Record> = HashMap::new();
            let mut assets = Vec::new();
            for r in page.records {
                albums |= super::albums::touches_albums(&r);
                if r.deleted {
                    self.trash(zone, &r.name, state)?;
                } else if r.rtype == "CPLMaster" {
                    masters.insert(r.name.clone(), r);
                } else if r.rtype == "CPLAsset" {
                    assets.push(r);
                }
            }
            let missing: Vec<String> = assets
                .iter()
                .filter_map(master_of)
                .filter(|m| !masters.contains_key(m))
                .collect();
            if !missing.is_empty() {
                masters.extend(photos.lookup(zone, &missing).await?);
            }
            let items = assets
                .iter()
                .filter_map(|a| Some(Item::join(a, masters.get(&master_of(a)?)?)))
                .collect();
            self.apply(photos, zone, items, state, false, progress)
                .await?;
            if page.sync_token.is_some() {
                state.sync_token = page.sync_token;
            }
            self.sessions.save_zone(key, state)?;
            if !page.more {
                return Ok(albums);
            }
        }
    }

    /// After a full listing: records seen before but not by this listing are asked about
    /// one by one (paging by rank can skip items while the library changes); those Apple no
    /// longer has, or holds in Recently Deleted, go to the trash as a feed deletion would.
    async fn sweep(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
    ) -> Result<()> {
        let unseen = self.sessions.unseen_since(key, state.full_started)?;
        if unseen.is_empty() {
            return Ok(());
        }
        let found = photos.lookup(zone, &unseen).await?;
        let (mut gone, mut here) = (Vec::new(), Vec::new());
        for name in unseen {
            let alive = found.get(&name).is_some_and(|r| {
                r.rtype == "CPLAsset"
                    && r.int("isDeleted") != Some(1)
                    && r.int("isExpunged") != Some(1)
            });
            if alive {
                here.push(name);
            } else {
                self.trash(zone, &name, state)?;
                gone.push(name);
            }
        }
        self.sessions.forget_seen(key, &gone)?;
        let seen = self.sessions.seen(key, &here)?;
        let marked: Vec<(String, super::records::Seen)> = here
            .into_iter()
            .zip(seen)
            .map(|(n, s)| {
                let mut s = s.unwrap_or_default();
                s.listed = state.full_started;
                (n, s)
            })
            .collect();
        self.sessions.save_seen(key, &marked)
    }

    /// A record deleted at Apple: its asset goes to the trash (if we hold it and it is active).
    fn trash(&mut self, zone: &Zone, record: &str, state: &mut ZoneState) -> Result<()> {
        let origin = origin(zone, record);
        let Some(id) = self.lib.asset_of(&origin)? else {
            return Ok(());
        };
        if self
            .lib
            .asset(id)?
            .is_some_and(|a| a.state == State::Active)
        {
            self.lib.trash_asset(id, true)?;
            self.report.trashed += 1;
            state.counts.trashed += 1;
        }
        Ok(())
    }

    /// Downloads what the items need and ingests them in one batch.
    async fn apply(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        items: Vec<Item>,
        state: &mut ZoneState,
        listing: bool,
        progress: &Progress,
    ) -> Result<()> {
        let mut fetches: Vec<Fetch> = Vec::new();
        let mut owners: Vec<Option<AssetId>> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let main = origin(zone, &item.asset);
            let owner = self.lib.asset_of(&main)?;
            owners.push(owner);
            if item.deleted {
                self.trash(zone, &item.asset, state)?;
                continue;
            }
            if let Some(id) = owner
                && self.lib.asset(id)?.is_some_and(|a| {
                    matches!(
                        a.state,
                        State::Trashed {
                            by_source: true,
                            ..
                        }
                    )
                })
            {
                self.lib.restore_asset(id)?;
                self.report.restored += 1;
                state.counts.trashed = state.counts.trashed.saturating_sub(1);
            }
            if owner.is_none() {
                match &item.original {
                    Some(res) => fetches.push(self.fetch_for(i, None, res, item, zone)),
                    None => self
                        .report
                        .failed
                        .push(format!("{}: no original at Apple", item.name)),
                }
            }
            for (role, res) in [
                (Role::LiveVideo, &item.live),
                (Role::Edited, &item.edited),
                (Role::Raw, &item.raw),
            ] {
                let Some(res) = res else { continue };
                let sub = origin(zone, &format!("{}/{}", item.asset, role_name(role)));
                if !self.lib.is_unchanged(&sub, stamp_of(res))? {
                    fetches.push(self.fetch_for(i, Some(role), res, item, zone));
                }
            }
        }
        if !fetches.is_empty() {
            let total: u64 = fetches.iter().map(|f| f.size).sum();
            progress.add_total(fetches.len() as u64, total);
            self.download_all(photos, zone, &items, &mut fetches, progress)
                .await;
            self.ingest(zone, &items, &owners, &fetches, state)?;
            for f in &fetches {
                std::fs::remove_file(&f.part).ok();
            }
        }
        let key = self.zone_key(zone);
        let listed = listing.then_some(state.full_started);
        super::metadata::mirror(&self.lib, &self.sessions, &key, zone, &items, listed)?;
        Ok(())
    }

    fn fetch_for(
        &self,
        item: usize,
        role: Option<Role>,
        res: &Res,
        it: &Item,
        zone: &Zone,
    ) -> Fetch {
        let id = blake3::hash(
            format!(
                "{}|{}|{}|{}|{}",
                self.apple_id,
                zone.name,
                it.asset,
                role.map_or("original", role_name),
                res.checksum
            )
            .as_bytes(),
        );
        Fetch {
            item,
            role,
            url: res.url.clone(),
            size: res.size,
            stamp: stamp_of(res),
            part: self.spool.join(format!("{}.part", &id.to_hex()[..32])),
            name: part_name(&it.name, role, res),
            done: false,
            error: None,
        }
    }

    /// Runs the downloads a few at a time; an expired or missing link is fetched again once.
    async fn download_all(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        items: &[Item],
        fetches: &mut [Fetch],
        progress: &Progress,
    ) {
        for attempt in 0..2 {
            let todo: Vec<usize> = (0..fetches.len())
                .filter(|&i| !fetches[i].done && fetches[i].url.is_some())
                .collect();
            let results: Vec<(usize, Result<()>)> = futures_util::stream::iter(todo)
                .map(|i| {
                    let f = &fetches[i];
                    let url = f.url.clone().unwrap_or_default();
                    let (size, part) = (f.size, f.part.clone());
                    async move { (i, photos.download(&url, size, &part).await) }
                })
                .buffer_unordered(self.parallel)
                .collect()
                .await;
            for (i, r) in results {
                match r {
                    Ok(()) => {
                        fetches[i].done = true;
                        self.report.bytes += fetches[i].size;
                        progress.advance(1, fetches[i].size);
                    }
                    Err(e) => fetches[i].error = Some(e),
                }
            }
            let stale: Vec<usize> = fetches
                .iter()
                .filter(|f| {
                    !f.done && (f.url.is_none() || matches!(f.error, Some(Error::LinkExpired)))
                })
                .map(|f| f.item)
                .collect();
            if attempt == 1 || stale.is_empty() {
                break;
            }
            let names: Vec<String> = stale
                .iter()
                .flat_map(|&i| [items[i].asset.clone(), items[i].master.clone()])
                .collect();
            let Ok(fresh) = photos.lookup(zone, &names).await else {
                break;
            };
            for f in fetches.iter_mut().filter(|f| !f.done) {
                let it = &items[f.item];
                let (Some(asset), Some(master)) = (fresh.get(&it.asset), fresh.get(&it.master))
                else {
                    continue;
                };
                let again = Item::join(asset, master);
                let res = match f.role {
                    None => again.original,
                    Some(Role::LiveVideo) => again.live,
                    Some(Role::Raw) => again.raw,
                    Some(Role::Edited) => again.edited,
                };
                if let Some(res) = res.filter(|r| r.url.is_some()) {
                    f.url = res.url;
                    f.size = res.size;
                    f.error = None;
                }
            }
        }
    }

    fn ingest(
        &mut self,
        zone: &Zone,
        items: &[Item],
        owners: &[Option<AssetId>],
        fetches: &[Fetch],
        state: &mut ZoneState,
    ) -> Result<()> {
        let mut owners = owners.to_vec();
        let mut batch = self.lib.begin()?;
        // Originals first, so the extras find their asset.
        let mut order: Vec<&Fetch> = fetches.iter().collect();
        order.sort_by_key(|f| (f.item, f.role.is_some()));
        for f in order {
            let item = &items[f.item];
            if !f.done {
                let why = f
                    .error
                    .as_ref()
                    .map_or_else(|| "no download link".to_string(), ToString::to_string);
                self.report.failed.push(format!("{}: {why}", f.name));
                continue;
            }
            let main = origin(zone, &item.asset);
            match f.role {
                None => {
                    let incoming = Incoming {
                        file: &f.part,
                        origin: main,
                        name: f.name.clone(),
                        stamp: Some(f.stamp),
                        file_time: item.taken,
                    };
                    match batch.ingest(&incoming)? {
                        Ingested::New(id) => {
                            self.report.new += 1;
                            state.counts.downloaded += 1;
                            owners[f.item] = Some(id);
                        }
                        Ingested::Duplicate(id)
                        | Ingested::Unchanged(id)
                        | Ingested::Paired(id) => {
                            self.report.duplicates += 1;
                            state.counts.downloaded += 1;
                            owners[f.item] = Some(id);
                        }
                        Ingested::Skipped(why) => {
                            self.report.failed.push(format!("{}: {why}", f.name));
                        }
                    }
                }
                Some(role) => {
                    let Some(owner) = owners[f.item] else {
                        continue;
                    };
                    let incoming = Incoming {
                        file: &f.part,
                        origin: origin(zone, &format!("{}/{}", item.asset, role_name(role))),
                        name: f.name.clone(),
                        stamp: Some(f.stamp),
                        file_time: None,
                    };
                    if matches!(batch.attach(owner, role, &incoming)?, Ingested::Paired(_)) {
                        if role == Role::Edited {
                            self.report.edits += 1;
                        } else {
                            self.report.extras += 1;
                        }
                    }
                }
            }
        }
        batch.commit()?;
        Ok(())
    }
}

/// One file to download.
struct Fetch {
    item: usize,
    role: Option<Role>,
    url: Option<String>,
    size: u64,
    stamp: Stamp,
    part: PathBuf,
    name: String,
    done: bool,
    error: Option<Error>,
}

/// Removes spool files written before the last boot: after a power cut their tails may be
/// torn, so they are fetched again; after a kill they are resumed with `Range`.
fn clean_spool(spool: &Path) {
    let Some(boot) = boot_time() else { return };
    let Ok(entries) = std::fs::read_dir(spool) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .is_some_and(|t| t < boot);
        if old {
            std::fs::remove_file(e.path()).ok();
        }
    }
}

/// When this machine booted (Linux `/proc/stat`).
fn boot_time() -> Option<std::time::SystemTime> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

pub(super) fn origin(zone: &Zone, record: &str) -> Origin {
    Origin::Icloud {
        zone: zone.name.clone(),
        record: record.to_string(),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Edited => "edited",
        Role::LiveVideo => "live",
        Role::Raw => "raw",
    }
}

/// Apple's identity of a rendering, as the stamp the library compares next time.
fn stamp_of(res: &Res) -> Stamp {
    let h = blake3::hash(res.checksum.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    Stamp {
        size: res.size,
        mtime_ns: i64::from_le_bytes(first),
        inode: 0,
    }
}

fn part_name(name: &str, role: Option<Role>, res: &Res) -> String {
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    let ext = |default: &'static str| match res.file_type.as_deref() {
        Some("public.jpeg") => "JPG",
        Some("public.heic") => "HEIC",
        Some("com.apple.quicktime-movie") => "MOV",
        Some("public.mpeg-4") => "MP4",
        Some("com.adobe.raw-image") => "DNG",
        _ => default,
    };
    match role {
        None => name.to_string(),
        Some(Role::LiveVideo) => format!("{stem}.{}", ext("MOV")),
        Some(Role::Edited) => format!("{stem}-edited.{}", ext("JPG")),
        Some(Role::Raw) => format!("{stem}.{}", ext("RAW")),
    }
}

fn master_of(asset: &Record) -> Option<String> {
    asset
        .value("masterRef")
        .and_then(|v| v.get("recordName"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Joins a listing page's assets with their masters; also returns how many masters it held
/// (Apple's rank counts masters).
fn pair(records: &[Record]) -> (Vec<Item>, u64) {
    let masters: HashMap<&str, &Record> = records
        .iter()
        .filter(|r| r.rtype == "CPLMaster")
        .map(|r| (r.name.as_str(), r))
        .collect();
    let items = records
        .iter()
        .filter(|r| r.rtype == "CPLAsset")
        .filter_map(|a| Some(Item::join(a, masters.get(master_of(a)?.as_str())?)))
        .collect();
    (items, masters.len() as u64)
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
