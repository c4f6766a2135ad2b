//! `check` (is every reference resolvable, are the counts right) and `check --read-data`
//! (re-hash every stored byte), plus the inventory of files on disk that both GC and check use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use redb::{ReadTransaction, ReadableDatabase, ReadableTable};

use super::error::Result;
use super::index::{BLOBS, BlobEntry, CHUNKS, ChunkEntry, PACKS, PackEntry, PackState};
use super::pack::{RecordKind, pack_path, read_header, read_pack_header, read_record};
use super::{BlobId, ChunkId, PackId, Store};

/// One thing wrong with the store. Each names what a user would lose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// A pack file the index needs is gone or shorter than committed.
    PackUnreadable {
        /// The pack.
        pack: PackId,
        /// Why.
        what: String,
    },
    /// A blob names a chunk the index does not have.
    ChunkMissing {
        /// The chunk.
        chunk: ChunkId,
        /// Files that need it.
        blobs: Vec<BlobId>,
    },
    /// A chunk's record is damaged or its bytes no longer match its id.
    ChunkCorrupt {
        /// The chunk.
        chunk: ChunkId,
        /// Where it is.
        pack: PackId,
        /// Offset of the record.
        offset: u64,
        /// What is wrong.
        what: String,
        /// Files that need it.
        blobs: Vec<BlobId>,
    },
    /// A blob's manifest record does not match the index.
    ManifestCorrupt {
        /// The blob.
        blob: BlobId,
        /// What is wrong.
        what: String,
    },
    /// A chunk's use count differs from the blobs that use it (would free it too early or never).
    RefcountWrong {
        /// The chunk.
        chunk: ChunkId,
        /// As recorded.
        recorded: u32,
        /// As counted from blob chunk lists.
        counted: u32,
    },
}

impl Damage {
    /// Files affected by this damage.
    pub fn blobs(&self) -> &[BlobId] {
        match self {
            Self::ChunkMissing { blobs, .. } | Self::ChunkCorrupt { blobs, .. } => blobs,
            Self::ManifestCorrupt { blob, .. } => std::slice::from_ref(blob),
            _ => &[],
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PackUnreadable { pack, what } => write!(f, "pack {pack} unreadable: {what}"),
            Self::ChunkMissing { chunk, blobs } => write!(
                f,
                "chunk {chunk} missing (needed by {} file(s))",
                blobs.len()
            ),
            Self::ChunkCorrupt {
                chunk,
                pack,
                offset,
                what,
                blobs,
            } => {
                write!(
                    f,
                    "chunk {chunk} in pack {pack} at {offset} is corrupt: {what} (needed by {} file(s))",
                    blobs.len()
                )
            }
            Self::ManifestCorrupt { blob, what } => {
                write!(f, "file list of blob {blob} is corrupt: {what}")
            }
            Self::RefcountWrong {
                chunk,
                recorded,
                counted,
            } => {
                write!(
                    f,
                    "chunk {chunk} use count is {recorded}, blobs use it {counted} time(s)"
                )
            }
        }
    }
}

/// What `check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Packs examined.
    pub packs: u64,
    /// Chunks examined.
    pub chunks: u64,
    /// Blobs examined.
    pub blobs: u64,
    /// Bytes re-read and re-hashed (read-data only).
    pub bytes_verified: u64,
    /// Problems: any entry means data is at risk.
    pub damage: Vec<Damage>,
    /// Harmless leftovers (bytes a crash left behind), reclaimable by `gc`.
    pub leftovers: Vec<String>,
}

impl CheckReport {
    /// True when nothing is damaged.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty()
    }
}

/// Pack files present on disk, by id.
pub(crate) fn pack_files(packs_dir: &Path) -> BTreeMap<PackId, PathBuf> {
    let mut out = BTreeMap::new();
    let Ok(dirs) = std::fs::read_dir(packs_dir) else {
        return out;
    };
    for dir in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name();
            let id = name
                .to_str()
                .and_then(|n| n.strip_suffix(".pack"))
                .and_then(|h| u64::from_str_radix(h, 16).ok());
            if let Some(id) = id {
                out.insert(PackId(id), f.path());
            }
        }
    }
    out
}

