//! Reading back: a `Read` over chunks named by their plaintext ids, each fetched with one
//! range request, opened, and checked against its id before a byte is handed out.

use std::io::{self, Read};

use super::error::{Error, Result};
use super::index::RemoteIndex;
use super::pack;
use super::remote::Kind;
use super::repo::Repo;

/// Fetches and verifies one chunk.
pub fn chunk(repo: &Repo, index: &RemoteIndex, plain_id: &[u8; 32]) -> Result<Vec<u8>> {
    let rid = repo.keys().remote_id(plain_id);
    let (pack_name, entry) = index.locate(&rid).ok_or_else(|| Error::ChunkLost {
        chunk: blake3::Hash::from_bytes(rid).to_hex().to_string(),
    })?;
    let sealed = match repo.remote().get_range(
        Kind::Pack,
        pack_name,
        entry.offset,
        u64::from(entry.sealed_len),
    ) {
        Ok(s) => s,
        Err(e) if e.kind == super::remote::ErrorKind::NotFound => {
            return Err(Error::corrupt(Kind::Pack.path(pack_name), "missing"));
        }
        Err(e) => return Err(e.into()),
    };
    if sealed.len() != entry.sealed_len as usize {
        return Err(Error::corrupt(
            Kind::Pack.path(pack_name),
            format!(
                "chunk at offset {} is cut short (pack truncated?)",
                entry.offset
            ),
        ));
    }
    pack::open_chunk(repo.keys(), pack_name, entry, &sealed, Some(plain_id))
}

/// The concatenation of chunks as a stream; holds one chunk in memory.
pub struct Chunks<'a> {
    repo: &'a Repo,
    index: &'a RemoteIndex,
    ids: std::vec::IntoIter<[u8; 32]>,
    current: Vec<u8>,
    pos: usize,
    /// The first failure, kept typed for the caller (the `io::Error` only carries text).
    pub failure: Option<Error>,
}

impl<'a> Chunks<'a> {
    /// A stream over `ids` in order.
    pub fn new(repo: &'a Repo, index: &'a RemoteIndex, ids: Vec<[u8; 32]>) -> Self {
        Self {
            repo,
            index,
            ids: ids.into_iter(),
            current: Vec::new(),
            pos: 0,
            failure: None,
        }
    }
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            let Some(id) = self.ids.next() else {
                return Ok(0);
            };
            match chunk(self.repo, self.index, &id) {
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
