//! A source renamed or moved a file it had delivered (a WebDAV `MOVE`): the asset keeps its
//! bytes and now answers to the new origin, and a file name that came from the old path
//! follows it, so the timeline, the source albums and `export` show the name the person
//! chose rather than an upload's temporary one.

use redb::WriteTransaction;

use super::Library;
use super::asset::{AssetId, Origin, Part};
use super::db::{self, ORIGINS, OriginEntry};
use super::error::Result;
use super::ingest::update_asset;

impl Library {
    /// Points `from` at `to` inside `txn` (the caller's transaction, so the source's own
    /// record of the move commits with it). Returns the asset, or `None` when `from` never
    /// delivered anything. An origin already at `to` is replaced.
    pub fn move_origin(
        &self,
        txn: &WriteTransaction,
        from: &Origin,
        to: &Origin,
    ) -> Result<Option<AssetId>> {
        let mut origins = txn.open_table(ORIGINS)?;
        let Some(entry) = origins
            .remove(from.key().as_str())?
            .map(|v| db::decode::<OriginEntry>(v.value()))
            .transpose()?
        else {
            return Ok(None);
        };
        origins.insert(to.key().as_str(), db::encode(&entry)?.as_slice())?;
        drop(origins);
        let (old_name, new_name) = (from.file_name(), to.file_name());
        update_asset(txn, entry.asset, |a| {
            a.origins.retain(|o| o != from && o != to);
            a.origins.push(to.clone());
            if let (Some(old), Some(new)) = (old_name, new_name) {
                let parts = std::iter::once(&mut a.original)
                    .chain(a.live_video.as_mut())
                    .chain(a.edited.as_mut())
                    .chain(a.raw.as_mut())
                    .chain(a.sidecars.iter_mut());
                for part in parts.filter(|p: &&mut Part| p.blob == entry.blob && p.name == old) {
                    new.clone_into(&mut part.name);
                }
            }
        })?;
        Ok(Some(entry.asset))
    }
}
