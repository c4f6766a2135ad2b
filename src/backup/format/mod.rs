//! The remote format, version 1: every object's bytes. Also in `docs/remote-format.md`.
//!
//! All integers little-endian, fixed width. "sealed(X, aad)" is `nonce(24) ‖ ciphertext ‖
//! tag(16)` of XChaCha20-Poly1305 under the repository's encryption key (see `crypto.rs`).
//!
//! ```text
//! object header (8 bytes, starts every object)
//!   0 3 magic "SBX"   3 1 format version = 1   4 1 kind   5 3 reserved, 0
//!   kinds: 1 config, 2 key, 3 pack, 4 index, 5 snapshot, 6 mark, 7 lease
//! config                       (name: "config")
//!   header ‖ repository id (32 random bytes)
//! key                          (name: keys/<hex blake3 of the object>)
//!   0  8 header
//!   8  1 key kind: 1 passphrase, 2 recovery key
//!   9  1 kdf: 1 = argon2id v0x13
//!  10  2 reserved, 0
//!  12  4 memory KiB   16 4 iterations   20 4 parallelism
//!  24 32 salt
//!  56  8 created, unix seconds
//!  64  2 label length L, then L bytes of UTF-8 label
//!  ..    sealed(master keys: encrypt 32 ‖ id-mac 32 ‖ chunker 32, aad = all bytes before it)
//!        under argon2id(secret, salt) instead of the encryption key
//! pack                         (name: packs/<hex blake3 of the object>)
//!   header ‖ chunk* ‖ sealed(toc, aad = "toc") ‖ toc length u32 ‖ "SBXT"
//!   chunk = sealed(compression u8 (0 none, 1 zstd) ‖ bytes, aad = remote id)
//!   toc   = count u32 ‖ entry*;  entry (48) = remote id 32 ‖ offset u64 ‖ sealed length u32
//!                                            ‖ plaintext length u32
//! index                        (name: index/<hex blake3 of the object>)
//!   header ‖ sealed(packs u32 ‖ (pack id 32 ‖ count u32 ‖ entry*)*, aad = header)
//! snapshot                     (name: snapshots/<hex blake3 of the object>)
//!   header ‖ sealed(body, aad = header); body =
//!   time i64 ‖ host (u16 length ‖ UTF-8) ‖ files u64 ‖ bytes u64 ‖ assets u64
//!   ‖ stream length u64 ‖ count u32 ‖ (chunk plain id 32 ‖ length u32)*
//! mark                         (name: marks/<hex blake3 of the object>; see `upkeep.rs`)
//!   header ‖ sealed(time i64 ‖ count u32 ‖ (kind u8 ‖ object id 32)*, aad = header)
//! lease                        (name: leases/<hex box id>; see `upkeep.rs`)
//!   header ‖ sealed(box id 16 ‖ time i64 ‖ until i64 ‖ action u8 ‖ host (u16 ‖ UTF-8),
//!   aad = header)
//! ```
//!
//! The snapshot's stream is the catalog at that moment, cut into content-defined chunks
//! (seeded by the chunker key) stored in packs like file chunks, so an unchanged catalog
//! costs no upload. Stream: "SBXS" ‖ version u16 = 1 ‖ reserved u16 ‖ record* ‖ 0u8, records
//! `1 ‖ blob id 32 ‖ size u64 ‖ refs u32 ‖ count u32 ‖ chunk plain id 32 * count` (a file) and
//! `2 ‖ table u8 ‖ key (u32 length ‖ bytes) ‖ value (u32 length ‖ bytes)` (a catalog row).
//!
//! A chunk's remote id is `blake3::keyed_hash(id-mac key, blake3(plaintext))`. Names of
//! packs, index and snapshot objects are the plain blake3 of their bytes, checked on read.
//! A reader refuses a newer format version; a new layout gets a new version and fixture.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod upkeep;

pub use upkeep::{Lease, LeaseAction, Mark, decode_lease, decode_mark, encode_lease, encode_mark};

use super::crypto::KdfParams;
use super::remote::Kind;

