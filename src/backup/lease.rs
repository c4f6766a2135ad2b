//! Leases: a small sealed object per box saying "I am writing here until …". Two boxes
//! backing up into one repository is allowed (dedup still works) but worth a warning; a
//! prune while another box writes is not allowed, nor a backup while another box prunes.
//! A lease is renewed while its holder works and deleted when it ends, so a box that died
//! blocks others only until its lease runs out.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::{Error, Result};
use super::format::{self, Lease, LeaseAction};
use super::remote::Kind;
use super::repo::Repo;

/// How long a lease holds without renewal.
const TTL_SECS: i64 = 3600;
/// How often a holder renews it.
const RENEW_EVERY: Duration = Duration::from_mins(15);

/// A stable id for this box: the same host and data folder give the same id, so a box's
/// own stale lease (from a run that was killed) never blocks it.
pub fn box_id(host: &str, data_dir: &std::path::Path) -> [u8; 16] {
    let mut h = blake3::Hasher::new_derive_key("shoebox backup lease box id v1");
    h.update(host.as_bytes());
    h.update(&[0]);
    h.update(data_dir.to_string_lossy().as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(h.finalize().as_bytes().get(..16).unwrap_or(&[0; 16]));
    id
}

/// A lease's object name: the box id in hex.
fn lease_name(me: [u8; 16]) -> String {
    me.iter().fold(String::with_capacity(32), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn readable(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Other boxes' leases that are still fresh at `now`.
pub fn others(repo: &Repo, me: [u8; 16], now: i64) -> Result<Vec<Lease>> {
    let mut out = Vec::new();
    for listed in repo.remote().list(Kind::Lease)? {
        let lease = match repo
            .get_sealed_as(Kind::Lease, &listed.name)
            .and_then(|p| format::decode_lease(&p).map_err(|e| Error::corrupt("lease", e)))
        {
            Ok(l) => l,
            Err(e) => {
                // A lease is advice, not data: one that cannot be read is skipped, not fatal.
                tracing::warn!("lease {} unreadable: {e}", listed.name);
                continue;
            }
        };
        if lease.box_id != me && lease.until > now {
            out.push(lease);
        }
    }
    Ok(out)
}

/// A held lease; renewed in the background, deleted on drop.
pub struct Held {
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<JoinHandle<()>>,
    /// Other boxes writing at the same time (a backup goes on, with a warning).
    pub others: Vec<Lease>,
}

impl Held {
    /// A line for the status page when another box wrote at the same time.
    pub fn warning(&self) -> Option<String> {
        let hosts: Vec<&str> = self.others.iter().map(|l| l.host.as_str()).collect();
        (!hosts.is_empty()).then(|| {
            format!(
                "Another box ({}) was backing up to this repository at the same time. That works, but each box's snapshots then hold only its own photos; give each box its own repository (or folder) unless that is what you want.",
                hosts.join(", ")
            )
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.renewer.take() {
            let _ = h.join();
        }
    }
}

/// Takes this box's lease for `action`, refusing when another box's fresh lease forbids it.
pub fn take(repo: &Repo, me: [u8; 16], host: &str, action: LeaseAction) -> Result<Held> {
    let now = chrono::Utc::now().timestamp();
    let others = others(repo, me, now)?;
    let blocking = others
        .iter()
        .find(|l| action == LeaseAction::Prune || l.action == LeaseAction::Prune);
    if let Some(l) = blocking {
        return Err(Error::Leased {
            host: l.host.clone(),
            what: match l.action {
                LeaseAction::Backup => "backup",
                LeaseAction::Prune => "prune",
            },
            since: readable(l.time),
            until: readable(l.until),
        });
    }
    let host = host.to_string();
    let write = move |repo: &Repo, now: i64| -> Result<()> {
        let body = format::encode_lease(&Lease {
            box_id: me,
            time: now,
            until: now.saturating_add(TTL_SECS),
            action,
            host: host.clone(),
        });
        repo.put_sealed_as(Kind::Lease, &lease_name(me), &body)
    };
    write(repo, now)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let repo_for_thread = repo.clone();
    let renewer = std::thread::Builder::new()
        .name("backup-lease".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(RENEW_EVERY) {
                if let Err(e) = write(&repo_for_thread, chrono::Utc::now().timestamp()) {
                    tracing::warn!("renewing the backup lease failed: {e}");
                }
            }
            let _ = repo_for_thread
                .remote()
                .delete(Kind::Lease, &lease_name(me));
        })
        .map_err(|e| Error::JobStart(e.to_string()))?;
    Ok(Held {
        stop: Some(stop),
        renewer: Some(renewer),
        others,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::remote::{Memory, Remote};
    use std::sync::Arc;

    #[test]
    fn a_second_writer_is_seen_and_prune_waits_for_the_others() {
        let remote: Arc<dyn Remote> = Arc::new(Memory::new());
        let kdf = crate::backup::KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let (repo, _) = Repo::init(Arc::clone(&remote), "p", kdf).unwrap();
        let kitchen = box_id("kitchen", std::path::Path::new("/data"));
        let attic = box_id("attic", std::path::Path::new("/data"));
        assert_ne!(kitchen, attic);
        assert_eq!(kitchen, box_id("kitchen", std::path::Path::new("/data")));

        let first = take(&repo, kitchen, "kitchen", LeaseAction::Backup).unwrap();
        assert!(first.warning().is_none());
        let second = take(&repo, attic, "attic", LeaseAction::Backup).unwrap();
        let warning = second.warning().unwrap();
        assert!(warning.contains("kitchen"), "{warning}");
        drop(second);
        let refused = take(&repo, attic, "attic", LeaseAction::Prune)
            .err()
            .unwrap();
        assert!(
            refused.to_string().contains("kitchen is writing"),
            "{refused}"
        );
        // The box's own stale lease never blocks it.
        let again = take(&repo, kitchen, "kitchen", LeaseAction::Prune).unwrap();
        drop(again);
        drop(first);
        assert!(
            remote.list(Kind::Lease).unwrap().is_empty(),
            "leases go at the end"
        );
        let pruning = take(&repo, attic, "attic", LeaseAction::Prune).unwrap();
        let blocked = take(&repo, kitchen, "kitchen", LeaseAction::Backup)
            .err()
            .unwrap();
        assert!(
            blocked.to_string().contains("attic is writing"),
            "{blocked}"
        );
        drop(pruning);
        // An expired lease (a box that died) blocks nobody.
        let dead = format::encode_lease(&Lease {
            box_id: attic,
            time: 0,
            until: 10,
            action: LeaseAction::Prune,
            host: "attic".into(),
        });
        repo.put_sealed_as(Kind::Lease, &lease_name(attic), &dead)
            .unwrap();
        take(&repo, kitchen, "kitchen", LeaseAction::Prune).unwrap();
    }
}
