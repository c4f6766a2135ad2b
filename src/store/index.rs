//! The store's redb tables and their value encodings.
//!
//! Every value starts with a version byte; a decoder reads every version it knows and a
//! newer one is refused with [`Error::BadValue`] rather than misread. Integers are
//! little-endian with fixed widths.

use redb::{ReadableTable, TableDefinition};

use super::error::{Error, Result};
use super::pack::Compression;
use super::{BlobId, ChunkId, PackId};

/// Chunk id → where its record is and how many blob manifests use it.
pub(crate) const CHUNKS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("store.chunks");
/// Blob id → size, chunk list, references from the library.
pub(crate) const BLOBS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("store.blobs");
/// Pack number → committed length, live bytes, state.
pub(crate) const PACKS: TableDefinition<u64, &[u8]> = TableDefinition::new("store.packs");
/// Store-wide facts: format version, chunker seed.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("store.meta");

/// Location and use count of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry {
    /// Pack holding the record.
    pub pack: PackId,
    /// Offset of the record header in the pack.
    pub offset: u64,
    /// Plaintext length.
    pub raw_len: u32,
    /// Stored length (after compression).
    pub stored_len: u32,
    /// Stored form.
    pub compression: Compression,
    /// How many chunk-list slots of stored blobs name this chunk.
    pub refs: u32,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    /// File size.
    pub size: u64,
    /// References held by the library (assets pointing at this blob).
    pub refs: u32,
    /// Unix seconds when `refs` fell to zero (0 while referenced); GC waits a grace period.
    pub unreferenced_since: u64,
    /// Pack and offset of the manifest record.
    pub manifest: (PackId, u64),
    /// Chunks in file order.
    pub chunks: Vec<ChunkId>,
}

/// Life of a pack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackState {
    /// Receiving appends.
    Open,
    /// Full; immutable.
    Sealed,
    /// Its live records were copied elsewhere; the file is deleted after the grace period
    /// (unix seconds since retirement), because a reader may still hold an old location.
    Retired(u64),
}

/// One pack's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackEntry {
    /// Bytes committed (the file may hold more, never referenced).
    pub len: u64,
    /// Bytes of records still referenced.
    pub live: u64,
    /// Open, sealed or retired.
    pub state: PackState,
}

struct Enc(Vec<u8>);

impl Enc {
    fn new(version: u8) -> Self {
        Self(vec![version])
    }
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
}

struct Dec<'a> {
    rest: &'a [u8],
    table: &'static str,
}

impl<'a> Dec<'a> {
    fn new(bytes: &'a [u8], table: &'static str, known: u8) -> Result<Self> {
        let (&version, rest) = bytes
            .split_first()
            .ok_or_else(|| bad(table, "empty value"))?;
        if version != known {
            return Err(bad(table, &format!("value version {version} is unknown")));
        }
        Ok(Self { rest, table })
    }
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) = self
            .rest
            .split_at_checked(N)
            .ok_or_else(|| bad(self.table, "value too short"))?;
        self.rest = rest;
        head.try_into()
            .map_err(|_| bad(self.table, "value too short"))
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take()?))
    }
}

fn bad(table: &'static str, what: &str) -> Error {
    Error::BadValue {
        table,
        what: what.to_string(),
    }
}

impl ChunkEntry {
    pub(crate) fn encode(&self) -> Vec<u8> {
        Enc::new(1)
            .u64(self.pack.0)
            .u64(self.offset)
            .u32(self.raw_len)
            .u32(self.stored_len)
            .u8(self.compression as u8)
            .u32(self.refs)
            .0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::new(bytes, "store.chunks", 1)?;
        Ok(Self {
            pack: PackId(d.u64()?),
            offset: d.u64()?,
            raw_len: d.u32()?,
            stored_len: d.u32()?,
            compression: match d.u8()? {
                0 => Compression::None,
                1 => Compression::Zstd,
                c => return Err(bad("store.chunks", &format!("compression {c}"))),
            },
            refs: d.u32()?,
        })
    }

