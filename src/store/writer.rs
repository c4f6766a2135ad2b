//! The write path: chunk a stream, append new chunks to the open pack, record a manifest.

use std::io::Read;

use redb::{ReadableTable, WriteTransaction};

use super::counters;
use super::error::{Error, Result};
use super::index::{self, BLOBS, BlobEntry, CHUNKS, ChunkEntry, META, PACKS, PackEntry, PackState};
use super::manifest::encode_manifest;
use super::pack::{Compression, PackWriter, RecordHeader, RecordKind};
use super::{BlobId, ChunkId, PackId, Put, Store, unix_now};

/// zstd is kept only when it saves at least this fraction (photos and videos never do).
const MIN_SAVING: f64 = 0.10;
/// Bytes compressed as a trial before compressing a whole chunk.
const TRIAL: usize = 64 * 1024;

/// The open pack plus the live bytes appended since its entry was last written.
pub(crate) struct Writer {
    pack: PackWriter,
    live_added: u64,
}

impl Writer {
    /// Fsyncs the pack, then records its length in `txn` (which the caller commits next).
    pub(crate) fn sync_and_record(&mut self, txn: &WriteTransaction) -> Result<()> {
        self.pack.sync()?;
        self.record(txn, PackState::Open)
    }

    fn record(&mut self, txn: &WriteTransaction, state: PackState) -> Result<()> {
        let mut packs = txn.open_table(PACKS)?;
        let live = index::get_pack(&packs, self.pack.id())?.map_or(0, |p| p.live);
        let entry = PackEntry {
            len: self.pack.len(),
            live: live + self.live_added,
            state,
        };
        packs.insert(self.pack.id().0, entry.encode().as_slice())?;
        self.live_added = 0;
        Ok(())
    }
}

/// Opens the writer on the open pack, or starts a new pack.
fn ensure_writer<'a>(
    store: &Store,
    slot: &'a mut Option<Writer>,
    txn: &WriteTransaction,
) -> Result<&'a mut Writer> {
    if slot.is_none() {
        let open = {
            let packs = txn.open_table(PACKS)?;
            let mut found = None;
            for row in packs.iter()? {
                let (id, v) = row?;
                let entry = PackEntry::decode(v.value())?;
                if entry.state == PackState::Open {
                    found = Some((PackId(id.value()), entry.len));
                }
            }
            found
        };
        let pack = match open {
            Some((id, len)) => PackWriter::reopen(&store.packs_dir, id, len)?,
            None => new_pack(store, txn)?,
        };
        *slot = Some(Writer {
            pack,
            live_added: 0,
        });
    }
    slot.as_mut().ok_or_else(|| Error::BadValue {
        table: "store.packs",
        what: "no open pack".into(),
    })
}

fn new_pack(store: &Store, txn: &WriteTransaction) -> Result<PackWriter> {
    let id = {
        let mut meta = txn.open_table(META)?;
        let next = meta
            .get("next_pack")?
            .and_then(|v| v.value().try_into().ok())
            .map_or(1, u64::from_le_bytes);
        meta.insert("next_pack", (next + 1).to_le_bytes().as_slice())?;
        PackId(next)
    };
    let pack = PackWriter::create(&store.packs_dir, id)?;
    let entry = PackEntry {
        len: pack.len(),
        live: 0,
        state: PackState::Open,
    };
    txn.open_table(PACKS)?
        .insert(id.0, entry.encode().as_slice())?;
    Ok(pack)
}

/// Appends a record, sealing the pack first when it would outgrow the target size.
pub(crate) fn append_record(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    header: &RecordHeader,
    bytes: &[u8],
) -> Result<(PackId, u64)> {
    let w = ensure_writer(store, slot, txn)?;
    if w.pack.len() > super::pack::PACK_HEADER_LEN
        && w.pack.len() + header.record_len() > store.options.pack_target
    {
        w.pack.sync()?;
        w.record(txn, PackState::Sealed)?;
        let pack = new_pack(store, txn)?;
        *slot = Some(Writer {
            pack,
            live_added: 0,
        });
    }
    let w = ensure_writer(store, slot, txn)?;
    let offset = w.pack.append(header, bytes)?;
    w.live_added += header.record_len();
    Ok((w.pack.id(), offset))
}

/// Compresses `data` when the trial says it pays; returns the stored form.
fn maybe_compress(data: &[u8], compressible: bool) -> (Compression, Option<Vec<u8>>) {
    if !compressible || data.len() < 4096 {
        return (Compression::None, None);
    }
    let trial = data.get(..TRIAL.min(data.len())).unwrap_or(data);
    let pays = |packed: usize, raw: usize| (packed as f64) <= (raw as f64) * (1.0 - MIN_SAVING);
    match zstd::bulk::compress(trial, 1) {
        Ok(t) if pays(t.len(), trial.len()) => {}
        _ => return (Compression::None, None),
    }
    match zstd::bulk::compress(data, 3) {
        Ok(z) if pays(z.len(), data.len()) => (Compression::Zstd, Some(z)),
        _ => (Compression::None, None),
    }
}