/// Format version written and read.
pub const VERSION: u8 = 1;
/// Object header length.
pub const HEADER_LEN: usize = 8;
/// Pack trailer: toc length u32 ‖ "SBXT".
pub const TRAILER_LEN: usize = 8;
/// Bytes per table-of-contents entry.
pub const ENTRY_LEN: usize = 48;
const MAGIC: &[u8; 3] = b"SBX";
const TRAILER_MAGIC: &[u8; 4] = b"SBXT";
const STREAM_MAGIC: &[u8; 4] = b"SBXS";

/// A malformed object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

fn bad(what: impl Into<String>) -> FormatError {
    FormatError(what.into())
}

/// Result of parsing.
pub type Result<T> = std::result::Result<T, FormatError>;

fn kind_byte(kind: Kind) -> u8 {
    match kind {
        Kind::Config => 1,
        Kind::Key => 2,
        Kind::Pack => 3,
        Kind::Index => 4,
        Kind::Snapshot => 5,
        Kind::Mark => 6,
        Kind::Lease => 7,
        // Probe objects are plain text, never given a header; 0 is no kind.
        Kind::Probe => 0,
    }
}

/// The 8-byte header of an object of `kind`.
pub fn header(kind: Kind) -> [u8; HEADER_LEN] {
    [b'S', b'B', b'X', VERSION, kind_byte(kind), 0, 0, 0]
}

/// Checks an object's header; returns the rest.
pub fn check_header(kind: Kind, bytes: &[u8]) -> Result<&[u8]> {
    let (head, rest) = bytes
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| bad("shorter than its header"))?;
    if head.get(..3) != Some(MAGIC.as_slice()) {
        return Err(bad("not a shoebox backup object (bad magic)"));
    }
    let version = head.get(3).copied().unwrap_or(0);
    if version > VERSION {
        return Err(bad(format!(
            "format version {version} is newer than this binary reads ({VERSION}); update shoebox"
        )));
    }
    if version == 0 {
        return Err(bad("format version 0"));
    }
    if head.get(4).copied() != Some(kind_byte(kind)) {
        return Err(bad(format!("not a {kind} object")));
    }
    Ok(rest)
}

/// Hex name of an object whose name is the blake3 of its bytes.
pub fn content_name(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Reads fixed-width fields from a slice, never past its end.
pub struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// Starts at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or_else(|| bad("truncated"))?;
        self.rest = rest;
        Ok(head)
    }
    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| bad("truncated"))
    }
    /// A byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    /// A u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    /// A u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// A u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// An i64.
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
    /// True at the end.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// Where a chunk sits in a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Keyed id of the chunk.
    pub id: [u8; 32],
    /// Offset of its sealed bytes in the pack.
    pub offset: u64,
    /// Length of its sealed bytes.
    pub sealed_len: u32,
    /// Plaintext length (after decompression).
    pub raw_len: u32,
}

impl Entry {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.sealed_len.to_le_bytes());
        out.extend_from_slice(&self.raw_len.to_le_bytes());
    }
    fn read(c: &mut Cursor<'_>) -> Result<Self> {
        Ok(Self {
            id: c.array()?,
            offset: c.u64()?,
            sealed_len: c.u32()?,
            raw_len: c.u32()?,
        })
    }
}

/// Encodes a table of contents.
pub fn encode_toc(entries: &[Entry]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(4usize.saturating_add(entries.len().saturating_mul(ENTRY_LEN)));
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        e.write(&mut out);
    }
    out
}

/// Decodes a table of contents.
pub fn decode_toc(bytes: &[u8]) -> Result<Vec<Entry>> {
    let mut c = Cursor::new(bytes);
    let n = c.u32()? as usize;
    if n.saturating_mul(ENTRY_LEN) != c.rest().len() {
        return Err(bad("table of contents length does not match its count"));
    }
    (0..n).map(|_| Entry::read(&mut c)).collect()
}

/// The sealed toc's length from a pack's last 8 bytes.
pub fn parse_trailer(tail: &[u8]) -> Result<u32> {
    let mut c = Cursor::new(tail);
    let len = c.u32()?;
    if c.take(4)? != TRAILER_MAGIC {
        return Err(bad("pack trailer missing (truncated pack?)"));
    }
    Ok(len)
}