impl Store {
    /// Checks structure; with `read_data`, also re-reads and re-hashes every chunk.
    pub fn check(&self, read_data: bool) -> Result<CheckReport> {
        let txn = self.db.begin_read()?;
        let mut report = CheckReport::default();
        let packs = self.check_packs(&txn, &mut report)?;
        let chunks = txn.open_table(CHUNKS)?;
        let mut counted: HashMap<ChunkId, u32> = HashMap::new();
        let mut missing: BTreeMap<ChunkId, Vec<BlobId>> = BTreeMap::new();
        let mut files: HashMap<PackId, File> = HashMap::new();
        for row in txn.open_table(BLOBS)?.iter()? {
            let (k, v) = row?;
            let blob = BlobId(*k.value());
            let entry = BlobEntry::decode(v.value())?;
            report.blobs += 1;
            for id in &entry.chunks {
                *counted.entry(*id).or_default() += 1;
                if chunks.get(&id.0)?.is_none() {
                    missing.entry(*id).or_default().push(blob);
                }
            }
            if let Some(what) = self.manifest_problem(&mut files, &packs, blob, &entry) {
                report.damage.push(Damage::ManifestCorrupt { blob, what });
            }
        }
        for (chunk, blobs) in missing {
            report.damage.push(Damage::ChunkMissing { chunk, blobs });
        }
        let mut corrupt: Vec<(ChunkId, ChunkEntry, String)> = Vec::new();
        let mut by_location: Vec<(PackId, u64, ChunkId)> = Vec::new();
        for row in chunks.iter()? {
            let (k, v) = row?;
            let id = ChunkId(*k.value());
            let entry = ChunkEntry::decode(v.value())?;
            report.chunks += 1;
            let counted = counted.get(&id).copied().unwrap_or(0);
            if counted != entry.refs {
                report.damage.push(Damage::RefcountWrong {
                    chunk: id,
                    recorded: entry.refs,
                    counted,
                });
            }
            if let Some(what) = self.location_problem(&mut files, &packs, id, &entry) {
                corrupt.push((id, entry, what));
            } else if read_data {
                by_location.push((entry.pack, entry.offset, id));
            }
        }
        if read_data {
            by_location.sort_unstable();
            for (pack, offset, id) in by_location {
                let Some(file) = open_pack(&mut files, &self.packs_dir, pack) else {
                    continue;
                };
                match read_record(file, pack, offset) {
                    Ok((_, plain)) => report.bytes_verified += plain.len() as u64,
                    Err(e) => {
                        let entry = super::index::get_chunk(&chunks, &id)?;
                        if let Some(entry) = entry {
                            corrupt.push((id, entry, e.to_string()));
                        }
                    }
                }
            }
        }
        self.name_victims(&txn, corrupt, &mut report)?;
        Ok(report)
    }

    fn check_packs(
        &self,
        txn: &ReadTransaction,
        report: &mut CheckReport,
    ) -> Result<BTreeMap<PackId, PackEntry>> {
        let mut packs = BTreeMap::new();
        for row in txn.open_table(PACKS)?.iter()? {
            let (k, v) = row?;
            packs.insert(PackId(k.value()), PackEntry::decode(v.value())?);
        }
        let on_disk = pack_files(&self.packs_dir);
        for (id, entry) in &packs {
            report.packs += 1;
            if matches!(entry.state, PackState::Retired(_)) {
                continue;
            }
            let path = pack_path(&self.packs_dir, *id);
            let problem = match std::fs::metadata(&path) {
                Err(e) => Some(format!("{}: {e}", path.display())),
                Ok(m) if m.len() < entry.len => Some(format!(
                    "{} bytes on disk, {} committed",
                    m.len(),
                    entry.len
                )),
                Ok(m) => {
                    if m.len() > entry.len {
                        report.leftovers.push(format!(
                            "pack {id}: {} bytes after the last commit",
                            m.len() - entry.len
                        ));
                    }
                    File::open(&path)
                        .ok()
                        .and_then(|mut f| read_pack_header(&mut f, &path).err())
                        .map(|e| e.to_string())
                }
            };
            if let Some(what) = problem {
                report
                    .damage
                    .push(Damage::PackUnreadable { pack: *id, what });
            }
        }
        for id in on_disk.keys().filter(|id| !packs.contains_key(id)) {
            report
                .leftovers
                .push(format!("pack file {id} is not in the index"));
        }
        Ok(packs)
    }

