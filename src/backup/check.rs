//! `backup check`: is the remote whole? Structure: every index, pack table of contents and
//! snapshot opens, and every chunk a snapshot needs is in a pack that exists. With
//! `read_data`, every pack is downloaded, checked against its name and every chunk opened.

use std::collections::HashSet;

use super::error::{Error, Result};
use super::fetch;
use super::format;
use super::index::RemoteIndex;
use super::pack;
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot;

/// What a check found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Packs on the remote.
    pub packs: usize,
    /// Snapshots checked.
    pub snapshots: usize,
    /// Chunks the index knows.
    pub chunks: usize,
    /// Bytes downloaded and verified (read-data).
    pub bytes_read: u64,
    /// Packs downloaded and verified.
    pub packs_read: usize,
    /// Each problem, naming the object.
    pub problems: Vec<String>,
    /// Things worth knowing that are not damage (packs an interrupted run left).
    pub notes: Vec<String>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Which packs a check downloads and verifies byte by byte.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadData {
    /// None: structure only.
    None,
    /// Every pack.
    All,
    /// Slice `n` of `m` (1-based): the packs whose name falls in it. Slices 1..=m cover
    /// every pack exactly once, so a daily slice of 30 reads the whole remote in a month.
    Slice(u32, u32),
    /// About this share of the packs (0–100 %), chosen by name so reruns read the same ones.
    Percent(f64),
}

impl ReadData {
    /// Parses `--read-data-subset`: `N/M` or `P%`.
    pub fn parse_subset(s: &str) -> Option<Self> {
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p.trim().parse().ok()?;
            return (0.0..=100.0).contains(&p).then_some(Self::Percent(p));
        }
        let (n, m) = s.split_once('/')?;
        let (n, m): (u32, u32) = (n.trim().parse().ok()?, m.trim().parse().ok()?);
        (n >= 1 && n <= m).then_some(Self::Slice(n, m))
    }

    /// True when `pack` is to be read.
    pub fn includes(&self, pack: &str) -> bool {
        let position = u64::from_str_radix(pack.get(..12).unwrap_or("0"), 16).unwrap_or(0);
        match *self {
            Self::None => false,
            Self::All => true,
            Self::Slice(n, m) => position % u64::from(m.max(1)) == u64::from(n.saturating_sub(1)),
            Self::Percent(p) => ((position % 10_000) as f64) < p * 100.0,
        }
    }
}

/// Checks `repo`; with `read_data`, downloads and verifies every pack.
pub fn run(repo: &Repo, read_data: bool) -> Result<Report> {
    run_reading(
        repo,
        if read_data {
            ReadData::All
        } else {
            ReadData::None
        },
    )
}

/// Checks `repo`'s structure and reads the packs `read` selects.
pub fn run_reading(repo: &Repo, read: ReadData) -> Result<Report> {
    let mut report = Report::default();
    let index = match RemoteIndex::load(repo) {
        Ok(i) => i,
        Err(e @ Error::Corrupt { .. }) => {
            report.problems.push(e.to_string());
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    for (name, why) in &index.unreadable {
        report.problems.push(format!("packs/{name}: {why}"));
    }
    for (name, _) in &index.adopted {
        report.notes.push(format!(
            "packs/{name} is named by no index yet (left by an interrupted run; the next backup or prune takes it in)"
        ));
    }
    report.chunks = index.len();
    let listed: HashSet<String> = repo
        .remote()
        .list(Kind::Pack)?
        .into_iter()
        .map(|l| l.name)
        .collect();
    report.packs = listed.len();
    for name in index.packs() {
        if !listed.contains(name) {
            report
                .problems
                .push(format!("packs/{name} is named by an index but missing"));
        }
    }
    let snapshots = match snapshot::list(repo) {
        Ok(s) => s,
        Err(e @ Error::Corrupt { .. }) => {
            report.problems.push(e.to_string());
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    report.snapshots = snapshots.len();
    for snap in &snapshots {
        if let Err(e) = check_snapshot(repo, &index, snap) {
            report.problems.push(e.to_string());
        }
    }
    if read != ReadData::None {
        for name in index.packs() {
            if listed.contains(name) && read.includes(name) {
                report.packs_read += 1;
                match read_pack(repo, name) {
                    Ok(n) => report.bytes_read += n,
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
        }
    }
    Ok(report)
}

fn check_snapshot(repo: &Repo, index: &RemoteIndex, snap: &snapshot::Snapshot) -> Result<()> {
    fetch::for_each_file(repo, index, snap, |chunks| {
        if chunks
            .iter()
            .all(|c| index.contains(&repo.keys().remote_id(c)))
        {
            Ok(())
        } else {
            Err(Error::corrupt(
                Kind::Snapshot.path(&snap.name),
                "names a chunk that is in no pack",
            ))
        }
    })
}

/// Downloads a pack, checks it against its name, opens its toc and every chunk.
fn read_pack(repo: &Repo, name: &str) -> Result<u64> {
    let object = Kind::Pack.path(name);
    let bytes = repo.remote().get(Kind::Pack, name)?;
    if format::content_name(&bytes) != name {
        return Err(Error::corrupt(
            object,
            "bytes do not match the name (changed or truncated)",
        ));
    }
    let entries = pack::read_toc(repo.remote().as_ref(), repo.keys(), name)?;
    for e in &entries {
        let start = usize::try_from(e.offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(e.sealed_len as usize);
        let sealed = bytes
            .get(start..end)
            .ok_or_else(|| Error::corrupt(&object, "an entry points past the end"))?;
        pack::open_chunk(repo.keys(), name, e, sealed, None)?;
    }
    Ok(bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::ReadData;

    #[test]
    fn slices_cover_every_pack_once_and_subsets_parse() {
        let names: Vec<String> = (0..300u32)
            .map(|i| blake3::hash(&i.to_le_bytes()).to_hex().to_string())
            .collect();
        for name in &names {
            let hits = (1..=30)
                .filter(|n| ReadData::Slice(*n, 30).includes(name))
                .count();
            assert_eq!(hits, 1, "{name}");
        }
        let tenth = names
            .iter()
            .filter(|n| ReadData::Percent(10.0).includes(n))
            .count();
        assert!((10..=60).contains(&tenth), "{tenth}");
        assert_eq!(ReadData::parse_subset("3/30"), Some(ReadData::Slice(3, 30)));
        assert_eq!(ReadData::parse_subset("5%"), Some(ReadData::Percent(5.0)));
        for bad in ["0/3", "4/3", "x", "101%", "-1%"] {
            assert_eq!(ReadData::parse_subset(bad), None, "{bad}");
        }
    }
}
