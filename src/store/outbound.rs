//! The read side other copies of the store need (the off-site backup): every stored file
//! with its chunk list, and a chunk's bytes in their stored form, verified against its id,
//! so a backup never re-chunks or re-compresses photos and never ships damaged bytes.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use redb::{ReadTransaction, ReadableTable};

use super::error::{Error, Result};
use super::index::{self, BLOBS, CHUNKS};
use super::pack::{Compression, pack_path, read_header};
use super::{BlobId, ChunkId, PackId, Store};

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its id.
    pub id: BlobId,
    /// Size in bytes.
    pub size: u64,
    /// References the library holds.
    pub refs: u32,
    /// Chunks in file order.
    pub chunks: Vec<ChunkId>,
}

/// A chunk as the pack holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    /// True when `bytes` is a zstd frame.
    pub zstd: bool,
    /// Plaintext length.
    pub raw_len: u32,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

impl Store {
    /// Calls `f` with every stored file, in id order, as of `txn`.
    pub fn for_each_blob(
        &self,
        txn: &ReadTransaction,
        mut f: impl FnMut(StoredBlob) -> Result<()>,
    ) -> Result<()> {
        let table = txn.open_table(BLOBS)?;
        for row in table.iter()? {
            let (k, v) = row?;
            let entry = index::BlobEntry::decode(v.value())?;
            f(StoredBlob {
                id: BlobId(*k.value()),
                size: entry.size,
                refs: entry.refs,
                chunks: entry.chunks,
            })?;
        }
        Ok(())
    }

    /// A reader of chunks as of `txn` that keeps the last pack file open.
    pub fn chunk_reader(&self) -> ChunkReader {
        ChunkReader {
            packs_dir: self.packs_dir.clone(),
            open: None,
        }
    }
}

/// Reads stored chunks one at a time; see [`Store::chunk_reader`].
pub struct ChunkReader {
    packs_dir: PathBuf,
    open: Option<(PackId, File)>,
}

impl ChunkReader {
    /// The stored form of `id`, checked against its id (zstd chunks are decompressed to
    /// check, and the compressed bytes returned).
    pub fn read(&mut self, txn: &ReadTransaction, id: ChunkId) -> Result<StoredChunk> {
        let loc =
            index::get_chunk(&txn.open_table(CHUNKS)?, &id)?.ok_or(Error::ChunkMissing { id })?;
        if self.open.as_ref().is_none_or(|(p, _)| *p != loc.pack) {
            let path = pack_path(&self.packs_dir, loc.pack);
            let file = File::open(&path).map_err(Error::io(&path))?;
            self.open = Some((loc.pack, file));
        }
        let Some((_, file)) = self.open.as_mut() else {
            return Err(Error::ChunkMissing { id });
        };
        let corrupt = |what: String| Error::PackCorrupt {
            pack: loc.pack,
            offset: loc.offset,
            what,
        };
        let header = read_header(file, loc.pack, loc.offset)?;
        if header.id != id.0 {
            return Err(corrupt(format!("expected chunk {id}")));
        }
        let mut bytes = vec![0u8; header.stored_len as usize];
        file.read_exact(&mut bytes)
            .map_err(|e| corrupt(format!("cannot read record bytes: {e}")))?;
        let zstd = header.compression == Compression::Zstd;
        let ok = if zstd {
            let plain = zstd::bulk::decompress(&bytes, header.raw_len as usize)
                .map_err(|e| corrupt(format!("zstd: {e}")))?;
            ChunkId::of(&plain) == id
        } else {
            ChunkId::of(&bytes) == id
        };
        if !ok {
            return Err(corrupt("bytes do not match their chunk id".into()));
        }
        Ok(StoredChunk {
            zstd,
            raw_len: header.raw_len,
            bytes,
        })
    }
}
