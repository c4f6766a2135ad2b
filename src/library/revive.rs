//! Bringing one asset or album back from a backup's catalog rows into a running library.
//! The backup module fetches the bytes; this module decodes the rows, decides ids and keeps
//! every table and counter in step, inside one [`Batch`] (nothing is visible before its
//! commit, and the commit fsyncs the packs first).
//!
//! Decisions: an asset the library still holds (same original bytes) is left alone, or taken
//! out of the trash when it is there, since a person asked for it back. A missing asset keeps
//! its old id when that id is free, otherwise gets a new one. An album comes back as an album
//! of this box (no source keeps it in step), merged into the album of the same id and name
//! when that still exists.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::Library;
use super::albums::{ALBUM_ITEMS, ALBUMS, Album, item_key};
use super::asset::{Asset, AssetId, State};
use super::db::{self, ASSETS, BLOB_OWNERS, CONTENT_IDS, META, ORIGINS, OriginEntry};
use super::dump::CatalogRow;
use super::error::{Error, Result};
use super::ingest::{Batch, kind_counter, update_asset};
use crate::store::BlobId;

/// Catalog table numbers (see [`CatalogRow`]).
const ASSETS_TABLE: u8 = 0;
const ORIGINS_TABLE: u8 = 2;
const ALBUMS_TABLE: u8 = 7;
const ALBUM_ITEMS_TABLE: u8 = 8;

/// What the library holds of an asset seen in a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Not here (never was, or deleted for good).
    Missing,
    /// Here and visible, under this id.
    Active(AssetId),
    /// Here, in the trash.
    Trashed(AssetId),
}

impl CatalogRow {
    /// The asset, when this is a row of the assets table.
    pub fn asset(&self) -> Option<Result<Asset>> {
        (self.table == ASSETS_TABLE).then(|| db::decode(&self.value))
    }

    /// The asset id, when this is a row of the assets table (without decoding the value).
    pub fn asset_id(&self) -> Option<AssetId> {
        (self.table == ASSETS_TABLE)
            .then(|| self.key.as_slice().try_into().ok())
            .flatten()
            .map(|k| AssetId(u64::from_le_bytes(k)))
    }

    /// The album, when this is a row of the albums table.
    pub fn album(&self) -> Option<Result<Album>> {
        (self.table == ALBUMS_TABLE).then(|| db::decode(&self.value))
    }

    /// (album id, asset id), when this is a row of the album items table.
    pub fn album_item(&self) -> Option<(u64, AssetId)> {
        if self.table != ALBUM_ITEMS_TABLE {
            return None;
        }
        let key: [u8; 16] = self.key.as_slice().try_into().ok()?;
        let (album, asset) = key.split_at(8);
        Some((
            u64::from_be_bytes(album.try_into().ok()?),
            AssetId(u64::from_be_bytes(asset.try_into().ok()?)),
        ))
    }

    /// The asset an origin row points at, when this is a row of the origins table.
    pub fn origin_asset(&self) -> Option<AssetId> {
        (self.table == ORIGINS_TABLE)
            .then(|| db::decode::<OriginEntry>(&self.value).ok())
            .flatten()
            .map(|o| o.asset)
    }

    /// True once a catalog stream, which holds its tables in order, is past `table`.
    pub fn is_past(&self, table: u8) -> bool {
        self.table > table
    }

    /// The table number of the origins, the last table an asset restore needs.
    pub const ORIGINS: u8 = ORIGINS_TABLE;
}

impl Library {
    /// What the library holds of each asset, matched by its original's bytes (ids may differ).
    pub fn presence(&self, assets: &[&Asset]) -> Result<Vec<Presence>> {
        let txn = self.db.begin_read()?;
        let owners = txn.open_table(BLOB_OWNERS)?;
        let table = txn.open_table(ASSETS)?;
        let mut out = Vec::with_capacity(assets.len());
        for a in assets {
            let owner = owners.get(&a.original.blob.0)?.map(|v| AssetId(v.value()));
            let here = match owner {
                Some(id) => db::get_asset(&table, id)?,
                None => None,
            };
            out.push(match here {
                None => Presence::Missing,
                Some(h) if matches!(h.state, State::Trashed { .. }) => Presence::Trashed(h.id),
                Some(h) => Presence::Active(h.id),
            });
        }
        Ok(out)
    }

    /// For each backed-up album, the library's album that is it (same name and creation
    /// time), if any.
    pub fn albums_like(&self, albums: &[&Album]) -> Result<Vec<Option<u64>>> {
        let here = self.albums()?;
        Ok(albums
            .iter()
            .map(|b| {
                here.iter()
                    .find(|(a, _)| a.name == b.name && a.created == b.created)
                    .map(|(a, _)| a.id)
            })
            .collect())
    }
}

