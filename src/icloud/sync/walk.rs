//! Walking a zone page by page: the full listing (by rank, library then hidden) and the
//! change feed (by token), each page planned, downloaded while the page before is ingested,
//! then handed to the pipeline; and the sweep after a full listing.

use std::collections::HashMap;

use super::super::api::{Item, Photos, Record, View, Zone};
use super::super::error::Result;
use super::super::session::ZoneState;
use super::pipeline::{InFlight, Ingester, Mark};
use super::plan::{Plan, master_of, pair, plan};
use super::{PAGE, SyncJob, origin};
use crate::jobs::Progress;
use crate::library::State;

/// The zone being walked.
struct Walk<'a, 'c> {
    photos: &'a Photos<'c>,
    zone: &'a Zone,
    key: &'a str,
    progress: &'a Progress,
}

impl SyncJob {
    /// The full listing, resumed from the saved cursor.
    pub(super) async fn full(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<()> {
        let walked = self.list_views(photos, zone, key, state, progress).await;
        let settled = self.settle(key, state).await;
        walked.and(settled)
    }

    async fn list_views(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<()> {
        let views = [View::Library, View::Hidden];
        let (from_view, from_rank) = state.cursor;
        for (i, view) in views.iter().enumerate().skip(usize::from(from_view)) {
            let mut rank = if usize::from(from_view) == i {
                from_rank
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
                rank += masters;
                let mark = Mark::Cursor(u8::try_from(i).unwrap_or(0), rank);
                let w = Walk {
                    photos,
                    zone,
                    key,
                    progress,
                };
                self.step(&w, state, items, Vec::new(), true, mark).await?;
            }
        }
        Ok(())
    }

    /// The change feed from the saved token. True when it touched albums.
    pub(super) async fn follow(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<bool> {
        let walked = self.follow_feed(photos, zone, key, state, progress).await;
        let settled = self.settle(key, state).await;
        settled?;
        walked
    }

    async fn follow_feed(
        &mut self,
        photos: &Photos<'_>,
        zone: &Zone,
        key: &str,
        state: &mut ZoneState,
        progress: &Progress,
    ) -> Result<bool> {
        let mut albums = false;
        let mut token = state.sync_token.clone();
        loop {
            let page = photos.changes(zone, token.as_deref()).await?;
            let mut masters: HashMap<String, Record> = HashMap::new();
            let (mut assets, mut gone) = (Vec::new(), Vec::new());
            for r in page.records {
                albums |= super::super::albums::touches_albums(&r);
                if r.deleted {
                    gone.push(r.name);
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
            if page.sync_token.is_some() {
                token.clone_from(&page.sync_token);
            }
            let mark = Mark::Token(page.sync_token);
            let w = Walk {
                photos,
                zone,
                key,
                progress,
            };
            self.step(&w, state, items, gone, false, mark).await?;
            if !page.more {
                return Ok(albums);
            }
        }
    }

    /// One page: plan it, download its files while the page before is ingested, then settle
    /// that one, apply this page's trash and restores, and start its ingest.
    async fn step(
        &mut self,
        w: &Walk<'_, '_>,
        state: &mut ZoneState,
        items: Vec<Item>,
        gone: Vec<String>,
        listed: bool,
        mark: Mark,
    ) -> Result<()> {
        let (photos, zone, progress) = (w.photos, w.zone, w.progress);
        let busy = self.in_flight.as_ref().map(|f| f.parts.clone());
        let in_flight = |p: &std::path::Path| busy.as_ref().is_some_and(|b| b.contains(p));
        let mut page = plan(
            &self.lib,
            &self.apple_id,
            &self.spool,
            zone,
            items,
            &in_flight,
        )?;
        page.trash.extend(gone);
        if !page.fetches.is_empty() {
            let total: u64 = page.fetches.iter().map(|f| f.size).sum();
            progress.add_total(page.fetches.len() as u64, total);
            self.report.bytes += super::download::download_all(
                photos,
                zone,
                &page.items,
                &mut page.fetches,
                self.parallel,
                progress,
            )
            .await;
        }
        self.settle(w.key, state).await?;
        self.prepare(zone, &page, state)?;
        if self.ingester.is_none() {
            self.ingester = Some(Ingester::start()?);
        }
        if let Some(ingester) = &self.ingester {
            let lib = std::sync::Arc::clone(&self.lib);
            self.in_flight = Some(ingester.launch(lib, zone, page, listed, mark)?);
        }
        Ok(())
    }

    /// The trash and restores a page brings, before its ingest (nothing else writes then).
    fn prepare(&mut self, zone: &Zone, page: &Plan, state: &mut ZoneState) -> Result<()> {
        for name in &page.trash {
            self.trash(zone, name, state)?;
        }
        for &id in &page.restore {
            self.lib.restore_asset(id)?;
            self.report.restored += 1;
            state.counts.trashed = state.counts.trashed.saturating_sub(1);
        }
        Ok(())
    }

    /// Waits for the page in flight, if any, and records it: counts, metadata, checkpoint.
    async fn settle(&mut self, key: &str, state: &mut ZoneState) -> Result<()> {
        let Some(in_flight) = self.in_flight.take() else {
            return Ok(());
        };
        let (page, plan, t) = InFlight::finish(in_flight).await?;
        self.report.new += t.new;
        self.report.duplicates += t.duplicates;
        self.report.edits += t.edits;
        self.report.extras += t.extras;
        self.report.failed.extend(t.failed);
        state.counts.downloaded += t.downloaded;
        let listed = page.listed.then_some(state.full_started);
        super::super::metadata::mirror(
            &self.lib,
            &self.sessions,
            key,
            &page.zone,
            &plan.items,
            listed,
        )?;
        match page.mark {
            Mark::Cursor(view, rank) => state.cursor = (view, rank),
            Mark::Token(Some(t)) => state.sync_token = Some(t),
            Mark::Token(None) => {}
        }
        self.sessions.save_zone(key, state)
    }

    /// After a full listing: records seen before but not by this listing are asked about
    /// one by one (paging by rank can skip items while the library changes); those Apple no
    /// longer has, or holds in Recently Deleted, go to the trash as a feed deletion would.
    pub(super) async fn sweep(
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
        let marked: Vec<(String, super::super::records::Seen)> = here
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
        let Some(id) = self.lib.asset_of(&origin(zone, record))? else {
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
}
