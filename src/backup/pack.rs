//! Remote packs: sealed chunks appended into one object of ~16 MiB with a sealed table of
//! contents at the end, so the index can be rebuilt from the packs alone.

use super::crypto::MasterKeys;
use super::error::{Error, Result};
use super::format::{self, Entry};
use super::remote::{Kind, Remote};
use crate::store::StoredChunk;

/// Default pack size: small enough that an interrupted upload loses little, large enough
/// that a photo library makes few objects (providers bill per request).
pub const PACK_TARGET: usize = 16 * 1024 * 1024;

/// A pack being filled.
pub struct PackBuilder {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// A finished pack, ready to upload.
pub struct FinishedPack {
    /// Its name (blake3 of the bytes).
    pub name: String,
    /// The object.
    pub bytes: Vec<u8>,
    /// What it holds.
    pub entries: Vec<Entry>,
}

impl Default for PackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PackBuilder {
    /// An empty pack.
    pub fn new() -> Self {
        Self::reusing(Vec::new(), 0)
    }

    /// An empty pack in `buffer` (an uploaded pack's, handed back), with room for
    /// `capacity` bytes: a backup fills every pack in the same few buffers, so memory stays
    /// at those buffers instead of whatever the allocator keeps of freed ones.
    pub fn reusing(mut buffer: Vec<u8>, capacity: usize) -> Self {
        buffer.clear();
        buffer.reserve(capacity);
        buffer.extend_from_slice(&format::header(Kind::Pack));
        Self {
            bytes: buffer,
            entries: Vec::new(),
        }
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when no chunk was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Seals and appends one chunk in its stored form.
    pub fn add(
        &mut self,
        keys: &MasterKeys,
        remote_id: [u8; 32],
        zstd: bool,
        raw_len: u32,
        stored: &[u8],
    ) -> Result<()> {
        let mut plain = Vec::with_capacity(stored.len() + 1);
        plain.push(u8::from(zstd));
        plain.extend_from_slice(stored);
        let sealed = keys.seal(&remote_id, &plain).map_err(Error::Crypto)?;
        self.entries.push(Entry {
            id: remote_id,
            offset: self.bytes.len() as u64,
            sealed_len: u32::try_from(sealed.len()).unwrap_or(u32::MAX),
            raw_len,
        });
        self.bytes.extend(sealed);
        Ok(())
    }

    /// Appends a chunk already sealed (copied from another pack when repacking): its seal is
    /// bound to its remote id, not to the pack, so it opens wherever it sits.
    pub fn add_sealed(&mut self, remote_id: [u8; 32], raw_len: u32, sealed: &[u8]) {
        self.entries.push(Entry {
            id: remote_id,
            offset: self.bytes.len() as u64,
            sealed_len: u32::try_from(sealed.len()).unwrap_or(u32::MAX),
            raw_len,
        });
        self.bytes.extend_from_slice(sealed);
    }

    /// Appends the sealed table of contents and the trailer.
    pub fn finish(mut self, keys: &MasterKeys) -> Result<FinishedPack> {
        let toc = keys
            .seal(b"toc", &format::encode_toc(&self.entries))
            .map_err(Error::Crypto)?;
        let toc_len = u32::try_from(toc.len()).unwrap_or(u32::MAX);
        self.bytes.extend(toc);
        self.bytes.extend_from_slice(&format::trailer(toc_len));
        Ok(FinishedPack {
            name: format::content_name(&self.bytes),
            bytes: self.bytes,
            entries: self.entries,
        })
    }
}

/// Reads a pack's table of contents (two range reads of its tail).
pub fn read_toc(remote: &dyn Remote, keys: &MasterKeys, name: &str) -> Result<Vec<Entry>> {
    let object = Kind::Pack.path(name);
    let size = remote.size(Kind::Pack, name)?;
    let trailer_len = format::TRAILER_LEN as u64;
    if size < trailer_len + format::HEADER_LEN as u64 {
        return Err(Error::corrupt(object, "too short to be a pack"));
    }
    let tail = remote.get_range(Kind::Pack, name, size - trailer_len, trailer_len)?;
    let toc_len = u64::from(format::parse_trailer(&tail).map_err(|e| Error::corrupt(&object, e))?);
    let start = size
        .checked_sub(trailer_len + toc_len)
        .filter(|s| *s >= format::HEADER_LEN as u64)
        .ok_or_else(|| Error::corrupt(&object, "table of contents longer than the pack"))?;
    let sealed = remote.get_range(Kind::Pack, name, start, toc_len)?;
    let plain = keys
        .open(b"toc", &sealed)
        .map_err(|e| Error::corrupt(&object, format!("table of contents does not open ({e})")))?;
    let entries = format::decode_toc(&plain).map_err(|e| Error::corrupt(&object, e))?;
    if entries
        .iter()
        .any(|e| e.offset.saturating_add(u64::from(e.sealed_len)) > start)
    {
        return Err(Error::corrupt(object, "an entry points past the chunks"));
    }
    Ok(entries)
}

/// Opens one sealed chunk fetched from `pack`; returns its plaintext, checked against the
/// plaintext id when the caller knows it.
pub fn open_chunk(
    keys: &MasterKeys,
    pack: &str,
    entry: &Entry,
    sealed: &[u8],
    plain_id: Option<&[u8; 32]>,
) -> Result<Vec<u8>> {
    open(keys, pack, entry, sealed, plain_id).map(Opened::into_plain)
}

/// A chunk opened: its stored form (as the box's store keeps it, so a restore writes it as
/// is) and, for a zstd chunk, the plaintext it was checked by.
pub struct Opened {
    /// The stored form.
    pub stored: StoredChunk,
    plain: Option<Vec<u8>>,
}

impl Opened {
    /// The chunk's plaintext.
    pub fn plain(&self) -> &[u8] {
        self.plain.as_deref().unwrap_or(&self.stored.bytes)
    }

