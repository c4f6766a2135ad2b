//! The read path: a blob as a `Read` stream, chunk by chunk, each verified against its id.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use redb::ReadTransaction;

use super::error::{Error, Result};
use super::index::{self, BLOBS, CHUNKS, ChunkEntry};
use super::pack::{pack_path, read_record};
use super::{BlobId, ChunkId, PackId};

/// Streams one blob. Holds at most one chunk in memory.
pub struct BlobReader {
    packs_dir: PathBuf,
    pending: VecDeque<(ChunkId, ChunkEntry)>,
    current: Vec<u8>,
    pos: usize,
    open: Option<(PackId, File)>,
    size: u64,
}

impl BlobReader {
    pub(crate) fn new(txn: &ReadTransaction, packs_dir: PathBuf, blob: BlobId) -> Result<Self> {
        let entry =
            index::get_blob(&txn.open_table(BLOBS)?, &blob)?.ok_or(Error::BlobMissing(blob))?;
        let chunks = txn.open_table(CHUNKS)?;
        let pending = entry
            .chunks
            .iter()
            .map(|id| {
                index::get_chunk(&chunks, id)?
                    .map(|e| (*id, e))
                    .ok_or(Error::ChunkMissing { id: *id })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            packs_dir,
            pending,
            current: Vec::new(),
            pos: 0,
            open: None,
            size: entry.size,
        })
    }

    /// The blob's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves to byte `offset` (only forward from the start; for HTTP Range requests). Whole
    /// chunks before it are skipped without being read.
    pub fn skip_to(&mut self, offset: u64) -> Result<()> {
        let mut left = offset;
        while let Some((_, loc)) = self.pending.front() {
            let len = u64::from(loc.raw_len);
            if left < len {
                break;
            }
            left -= len;
            self.pending.pop_front();
        }
        if left > 0 && self.load_next()? {
            self.pos = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.current.len());
        }
        Ok(())
    }

    fn load_next(&mut self) -> Result<bool> {
        let Some((id, loc)) = self.pending.pop_front() else {
            return Ok(false);
        };
        if self.open.as_ref().is_none_or(|(p, _)| *p != loc.pack) {
            let path = pack_path(&self.packs_dir, loc.pack);
            let file = File::open(&path).map_err(Error::io(&path))?;
            self.open = Some((loc.pack, file));
        }
        let Some((_, file)) = self.open.as_mut() else {
            return Ok(false);
        };
        let (header, plain) = read_record(file, loc.pack, loc.offset)?;
        if header.id != id.0 {
            return Err(Error::PackCorrupt {
                pack: loc.pack,
                offset: loc.offset,
                what: format!("expected chunk {id}"),
            });
        }
        self.current = plain;
        self.pos = 0;
        Ok(true)
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            if !self.load_next().map_err(io::Error::other)? {
                return Ok(0);
            }
        }
        let rest = self.current.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;

    use super::super::{Options, Store};

    #[test]
    fn skip_to_lands_on_the_exact_byte() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(redb::Database::create(dir.path().join("c.redb")).unwrap());
        let store = Store::open(db, dir.path(), Options::default()).unwrap();
        let bytes = super::super::tests_noise(9_000_000, 5);
        let txn = store.db().begin_write().unwrap();
        let put = store.put(&txn, bytes.as_slice(), &[], false).unwrap();
        store.retain(&txn, put.blob).unwrap();
        store.prepare_commit(&txn).unwrap();
        txn.commit().unwrap();
        for offset in [0u64, 1, 262_143, 1_000_000, 4_194_304, 8_999_999, 9_000_000] {
            let mut r = store.reader(put.blob).unwrap();
            r.skip_to(offset).unwrap();
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).unwrap();
            assert_eq!(rest, &bytes[offset as usize..], "offset {offset}");
        }
    }
}
