//! The trash: assets deleted by a user or at their source wait here for the retention
//! period, then their bytes are released to the store's GC.

use redb::ReadableTable;

use super::asset::{AssetId, State};
use super::db::{self, ASSETS, BLOB_OWNERS, CONTENT_IDS, META, ORIGINS, OriginEntry, TRASH};
use super::error::{Error, Result};
use super::ingest::{kind_counter, update_asset};
use super::{Library, unix_now};

impl Library {
    /// Moves an asset to the trash. `by_source` records that its source deleted it.
    pub fn trash_asset(&self, id: AssetId, by_source: bool) -> Result<()> {
        self.set_state(
            id,
            State::Trashed {
                at: unix_now(),
                by_source,
            },
        )
    }

    /// Brings an asset back from the trash.
    pub fn restore_asset(&self, id: AssetId) -> Result<()> {
        self.set_state(id, State::Active)
    }

    fn set_state(&self, id: AssetId, state: State) -> Result<()> {
        let txn = self.db.begin_write()?;
        let was = db::get_asset(&txn.open_table(ASSETS)?, id)?
            .ok_or(Error::NoSuchAsset(id))?
            .state;
        let delta = match (was, state) {
            (State::Active, State::Trashed { .. }) => 1,
            (State::Trashed { .. }, State::Active) => -1,
            _ => 0,
        };
        update_asset(&txn, id, |a| a.state = state)?;
        db::meta_add(&mut txn.open_table(META)?, "trashed", delta)?;
        txn.commit()?;
        Ok(())
    }

    /// Deletes trashed assets that have been in the trash longer than `retention_days` (the
    /// setting; `None` keeps them until emptied), or all of them with `everything`. Their
    /// bytes become collectable by the store's GC. Returns how many.
    pub fn purge_trash(&self, retention_days: Option<u32>, everything: bool) -> Result<u64> {
        let Some(days) = retention_days.or(everything.then_some(0)) else {
            return Ok(0);
        };
        let cutoff = if everything {
            i64::MAX
        } else {
            unix_now() - i64::from(days) * 86_400
        };
        let txn = self.db.begin_write()?;
        let due: Vec<AssetId> = txn
            .open_table(TRASH)?
            .iter()?
            .filter_map(|r| r.ok().map(|(k, _)| db::split_order_key(k.value())))
            .take_while(|(at, _)| *at <= cutoff)
            .map(|(_, id)| id)
            .collect();
        for id in &due {
            self.delete_asset(&txn, *id)?;
        }
        txn.commit()?;
        Ok(due.len() as u64)
    }

    fn delete_asset(&self, txn: &redb::WriteTransaction, id: AssetId) -> Result<()> {
        let asset = db::get_asset(&txn.open_table(ASSETS)?, id)?.ok_or(Error::NoSuchAsset(id))?;
        for blob in asset.blobs() {
            txn.open_table(BLOB_OWNERS)?.remove(&blob.0)?;
            self.store.release(txn, blob)?;
        }
        for origin in &asset.origins {
            let key = origin.key();
            let owner = txn
                .open_table(ORIGINS)?
                .get(key.as_str())?
                .map(|v| db::decode::<OriginEntry>(v.value()))
                .transpose()?;
            if owner.is_some_and(|o| o.asset == id) {
                txn.open_table(ORIGINS)?.remove(key.as_str())?;
            }
        }
        if let Some(cid) = &asset.content_id {
            let mut cids = txn.open_table(CONTENT_IDS)?;
            if cids.get(cid.as_str())?.is_some_and(|v| v.value() == id.0) {
                cids.remove(cid.as_str())?;
            }
        }
        Self::forget_in_albums(txn, id)?;
        let mut gone = asset.clone();
        gone.state = State::Active;
        gone.hidden = true; // no timeline or trash key: removes both
        db::put_asset(txn, Some(&asset), &gone)?;
        txn.open_table(ASSETS)?.remove(id.0)?;
        let mut meta = txn.open_table(META)?;
        db::meta_add(&mut meta, "assets", -1)?;
        db::meta_add(&mut meta, kind_counter(asset.kind), -1)?;
        db::meta_add(&mut meta, "trashed", -1)?;
        db::meta_add(
            &mut meta,
            "bytes",
            -i64::try_from(asset.size()).unwrap_or(i64::MAX),
        )?;
        Ok(())
    }

    /// Marks or unmarks a favorite.
    pub fn set_favorite(&self, id: AssetId, favorite: bool) -> Result<()> {
        let txn = self.db.begin_write()?;
        update_asset(&txn, id, |a| a.favorite = favorite)?;
        txn.commit()?;
        Ok(())
    }
}
