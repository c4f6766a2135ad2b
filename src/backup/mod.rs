//! Encrypted off-site backup of the whole library (photos, catalog, albums, trash) to S3,
//! WebDAV or a local folder, restorable with nothing but the remote and a passphrase.
//!
//! May import `store`, `library`, `jobs`, `boxkey` and `notify`. Layers: [`remote`] moves bytes by (kind, name);
//! [`repo`] seals and verifies objects with the master keys (`crypto`, byte layout in
//! `format`); [`upload`] writes packs → index → snapshot; [`restore`] reads them back.
//! `restore_job` runs a restore into the box's own library in the background.
//! [`target`] keeps the configured target (sealed with the box key) and the status of runs,
//! [`Backup`] is the facade `serve` and the web app hold, [`schedule`] runs it nightly;
//! `browse` and `bring` look inside one snapshot and restore one photo or album from it.
//! Invariants: every object is immutable and named by its content (or a keyed hash of it);
//! nothing is ever referenced before the object it points at was written; every byte read
//! back is authenticated before use.

mod bring;
mod browse;
pub mod check;
pub mod crypto;
mod error;
mod fetch;
pub mod forget;
pub mod format;
mod index;
pub mod lease;
mod pack;
mod picking;
mod prefetch;
pub mod probe;
pub mod prune;
pub mod remote;
mod repo;
pub mod restore;
mod restore_job;
pub mod schedule;
mod service;
pub mod snapshot;
pub mod target;
pub mod upload;

pub use bring::Brought;
pub use browse::Contents;
pub use crypto::KdfParams;
pub use error::{Error, Result, SetupError};
pub use index::RemoteIndex;
pub use pack::PACK_TARGET;
pub use repo::{KeyInfo, Repo, new_recovery_key as repo_recovery_key};
pub use restore_job::RESTORE_JOB;
pub use service::{Backup, connect, connect_limited, describe_failure, test};
pub use snapshot::Snapshot;
pub use target::{Schedule, Status, Target, TargetStore};

#[cfg(test)]
mod tests;