/// The pack trailer for a sealed toc of `len` bytes.
pub fn trailer(len: u32) -> [u8; TRAILER_LEN] {
    let mut out = [0u8; TRAILER_LEN];
    let (a, b) = out.split_at_mut(4);
    a.copy_from_slice(&len.to_le_bytes());
    b.copy_from_slice(TRAILER_MAGIC);
    out
}

/// Encodes the plaintext of an index object.
pub fn encode_index(packs: &[(String, Vec<Entry>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
    for (name, entries) in packs {
        let id = blake3::Hash::from_hex(name).map_err(|_| bad(format!("pack name {name}")))?;
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for e in entries {
            e.write(&mut out);
        }
    }
    Ok(out)
}

/// Decodes the plaintext of an index object.
pub fn decode_index(bytes: &[u8]) -> Result<Vec<(String, Vec<Entry>)>> {
    let mut c = Cursor::new(bytes);
    let packs = c.u32()?;
    let mut out = Vec::new();
    for _ in 0..packs {
        let id: [u8; 32] = c.array()?;
        let n = c.u32()?;
        let entries = (0..n)
            .map(|_| Entry::read(&mut c))
            .collect::<Result<Vec<_>>>()?;
        out.push((blake3::Hash::from_bytes(id).to_hex().to_string(), entries));
    }
    if !c.is_empty() {
        return Err(bad("trailing bytes in index"));
    }
    Ok(out)
}

/// What a snapshot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotBody {
    /// Unix seconds when it was taken.
    pub time: i64,
    /// Name of the box that took it.
    pub host: String,
    /// Distinct files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Assets in the catalog.
    pub assets: u64,
    /// Length of the catalog stream.
    pub stream_len: u64,
    /// The stream's chunks: plaintext blake3 and length.
    pub stream: Vec<([u8; 32], u32)>,
}

/// Encodes a snapshot body.
pub fn encode_snapshot(s: &SnapshotBody) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&s.time.to_le_bytes());
    let host = s
        .host
        .as_bytes()
        .get(..usize::from(u16::MAX))
        .unwrap_or(s.host.as_bytes());
    out.extend_from_slice(&(host.len() as u16).to_le_bytes());
    out.extend_from_slice(host);
    for v in [s.files, s.bytes, s.assets, s.stream_len] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(s.stream.len() as u32).to_le_bytes());
    for (id, len) in &s.stream {
        out.extend_from_slice(id);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
}

/// Decodes a snapshot body.
pub fn decode_snapshot(bytes: &[u8]) -> Result<SnapshotBody> {
    let mut c = Cursor::new(bytes);
    let time = c.i64()?;
    let host_len = c.u16()?;
    let host = String::from_utf8_lossy(c.take(usize::from(host_len))?).into_owned();
    let (files, bytes_total, assets, stream_len) = (c.u64()?, c.u64()?, c.u64()?, c.u64()?);
    let n = c.u32()?;
    let stream = (0..n)
        .map(|_| Ok((c.array()?, c.u32()?)))
        .collect::<Result<Vec<_>>>()?;
    if !c.is_empty() {
        return Err(bad("trailing bytes in snapshot"));
    }
    Ok(SnapshotBody {
        time,
        host,
        files,
        bytes: bytes_total,
        assets,
        stream_len,
        stream,
    })
}

/// A key object's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyObject {
    /// Passphrase or recovery key.
    pub recovery: bool,
    /// argon2id cost.
    pub kdf: KdfParams,
    /// argon2id salt.
    pub salt: [u8; 32],
    /// Unix seconds.
    pub created: i64,
    /// A human label ("passphrase", "recovery key", "laptop").
    pub label: String,
    /// The sealed master keys.
    pub wrapped: Vec<u8>,
}

/// The bytes of a key object before its sealed part (also its AAD).
pub fn key_prefix(k: &KeyObject) -> Vec<u8> {
    let mut out = header(Kind::Key).to_vec();
    out.push(if k.recovery { 2 } else { 1 });
    out.push(1);
    out.extend_from_slice(&[0, 0]);
    for v in [k.kdf.memory_kib, k.kdf.iterations, k.kdf.parallelism] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&k.salt);
    out.extend_from_slice(&k.created.to_le_bytes());
    let label = k.label.as_bytes().get(..256).unwrap_or(k.label.as_bytes());
    out.extend_from_slice(&(label.len() as u16).to_le_bytes());
    out.extend_from_slice(label);
    out
}