    /// The chunk's plaintext, owned.
    pub fn into_plain(self) -> Vec<u8> {
        self.plain.unwrap_or(self.stored.bytes)
    }
}

/// Opens one sealed chunk fetched from `pack`, keeping its stored form; checked against the
/// plaintext id when the caller knows it.
pub fn open(
    keys: &MasterKeys,
    pack: &str,
    entry: &Entry,
    sealed: &[u8],
    plain_id: Option<&[u8; 32]>,
) -> Result<Opened> {
    let object = Kind::Pack.path(pack);
    let mut inner = keys.open(&entry.id, sealed).map_err(|e| {
        Error::corrupt(
            &object,
            format!("chunk at offset {} does not open ({e})", entry.offset),
        )
    })?;
    let Some(&flag) = inner.first() else {
        return Err(Error::corrupt(&object, "empty chunk"));
    };
    inner.remove(0);
    let opened = match flag {
        0 => Opened {
            stored: StoredChunk {
                zstd: false,
                raw_len: entry.raw_len,
                bytes: inner,
            },
            plain: None,
        },
        1 => {
            let plain = zstd::bulk::decompress(&inner, entry.raw_len as usize)
                .map_err(|e| Error::corrupt(&object, format!("zstd: {e}")))?;
            Opened {
                stored: StoredChunk {
                    zstd: true,
                    raw_len: entry.raw_len,
                    bytes: inner,
                },
                plain: Some(plain),
            }
        }
        f => {
            return Err(Error::corrupt(
                &object,
                format!("unknown chunk compression {f}"),
            ));
        }
    };
    let plain = opened.plain();
    if plain.len() != entry.raw_len as usize {
        return Err(Error::corrupt(
            &object,
            "chunk length differs from the table of contents",
        ));
    }
    if let Some(id) = plain_id
        && (blake3::hash(plain).as_bytes() != id || keys.remote_id(id) != entry.id)
    {
        return Err(Error::corrupt(&object, "chunk bytes do not match their id"));
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::super::remote::Memory;
    use super::*;

    #[test]
    fn a_pack_is_readable_from_its_toc_alone_and_damage_is_named() {
        let keys = MasterKeys::generate().unwrap();
        let mut b = PackBuilder::new();
        let chunks: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 1000 + usize::from(i)]).collect();
        for c in &chunks {
            let id = *blake3::hash(c).as_bytes();
            b.add(&keys, keys.remote_id(&id), false, c.len() as u32, c)
                .unwrap();
        }
        let pack = b.finish(&keys).unwrap();
        let remote = Memory::new();
        remote
            .put(Kind::Pack, &pack.name, pack.bytes.clone().into())
            .unwrap();
        let toc = read_toc(&remote, &keys, &pack.name).unwrap();
        assert_eq!(toc, pack.entries);
        for (e, c) in toc.iter().zip(&chunks) {
            let sealed = remote
                .get_range(Kind::Pack, &pack.name, e.offset, u64::from(e.sealed_len))
                .unwrap();
            let id = *blake3::hash(c).as_bytes();
            assert_eq!(
                &open_chunk(&keys, &pack.name, e, &sealed, Some(&id)).unwrap(),
                c
            );
        }
        // A truncated pack loses its trailer: named, not misread.
        let path = Kind::Pack.path(&pack.name);
        remote.set_raw(&path, Some(pack.bytes[..pack.bytes.len() - 3].to_vec()));
        let err = read_toc(&remote, &keys, &pack.name)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path), "{err}");
        // A chunk swapped for another one in the same pack does not open under the wrong id.
        let (a, b2) = (toc[0], toc[1]);
        let sealed_b =
            &pack.bytes[b2.offset as usize..(b2.offset + u64::from(b2.sealed_len)) as usize];
        assert!(open_chunk(&keys, &pack.name, &a, sealed_b, None).is_err());
    }

    #[test]
    fn a_reused_buffer_holds_nothing_of_the_pack_it_held_before() {
        let keys = MasterKeys::generate().unwrap();
        let fill = |mut b: PackBuilder, chunk: &[u8]| {
            let id = *blake3::hash(chunk).as_bytes();
            b.add(&keys, keys.remote_id(&id), false, chunk.len() as u32, chunk)
                .unwrap();
            b.finish(&keys).unwrap()
        };
        let old = fill(PackBuilder::new(), &vec![7; 50_000]);
        let reused = fill(PackBuilder::reusing(old.bytes, 1 << 20), &[9; 300]);
        let remote = Memory::new();
        remote
            .put(Kind::Pack, &reused.name, reused.bytes.clone().into())
            .unwrap();
        let toc = read_toc(&remote, &keys, &reused.name).unwrap();
        assert_eq!(toc, reused.entries);
        assert_eq!(toc.len(), 1);
        assert_eq!(reused.name, format::content_name(&reused.bytes));
        assert!(reused.bytes.len() < 1000, "the old pack's bytes are gone");
        assert!(reused.bytes.capacity() >= 1 << 20, "the room was kept");
    }
}
