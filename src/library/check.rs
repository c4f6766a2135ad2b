//! Library-level check: the store's check plus the catalog's own invariants, with damage
//! named by the assets it affects.

use std::collections::HashMap;

use redb::{ReadableDatabase, ReadableTable};

use super::Library;
use super::asset::{AssetId, State};
use super::db::{self, ASSETS, BLOB_OWNERS, META, TIMELINE};
use super::error::Result;
use super::ingest::kind_counter;
use crate::store::{BlobId, CheckReport};

/// What `shoebox check` found.
#[derive(Debug, Default)]
pub struct LibraryCheck {
    /// The store's findings.
    pub store: CheckReport,
    /// Catalog inconsistencies.
    pub problems: Vec<String>,
    /// Assets whose bytes are damaged: (asset, file name, what).
    pub damaged_assets: Vec<(AssetId, String, String)>,
    /// Assets examined.
    pub assets: u64,
}

impl LibraryCheck {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.store.is_clean() && self.problems.is_empty() && self.damaged_assets.is_empty()
    }
}

impl Library {
    /// Checks the store (re-reading every byte with `read_data`) and the catalog.
    pub fn check(&self, read_data: bool) -> Result<LibraryCheck> {
        let store = self.store.check(read_data)?;
        let txn = self.db.begin_read()?;
        let owners = txn.open_table(BLOB_OWNERS)?;
        let mut report = LibraryCheck::default();
        let mut kinds: HashMap<&'static str, u64> = HashMap::new();
        let (mut active_visible, mut trashed) = (0u64, 0u64);
        let mut names: HashMap<BlobId, (AssetId, String)> = HashMap::new();
        let mut tallies = super::tally::Counted::default();
        for row in txn.open_table(ASSETS)?.iter()? {
            let (_, v) = row?;
            let asset: super::Asset = db::decode(v.value())?;
            report.assets += 1;
            *kinds.entry(kind_counter(asset.kind)).or_default() += 1;
            match asset.state {
                State::Active if !asset.hidden => {
                    active_visible += 1;
                    tallies.add(&asset);
                }
                State::Active => {}
                State::Trashed { .. } => trashed += 1,
            }
            for blob in asset.blobs() {
                names.insert(blob, (asset.id, asset.original.name.clone()));
                match self.store.blob_refs(&txn, blob)? {
                    None => report.problems.push(format!(
                        "asset {} ({}): blob {blob} is not in the store",
                        asset.id, asset.original.name
                    )),
                    Some(1) => {}
                    Some(n) => report.problems.push(format!(
                        "blob {blob} of asset {} holds {n} references, expected 1",
                        asset.id
                    )),
                }
                if owners.get(&blob.0)?.map(|v| v.value()) != Some(asset.id.0) {
                    report.problems.push(format!(
                        "blob {blob} is not recorded as owned by asset {}",
                        asset.id
                    ));
                }
            }
        }
        let timeline = redb::ReadableTableMetadata::len(&txn.open_table(TIMELINE)?)?;
        if timeline != active_visible {
            report.problems.push(format!(
                "timeline has {timeline} entries for {active_visible} visible assets"
            ));
        }
        let recorded = super::tally::recorded(&txn)?;
        if recorded.months != tallies.months {
            report.problems.push(format!(
                "month counts disagree with the timeline ({} months recorded, {} counted)",
                recorded.months.len(),
                tallies.months.len()
            ));
        }
        if recorded.folders != tallies.folders {
            report.problems.push(format!(
                "folder counts disagree with the timeline ({} folders recorded, {} counted)",
                recorded.folders.len(),
                tallies.folders.len()
            ));
        }
        if recorded.cameras != tallies.cameras {
            report.problems.push(format!(
                "camera counts disagree with the timeline ({} cameras recorded, {} counted)",
                recorded.cameras.len(),
                tallies.cameras.len()
            ));
        }
        let meta = txn.open_table(META)?;
        for (key, counted) in [("assets", report.assets), ("trashed", trashed)]
            .into_iter()
            .chain(kinds.iter().map(|(k, v)| (*k, *v)))
        {
            let recorded = db::meta_get(&meta, key)?;
            if recorded != counted {
                report
                    .problems
                    .push(format!("counter {key} says {recorded}, counted {counted}"));
            }
        }
        for damage in &store.damage {
            for blob in damage.blobs() {
                if let Some((id, name)) = names.get(blob) {
                    report
                        .damaged_assets
                        .push((*id, name.clone(), damage.to_string()));
                }
            }
        }
        report.store = store;
        Ok(report)
    }

    /// `repair --rebuild-index`: rebuilds the store tables from the packs, then re-takes a
    /// reference for every blob the catalog uses.
    pub fn rebuild_store_index(&self) -> Result<crate::store::RebuildReport> {
        let txn = self.db.begin_write()?;
        let report = self.store.rebuild_index(&txn)?;
        let mut blobs = Vec::new();
        for row in txn.open_table(ASSETS)?.iter()? {
            let (_, v) = row?;
            blobs.extend(db::decode::<super::Asset>(v.value())?.blobs());
        }
        for blob in blobs {
            if let Err(e) = self.store.retain(&txn, blob) {
                tracing::warn!("blob {blob} is referenced by the catalog but not in any pack: {e}");
            }
        }
        txn.commit()?;
        Ok(report)
    }
}