/// Encodes a whole key object.
pub fn encode_key(k: &KeyObject) -> Vec<u8> {
    let mut out = key_prefix(k);
    out.extend_from_slice(&k.wrapped);
    out
}

/// Decodes a key object; returns it and the length of its prefix (the AAD).
pub fn decode_key(bytes: &[u8]) -> Result<(KeyObject, usize)> {
    let rest = check_header(Kind::Key, bytes)?;
    let mut c = Cursor::new(rest);
    let recovery = match c.u8()? {
        1 => false,
        2 => true,
        k => return Err(bad(format!("unknown key kind {k}"))),
    };
    if c.u8()? != 1 {
        return Err(bad("unknown key derivation function"));
    }
    c.take(2)?;
    let kdf = KdfParams {
        memory_kib: c.u32()?,
        iterations: c.u32()?,
        parallelism: c.u32()?,
    };
    let salt = c.array()?;
    let created = c.i64()?;
    let label_len = c.u16()?;
    let label = String::from_utf8_lossy(c.take(usize::from(label_len))?).into_owned();
    let prefix_len = bytes.len().saturating_sub(c.rest().len());
    Ok((
        KeyObject {
            recovery,
            kdf,
            salt,
            created,
            label,
            wrapped: c.rest().to_vec(),
        },
        prefix_len,
    ))
}

/// One record of the catalog stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRecord {
    /// A stored file.
    File {
        /// blake3 of the whole file.
        blob: [u8; 32],
        /// Size.
        size: u64,
        /// Library references to it.
        refs: u32,
        /// Chunk plaintext ids in order.
        chunks: Vec<[u8; 32]>,
    },
    /// A catalog table row.
    Row {
        /// Which table.
        table: u8,
        /// Key bytes.
        key: Vec<u8>,
        /// Value bytes.
        value: Vec<u8>,
    },
}

/// The stream's first 8 bytes.
pub fn stream_header() -> [u8; 8] {
    let mut out = [0u8; 8];
    let (a, b) = out.split_at_mut(4);
    a.copy_from_slice(STREAM_MAGIC);
    b.copy_from_slice(&[1, 0, 0, 0]);
    out
}

/// Appends one record.
pub fn write_record(r: &StreamRecord, out: &mut Vec<u8>) {
    match r {
        StreamRecord::File {
            blob,
            size,
            refs,
            chunks,
        } => {
            out.push(1);
            out.extend_from_slice(blob);
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&refs.to_le_bytes());
            out.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
            for c in chunks {
                out.extend_from_slice(c);
            }
        }
        StreamRecord::Row { table, key, value } => {
            out.push(2);
            out.push(*table);
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
        }
    }
}

/// Reads records from a byte source (the reassembled stream, fed chunk by chunk).
pub struct StreamReader<R> {
    inner: R,
}

