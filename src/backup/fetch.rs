//! Reading back: a `Read` over chunks named by their plaintext ids, each opened and checked
//! against its id before a byte is handed out. Chunks of a file sit one after the other in
//! a pack, so reads go through a window of the pack ([`WINDOW`]) instead of one request per
//! chunk: far fewer requests, each large.

use std::cell::RefCell;
use std::io::{self, Read};

use super::error::{Error, Result};
use super::format::{Entry, StreamReader, StreamRecord};
use super::index::RemoteIndex;
use super::pack;
use super::remote::{ErrorKind, Kind};
use super::repo::Repo;
use super::snapshot::Snapshot;

/// Bytes fetched per range request when reading a pack front to back.
pub const WINDOW: u64 = 8 * 1024 * 1024;

/// Fetches chunks for one reader thread, keeping the last pack window.
pub struct Fetcher<'a> {
    repo: &'a Repo,
    index: &'a RemoteIndex,
    /// Pack name, start offset, bytes.
    window: RefCell<Option<(String, u64, Vec<u8>)>>,
}

impl<'a> Fetcher<'a> {
    /// A fetcher over `index`.
    pub fn new(repo: &'a Repo, index: &'a RemoteIndex) -> Self {
        Self {
            repo,
            index,
            window: RefCell::new(None),
        }
    }

    /// Fetches and verifies one chunk.
    pub fn chunk(&self, plain_id: &[u8; 32]) -> Result<Vec<u8>> {
        let rid = self.repo.keys().remote_id(plain_id);
        let (pack_name, entry) = self.index.locate(&rid).ok_or_else(|| Error::ChunkLost {
            chunk: blake3::Hash::from_bytes(rid).to_hex().to_string(),
        })?;
        let sealed = self.sealed(pack_name, entry)?;
        pack::open_chunk(self.repo.keys(), pack_name, entry, &sealed, Some(plain_id))
    }

    fn sealed(&self, pack_name: &str, entry: &Entry) -> Result<Vec<u8>> {
        let len = u64::from(entry.sealed_len);
        let end = entry.offset.saturating_add(len);
        let mut window = self.window.borrow_mut();
        let hit = window.as_ref().and_then(|(name, start, bytes)| {
            let from = usize::try_from(entry.offset.checked_sub(*start)?).ok()?;
            let to = from.checked_add(usize::try_from(len).ok()?)?;
            (name == pack_name)
                .then(|| bytes.get(from..to))
                .flatten()
                .map(<[u8]>::to_vec)
        });
        if let Some(bytes) = hit {
            return Ok(bytes);
        }
        let mut want = len.max(WINDOW);
        if let Some(size) = self.index.pack_size(pack_name) {
            want = want.min(size.saturating_sub(entry.offset)).max(len);
        }
        let bytes = match self
            .repo
            .remote()
            .get_range(Kind::Pack, pack_name, entry.offset, want)
        {
            Ok(s) => s,
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Err(Error::corrupt(Kind::Pack.path(pack_name), "missing"));
            }
            Err(e) => return Err(e.into()),
        };
        if (bytes.len() as u64) < len || end < entry.offset {
            return Err(Error::corrupt(
                Kind::Pack.path(pack_name),
                format!(
                    "chunk at offset {} is cut short (pack truncated?)",
                    entry.offset
                ),
            ));
        }
        let sealed = bytes.get(..len as usize).unwrap_or_default().to_vec();
        *window = Some((pack_name.to_string(), entry.offset, bytes));
        Ok(sealed)
    }
}

/// The concatenation of chunks as a stream; holds one chunk in memory.
pub struct Chunks<'f, 'a> {
    fetcher: &'f Fetcher<'a>,
    ids: std::vec::IntoIter<[u8; 32]>,
    current: Vec<u8>,
    pos: usize,
    /// The first failure, kept typed for the caller (the `io::Error` only carries text).
    pub failure: Option<Error>,
}

impl<'f, 'a> Chunks<'f, 'a> {
    /// A stream over `ids` in order.
    pub fn new(fetcher: &'f Fetcher<'a>, ids: Vec<[u8; 32]>) -> Self {
        Self {
            fetcher,
            ids: ids.into_iter(),
            current: Vec::new(),
            pos: 0,
            failure: None,
        }
    }
}

impl Read for Chunks<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            let Some(id) = self.ids.next() else {
                return Ok(0);
            };
            match self.fetcher.chunk(&id) {
                Ok(bytes) => {
                    self.current = bytes;
                    self.pos = 0;
                }
                Err(e) => {
                    let message = e.to_string();
                    self.failure = Some(e);
                    return Err(io::Error::other(message));
                }
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

/// Whether a walk of the catalog stream goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Read the next record.
    On,
    /// Stop here (what was wanted has been seen).
    Stop,
}

/// Walks the catalog stream of `snap` record by record (files first, then the catalog rows
/// table by table), holding one record at a time. A failed fetch keeps its own error (a
/// pack named, or the network); a stream that does not parse is an error naming the snapshot.
pub fn walk(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    mut each: impl FnMut(StreamRecord) -> Result<Walk>,
) -> Result<()> {
    let object = Kind::Snapshot.path(&snap.name);
    let ids = snap.body.stream.iter().map(|(id, _)| *id).collect();
    let fetcher = Fetcher::new(repo, index);
    let mut stream = Chunks::new(&fetcher, ids);
    let failed = |failure: Option<Error>, e: io::Error| {
        failure.unwrap_or_else(|| Error::corrupt(&object, format!("catalog stream: {e}")))
    };
    let mut reader = match StreamReader::new(&mut stream) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(Error::corrupt(&object, e)),
        Err(e) => return Err(failed(stream.failure.take(), e)),
    };
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                if each(record)? == Walk::Stop {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => return Err(failed(stream.failure.take(), e)),
        }
    }
}

/// Walks the catalog stream of `snap`, calling `each` with the chunk list (plaintext ids) of
/// every file it names.
pub fn for_each_file(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    mut each: impl FnMut(&[[u8; 32]]) -> Result<()>,
) -> Result<()> {
    walk(repo, index, snap, |record| {
        if let StreamRecord::File { chunks, .. } = record {
            each(&chunks)?;
        }
        Ok(Walk::On)
    })
}
