//! Read-only questions: timeline pages, counts and sizes, single assets.

use redb::{ReadableDatabase, ReadableTable};

use super::Library;
use super::asset::{Asset, AssetId};
use super::db::{self, ASSETS, META, TIMELINE, TRASH};
use super::error::Result;

/// Where a timeline page starts: the last (instant, id) of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// UTC seconds of the last asset shown.
    pub instant: i64,
    /// Its id (ties at the same instant).
    pub id: AssetId,
}

/// One page of assets, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    /// The assets.
    pub assets: Vec<Asset>,
    /// Cursor for the next (older) page, if any.
    pub next: Option<Cursor>,
}

/// Library-wide counts and sizes, maintained incrementally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Assets, trashed ones included.
    pub assets: u64,
    /// Still photos.
    pub photos: u64,
    /// Videos.
    pub videos: u64,
    /// Live Photos.
    pub live_photos: u64,
    /// Assets in the trash.
    pub trashed: u64,
    /// Bytes of the distinct files the assets hold.
    pub bytes: u64,
    /// Files handed to ingest, duplicates included.
    pub ingested_files: u64,
    /// Bytes handed to ingest, duplicates included.
    pub ingested_bytes: u64,
    /// Bytes the store keeps on disk for them (after dedup and compression).
    pub stored_bytes: u64,
}

impl Counts {
    /// Bytes that dedup and compression saved, compared with keeping every file delivered.
    pub fn savings(&self) -> u64 {
        self.ingested_bytes.saturating_sub(self.stored_bytes)
    }
}

impl Library {
    /// A page of the timeline, newest first, starting after `after`. Costs the same at any depth.
    pub fn timeline(&self, after: Option<Cursor>, limit: usize) -> Result<Page> {
        let txn = self.db.begin_read()?;
        let timeline = txn.open_table(TIMELINE)?;
        let assets = txn.open_table(ASSETS)?;
        let end = after.map_or([0xff; 16], |c| db::order_key(c.instant, c.id));
        let mut out = Vec::with_capacity(limit);
        for row in timeline.range::<&[u8; 16]>(..&end)?.rev() {
            if out.len() == limit {
                break;
            }
            let (k, _) = row?;
            let (_, id) = db::split_order_key(k.value());
            if let Some(a) = db::get_asset(&assets, id)? {
                out.push(a);
            }
        }
        let next = (out.len() == limit)
            .then(|| {
                out.last().map(|a| Cursor {
                    instant: a.taken.utc(),
                    id: a.id,
                })
            })
            .flatten();
        Ok(Page { assets: out, next })
    }

    /// The assets just newer and just older than `id` on the timeline (for next/previous).
    pub fn neighbours(&self, id: AssetId) -> Result<(Option<AssetId>, Option<AssetId>)> {
        let txn = self.db.begin_read()?;
        let Some(asset) = db::get_asset(&txn.open_table(ASSETS)?, id)? else {
            return Ok((None, None));
        };
        let key = db::order_key(asset.taken.utc(), id);
        let timeline = txn.open_table(TIMELINE)?;
        let older = timeline
            .range::<&[u8; 16]>(..&key)?
            .next_back()
            .transpose()?
            .map(|(k, _)| db::split_order_key(k.value()).1);
        let newer = timeline.range::<&[u8; 16]>(&key..)?.find_map(|r| {
            r.ok()
                .map(|(k, _)| db::split_order_key(k.value()).1)
                .filter(|n| *n != id)
        });
        Ok((newer, older))
    }

    /// Trashed assets, most recently trashed first.
    pub fn trash(&self, limit: usize) -> Result<Vec<Asset>> {
        let txn = self.db.begin_read()?;
        let trash = txn.open_table(TRASH)?;
        let assets = txn.open_table(ASSETS)?;
        let mut out = Vec::new();
        for row in trash.iter()?.rev().take(limit) {
            let (k, _) = row?;
            if let Some(a) = db::get_asset(&assets, db::split_order_key(k.value()).1)? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Streams one of an asset's files (verified chunk by chunk as it is read).
    pub fn open_file(&self, part: &super::Part) -> Result<crate::store::BlobReader> {
        Ok(self.store.reader(part.blob)?)
    }

    /// Whether some asset holds this blob (its derived images are still needed).
    pub fn holds_blob(&self, blob: crate::store::BlobId) -> Result<bool> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(db::BLOB_OWNERS)?.get(&blob.0)?.is_some())
    }

    /// One asset.
    pub fn asset(&self, id: AssetId) -> Result<Option<Asset>> {
        let txn = self.db.begin_read()?;
        db::get_asset(&txn.open_table(ASSETS)?, id)
    }

    /// Calls `visit` for every asset, in id order, with a consistent view.
    pub fn for_each_asset(&self, mut visit: impl FnMut(Asset) -> Result<()>) -> Result<()> {
        let txn = self.db.begin_read()?;
        for row in txn.open_table(ASSETS)?.iter()? {
            let (_, v) = row?;
            visit(db::decode(v.value())?)?;
        }
        Ok(())
    }

    /// Counts and sizes.
    pub fn counts(&self) -> Result<Counts> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let get = |k: &str| db::meta_get(&meta, k);
        Ok(Counts {
            assets: get("assets")?,
            photos: get("photos")?,
            videos: get("videos")?,
            live_photos: get("live_photos")?,
            trashed: get("trashed")?,
            bytes: get("bytes")?,
            ingested_files: get("ingested_files")?,
            ingested_bytes: get("ingested_bytes")?,
            stored_bytes: self.store.stats()?.stored_bytes,
        })
    }
}
