//! Restoring one photo or one album of a snapshot into the running library (where
//! `restore::into_library` needs an empty one). What the library still holds is left alone,
//! or taken out of the trash; what it lacks comes back byte-identical through the store,
//! each file checked against its id, with its catalog rows (see `library::revive` for the
//! decisions about ids and albums).
//!
//! The catalog stream is walked up to three times, keeping only what is wanted: the album's
//! row and members, then those assets' rows, then their files' chunk lists (small: 32 bytes
//! a chunk). Files are then fetched one at a time and committed in batches, each batch
//! holding whole assets only, so a crash or a cancel leaves complete photos and a second
//! run brings the rest.

use std::collections::{BTreeMap, BTreeSet};

use super::browse::{chunk_lists, decoded, find_assets};
use super::error::{Error, Result};
use super::fetch::{self, Chunks, Fetcher, Walk};
use super::format::StreamRecord;
use super::index::RemoteIndex;
use super::repo::Repo;
use super::snapshot::Snapshot;
use crate::jobs::Progress;
use crate::library::{Album, Asset, AssetId, CatalogRow, Library};
use crate::store::BlobId;

/// A batch commits after this many files or bytes (a crash redoes at most this much).
const BATCH_FILES: u64 = 64;
const BATCH_BYTES: u64 = 256 * 1024 * 1024;

/// What a restore of one photo or album did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Brought {
    /// Photos brought back from the remote.
    pub restored: u64,
    /// Photos the library still had (taken out of the trash when they were there).
    pub present: u64,
    /// Files fetched.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Restores photo `id` of `snap` into `library`; returns its id there.
pub fn asset(
    repo: &Repo,
    snap: &Snapshot,
    library: &Library,
    id: AssetId,
    progress: &Progress,
) -> Result<(AssetId, Brought)> {
    let index = RemoteIndex::load(repo)?;
    let (assets, origins) = find_assets(repo, &index, snap, &BTreeSet::from([id]))?;
    if assets.is_empty() {
        return Err(Error::NotInSnapshot(format!("photo {id}")));
    }
    let (map, brought) = bring(repo, &index, snap, library, assets, &origins, progress)?;
    let here = map
        .get(&id)
        .copied()
        .ok_or_else(|| Error::NotInSnapshot(format!("photo {id}")))?;
    Ok((here, brought))
}

/// Restores `album` of `snap` (found with [`find_album`]) with its `members` into `library`;
/// returns its id there.
pub fn album(
    repo: &Repo,
    snap: &Snapshot,
    library: &Library,
    (album, members): (Album, Vec<AssetId>),
    progress: &Progress,
) -> Result<(u64, Brought)> {
    let index = RemoteIndex::load(repo)?;
    progress.set_current("reading the snapshot's catalog");
    let wanted: BTreeSet<AssetId> = members.iter().copied().collect();
    let (assets, origins) = find_assets(repo, &index, snap, &wanted)?;
    progress.set_current(format!("restoring album {}", album.name));
    let (map, brought) = bring(repo, &index, snap, library, assets, &origins, progress)?;
    if progress.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let here: Vec<AssetId> = members.iter().filter_map(|m| map.get(m).copied()).collect();
    let mut batch = library.begin()?;
    let album_id = batch.revive_album(&album, &here)?;
    batch.commit()?;
    Ok((album_id, brought))
}

/// Album `id` of `snap` and its members (snapshot ids).
pub fn find_album(repo: &Repo, snap: &Snapshot, id: u64) -> Result<(Album, Vec<AssetId>)> {
    let index = RemoteIndex::load(repo)?;
    let mut album = None;
    let mut members = Vec::new();
    fetch::walk(repo, &index, snap, |record| {
        let StreamRecord::Row { table, key, value } = record else {
            return Ok(Walk::On);
        };
        let row = CatalogRow { table, key, value };
        if let Some(found) = row.album() {
            let found = decoded(Some(found), snap)?;
            if found.id == id {
                album = Some(found);
            }
        } else if let Some((a, asset)) = row.album_item()
            && a == id
        {
            members.push(asset);
        }
        Ok(Walk::On)
    })?;
    let album = album.ok_or_else(|| Error::NotInSnapshot(format!("album {id}")))?;
    Ok((album, members))
}

/// Brings `assets` into `library`; returns snapshot id → library id for each.
fn bring(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    library: &Library,
    assets: Vec<Asset>,
    origins: &[CatalogRow],
    progress: &Progress,
) -> Result<(BTreeMap<AssetId, AssetId>, Brought)> {
    let mut map = BTreeMap::new();
    let mut brought = Brought::default();
    let mut missing = Vec::new();
    let mut batch = library.begin()?;
    for a in assets {
        match batch.revive_existing(&a)? {
            Some(here) => {
                map.insert(a.id, here);
                brought.present += 1;
            }
            None => missing.push(a),
        }
    }
    batch.commit()?;
    let blobs: BTreeSet<[u8; 32]> = missing.iter().flat_map(Asset::blobs).map(|b| b.0).collect();
    let lists = if blobs.is_empty() {
        BTreeMap::new()
    } else {
        chunk_lists(repo, index, snap, &blobs)?
    };
    progress.add_total(missing.len() as u64, missing.iter().map(Asset::size).sum());
    let fetcher = Fetcher::new(repo, index);
    let mut batch = library.begin()?;
    for a in missing {
        if progress.is_cancelled() {
            break;
        }
        let (old, size) = (a.id, a.size());
        progress.set_current(a.original.name.clone());
        for blob in a.blobs() {
            let chunks = lists.get(&blob.0).cloned().unwrap_or_default();
            brought.bytes += fetch_file(&fetcher, &mut batch, blob, chunks)?;
            brought.files += 1;
        }
        map.insert(old, batch.revive_asset(a, origins)?);
        brought.restored += 1;
        progress.advance(1, size);
        if batch.files >= BATCH_FILES || batch.bytes >= BATCH_BYTES {
            batch.commit()?;
            batch = library.begin()?;
        }
    }
    batch.commit()?;
    Ok((map, brought))
}

/// Fetches one file into the batch, keeping a failed fetch's own error.
fn fetch_file(
    fetcher: &Fetcher<'_>,
    batch: &mut crate::library::Batch<'_>,
    blob: BlobId,
    chunks: Vec<[u8; 32]>,
) -> Result<u64> {
    let mut source = Chunks::new(fetcher, chunks);
    batch
        .revive_file(blob, &mut source)
        .map_err(|e| source.failure.take().unwrap_or(Error::Library(e)))
}