    /// Bytes the record takes in its pack.
    pub fn record_len(&self) -> u64 {
        super::pack::RECORD_HEADER_LEN + u64::from(self.stored_len)
    }
}

impl BlobEntry {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new(1)
            .u64(self.size)
            .u32(self.refs)
            .u64(self.unreferenced_since)
            .u64(self.manifest.0.0)
            .u64(self.manifest.1)
            .u32(self.chunks.len() as u32);
        for c in &self.chunks {
            e.0.extend_from_slice(&c.0);
        }
        e.0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::new(bytes, "store.blobs", 1)?;
        let size = d.u64()?;
        let refs = d.u32()?;
        let unreferenced_since = d.u64()?;
        let manifest = (PackId(d.u64()?), d.u64()?);
        let n = d.u32()?;
        let chunks = (0..n)
            .map(|_| d.take::<32>().map(ChunkId))
            .collect::<Result<_>>()?;
        Ok(Self {
            size,
            refs,
            unreferenced_since,
            manifest,
            chunks,
        })
    }
}

impl PackEntry {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let (state, at) = match self.state {
            PackState::Open => (0, 0),
            PackState::Sealed => (1, 0),
            PackState::Retired(at) => (2, at),
        };
        Enc::new(1).u64(self.len).u64(self.live).u8(state).u64(at).0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::new(bytes, "store.packs", 1)?;
        let len = d.u64()?;
        let live = d.u64()?;
        let state = match (d.u8()?, d.u64()?) {
            (0, _) => PackState::Open,
            (1, _) => PackState::Sealed,
            (2, at) => PackState::Retired(at),
            (s, _) => return Err(bad("store.packs", &format!("state {s}"))),
        };
        Ok(Self { len, live, state })
    }
}

/// Reads a chunk entry from any table handle.
pub(crate) fn get_chunk(
    t: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    id: &ChunkId,
) -> Result<Option<ChunkEntry>> {
    t.get(&id.0)?
        .map(|v| ChunkEntry::decode(v.value()))
        .transpose()
}

/// Reads a blob entry from any table handle.
pub(crate) fn get_blob(
    t: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    id: &BlobId,
) -> Result<Option<BlobEntry>> {
    t.get(&id.0)?
        .map(|v| BlobEntry::decode(v.value()))
        .transpose()
}

/// Reads a pack entry from any table handle.
pub(crate) fn get_pack(
    t: &impl ReadableTable<u64, &'static [u8]>,
    id: PackId,
) -> Result<Option<PackEntry>> {
    t.get(id.0)?
        .map(|v| PackEntry::decode(v.value()))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let c = ChunkEntry {
            pack: PackId(9),
            offset: 77,
            raw_len: 5,
            stored_len: 4,
            compression: Compression::Zstd,
            refs: 3,
        };
        assert_eq!(ChunkEntry::decode(&c.encode()).unwrap(), c);
        let b = BlobEntry {
            size: 10,
            refs: 1,
            unreferenced_since: 0,
            manifest: (PackId(2), 32),
            chunks: vec![ChunkId([4; 32])],
        };
        assert_eq!(BlobEntry::decode(&b.encode()).unwrap(), b);
        let p = PackEntry {
            len: 100,
            live: 60,
            state: PackState::Retired(5),
        };
        assert_eq!(PackEntry::decode(&p.encode()).unwrap(), p);
    }

    #[test]
    fn unknown_version_is_refused_not_misread() {
        let mut v = ChunkEntry {
            pack: PackId(1),
            offset: 0,
            raw_len: 0,
            stored_len: 0,
            compression: Compression::None,
            refs: 0,
        }
        .encode();
        v[0] = 2;
        assert!(matches!(
            ChunkEntry::decode(&v),
            Err(Error::BadValue { .. })
        ));
        assert!(ChunkEntry::decode(&v[..5]).is_err());
    }
}