/// Feeds `data` to the file hash and returns its chunk id. Both read every byte, so a big
/// chunk is hashed on two cores; a small one is not worth a thread.
fn hash_chunk(file_hash: &mut blake3::Hasher, data: &[u8]) -> Result<ChunkId> {
    if data.len() < 256 * 1024 {
        file_hash.update(data);
        return Ok(ChunkId::of(data));
    }
    std::thread::scope(|s| {
        let chunk = s.spawn(|| ChunkId::of(data));
        file_hash.update(data);
        chunk.join()
    })
    .map_err(|_| Error::BadValue {
        table: "store.chunks",
        what: "hashing thread panicked".into(),
    })
}

pub(crate) fn put(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    source: impl Read,
    cuts: &[u64],
    compressible: bool,
) -> Result<Put> {
    let mut file_hash = blake3::Hasher::new();
    let mut ids: Vec<ChunkId> = Vec::new();
    let mut added = Added::default();
    let size = store.chunker.chunk(source, cuts, |data| -> Result<()> {
        let id = hash_chunk(&mut file_hash, data)?;
        ids.push(id);
        let known = index::get_chunk(&txn.open_table(CHUNKS)?, &id)?.is_some();
        if known {
            return Ok(());
        }
        let (compression, packed) = maybe_compress(data, compressible);
        let stored = packed.as_deref().unwrap_or(data);
        append_chunk(
            store,
            slot,
            txn,
            id,
            data.len() as u32,
            compression,
            stored,
            &mut added,
        )
    });
    let size = size?;
    let blob = BlobId(*file_hash.finalize().as_bytes());
    finish_put(store, slot, txn, blob, size, ids, added)
}

/// Appends a chunk the store lacks in its stored form and indexes it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_chunk(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    id: ChunkId,
    raw_len: u32,
    compression: Compression,
    stored: &[u8],
    added: &mut Added,
) -> Result<()> {
    let header = RecordHeader {
        kind: RecordKind::Chunk,
        compression,
        id: id.0,
        raw_len,
        stored_len: u32::try_from(stored.len()).map_err(|_| Error::BadValue {
            table: "store.chunks",
            what: "a chunk over 4 GiB".into(),
        })?,
    };
    let (pack, offset) = append_record(store, slot, txn, &header, stored)?;
    let entry = ChunkEntry {
        pack,
        offset,
        raw_len,
        stored_len: header.stored_len,
        compression,
        refs: 0,
    };
    txn.open_table(CHUNKS)?
        .insert(&id.0, entry.encode().as_slice())?;
    added.chunk(raw_len, header.record_len());
    Ok(())
}

/// Chunks appended for one file so far.
#[derive(Default, Clone, Copy)]
pub(crate) struct Added {
    chunks: i64,
    raw: i64,
    stored: u64,
}

impl Added {
    pub(crate) fn chunk(&mut self, raw_len: u32, record_len: u64) {
        self.chunks += 1;
        self.raw += i64::from(raw_len);
        self.stored += record_len;
    }
}

/// Writes the manifest of a new file and counts what was added.
pub(crate) fn finish_put(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    blob: BlobId,
    size: u64,
    ids: Vec<ChunkId>,
    added: Added,
) -> Result<Put> {
    let mut stored_bytes = added.stored;
    let known_blob = index::get_blob(&txn.open_table(BLOBS)?, &blob)?.is_some();
    if !known_blob {
        stored_bytes += write_manifest(store, slot, txn, blob, size, ids)?;
    }
    let mut meta = txn.open_table(META)?;
    counters::add(&mut meta, counters::CHUNKS, added.chunks)?;
    counters::add(&mut meta, counters::CHUNK_BYTES, added.raw)?;
    counters::add(
        &mut meta,
        counters::STORED_BYTES,
        i64::try_from(stored_bytes).unwrap_or(i64::MAX),
    )?;
    if !known_blob {
        counters::add(&mut meta, counters::BLOBS, 1)?;
        counters::add(
            &mut meta,
            counters::BLOB_BYTES,
            i64::try_from(size).unwrap_or(i64::MAX),
        )?;
    }
    Ok(Put {
        blob,
        size,
        new_blob: !known_blob,
        stored_bytes,
    })
}

fn write_manifest(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    blob: BlobId,
    size: u64,
    ids: Vec<ChunkId>,
) -> Result<u64> {
    let payload = encode_manifest(size, &ids);
    let header = RecordHeader {
        kind: RecordKind::Manifest,
        compression: Compression::None,
        id: blob.0,
        raw_len: payload.len() as u32,
        stored_len: payload.len() as u32,
    };
    let manifest = append_record(store, slot, txn, &header, &payload)?;
    {
        let mut chunks = txn.open_table(CHUNKS)?;
        for id in &ids {
            let mut c = index::get_chunk(&chunks, id)?.ok_or(Error::ChunkMissing { id: *id })?;
            c.refs = c.refs.saturating_add(1);
            chunks.insert(&id.0, c.encode().as_slice())?;
        }
    }
    let entry = BlobEntry {
        size,
        refs: 0,
        unreferenced_since: unix_now(),
        manifest,
        chunks: ids,
    };
    txn.open_table(BLOBS)?
        .insert(&blob.0, entry.encode().as_slice())?;
    Ok(header.record_len())
}
