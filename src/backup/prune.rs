//! Prune: give back the space of chunks no snapshot needs, in two phases so that nothing a
//! running backup may still point at disappears under it.
//!
//! Phase one *marks*: packs whose every chunk is unused, and sparse packs once their used
//! chunks were copied (still sealed, byte for byte) into new packs, are listed in a sealed
//! `marks/` object together with the index objects a fresh consolidated index replaces.
//! Phase two, in a later run once the grace period has passed, *sweeps*: it reads every
//! snapshot again and deletes a marked pack only if each chunk it holds that some snapshot
//! uses is also in a pack that stays. Write order: new packs → new index → mark; deletes:
//! index objects → packs → the mark. A crash anywhere leaves a repository `check` calls
//! whole; the next prune carries on.

use std::collections::{HashMap, HashSet};

use super::error::{Error, Result};
use super::fetch;
use super::format::{self, Entry, Mark};
use super::index::RemoteIndex;
use super::pack::{self, PACK_TARGET, PackBuilder};
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot::{self, Snapshot};

/// Chunk entries per index object the consolidation writes (about 2.4 MiB each).
const INDEX_ENTRIES: usize = 50_000;
/// More index objects than this and a prune consolidates them even when nothing is unused.
const INDEX_OBJECTS_MAX: usize = 32;

/// How a prune behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds a mark waits before its objects may be deleted.
    pub grace_secs: i64,
    /// A pack whose used share of bytes is below this is repacked.
    pub repack_below: f64,
    /// Bytes of sparse packs downloaded for repacking in one run, at most.
    pub max_repack_bytes: u64,
    /// Size of the packs repacking writes.
    pub pack_target: usize,
    /// Decide and report, write and delete nothing.
    pub dry_run: bool,
    /// Unix seconds "now" (tests move it forward instead of waiting).
    pub now: i64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            grace_secs: 24 * 3600,
            repack_below: 0.5,
            max_repack_bytes: 512 * 1024 * 1024,
            pack_target: PACK_TARGET,
            dry_run: false,
            now: chrono::Utc::now().timestamp(),
        }
    }
}

/// What a prune did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Snapshots read.
    pub snapshots: usize,
    /// Packs on the remote before.
    pub packs: usize,
    /// Packs marked in this run because nothing uses them.
    pub marked_unused: usize,
    /// Sparse packs repacked and marked in this run.
    pub repacked: usize,
    /// Bytes of the packs marked in this run.
    pub marked_bytes: u64,
    /// New packs written by repacking.
    pub new_packs: usize,
    /// Index objects written by the consolidation.
    pub new_index: usize,
    /// Packs deleted (marks past their grace period).
    pub deleted_packs: usize,
    /// Their bytes.
    pub deleted_bytes: u64,
    /// Index objects deleted.
    pub deleted_index: usize,
    /// Marked packs kept after all, because a newer snapshot uses them.
    pub kept_back: usize,
    /// Marked objects still waiting for their grace period.
    pub waiting: usize,
}

/// Everything the remote holds that prune reasons about.
struct State {
    /// Pack → its entries, for every readable pack (indexed or not).
    entries: HashMap<String, Vec<Entry>>,
    /// Pack → listed size.
    sizes: HashMap<String, u64>,
    /// Index object → the packs it names.
    index_packs: HashMap<String, Vec<String>>,
    /// Pack order (first come, first located), for a stable choice among duplicates.
    order: Vec<String>,
    /// Marks: name → body.
    marks: Vec<(String, Mark)>,
    snapshots: Vec<Snapshot>,
}

