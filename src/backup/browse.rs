//! Looking inside one snapshot without restoring it: the albums it holds (name, photo count)
//! and a page of its photos, and one original read straight back from the remote.
//!
//! The catalog stream is read as it streams by and only the page asked for is kept, so a
//! 100 000-photo catalog costs one pass over the stream, not memory (albums are few and kept
//! whole). Each call reads the stream afresh: a snapshot never changes and browsing is rare,
//! so a local spool would cost disk and invalidation for little. Pages follow the catalog's
//! own order, by asset id (order of arrival), which is the order the stream holds.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{Error, Result};
use super::fetch::{self, Chunks, Fetcher, Walk};
use super::format::StreamRecord;
use super::index::RemoteIndex;
use super::repo::Repo;
use super::snapshot::Snapshot;
use crate::library::{Album, Asset, AssetId, CatalogRow, Part};

/// What a snapshot holds, one page of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    /// Every album with the number of photos in it, by name.
    pub albums: Vec<(Album, u64)>,
    /// The page of photos asked for, by id.
    pub photos: Vec<Asset>,
    /// Photos in the snapshot.
    pub total: u64,
    /// The id to pass as `after` for the next page, if there is one.
    pub next: Option<AssetId>,
}

/// Lists the albums of `snap` and up to `limit` of its photos with ids above `after`.
pub fn contents(
    repo: &Repo,
    snap: &Snapshot,
    after: Option<AssetId>,
    limit: usize,
) -> Result<Contents> {
    let index = RemoteIndex::load(repo)?;
    let mut out = Contents {
        albums: Vec::new(),
        photos: Vec::new(),
        total: 0,
        next: None,
    };
    let mut albums: BTreeMap<u64, (Album, u64)> = BTreeMap::new();
    fetch::walk(repo, &index, snap, |record| {
        let StreamRecord::Row { table, key, value } = record else {
            return Ok(Walk::On);
        };
        let row = CatalogRow { table, key, value };
        if let Some(id) = row.asset_id() {
            out.total += 1;
            if after.is_some_and(|a| id <= a) {
                return Ok(Walk::On);
            }
            if out.photos.len() < limit {
                out.photos.push(decoded(row.asset(), snap)?);
            } else if out.next.is_none() {
                out.next = out.photos.last().map(|a| a.id);
            }
        } else if let Some(album) = row.album() {
            let album = decoded(Some(album), snap)?;
            albums.insert(album.id, (album, 0));
        } else if let Some((album, _)) = row.album_item()
            && let Some((_, n)) = albums.get_mut(&album)
        {
            *n += 1;
        }
        Ok(Walk::On)
    })?;
    out.albums = albums.into_values().collect();
    out.albums.sort_by_key(|(a, _)| a.name.to_lowercase());
    Ok(out)
}

/// A row value that must decode; a bad one is damage in the snapshot.
pub(super) fn decoded<T>(value: Option<crate::library::Result<T>>, snap: &Snapshot) -> Result<T> {
    let object = format!("snapshots/{}", snap.name);
    match value {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(Error::corrupt(object, format!("catalog row: {e}"))),
        None => Err(Error::corrupt(object, "catalog row of the wrong table")),
    }
}

/// The assets `ids` of `snap` (those it holds) and the origin rows pointing at them. Stops
/// reading once past the origins table.
pub(super) fn find_assets(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    ids: &BTreeSet<AssetId>,
) -> Result<(Vec<Asset>, Vec<CatalogRow>)> {
    let (mut assets, mut origins) = (Vec::new(), Vec::new());
    fetch::walk(repo, index, snap, |record| {
        let StreamRecord::Row { table, key, value } = record else {
            return Ok(Walk::On);
        };
        let row = CatalogRow { table, key, value };
        if row.is_past(CatalogRow::ORIGINS) {
            return Ok(Walk::Stop);
        }
        if row.asset_id().is_some_and(|id| ids.contains(&id)) {
            assets.push(decoded(row.asset(), snap)?);
        } else if row.origin_asset().is_some_and(|id| ids.contains(&id)) {
            origins.push(row);
        }
        Ok(Walk::On)
    })?;
    Ok((assets, origins))
}

/// The chunk lists of the files `blobs` of `snap`; an error when the snapshot lacks one.
pub(super) fn chunk_lists(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    blobs: &BTreeSet<[u8; 32]>,
) -> Result<BTreeMap<[u8; 32], Vec<[u8; 32]>>> {
    let mut out = BTreeMap::new();
    fetch::walk(repo, index, snap, |record| match record {
        StreamRecord::File { blob, chunks, .. } => {
            if blobs.contains(&blob) {
                out.insert(blob, chunks);
            }
            Ok(if out.len() == blobs.len() {
                Walk::Stop
            } else {
                Walk::On
            })
        }
        StreamRecord::Row { .. } => Ok(Walk::Stop),
    })?;
    if out.len() < blobs.len() {
        return Err(Error::corrupt(
            format!("snapshots/{}", snap.name),
            "a photo names a file the snapshot does not hold",
        ));
    }
    Ok(out)
}

/// Reads the original of photo `id` of `snap` from the remote: `start` gets its part first
/// (and may refuse, returning false), then `sink` its bytes in order until it returns false
/// (the reader went away). Every chunk is checked against its id before it is handed out,
/// and the whole against the file's id at the end (an error then means the bytes sent were
/// wrong, so the caller must cut the transfer).
pub fn read_original(
    repo: &Repo,
    snap: &Snapshot,
    id: AssetId,
    start: impl FnOnce(&Part) -> bool,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<()> {
    use std::io::Read;
    let index = RemoteIndex::load(repo)?;
    let (assets, _) = find_assets(repo, &index, snap, &BTreeSet::from([id]))?;
    let asset = assets
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotInSnapshot(format!("photo {id}")))?;
    let part = asset.original;
    let wanted = BTreeSet::from([part.blob.0]);
    let chunks = chunk_lists(repo, &index, snap, &wanted)?
        .remove(&part.blob.0)
        .unwrap_or_default();
    if !start(&part) {
        return Ok(());
    }
    let fetcher = Fetcher::new(repo, &index);
    let mut source = Chunks::new(&fetcher, chunks);
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(source
                    .failure
                    .take()
                    .unwrap_or_else(|| Error::corrupt(format!("snapshots/{}", snap.name), e)));
            }
        };
        let bytes = buf.get(..n).unwrap_or_default();
        hasher.update(bytes);
        if !sink(bytes) {
            return Ok(());
        }
    }
    if *hasher.finalize().as_bytes() != part.blob.0 {
        return Err(Error::corrupt(
            format!("snapshots/{}", snap.name),
            "a file's chunks do not hash to its id",
        ));
    }
    Ok(())
}
