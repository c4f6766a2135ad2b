//! The write side other copies of the store need (a restore from the off-site backup): a
//! file handed over as chunks in their stored form, kept as they come. No re-chunking and no
//! re-compression, so a restore costs one write per byte, and the restored library holds
//! the very chunks the backup holds (its next backup uploads nothing again).

use redb::WriteTransaction;

use super::error::Error;
use super::index::{self, CHUNKS};
use super::outbound::StoredChunk;
use super::pack::Compression;
use super::writer::{Added, Writer, append_chunk, finish_put};
use super::{BlobId, ChunkId, Put, Store};

impl Store {
    /// Stores the file `blob` of `size` bytes from `chunks` (in file order). The caller has
    /// checked every chunk against its id and checks the file against `blob` before it
    /// commits `txn` (see [`Store::prepare_commit`]); a chunk the store holds is not
    /// written again. Like [`Store::put`], the blob holds no reference yet.
    pub fn put_stored<E: From<Error>>(
        &self,
        txn: &WriteTransaction,
        blob: BlobId,
        size: u64,
        chunks: impl IntoIterator<Item = Result<(ChunkId, StoredChunk), E>>,
    ) -> Result<Put, E> {
        let mut guard = self.writer_guard();
        let result = put_with(self, &mut guard, txn, blob, size, chunks);
        if result.is_err() {
            // The pack may hold a torn record; reopen at the committed length next time.
            *guard = None;
        }
        result
    }
}

fn put_with<E: From<Error>>(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    blob: BlobId,
    size: u64,
    chunks: impl IntoIterator<Item = Result<(ChunkId, StoredChunk), E>>,
) -> Result<Put, E> {
    let mut added = Added::default();
    let mut ids = Vec::new();
    for item in chunks {
        let (id, chunk) = item?;
        ids.push(id);
        add_chunk(store, slot, txn, id, &chunk, &mut added)?;
    }
    Ok(finish_put(store, slot, txn, blob, size, ids, added)?)
}

fn add_chunk(
    store: &Store,
    slot: &mut Option<Writer>,
    txn: &WriteTransaction,
    id: ChunkId,
    chunk: &StoredChunk,
    added: &mut Added,
) -> Result<(), Error> {
    if index::get_chunk(&txn.open_table(CHUNKS)?, &id)?.is_some() {
        return Ok(());
    }
    let compression = if chunk.zstd {
        Compression::Zstd
    } else {
        Compression::None
    };
    append_chunk(
        store,
        slot,
        txn,
        id,
        chunk.raw_len,
        compression,
        &chunk.bytes,
        added,
    )
}
