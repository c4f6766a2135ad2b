//! The read path: a blob as a `Read` stream, chunk by chunk, each verified against its id.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use redb::ReadTransaction;

use super::error::{Error, Result};
use super::index::{self, BLOBS, CHUNKS, ChunkEntry};
use super::pack::{pack_path, read_record};
use super::{BlobId, ChunkId, PackId};

/// Streams one blob, forwards or by seeking. Holds at most one chunk in memory.
pub struct BlobReader {
    packs_dir: PathBuf,
    chunks: Vec<(ChunkId, ChunkEntry)>,
    /// Stream offset where each chunk starts.
    starts: Vec<u64>,
    /// Index of the chunk in `current`, if one is loaded.
    loaded: Option<usize>,
    current: Vec<u8>,
    /// Stream position.
    pos: u64,
    open: Option<(PackId, File)>,
    size: u64,
}

impl BlobReader {
    pub(crate) fn new(txn: &ReadTransaction, packs_dir: PathBuf, blob: BlobId) -> Result<Self> {
        let entry =
            index::get_blob(&txn.open_table(BLOBS)?, &blob)?.ok_or(Error::BlobMissing(blob))?;
        let table = txn.open_table(CHUNKS)?;
        let chunks: Vec<(ChunkId, ChunkEntry)> = entry
            .chunks
            .iter()
            .map(|id| {
                index::get_chunk(&table, id)?
                    .map(|e| (*id, e))
                    .ok_or(Error::ChunkMissing { id: *id })
            })
            .collect::<Result<_>>()?;
        let mut at = 0u64;
        let starts = chunks
            .iter()
            .map(|(_, e)| {
                let start = at;
                at += u64::from(e.raw_len);
                start
            })
            .collect();
        Ok(Self {
            packs_dir,
            chunks,
            starts,
            loaded: None,
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

    /// Moves to byte `offset` (for HTTP Range requests); chunks before it are not read.
    pub fn skip_to(&mut self, offset: u64) -> Result<()> {
        self.pos = offset.min(self.size);
        Ok(())
    }

    /// Loads chunk `i` (verifying it) unless it is the loaded one.
    fn load(&mut self, i: usize) -> Result<()> {
        if self.loaded == Some(i) {
            return Ok(());
        }
        let Some(&(id, loc)) = self.chunks.get(i) else {
            return Ok(());
        };
        if self.open.as_ref().is_none_or(|(p, _)| *p != loc.pack) {
            let path = pack_path(&self.packs_dir, loc.pack);
            let file = File::open(&path).map_err(Error::io(&path))?;
            self.open = Some((loc.pack, file));
        }
        let Some((_, file)) = self.open.as_mut() else {
            return Ok(());
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
        self.loaded = Some(i);
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        // The chunk holding `pos`: the last one starting at or before it.
        let i = self
            .starts
            .partition_point(|s| *s <= self.pos)
            .saturating_sub(1);
        self.load(i).map_err(io::Error::other)?;
        let start = self.starts.get(i).copied().unwrap_or(0);
        let within = usize::try_from(self.pos - start).unwrap_or(usize::MAX);
        let rest = self.current.get(within..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if n == 0 {
            return Err(io::Error::other("chunk shorter than the index says"));
        }
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
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
            let mut r = store.reader(put.blob).unwrap();
            let mut one = [0u8; 3];
            if offset + 3 <= bytes.len() as u64 {
                std::io::Seek::seek(&mut r, std::io::SeekFrom::Start(offset)).unwrap();
                r.read_exact(&mut one).unwrap();
                assert_eq!(one, bytes[offset as usize..offset as usize + 3]);
                std::io::Seek::seek(&mut r, std::io::SeekFrom::Current(-3)).unwrap();
                r.read_exact(&mut one).unwrap();
                assert_eq!(one, bytes[offset as usize..offset as usize + 3]);
            }
        }
    }
}
