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

/// A new snapshot's time: now, but always after the newest one, so two backups within one
/// second (or after the clock stepped back) still list in the order they were made and
/// "newest" means the last one written.
pub fn next_time(now: i64, newest: Option<&Snapshot>) -> i64 {
    newest.map_or(now, |n| now.max(n.body.time.saturating_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(time: i64) -> Snapshot {
        Snapshot {
            name: "00".into(),
            body: SnapshotBody {
                time,
                host: String::new(),
                files: 0,
                bytes: 0,
                assets: 0,
                stream_len: 0,
                stream: Vec::new(),
            },
        }
    }

    #[test]
    fn a_new_snapshot_is_always_after_the_newest() {
        assert_eq!(next_time(100, None), 100);
        assert_eq!(next_time(100, Some(&snap(50))), 100);
        assert_eq!(next_time(100, Some(&snap(100))), 101);
        assert_eq!(
            next_time(100, Some(&snap(200))),
            201,
            "the clock stepped back"
        );
    }
}