impl Batch<'_> {
    /// The library's copy of `asset` (matched by its original's bytes), taken out of the
    /// trash if it is there; `None` when the library lacks it.
    pub fn revive_existing(&mut self, asset: &Asset) -> Result<Option<AssetId>> {
        let txn = self.txn()?;
        let Some(owner) = txn
            .open_table(BLOB_OWNERS)?
            .get(&asset.original.blob.0)?
            .map(|v| AssetId(v.value()))
        else {
            return Ok(None);
        };
        let Some(here) = db::get_asset(&txn.open_table(ASSETS)?, owner)? else {
            return Ok(None);
        };
        if matches!(here.state, State::Trashed { .. }) {
            update_asset(txn, owner, |a| a.state = State::Active)?;
            db::meta_add(&mut txn.open_table(META)?, "trashed", -1)?;
        }
        Ok(Some(owner))
    }

    /// Stores one file's bytes from `source`; refuses bytes that do not hash to `blob` (the
    /// batch must then be dropped, which abandons everything in it).
    pub fn revive_file(&mut self, blob: BlobId, source: impl std::io::Read) -> Result<u64> {
        let txn = self.txn()?;
        let put = self.lib.store.put(txn, source, &[], true)?;
        if put.blob != blob {
            return Err(Error::BadValue {
                table: "restored file",
                what: format!(
                    "the bytes restored for file {} hash to another id",
                    blob.to_hex().get(..12).unwrap_or_default()
                ),
            });
        }
        self.files += 1;
        self.bytes += put.size;
        Ok(put.size)
    }

    /// Records `asset`, whose files were all stored in this batch (or are still in the
    /// store), as an active asset; `origins` are its rows of the origins table. Returns its id.
    pub fn revive_asset(&mut self, asset: Asset, origins: &[CatalogRow]) -> Result<AssetId> {
        let txn = self.txn()?;
        let mut a = asset;
        let old = a.id;
        a.id = claim_id(txn, "next_asset", a.id.0, |id| {
            Ok(txn.open_table(ASSETS)?.get(id)?.is_none())
        })
        .map(AssetId)?;
        a.state = State::Active;
        for blob in a.blobs() {
            let mut owners = txn.open_table(BLOB_OWNERS)?;
            if owners.get(&blob.0)?.is_none() {
                owners.insert(&blob.0, a.id.0)?;
            }
            self.lib.store.retain(txn, blob)?;
        }
        let mut table = txn.open_table(ORIGINS)?;
        for row in origins.iter().filter(|r| r.origin_asset() == Some(old)) {
            let key = std::str::from_utf8(&row.key).map_err(|_| Error::BadValue {
                table: "library.origins",
                what: "an origin key is not UTF-8".into(),
            })?;
            if table.get(key)?.is_none() {
                let mut entry: OriginEntry = db::decode(&row.value)?;
                entry.asset = a.id;
                table.insert(key, db::encode(&entry)?.as_slice())?;
            }
        }
        drop(table);
        if let Some(cid) = &a.content_id {
            let mut cids = txn.open_table(CONTENT_IDS)?;
            if cids.get(cid.as_str())?.is_none() {
                cids.insert(cid.as_str(), a.id.0)?;
            }
        }
        let mut meta = txn.open_table(META)?;
        db::meta_add(&mut meta, "assets", 1)?;
        db::meta_add(&mut meta, kind_counter(a.kind), 1)?;
        db::meta_add(
            &mut meta,
            "bytes",
            i64::try_from(a.size()).unwrap_or(i64::MAX),
        )?;
        drop(meta);
        db::put_asset(txn, None, &a)?;
        Ok(a.id)
    }

    /// Puts `album` back holding `members` (library ids; those the library lacks are left
    /// out): into the album of the same id and name when it still exists, else as a new
    /// album of this box keeping its id when free. Returns the album's id.
    pub fn revive_album(&mut self, album: &Album, members: &[AssetId]) -> Result<u64> {
        let txn = self.txn()?;
        let same = txn
            .open_table(ALBUMS)?
            .get(album.id)?
            .map(|v| db::decode::<Album>(v.value()))
            .transpose()?
            .is_some_and(|a| a.name == album.name);
        let id = if same {
            album.id
        } else {
            let id = claim_id(txn, "next_album", album.id, |id| {
                Ok(txn.open_table(ALBUMS)?.get(id)?.is_none())
            })?;
            let back = Album {
                id,
                mirror: None,
                ..album.clone()
            };
            txn.open_table(ALBUMS)?
                .insert(id, db::encode(&back)?.as_slice())?;
            id
        };
        let assets = txn.open_table(ASSETS)?;
        let mut items = txn.open_table(ALBUM_ITEMS)?;
        for m in members {
            if assets.get(m.0)?.is_some() {
                items.insert(&item_key(id, *m), ())?;
            }
        }
        Ok(id)
    }
}

/// `wanted` when it is free (and not 0), else the next id of the `counter`; the counter
/// always ends at or above the id returned, so later ids never collide with it.
fn claim_id(
    txn: &WriteTransaction,
    counter: &str,
    wanted: u64,
    free: impl Fn(u64) -> Result<bool>,
) -> Result<u64> {
    let next = db::meta_get(&txn.open_table(META)?, counter)?;
    let id = if wanted != 0 && free(wanted)? {
        wanted
    } else {
        next.saturating_add(1)
    };
    if id > next {
        txn.open_table(META)?.insert(counter, id)?;
    }
    Ok(id)
}
