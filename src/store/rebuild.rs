//! `repair --rebuild-index`: rebuild the store's tables from the pack files alone.
//!
//! Every record is re-read and re-hashed; a damaged record ends its pack's scan (the rest of
//! that pack is unreachable without a valid header chain). Blob references are reset to zero:
//! the caller (the library) re-retains the blobs it uses in the same transaction.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;

use redb::{ReadableTable, WriteTransaction};

use super::counters;
use super::error::{Error, Result};
use super::index::{self, BLOBS, BlobEntry, CHUNKS, ChunkEntry, META, PACKS, PackEntry, PackState};
use super::manifest::decode_manifest;
use super::pack::{PACK_HEADER_LEN, RecordKind, read_pack_header, read_record};
use super::{BlobId, ChunkId, PackId, Store, unix_now, verify::pack_files};

/// What a rebuild found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Pack files scanned.
    pub packs: u64,
    /// Chunks recovered.
    pub chunks: u64,
    /// Blobs recovered.
    pub blobs: u64,
    /// Blobs whose chunks are not all recoverable (their files are damaged).
    pub incomplete_blobs: Vec<BlobId>,
    /// Packs whose scan stopped early, with the offset and reason.
    pub damaged_packs: Vec<(PackId, u64, String)>,
}

impl Store {
    /// Replaces the store tables in `txn` with what the packs hold. Call
    /// [`Store::retain`] for every blob in use, then commit.
    pub fn rebuild_index(&self, txn: &WriteTransaction) -> Result<RebuildReport> {
        self.discard_uncommitted();
        for name in [CHUNKS, BLOBS] {
            txn.delete_table(name)?;
        }
        txn.delete_table(PACKS)?;
        let mut report = RebuildReport::default();
        let mut live: HashMap<PackId, u64> = HashMap::new();
        let mut max_pack = 0u64;
        let files = pack_files(&self.packs_dir);
        for (id, path) in &files {
            max_pack = max_pack.max(id.0);
            report.packs += 1;
            let len = self.scan_pack(txn, *id, path, &mut live, &mut report)?;
            let entry = PackEntry {
                len,
                live: 0,
                state: PackState::Sealed,
            };
            txn.open_table(PACKS)?
                .insert(id.0, entry.encode().as_slice())?;
        }
        let totals = count_refs(txn, &mut report)?;
        let mut packs = txn.open_table(PACKS)?;
        for (id, bytes) in live {
            if let Some(mut p) = index::get_pack(&packs, id)? {
                p.live = bytes;
                packs.insert(id.0, p.encode().as_slice())?;
            }
        }
        let mut meta = txn.open_table(META)?;
        meta.insert("next_pack", (max_pack + 1).to_le_bytes().as_slice())?;
        for (key, value) in totals {
            counters::set(&mut meta, key, value)?;
        }
        Ok(report)
    }

    /// Indexes one pack's records; returns the length up to the last good record.
    fn scan_pack(
        &self,
        txn: &WriteTransaction,
        id: PackId,
        path: &std::path::Path,
        live: &mut HashMap<PackId, u64>,
        report: &mut RebuildReport,
    ) -> Result<u64> {
        let mut file = File::open(path).map_err(Error::io(path))?;
        let size = file.metadata().map_err(Error::io(path))?.len();
        if let Err(e) = read_pack_header(&mut file, path) {
            report.damaged_packs.push((id, 0, e.to_string()));
            return Ok(0);
        }
        let mut chunks = txn.open_table(CHUNKS)?;
        let mut blobs = txn.open_table(BLOBS)?;
        let mut offset = PACK_HEADER_LEN;
        while offset < size {
            let (header, plain) = match read_record(&mut file, id, offset) {
                Ok(r) => r,
                Err(e) => {
                    report.damaged_packs.push((id, offset, e.to_string()));
                    break;
                }
            };
            let record_len = header.record_len();
            let used = match header.kind {
                RecordKind::Chunk if chunks.get(&header.id)?.is_none() => {
                    let e = ChunkEntry {
                        pack: id,
                        offset,
                        raw_len: header.raw_len,
                        stored_len: header.stored_len,
                        compression: header.compression,
                        refs: 0,
                    };
                    chunks.insert(&header.id, e.encode().as_slice())?;
                    report.chunks += 1;
                    true
                }
                RecordKind::Manifest if blobs.get(&header.id)?.is_none() => {
                    match decode_manifest(&plain) {
                        Some((size, ids)) => {
                            let e = BlobEntry {
                                size,
                                refs: 0,
                                unreferenced_since: unix_now(),
                                manifest: (id, offset),
                                chunks: ids,
                            };
                            blobs.insert(&header.id, e.encode().as_slice())?;
                            report.blobs += 1;
                            true
                        }
                        None => false,
                    }
                }
                _ => false,
            };
            if used {
                *live.entry(id).or_default() += record_len;
            }
            offset += record_len;
        }
        Ok(offset.min(size))
    }
}

/// Sets every chunk's refcount from the blob chunk lists and returns fresh counter totals.
fn count_refs(
    txn: &WriteTransaction,
    report: &mut RebuildReport,
) -> Result<Vec<(&'static str, u64)>> {
    let mut uses: HashMap<ChunkId, u32> = HashMap::new();
    let (mut blob_count, mut blob_bytes, mut manifest_bytes) = (0u64, 0u64, 0u64);
    let mut incomplete = BTreeSet::new();
    let chunks_ro = txn.open_table(CHUNKS)?;
    for row in txn.open_table(BLOBS)?.iter()? {
        let (k, v) = row?;
        let e = BlobEntry::decode(v.value())?;
        blob_count += 1;
        blob_bytes += e.size;
        manifest_bytes += super::manifest::manifest_record_len(e.chunks.len());
        for c in &e.chunks {
            *uses.entry(*c).or_default() += 1;
            if chunks_ro.get(&c.0)?.is_none() {
                incomplete.insert(BlobId(*k.value()));
            }
        }
    }
    drop(chunks_ro);
    let mut chunks = txn.open_table(CHUNKS)?;
    let (mut n, mut raw, mut stored) = (0u64, 0u64, manifest_bytes);
    let ids: Vec<ChunkId> = chunks
        .iter()?
        .filter_map(|r| r.ok().map(|(k, _)| ChunkId(*k.value())))
        .collect();
    for id in ids {
        if let Some(mut e) = index::get_chunk(&chunks, &id)? {
            e.refs = uses.get(&id).copied().unwrap_or(0);
            chunks.insert(&id.0, e.encode().as_slice())?;
            n += 1;
            raw += u64::from(e.raw_len);
            stored += e.record_len();
        }
    }
    report.incomplete_blobs = incomplete.into_iter().collect();
    Ok(vec![
        (counters::BLOBS, blob_count),
        (counters::BLOB_BYTES, blob_bytes),
        (counters::CHUNKS, n),
        (counters::CHUNK_BYTES, raw),
        (counters::STORED_BYTES, stored),
    ])
}
