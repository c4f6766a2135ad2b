//! Garbage collection: free blobs nobody references (after a grace period), drop chunks no
//! blob uses, rewrite packs that became mostly dead, delete retired and leftover pack files.
//!
//! Order keeps every step crash-safe: new copies are fsynced and committed before the old
//! pack is marked retired, and a retired pack's file is deleted only after the grace period,
//! because readers (export, backup) may still hold locations from an older transaction.

use std::collections::BTreeSet;

use redb::{ReadableTable, WriteTransaction};

use super::counters;
use super::error::{Error, Result};
use super::index::{self, BLOBS, BlobEntry, CHUNKS, ChunkEntry, META, PACKS, PackEntry, PackState};
use super::pack::{PACK_HEADER_LEN, RecordHeader, RecordKind, pack_path, read_header};
use super::{BlobId, ChunkId, PackId, Store, unix_now, verify::pack_files, writer};

/// What a GC run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs deleted.
    pub blobs_freed: u64,
    /// Chunks deleted.
    pub chunks_freed: u64,
    /// Packs rewritten.
    pub packs_rewritten: u64,
    /// Pack files deleted.
    pub pack_files_deleted: u64,
    /// Bytes of disk given back.
    pub bytes_reclaimed: u64,
    /// Unreferenced blobs still inside their grace period.
    pub blobs_in_grace: u64,
}

impl Store {
    /// Runs a full GC pass.
    pub fn gc(&self) -> Result<GcReport> {
        let mut report = GcReport::default();
        let grace = self.options.grace.as_secs();
        let now = unix_now();
        let txn = self.db.begin_write()?;
        free_blobs(&txn, now, grace, &mut report)?;
        free_orphan_chunks(&txn, &mut report)?;
        self.repack(&txn, &mut report)?;
        self.prepare_commit(&txn)?;
        txn.commit()?;
        self.delete_pack_files(now, grace, &mut report)?;
        Ok(report)
    }

    /// Copies the live records of sparse sealed packs into the open pack, then retires them.
    fn repack(&self, txn: &WriteTransaction, report: &mut GcReport) -> Result<()> {
        let mut sparse = Vec::new();
        for row in txn.open_table(PACKS)?.iter()? {
            let (k, v) = row?;
            let entry = PackEntry::decode(v.value())?;
            let body = entry.len.saturating_sub(PACK_HEADER_LEN).max(1);
            if entry.state == PackState::Sealed
                && (entry.live as f64) < self.options.repack_below * body as f64
            {
                sparse.push(PackId(k.value()));
            }
        }
        if sparse.is_empty() {
            return Ok(());
        }
        let mut chunk_moves: Vec<(ChunkId, ChunkEntry)> = Vec::new();
        for row in txn.open_table(CHUNKS)?.iter()? {
            let (k, v) = row?;
            let e = ChunkEntry::decode(v.value())?;
            if sparse.contains(&e.pack) {
                chunk_moves.push((ChunkId(*k.value()), e));
            }
        }
        let mut blob_moves: Vec<(BlobId, BlobEntry)> = Vec::new();
        for row in txn.open_table(BLOBS)?.iter()? {
            let (k, v) = row?;
            let e = BlobEntry::decode(v.value())?;
            if sparse.contains(&e.manifest.0) {
                blob_moves.push((BlobId(*k.value()), e));
            }
        }
        let mut guard = self.writer_guard();
        for (id, mut e) in chunk_moves {
            let (header, bytes) = self.read_stored(e.pack, e.offset)?;
            (e.pack, e.offset) = writer::append_record(self, &mut guard, txn, &header, &bytes)?;
            txn.open_table(CHUNKS)?
                .insert(&id.0, e.encode().as_slice())?;
        }
        for (id, mut e) in blob_moves {
            let (header, bytes) = self.read_stored(e.manifest.0, e.manifest.1)?;
            e.manifest = writer::append_record(self, &mut guard, txn, &header, &bytes)?;
            txn.open_table(BLOBS)?
                .insert(&id.0, e.encode().as_slice())?;
        }
        drop(guard);
        let now = unix_now();
        let mut packs = txn.open_table(PACKS)?;
        for id in sparse {
            if let Some(mut e) = index::get_pack(&packs, id)? {
                e.state = PackState::Retired(now);
                e.live = 0;
                packs.insert(id.0, e.encode().as_slice())?;
                report.packs_rewritten += 1;
            }
        }
        Ok(())
    }

