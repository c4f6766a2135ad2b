//! Pack files: append-only containers of chunk and blob-manifest records.
//!
//! # Layout, version 1 (all integers little-endian, fixed width)
//!
//! ```text
//! pack header (32 bytes)
//!   0  8  magic  "SHOEPACK"
//!   8  2  format version = 1
//!  10  2  reserved, 0
//!  12  8  pack id
//!  20  8  created, unix seconds
//!  28  4  reserved, 0
//! record (52-byte header + stored bytes), repeated to the end of the file
//!   0  4  magic  "SBRC"
//!   4  1  kind: 1 = chunk, 2 = blob manifest
//!   5  1  compression: 0 = none, 1 = zstd
//!   6  2  reserved, 0
//!   8 32  id: chunk id (blake3 of the plaintext) or blob id (blake3 of the whole file)
//!  40  4  raw length (plaintext bytes)
//!  44  4  stored length (bytes that follow this header)
//!  48  4  first 4 bytes of blake3(header bytes 0..48): catches torn or shifted headers
//! blob manifest payload (kind 2, never compressed)
//!   0  8  file size in bytes
//!   8  4  chunk count n
//!  12 32n chunk ids in file order
//!  .. 32  blake3 of the payload before it
//! ```
//!
//! A pack is self-describing: scanning its records rebuilds the chunk index and the blob
//! manifests. Bytes after the last record the index commits are leftovers of a crash and
//! are never referenced. A new layout gets a new version number and a compatibility test.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::{PackId, Syncer};

pub(crate) const PACK_MAGIC: &[u8; 8] = b"SHOEPACK";
pub(crate) const PACK_VERSION: u16 = 1;
pub(crate) const PACK_HEADER_LEN: u64 = 32;
const RECORD_MAGIC: &[u8; 4] = b"SBRC";
/// Size of a record header.
pub const RECORD_HEADER_LEN: u64 = 52;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// File bytes.
    Chunk = 1,
    /// The chunk list of a file.
    Manifest = 2,
}

/// How a record's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// As is.
    None = 0,
    /// zstd frame.
    Zstd = 1,
}

/// A parsed record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Chunk or manifest.
    pub kind: RecordKind,
    /// Stored form.
    pub compression: Compression,
    /// Chunk id or blob id.
    pub id: [u8; 32],
    /// Plaintext length.
    pub raw_len: u32,
    /// Bytes following the header.
    pub stored_len: u32,
}

impl RecordHeader {
    /// Header plus stored bytes.
    pub fn record_len(&self) -> u64 {
        RECORD_HEADER_LEN.saturating_add(u64::from(self.stored_len))
    }

    fn encode(&self) -> [u8; 52] {
        let mut h = [0u8; 52];
        let mut w = &mut h[..];
        // Writing into a fixed array of exactly the right size cannot fail.
        let _ = w.write_all(RECORD_MAGIC);
        let _ = w.write_all(&[self.kind as u8, self.compression as u8, 0, 0]);
        let _ = w.write_all(&self.id);
        let _ = w.write_all(&self.raw_len.to_le_bytes());
        let _ = w.write_all(&self.stored_len.to_le_bytes());
        let sum = header_sum(&h);
        let _ = (&mut h[48..]).write_all(&sum);
        h
    }

    /// Parses and verifies a header; `None` when the bytes are not a valid record header.
    pub fn decode(h: &[u8; 52]) -> Option<Self> {
        if h.get(..4)? != RECORD_MAGIC || h.get(48..)? != header_sum(h) {
            return None;
        }
        let kind = match h.get(4)? {
            1 => RecordKind::Chunk,
            2 => RecordKind::Manifest,
            _ => return None,
        };
        let compression = match h.get(5)? {
            0 => Compression::None,
            1 => Compression::Zstd,
            _ => return None,
        };
        Some(Self {
            kind,
            compression,
            id: h.get(8..40)?.try_into().ok()?,
            raw_len: u32::from_le_bytes(h.get(40..44)?.try_into().ok()?),
            stored_len: u32::from_le_bytes(h.get(44..48)?.try_into().ok()?),
        })
    }
}