impl State {
    fn load(repo: &Repo) -> Result<Self> {
        let mut state = Self {
            entries: HashMap::new(),
            sizes: HashMap::new(),
            index_packs: HashMap::new(),
            order: Vec::new(),
            marks: Vec::new(),
            snapshots: Vec::new(),
        };
        let remote = repo.remote();
        for listed in remote.list(Kind::Pack)? {
            state.sizes.insert(listed.name, listed.size);
        }
        for listed in remote.list(Kind::Index)? {
            let plain = repo.get_sealed(Kind::Index, &listed.name)?;
            let packs = format::decode_index(&plain)
                .map_err(|e| Error::corrupt(Kind::Index.path(&listed.name), e))?;
            let mut named = Vec::with_capacity(packs.len());
            for (pack, entries) in packs {
                if !state.entries.contains_key(&pack) {
                    state.order.push(pack.clone());
                    state.entries.insert(pack.clone(), entries);
                }
                named.push(pack);
            }
            state.index_packs.insert(listed.name, named);
        }
        let mut unindexed: Vec<&String> = state
            .sizes
            .keys()
            .filter(|p| !state.entries.contains_key(*p))
            .collect();
        unindexed.sort();
        let mut adopted = Vec::new();
        for name in unindexed {
            // An unreadable pack is left alone: `check` names it, and prune never deletes
            // what it cannot read.
            if let Ok(entries) = pack::read_toc(remote.as_ref(), repo.keys(), name) {
                adopted.push((name.clone(), entries));
            }
        }
        for (name, entries) in adopted {
            state.order.push(name.clone());
            state.entries.insert(name, entries);
        }
        for listed in remote.list(Kind::Mark)? {
            let plain = repo.get_sealed(Kind::Mark, &listed.name)?;
            let mark = format::decode_mark(&plain)
                .map_err(|e| Error::corrupt(Kind::Mark.path(&listed.name), e))?;
            state.marks.push((listed.name, mark));
        }
        state.snapshots = snapshot::list(repo)?;
        Ok(state)
    }

    /// Packs that exist on the remote, in locate order.
    fn existing(&self) -> impl Iterator<Item = &String> {
        self.order.iter().filter(|p| self.sizes.contains_key(*p))
    }

    /// A remote index over the existing packs, for reading snapshot streams.
    fn remote_index(&self) -> RemoteIndex {
        let mut index = RemoteIndex::default();
        for p in self.existing() {
            if let Some(e) = self.entries.get(p) {
                index.add_pack(p.clone(), e);
            }
        }
        index
    }

    /// Remote ids of every chunk some snapshot needs. A snapshot that cannot be read
    /// whole stops the prune: deciding on a partial view could delete a photo.
    fn used(&self, repo: &Repo) -> Result<HashSet<[u8; 32]>> {
        let index = self.remote_index();
        let mut used = HashSet::new();
        for snap in &self.snapshots {
            let stream = snap.body.stream.iter();
            used.extend(stream.map(|(id, _)| repo.keys().remote_id(id)));
            fetch::for_each_file(repo, &index, snap, |chunks| {
                used.extend(chunks.iter().map(|c| repo.keys().remote_id(c)));
                Ok(())
            })?;
        }
        Ok(used)
    }
}

/// Prunes `repo`: sweeps marks past their grace period, then marks what is unused now.
pub fn run(repo: &Repo, options: &Options) -> Result<Report> {
    let mut state = State::load(repo)?;
    let mut report = Report {
        snapshots: state.snapshots.len(),
        packs: state.sizes.len(),
        ..Report::default()
    };
    let used = state.used(repo)?;
    sweep(repo, options, &mut state, &used, &mut report)?;
    mark(repo, options, &state, &used, &mut report)?;
    Ok(report)
}