impl<R: std::io::Read> StreamReader<R> {
    /// Checks the stream header.
    pub fn new(mut inner: R) -> std::io::Result<Result<Self>> {
        let mut h = [0u8; 8];
        inner.read_exact(&mut h)?;
        if h.get(..4) != Some(STREAM_MAGIC.as_slice()) {
            return Ok(Err(bad("catalog stream: bad magic")));
        }
        if h.get(4).copied() != Some(1) {
            return Ok(Err(bad("catalog stream: unknown version")));
        }
        Ok(Ok(Self { inner }))
    }

    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.inner.read_exact(&mut b)?;
        Ok(b)
    }

    fn bytes(&mut self) -> std::io::Result<Vec<u8>> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        if len > 64 << 20 {
            return Err(std::io::Error::other("catalog record too large"));
        }
        let mut v = vec![0u8; len];
        self.inner.read_exact(&mut v)?;
        Ok(v)
    }

    /// The next record, or `None` at the end marker.
    pub fn next_record(&mut self) -> std::io::Result<Option<StreamRecord>> {
        match self.array::<1>()?[0] {
            0 => Ok(None),
            1 => {
                let blob = self.array()?;
                let size = u64::from_le_bytes(self.array()?);
                let refs = u32::from_le_bytes(self.array()?);
                let n = u32::from_le_bytes(self.array()?);
                if n > 1 << 24 {
                    return Err(std::io::Error::other("catalog record too large"));
                }
                let chunks = (0..n)
                    .map(|_| self.array())
                    .collect::<std::io::Result<_>>()?;
                Ok(Some(StreamRecord::File {
                    blob,
                    size,
                    refs,
                    chunks,
                }))
            }
            2 => {
                let table = self.array::<1>()?[0];
                let key = self.bytes()?;
                let value = self.bytes()?;
                Ok(Some(StreamRecord::Row { table, key, value }))
            }
            t => Err(std::io::Error::other(format!(
                "catalog stream: record tag {t}"
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn entry(i: u8) -> Entry {
        Entry {
            id: [i; 32],
            offset: u64::from(i) * 1000,
            sealed_len: 77,
            raw_len: 33,
        }
    }

    #[test]
    fn headers_name_their_kind_and_refuse_newer_versions() {
        let h = header(Kind::Pack);
        assert_eq!(&h, b"SBX\x01\x03\0\0\0");
        assert!(check_header(Kind::Pack, &h).is_ok());
        assert!(check_header(Kind::Index, &h).is_err());
        let mut newer = h;
        newer[3] = 2;
        assert!(
            check_header(Kind::Pack, &newer)
                .unwrap_err()
                .0
                .contains("newer")
        );
        assert!(check_header(Kind::Pack, &h[..5]).is_err());
    }

    #[test]
    fn toc_index_snapshot_key_round_trip() {
        let entries = vec![entry(1), entry(2)];
        assert_eq!(decode_toc(&encode_toc(&entries)).unwrap(), entries);
        assert!(decode_toc(&encode_toc(&entries)[..50]).is_err());
        let name = content_name(b"pack");
        let index = vec![(name, entries)];
        assert_eq!(decode_index(&encode_index(&index).unwrap()).unwrap(), index);
        let snap = SnapshotBody {
            time: 1_700_000_000,
            host: "attic".into(),
            files: 3,
            bytes: 9,
            assets: 2,
            stream_len: 100,
            stream: vec![([9; 32], 100)],
        };
        assert_eq!(decode_snapshot(&encode_snapshot(&snap)).unwrap(), snap);
        let key = KeyObject {
            recovery: true,
            kdf: KdfParams::default(),
            salt: [3; 32],
            created: 5,
            label: "recovery key".into(),
            wrapped: vec![1, 2, 3],
        };
        let (back, prefix) = decode_key(&encode_key(&key)).unwrap();
        assert_eq!(back, key);
        assert_eq!(prefix, key_prefix(&key).len());
        assert_eq!(parse_trailer(&trailer(1234)).unwrap(), 1234);
        assert!(parse_trailer(b"\0\0\0\0SBXX").is_err());
    }

    #[test]
    fn stream_records_round_trip() {
        let records = vec![
            StreamRecord::File {
                blob: [1; 32],
                size: 10,
                refs: 2,
                chunks: vec![[2; 32], [3; 32]],
            },
            StreamRecord::Row {
                table: 4,
                key: b"k".to_vec(),
                value: b"value".to_vec(),
            },
        ];
        let mut bytes = stream_header().to_vec();
        for r in &records {
            write_record(r, &mut bytes);
        }
        bytes.push(0);
        let mut reader = StreamReader::new(bytes.as_slice()).unwrap().unwrap();
        let mut back = Vec::new();
        while let Some(r) = reader.next_record().unwrap() {
            back.push(r);
        }
        assert_eq!(back, records);
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..200usize {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let _ = decode_toc(&junk);
            let _ = decode_index(&junk);
            let _ = decode_snapshot(&junk);
            let _ = decode_key(&junk);
            let _ = parse_trailer(&junk);
            if let Ok(Ok(mut r)) = StreamReader::new(junk.as_slice()) {
                while let Ok(Some(_)) = r.next_record() {}
            }
        }
    }
}
