//! Adding a file to an asset a source already named: an iCloud edit, the Live Photo clip or
//! the RAW alternative of a record. The source knows which asset it belongs to, so no
//! content identifier or file-name guess is needed.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use redb::{ReadableDatabase, ReadableTable};

use super::Library;
use super::asset::{AssetId, AssetKind, Part};
use super::db::{self, BLOB_OWNERS, META, ORIGINS, OriginEntry};
use super::error::{Error, Result};
use super::ingest::{Batch, Incoming, Ingested, kind_counter, update_asset};
use crate::media;

/// The role a file plays in an asset it is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An edited rendering (replaces an older one).
    Edited,
    /// A Live Photo's motion clip.
    LiveVideo,
    /// A RAW alternative of a RAW+JPEG pair.
    Raw,
}

impl Library {
    /// The shared database, for modules that keep their own tables beside the library's
    /// (the iCloud sessions).
    pub fn database(&self) -> Arc<redb::Database> {
        Arc::clone(&self.db)
    }

    /// Hides an asset from the timeline, or shows it again (iCloud's Hidden album).
    pub fn set_hidden(&self, id: AssetId, hidden: bool) -> Result<()> {
        let txn = self.db.begin_write()?;
        update_asset(&txn, id, |a| a.hidden = hidden)?;
        txn.commit()?;
        Ok(())
    }

    /// The asset an origin delivered, if any.
    pub fn asset_of(&self, origin: &super::Origin) -> Result<Option<AssetId>> {
        let txn = self.db.begin_read()?;
        let origins = txn.open_table(ORIGINS)?;
        let Some(v) = origins.get(origin.key().as_str())? else {
            return Ok(None);
        };
        Ok(Some(db::decode::<OriginEntry>(v.value())?.asset))
    }
}

impl Batch<'_> {
    /// Stores `item` and makes it the `role` part of `owner`. The origin is recorded, so the
    /// same origin with the same bytes is [`Ingested::Unchanged`] next time.
    pub fn attach(&mut self, owner: AssetId, role: Role, item: &Incoming<'_>) -> Result<Ingested> {
        let txn = self.txn()?;
        let facts = media::read_facts(item.file);
        let format = facts.format.unwrap_or(media::Format::Unknown);
        let file = File::open(item.file).map_err(Error::io(item.file))?;
        let cuts: Vec<u64> = facts.data_offset.into_iter().collect();
        let put = self.lib.store.put(
            txn,
            BufReader::with_capacity(1 << 20, file),
            &cuts,
            !format.is_compressed(),
        )?;
        let before =
            db::get_asset(&txn.open_table(db::ASSETS)?, owner)?.ok_or(Error::NoSuchAsset(owner))?;
        let part = Part {
            blob: put.blob,
            size: put.size,
            name: item.name.clone(),
        };
        let mut after = before.clone();
        match role {
            Role::Edited => after.edited = Some(part),
            Role::Raw => after.raw = Some(part),
            Role::LiveVideo => {
                after.live_video = Some(part);
                if after.kind == AssetKind::Photo {
                    after.kind = AssetKind::LivePhoto;
                }
                after.duration_ms = facts.duration_ms.or(after.duration_ms);
            }
        }
        let (old, new) = (before.blobs(), after.blobs());
        if new == old && before == after {
            self.files += 1;
            return Ok(Ingested::Unchanged(owner));
        }
        if !old.contains(&put.blob) {
            self.lib.store.retain(txn, put.blob)?;
            let mut owners = txn.open_table(BLOB_OWNERS)?;
            if owners.get(&put.blob.0)?.is_none() {
                owners.insert(&put.blob.0, owner.0)?;
            }
        }
        for gone in old.iter().filter(|b| !new.contains(b)) {
            let mut owners = txn.open_table(BLOB_OWNERS)?;
            if owners.get(&gone.0)?.is_some_and(|v| v.value() == owner.0) {
                owners.remove(&gone.0)?;
            }
            drop(owners);
            self.lib.store.release(txn, *gone)?;
        }
        let mut meta = txn.open_table(META)?;
        let delta = i64::try_from(after.size()).unwrap_or(i64::MAX)
            - i64::try_from(before.size()).unwrap_or(i64::MAX);
        db::meta_add(&mut meta, "bytes", delta)?;
        if before.kind != after.kind {
            db::meta_add(&mut meta, kind_counter(before.kind), -1)?;
            db::meta_add(&mut meta, kind_counter(after.kind), 1)?;
        }
        drop(meta);
        update_asset(txn, owner, |a| *a = after)?;
        let entry = OriginEntry {
            asset: owner,
            blob: put.blob,
            stamp: item.stamp,
        };
        txn.open_table(ORIGINS)?
            .insert(item.origin.key().as_str(), db::encode(&entry)?.as_slice())?;
        self.files += 1;
        self.bytes += put.size;
        Ok(Ingested::Paired(owner))
    }
}
