//! What the remote holds: every chunk's pack and place, from the index objects plus the
//! tables of contents of packs no index names yet (left by an interrupted backup).

use std::collections::{HashMap, HashSet};

use super::error::Result;
use super::format::{self, Entry};
use super::pack;
use super::remote::Kind;
use super::repo::Repo;

/// The remote's chunks.
#[derive(Default)]
pub struct RemoteIndex {
    packs: Vec<String>,
    chunks: HashMap<[u8; 32], (u32, Entry)>,
    /// Packs found without an index object, with their contents: the next index names them.
    pub adopted: Vec<(String, Vec<Entry>)>,
    /// Packs whose table of contents could not be read (interrupted or damaged uploads):
    /// their chunks are uploaded again.
    pub unreadable: Vec<(String, String)>,
    /// Index objects read.
    pub index_objects: usize,
    /// Sizes of the packs listed on the remote.
    sizes: HashMap<String, u64>,
}

impl RemoteIndex {
    /// Reads every index object, then adopts packs no index names.
    pub fn load(repo: &Repo) -> Result<Self> {
        let mut index = Self::default();
        let mut named = HashSet::new();
        for listed in repo.remote().list(Kind::Index)? {
            let plain = repo.get_sealed(Kind::Index, &listed.name)?;
            let packs = format::decode_index(&plain)
                .map_err(|e| super::Error::corrupt(Kind::Index.path(&listed.name), e))?;
            for (name, entries) in packs {
                named.insert(name.clone());
                index.add_pack(name, &entries);
            }
            index.index_objects += 1;
        }
        for listed in repo.remote().list(Kind::Pack)? {
            index.sizes.insert(listed.name.clone(), listed.size);
            if named.contains(&listed.name) {
                continue;
            }
            match pack::read_toc(repo.remote().as_ref(), repo.keys(), &listed.name) {
                Ok(entries) => {
                    index.add_pack(listed.name.clone(), &entries);
                    index.adopted.push((listed.name, entries));
                }
                Err(e) => index.unreadable.push((listed.name, e.to_string())),
            }
        }
        Ok(index)
    }

    /// Records a pack's chunks.
    pub fn add_pack(&mut self, name: String, entries: &[Entry]) {
        let n = u32::try_from(self.packs.len()).unwrap_or(u32::MAX);
        self.packs.push(name);
        for e in entries {
            self.chunks.entry(e.id).or_insert((n, *e));
        }
    }

    /// True when a chunk with this remote id is stored.
    pub fn contains(&self, remote_id: &[u8; 32]) -> bool {
        self.chunks.contains_key(remote_id)
    }

    /// The pack and entry of a chunk.
    pub fn locate(&self, remote_id: &[u8; 32]) -> Option<(&str, &Entry)> {
        let (p, e) = self.chunks.get(remote_id)?;
        Some((self.packs.get(*p as usize)?.as_str(), e))
    }

    /// Size of a pack as listed, when it was.
    pub fn pack_size(&self, name: &str) -> Option<u64> {
        self.sizes.get(name).copied()
    }

    /// Chunks known.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// True when the remote holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Packs known.
    pub fn pack_count(&self) -> usize {
        self.packs.len()
    }

    /// Every pack name with its chunk count.
    pub fn packs(&self) -> &[String] {
        &self.packs
    }
}