    /// Where a chunk's location disagrees with its pack; `None` when it looks right.
    fn location_problem(
        &self,
        files: &mut HashMap<PackId, File>,
        packs: &BTreeMap<PackId, PackEntry>,
        id: ChunkId,
        e: &ChunkEntry,
    ) -> Option<String> {
        let Some(pack) = packs.get(&e.pack) else {
            return Some("its pack is not in the index".into());
        };
        if matches!(pack.state, PackState::Retired(_)) {
            return Some("its pack was retired".into());
        }
        if e.offset.saturating_add(e.record_len()) > pack.len {
            return Some("record lies past the pack's committed end".into());
        }
        let file = open_pack(files, &self.packs_dir, e.pack)?;
        match read_header(file, e.pack, e.offset) {
            Ok(h)
                if h.kind == RecordKind::Chunk
                    && h.id == id.0
                    && h.stored_len == e.stored_len
                    && h.raw_len == e.raw_len =>
            {
                None
            }
            Ok(_) => Some("record header does not match the index".into()),
            Err(err) => Some(err.to_string()),
        }
    }

    fn manifest_problem(
        &self,
        files: &mut HashMap<PackId, File>,
        packs: &BTreeMap<PackId, PackEntry>,
        blob: BlobId,
        e: &BlobEntry,
    ) -> Option<String> {
        let (pack, offset) = e.manifest;
        if packs
            .get(&pack)
            .is_none_or(|p| matches!(p.state, PackState::Retired(_)) || offset >= p.len)
        {
            return Some("manifest location is outside committed packs".into());
        }
        let file = open_pack(files, &self.packs_dir, pack)?;
        match read_header(file, pack, offset) {
            Ok(h) if h.kind == RecordKind::Manifest && h.id == blob.0 => None,
            Ok(_) => Some("manifest header does not match".into()),
            Err(err) => Some(err.to_string()),
        }
    }

    /// Turns corrupt chunks into damage entries naming the blobs that need them.
    fn name_victims(
        &self,
        txn: &ReadTransaction,
        corrupt: Vec<(ChunkId, ChunkEntry, String)>,
        report: &mut CheckReport,
    ) -> Result<()> {
        if corrupt.is_empty() {
            return Ok(());
        }
        let wanted: BTreeSet<ChunkId> = corrupt.iter().map(|c| c.0).collect();
        let mut users: BTreeMap<ChunkId, Vec<BlobId>> = BTreeMap::new();
        for row in txn.open_table(BLOBS)?.iter()? {
            let (k, v) = row?;
            for id in BlobEntry::decode(v.value())?.chunks {
                if wanted.contains(&id) {
                    users.entry(id).or_default().push(BlobId(*k.value()));
                }
            }
        }
        for (chunk, entry, what) in corrupt {
            let mut blobs = users.remove(&chunk).unwrap_or_default();
            blobs.dedup();
            report.damage.push(Damage::ChunkCorrupt {
                chunk,
                pack: entry.pack,
                offset: entry.offset,
                what,
                blobs,
            });
        }
        Ok(())
    }
}

fn open_pack<'a>(
    files: &'a mut HashMap<PackId, File>,
    dir: &Path,
    pack: PackId,
) -> Option<&'a mut File> {
    if !files.contains_key(&pack) {
        // Bounded: a big library has thousands of packs and the process has ~1024 descriptors.
        if files.len() >= 64 {
            files.clear();
        }
        let f = File::open(pack_path(dir, pack)).ok()?;
        files.insert(pack, f);
    }
    files.get_mut(&pack)
}