/// Phase two: deletes what marks past their grace period name, if it is still unneeded.
fn sweep(
    repo: &Repo,
    options: &Options,
    state: &mut State,
    used: &HashSet<[u8; 32]>,
    report: &mut Report,
) -> Result<()> {
    let due_before = options.now.saturating_sub(options.grace_secs);
    let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.marks)
        .into_iter()
        .partition(|(_, m)| m.time <= due_before);
    report.waiting = waiting.iter().map(|(_, m)| m.objects.len()).sum();
    state.marks = waiting;
    if due.is_empty() {
        return Ok(());
    }
    let marked_packs: HashSet<&str> = due
        .iter()
        .flat_map(|(_, m)| m.objects.iter())
        .filter(|(k, _)| *k == Kind::Pack)
        .map(|(_, n)| n.as_str())
        .collect();
    let marked_index: HashSet<&str> = due
        .iter()
        .flat_map(|(_, m)| m.objects.iter())
        .filter(|(k, _)| *k == Kind::Index)
        .map(|(_, n)| n.as_str())
        .collect();
    let staying: HashSet<[u8; 32]> = state
        .existing()
        .filter(|p| !marked_packs.contains(p.as_str()))
        .filter_map(|p| state.entries.get(p))
        .flatten()
        .map(|e| e.id)
        .collect();
    let mut doomed_packs = Vec::new();
    for name in &marked_packs {
        let Some(size) = state.sizes.get(*name) else {
            continue; // already gone (an earlier sweep was interrupted after deleting it)
        };
        let needed = state.entries.get(*name).is_none_or(|es| {
            es.iter()
                .any(|e| used.contains(&e.id) && !staying.contains(&e.id))
        });
        if needed {
            report.kept_back += 1;
        } else {
            doomed_packs.push(((*name).to_string(), *size));
        }
    }
    let doomed: HashSet<&str> = doomed_packs.iter().map(|(n, _)| n.as_str()).collect();
    let named_elsewhere: HashSet<&str> = state
        .index_packs
        .iter()
        .filter(|(i, _)| !marked_index.contains(i.as_str()))
        .flat_map(|(_, ps)| ps.iter().map(String::as_str))
        .collect();
    let doomed_index: Vec<String> = marked_index
        .iter()
        .filter(|i| {
            state.index_packs.get(**i).is_some_and(|ps| {
                ps.iter().all(|p| {
                    doomed.contains(p.as_str())
                        || named_elsewhere.contains(p.as_str())
                        || !state.sizes.contains_key(p)
                })
            })
        })
        .map(|i| (*i).to_string())
        .collect();
    if options.dry_run {
        report.deleted_index = doomed_index.len();
        report.deleted_packs = doomed_packs.len();
        report.deleted_bytes = doomed_packs.iter().map(|(_, s)| s).sum();
        return Ok(());
    }
    for name in &doomed_index {
        repo.remote().delete(Kind::Index, name)?;
        state.index_packs.remove(name);
        report.deleted_index += 1;
    }
    for (name, size) in &doomed_packs {
        repo.remote().delete(Kind::Pack, name)?;
        state.sizes.remove(name);
        report.deleted_packs += 1;
        report.deleted_bytes += size;
    }
    for (name, _) in &due {
        repo.remote().delete(Kind::Mark, name)?;
    }
    Ok(())
}

/// Phase one: marks unused packs, repacks sparse ones, consolidates the index.
fn mark(
    repo: &Repo,
    options: &Options,
    state: &State,
    used: &HashSet<[u8; 32]>,
    report: &mut Report,
) -> Result<()> {
    let already: HashSet<&str> = state
        .marks
        .iter()
        .flat_map(|(_, m)| m.objects.iter().map(|(_, n)| n.as_str()))
        .collect();
    // Each used chunk counts in the first staying pack that holds it; copies elsewhere are
    // waste like any unused chunk.
    let mut home: HashMap<[u8; 32], &str> = HashMap::new();
    for p in state.existing().filter(|p| !already.contains(p.as_str())) {
        for e in state.entries.get(p).into_iter().flatten() {
            if used.contains(&e.id) {
                home.entry(e.id).or_insert(p.as_str());
            }
        }
    }
    let mut unused = Vec::new();
    let mut sparse = Vec::new();
    let mut keep = Vec::new();
    let mut budget = options.max_repack_bytes;
    for p in state.existing().filter(|p| !already.contains(p.as_str())) {
        let entries = state.entries.get(p).map(Vec::as_slice).unwrap_or_default();
        let size = state.sizes.get(p).copied().unwrap_or(0);
        let live: u64 = entries
            .iter()
            .filter(|e| home.get(&e.id) == Some(&p.as_str()))
            .map(|e| u64::from(e.sealed_len))
            .sum();
        if live == 0 {
            unused.push((p.clone(), size));
        } else if (live as f64) < options.repack_below * size as f64 && size <= budget {
            budget -= size;
            sparse.push((p.clone(), size));
        } else {
            keep.push(p.clone());
        }
    }
    let stale_index = state
        .index_packs
        .keys()
        .filter(|i| !already.contains(i.as_str()))
        .count();
    let consolidate = !unused.is_empty() || !sparse.is_empty() || stale_index > INDEX_OBJECTS_MAX;
    report.marked_unused = unused.len();
    report.repacked = sparse.len();
    report.marked_bytes = unused.iter().chain(&sparse).map(|(_, s)| s).sum();
    if !consolidate || options.dry_run {
        return Ok(());
    }
    let mut index: Vec<(String, Vec<Entry>)> = keep
        .iter()
        .filter_map(|p| Some((p.clone(), state.entries.get(p)?.clone())))
        .collect();
    index.extend(repack(repo, options, state, &home, &sparse, report)?);
    for group in group_by_entries(index) {
        let plain = format::encode_index(&group).map_err(|e| Error::corrupt("index", e))?;
        repo.put_sealed(Kind::Index, &plain)?;
        report.new_index += 1;
    }
    let mut objects: Vec<(Kind, String)> = state
        .index_packs
        .keys()
        .filter(|i| !already.contains(i.as_str()))
        .map(|i| (Kind::Index, i.clone()))
        .collect();
    objects.extend(
        unused
            .into_iter()
            .chain(sparse)
            .map(|(p, _)| (Kind::Pack, p)),
    );
    let body = format::encode_mark(&Mark {
        time: options.now,
        objects,
    })
    .map_err(|e| Error::corrupt("mark", e))?;
    repo.put_sealed(Kind::Mark, &body)?;
    Ok(())
}

