//! `backup check`: is the remote whole? Structure: every index, pack table of contents and
//! snapshot opens, and every chunk a snapshot needs is in a pack that exists. With
//! `read_data`, every pack is downloaded, checked against its name and every chunk opened.

use std::collections::HashSet;

use super::error::{Error, Result};
use super::fetch::{Chunks, Fetcher};
use super::format::{self, StreamReader, StreamRecord};
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

/// Checks `repo`.
pub fn run(repo: &Repo, read_data: bool) -> Result<Report> {
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
    if read_data {
        for name in index.packs() {
            if listed.contains(name) {
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
    let object = Kind::Snapshot.path(&snap.name);
    let ids = snap.body.stream.iter().map(|(id, _)| *id).collect();
    let fetcher = Fetcher::new(repo, index);
    let mut stream = Chunks::new(&fetcher, ids);
    let mut reader = match StreamReader::new(&mut stream) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(Error::corrupt(object, e)),
        Err(e) => return Err(Error::corrupt(object, format!("catalog stream: {e}"))),
    };
    loop {
        match reader.next_record() {
            Ok(Some(StreamRecord::File { chunks, .. })) => {
                for c in &chunks {
                    if !index.contains(&repo.keys().remote_id(c)) {
                        return Err(Error::corrupt(&object, "names a chunk that is in no pack"));
                    }
                }
            }
            Ok(Some(StreamRecord::Row { .. })) => {}
            Ok(None) => return Ok(()),
            Err(e) => return Err(Error::corrupt(&object, format!("catalog stream: {e}"))),
        }
    }
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