    /// A record exactly as stored (still compressed), for copying between packs.
    fn read_stored(&self, pack: PackId, offset: u64) -> Result<(RecordHeader, Vec<u8>)> {
        use std::io::Read;
        let path = pack_path(&self.packs_dir, pack);
        let mut f = std::fs::File::open(&path).map_err(Error::io(&path))?;
        let header = read_header(&mut f, pack, offset)?;
        let mut bytes = vec![0u8; header.stored_len as usize];
        f.read_exact(&mut bytes).map_err(Error::io(&path))?;
        if header.kind == RecordKind::Chunk {
            // Never copy damage forward silently: verify before the old copy is retired.
            let _ = super::pack::read_record(&mut f, pack, offset)?;
        }
        Ok((header, bytes))
    }

    /// Deletes retired packs past the grace period and pack files the index does not know.
    fn delete_pack_files(&self, now: u64, grace: u64, report: &mut GcReport) -> Result<()> {
        let txn = self.db.begin_write()?;
        let mut known = BTreeSet::new();
        {
            let mut packs = txn.open_table(PACKS)?;
            let mut expired = Vec::new();
            for row in packs.iter()? {
                let (k, v) = row?;
                let e = PackEntry::decode(v.value())?;
                match e.state {
                    PackState::Retired(at) if at.saturating_add(grace) <= now => {
                        expired.push(PackId(k.value()));
                    }
                    _ => {
                        known.insert(PackId(k.value()));
                    }
                }
            }
            for id in expired {
                packs.remove(id.0)?;
            }
        }
        txn.commit()?;
        for (id, path) in pack_files(&self.packs_dir) {
            if known.contains(&id) {
                continue;
            }
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
            report.pack_files_deleted += 1;
            report.bytes_reclaimed += size;
        }
        Ok(())
    }
}

/// Deletes blobs unreferenced for longer than the grace period, releasing their chunks.
fn free_blobs(txn: &WriteTransaction, now: u64, grace: u64, report: &mut GcReport) -> Result<()> {
    let mut doomed = Vec::new();
    for row in txn.open_table(BLOBS)?.iter()? {
        let (k, v) = row?;
        let e = BlobEntry::decode(v.value())?;
        if e.refs == 0 {
            if e.unreferenced_since.saturating_add(grace) <= now {
                doomed.push((BlobId(*k.value()), e));
            } else {
                report.blobs_in_grace += 1;
            }
        }
    }
    let mut blobs = txn.open_table(BLOBS)?;
    let mut chunks = txn.open_table(CHUNKS)?;
    let mut packs = txn.open_table(PACKS)?;
    let mut meta = txn.open_table(META)?;
    for (id, e) in doomed {
        blobs.remove(&id.0)?;
        counters::add(&mut meta, counters::BLOBS, -1)?;
        counters::add(
            &mut meta,
            counters::BLOB_BYTES,
            -i64::try_from(e.size).unwrap_or(i64::MAX),
        )?;
        let manifest_len = super::manifest::manifest_record_len(e.chunks.len());
        sub_live(&mut packs, e.manifest.0, manifest_len)?;
        counters::add(
            &mut meta,
            counters::STORED_BYTES,
            -i64::try_from(manifest_len).unwrap_or(i64::MAX),
        )?;
        for c in &e.chunks {
            if let Some(mut ce) = index::get_chunk(&chunks, c)? {
                ce.refs = ce.refs.saturating_sub(1);
                chunks.insert(&c.0, ce.encode().as_slice())?;
            }
        }
        report.blobs_freed += 1;
    }
    Ok(())
}

/// Deletes chunks that no blob uses.
fn free_orphan_chunks(txn: &WriteTransaction, report: &mut GcReport) -> Result<()> {
    let mut orphans = Vec::new();
    for row in txn.open_table(CHUNKS)?.iter()? {
        let (k, v) = row?;
        let e = ChunkEntry::decode(v.value())?;
        if e.refs == 0 {
            orphans.push((ChunkId(*k.value()), e));
        }
    }
    let mut chunks = txn.open_table(CHUNKS)?;
    let mut packs = txn.open_table(PACKS)?;
    let mut meta = txn.open_table(META)?;
    for (id, e) in orphans {
        chunks.remove(&id.0)?;
        sub_live(&mut packs, e.pack, e.record_len())?;
        counters::add(&mut meta, counters::CHUNKS, -1)?;
        counters::add(&mut meta, counters::CHUNK_BYTES, -i64::from(e.raw_len))?;
        counters::add(
            &mut meta,
            counters::STORED_BYTES,
            -i64::try_from(e.record_len()).unwrap_or(i64::MAX),
        )?;
        report.chunks_freed += 1;
    }
    Ok(())
}

fn sub_live(packs: &mut redb::Table<u64, &'static [u8]>, pack: PackId, bytes: u64) -> Result<()> {
    if let Some(mut p) = index::get_pack(packs, pack)? {
        p.live = p.live.saturating_sub(bytes);
        packs.insert(pack.0, p.encode().as_slice())?;
    }
    Ok(())
}