fn header_sum(h: &[u8; 52]) -> [u8; 4] {
    let d = blake3::hash(h.get(..48).unwrap_or_default());
    let mut out = [0u8; 4];
    out.copy_from_slice(d.as_bytes().get(..4).unwrap_or(&[0; 4]));
    out
}

/// Where pack `id` lives under the packs directory.
pub fn pack_path(packs_dir: &Path, id: PackId) -> PathBuf {
    packs_dir
        .join(format!("{:02x}", id.0 & 0xff))
        .join(format!("{id}.pack"))
}

/// Appends records to one pack file. Nothing written is durable until [`PackWriter::sync`].
pub struct PackWriter {
    id: PackId,
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
    /// Bytes appended since the last early writeback.
    unsynced: u64,
    syncer: Syncer,
}

/// Appended bytes after which the pack is handed to the background fsync (see [`Syncer`]).
const WRITEBACK_EVERY: u64 = 16 * 1024 * 1024;

impl PackWriter {
    /// Creates pack `id` afresh (replacing leftovers of an uncommitted earlier attempt).
    pub fn create(packs_dir: &Path, id: PackId) -> Result<Self> {
        let path = pack_path(packs_dir, id);
        let dir = path.parent().unwrap_or(packs_dir).to_path_buf();
        fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let file = File::create(&path).map_err(Error::io(&path))?;
        let mut header = Vec::with_capacity(32);
        header.extend_from_slice(PACK_MAGIC);
        header.extend_from_slice(&PACK_VERSION.to_le_bytes());
        header.extend_from_slice(&[0, 0]);
        header.extend_from_slice(&id.0.to_le_bytes());
        header.extend_from_slice(&unix_now().to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header).map_err(Error::io(&path))?;
        // The directory entry must be durable too, or a crash could lose the whole file.
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(&dir))?;
        Ok(Self {
            id,
            path,
            out,
            len: PACK_HEADER_LEN,
            unsynced: 0,
            syncer: Syncer::new(),
        })
    }

    /// Reopens pack `id` to append after `committed_len`, dropping anything after it (bytes a
    /// crash or an aborted transaction left behind; the index never points at them).
    pub fn reopen(packs_dir: &Path, id: PackId, committed_len: u64) -> Result<Self> {
        let path = pack_path(packs_dir, id);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        let on_disk = file.metadata().map_err(Error::io(&path))?.len();
        if on_disk < committed_len {
            return Err(Error::PackCorrupt {
                pack: id,
                offset: on_disk,
                what: format!("file is shorter than its committed length {committed_len}"),
            });
        }
        if on_disk > committed_len {
            file.set_len(committed_len).map_err(Error::io(&path))?;
        }
        file.seek(SeekFrom::Start(committed_len))
            .map_err(Error::io(&path))?;
        Ok(Self {
            id,
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            len: committed_len,
            unsynced: 0,
            syncer: Syncer::new(),
        })
    }

    /// This pack's id.
    pub fn id(&self) -> PackId {
        self.id
    }

    /// Bytes in the pack so far, header included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends one record; returns its offset.
    pub fn append(&mut self, header: &RecordHeader, stored: &[u8]) -> Result<u64> {
        let offset = self.len;
        self.out
            .write_all(&header.encode())
            .map_err(Error::io(&self.path))?;
        self.out.write_all(stored).map_err(Error::io(&self.path))?;
        self.len = self.len.saturating_add(header.record_len());
        self.unsynced = self.unsynced.saturating_add(header.record_len());
        if self.unsynced >= WRITEBACK_EVERY {
            self.out.flush().map_err(Error::io(&self.path))?;
            self.syncer
                .submit(self.out.get_ref(), &self.path)
                .map_err(Error::io(&self.path))?;
            self.unsynced = 0;
        }
        Ok(offset)
    }

    /// Flushes and fsyncs: after this, every appended record survives a power cut.
    pub fn sync(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::io(&self.path))?;
        // The early writebacks' failures surface here; the fsync below covers the rest.
        self.syncer
            .drain()
            .map_err(|(_, e)| Error::io(&self.path)(e))?;
        self.unsynced = 0;
        self.out
            .get_ref()
            .sync_data()
            .map_err(Error::io(&self.path))
    }
}

