//! Snapshots: listing them, choosing one, and reading the catalog stream one names.

use super::error::{Error, Result};
use super::format::{self, SnapshotBody};
use super::remote::Kind;
use super::repo::Repo;

/// A snapshot on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Object name (hex); users name it by a prefix.
    pub name: String,
    /// What it says.
    pub body: SnapshotBody,
}

impl Snapshot {
    /// The short id shown to people.
    pub fn short(&self) -> &str {
        self.name.get(..12).unwrap_or(&self.name)
    }
}

/// Every snapshot, oldest first. A damaged snapshot object is an error naming it.
pub fn list(repo: &Repo) -> Result<Vec<Snapshot>> {
    let mut out = Vec::new();
    for listed in repo.remote().list(Kind::Snapshot)? {
        let plain = repo.get_sealed(Kind::Snapshot, &listed.name)?;
        let body = format::decode_snapshot(&plain)
            .map_err(|e| Error::corrupt(Kind::Snapshot.path(&listed.name), e))?;
        out.push(Snapshot {
            name: listed.name,
            body,
        });
    }
    out.sort_by(|a, b| (a.body.time, &a.name).cmp(&(b.body.time, &b.name)));
    Ok(out)
}

/// The snapshot whose name starts with `prefix`, or the newest one.
pub fn find(repo: &Repo, prefix: Option<&str>) -> Result<Snapshot> {
    let all = list(repo)?;
    match prefix {
        None => all.into_iter().last().ok_or(Error::NoSnapshot),
        Some(p) => {
            let mut matching: Vec<Snapshot> =
                all.into_iter().filter(|s| s.name.starts_with(p)).collect();
            if matching.len() == 1 {
                matching
                    .pop()
                    .ok_or_else(|| Error::SnapshotNotFound(p.to_string()))
            } else {
                Err(Error::SnapshotNotFound(p.to_string()))
            }
        }
    }
}