/// Copies the chunks of `sparse` packs that are their chunks' home into new packs; returns
/// the new packs with their entries.
fn repack(
    repo: &Repo,
    options: &Options,
    state: &State,
    home: &HashMap<[u8; 32], &str>,
    sparse: &[(String, u64)],
    report: &mut Report,
) -> Result<Vec<(String, Vec<Entry>)>> {
    let mut out = Vec::new();
    let mut builder = PackBuilder::new();
    for (name, _) in sparse {
        let bytes = repo.remote().get(Kind::Pack, name)?;
        if format::content_name(&bytes) != name.as_str() {
            return Err(Error::corrupt(
                Kind::Pack.path(name),
                "bytes do not match the name (changed or truncated)",
            ));
        }
        for e in state.entries.get(name).into_iter().flatten() {
            if home.get(&e.id) != Some(&name.as_str()) {
                continue;
            }
            let start = usize::try_from(e.offset).unwrap_or(usize::MAX);
            let sealed = bytes
                .get(start..start.saturating_add(e.sealed_len as usize))
                .ok_or_else(|| {
                    Error::corrupt(Kind::Pack.path(name), "an entry points past the end")
                })?;
            // Opened once before copying: a damaged chunk is never carried into a new pack.
            pack::open_chunk(repo.keys(), name, e, sealed, None)?;
            builder.add_sealed(e.id, e.raw_len, sealed);
            if builder.len() >= options.pack_target {
                let full = std::mem::take(&mut builder).finish(repo.keys())?;
                repo.remote()
                    .put(Kind::Pack, &full.name, full.bytes.into())?;
                out.push((full.name, full.entries));
                report.new_packs += 1;
            }
        }
    }
    if !builder.is_empty() {
        let last = builder.finish(repo.keys())?;
        repo.remote()
            .put(Kind::Pack, &last.name, last.bytes.into())?;
        out.push((last.name, last.entries));
        report.new_packs += 1;
    }
    Ok(out)
}

/// Splits packs into index objects of about [`INDEX_ENTRIES`] entries.
fn group_by_entries(packs: Vec<(String, Vec<Entry>)>) -> Vec<Vec<(String, Vec<Entry>)>> {
    let mut groups = vec![Vec::new()];
    let mut count = 0;
    for p in packs {
        if count > 0 && count + p.1.len() > INDEX_ENTRIES {
            groups.push(Vec::new());
            count = 0;
        }
        count += p.1.len();
        if let Some(g) = groups.last_mut() {
            g.push(p);
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}