/// Reads the record header at `offset` of an open pack file.
pub fn read_header(file: &mut File, pack: PackId, offset: u64) -> Result<RecordHeader> {
    let mut h = [0u8; 52];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut h))
        .map_err(|e| corrupt(pack, offset, format!("cannot read record header: {e}")))?;
    RecordHeader::decode(&h)
        .ok_or_else(|| corrupt(pack, offset, "not a valid record header".into()))
}

/// Reads the record at `offset` and returns its plaintext, checking its id when it is a chunk.
pub fn read_record(file: &mut File, pack: PackId, offset: u64) -> Result<(RecordHeader, Vec<u8>)> {
    let header = read_header(file, pack, offset)?;
    let mut stored = vec![0u8; header.stored_len as usize];
    file.read_exact(&mut stored)
        .map_err(|e| corrupt(pack, offset, format!("cannot read record bytes: {e}")))?;
    let plain = match header.compression {
        Compression::None => stored,
        Compression::Zstd => zstd::bulk::decompress(&stored, header.raw_len as usize)
            .map_err(|e| corrupt(pack, offset, format!("zstd: {e}")))?,
    };
    if plain.len() != header.raw_len as usize {
        return Err(corrupt(pack, offset, "length differs from header".into()));
    }
    if header.kind == RecordKind::Chunk && *blake3::hash(&plain).as_bytes() != header.id {
        return Err(corrupt(
            pack,
            offset,
            "bytes do not match their chunk id".into(),
        ));
    }
    Ok((header, plain))
}

/// Checks a pack file's header; returns its id.
pub fn read_pack_header(file: &mut File, path: &Path) -> Result<PackId> {
    let mut h = [0u8; 32];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut h))
        .map_err(Error::io(path))?;
    let bad = |what: &str| Error::PackCorrupt {
        pack: PackId(0),
        offset: 0,
        what: format!("{}: {what}", path.display()),
    };
    if h.get(..8) != Some(PACK_MAGIC.as_slice()) {
        return Err(bad("not a pack file"));
    }
    let version = h
        .get(8..10)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u16::from_le_bytes);
    if version != PACK_VERSION {
        return Err(bad(&format!("pack format {version} is not supported")));
    }
    let id = h
        .get(12..20)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes);
    id.map(PackId).ok_or_else(|| bad("short header"))
}

fn corrupt(pack: PackId, offset: u64, what: String) -> Error {
    Error::PackCorrupt { pack, offset, what }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_torn_header_detected() {
        let h = RecordHeader {
            kind: RecordKind::Chunk,
            compression: Compression::Zstd,
            id: [7; 32],
            raw_len: 1000,
            stored_len: 321,
        };
        let bytes = h.encode();
        assert_eq!(RecordHeader::decode(&bytes), Some(h));
        for i in 0..52 {
            let mut b = bytes;
            b[i] ^= 1;
            assert_eq!(
                RecordHeader::decode(&b),
                None,
                "flip at byte {i} not detected"
            );
        }
    }

    #[test]
    fn write_sync_reopen_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PackWriter::create(dir.path(), PackId(3)).unwrap();
        let data = b"hello pack".to_vec();
        let h = RecordHeader {
            kind: RecordKind::Chunk,
            compression: Compression::None,
            id: *blake3::hash(&data).as_bytes(),
            raw_len: 10,
            stored_len: 10,
        };
        let off = w.append(&h, &data).unwrap();
        w.sync().unwrap();
        let committed = w.len();
        w.append(&h, &data).unwrap(); // never committed
        w.sync().unwrap();
        drop(w);
        let w = PackWriter::reopen(dir.path(), PackId(3), committed).unwrap();
        assert_eq!(w.len(), committed);
        let path = pack_path(dir.path(), PackId(3));
        assert_eq!(fs::metadata(&path).unwrap().len(), committed);
        let mut f = File::open(&path).unwrap();
        assert_eq!(read_pack_header(&mut f, &path).unwrap(), PackId(3));
        let (rh, plain) = read_record(&mut f, PackId(3), off).unwrap();
        assert_eq!((rh, plain), (h, data));
    }
}
