//! Store counters kept in `store.meta`, updated by every write so stats never scan.

use redb::{ReadTransaction, ReadableTable, Table};

use super::error::Result;
use super::index::META;

/// Size facts of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct files stored.
    pub blobs: u64,
    /// Sum of their sizes.
    pub blob_bytes: u64,
    /// Distinct chunks stored.
    pub chunks: u64,
    /// Sum of chunk plaintext sizes.
    pub chunk_bytes: u64,
    /// Sum of chunk records as stored (after compression, with headers).
    pub stored_bytes: u64,
}

pub(crate) const BLOBS: &str = "count.blobs";
pub(crate) const BLOB_BYTES: &str = "count.blob_bytes";
pub(crate) const CHUNKS: &str = "count.chunks";
pub(crate) const CHUNK_BYTES: &str = "count.chunk_bytes";
pub(crate) const STORED_BYTES: &str = "count.stored_bytes";

fn get(meta: &impl ReadableTable<&'static str, &'static [u8]>, key: &str) -> Result<u64> {
    Ok(meta
        .get(key)?
        .and_then(|v| v.value().try_into().ok())
        .map_or(0, u64::from_le_bytes))
}

/// Adds `delta` (may be negative) to a counter.
pub(crate) fn add(
    meta: &mut Table<&'static str, &'static [u8]>,
    key: &str,
    delta: i64,
) -> Result<()> {
    let now = get(meta, key)?;
    let next = now.saturating_add_signed(delta);
    meta.insert(key, next.to_le_bytes().as_slice())?;
    Ok(())
}

/// Overwrites a counter (used by index rebuilds).
pub(crate) fn set(
    meta: &mut Table<&'static str, &'static [u8]>,
    key: &str,
    value: u64,
) -> Result<()> {
    meta.insert(key, value.to_le_bytes().as_slice())?;
    Ok(())
}

pub(crate) fn read(txn: &ReadTransaction) -> Result<Stats> {
    let meta = match txn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Stats::default()),
        Err(e) => return Err(e.into()),
    };
    Ok(Stats {
        blobs: get(&meta, BLOBS)?,
        blob_bytes: get(&meta, BLOB_BYTES)?,
        chunks: get(&meta, CHUNKS)?,
        chunk_bytes: get(&meta, CHUNK_BYTES)?,
        stored_bytes: get(&meta, STORED_BYTES)?,
    })
}
