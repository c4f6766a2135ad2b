//! Remotes: dumb byte movers addressed by (kind, name). They know nothing of encryption,
//! packs or snapshots; the layers above ([`super::repo`]) seal and verify.
//!
//! May import nothing from the crate but its own error type. Implementations: [`Opendal`]
//! (S3, WebDAV, a local folder), [`Memory`] and [`Faulty`] for tests, and the [`Retrying`]
//! decorator that every real remote is wrapped in.

mod faulty;
mod memory;
mod opendal;
mod retry;
mod throttle;
pub mod url;

use std::fmt;

use bytes::Bytes;

pub use faulty::{Fault, Faulty};
pub use memory::Memory;
pub use opendal::{Credentials, Opendal};
pub use retry::{RetryPolicy, Retrying};
pub use throttle::{Pace, Throttled};
pub use url::RemoteUrl;

/// The kinds of objects a repository holds; each lives under its own folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `config`: the repository's identity and format version (one object).
    Config,
    /// `keys/<id>`: the master keys wrapped under a passphrase or recovery key.
    Key,
    /// `packs/<id>`: sealed chunks plus a sealed table of contents.
    Pack,
    /// `index/<id>`: which pack holds which chunk.
    Index,
    /// `snapshots/<id>`: the catalog at a moment.
    Snapshot,
    /// `probe/<random>`: a connection test's object, deleted right after (never read as data).
    Probe,
    /// `marks/<id>`: what a prune found unused and will delete after its grace period.
    Mark,
    /// `leases/<box id>`: which box is writing now, so two boxes on one repository are seen.
    Lease,
}

impl Kind {
    /// Every kind, in the order a repository is written.
    pub const ALL: [Self; 5] = [
        Self::Config,
        Self::Key,
        Self::Pack,
        Self::Index,
        Self::Snapshot,
    ];

    /// The folder objects of this kind live in (`""` for the config object).
    pub fn folder(self) -> &'static str {
        match self {
            Self::Config => "",
            Self::Key => "keys",
            Self::Pack => "packs",
            Self::Index => "index",
            Self::Snapshot => "snapshots",
            Self::Probe => "probe",
            Self::Mark => "marks",
            Self::Lease => "leases",
        }
    }

    /// Path of an object relative to the repository root.
    pub fn path(self, name: &str) -> String {
        match self {
            Self::Config => "config".to_string(),
            _ => format!("{}/{name}", self.folder()),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Config => "config",
            Self::Key => "key",
            Self::Pack => "pack",
            Self::Index => "index",
            Self::Snapshot => "snapshot",
            Self::Probe => "probe",
            Self::Mark => "mark",
            Self::Lease => "lease",
        })
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name within its kind.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Why a remote call failed; callers branch on this (retry, "missing", "denied").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object does not exist.
    NotFound,
    /// Worth retrying: 5xx, 429, timeouts, resets, truncated bodies.
    Transient,
    /// Credentials refused or not allowed.
    Denied,
    /// Anything else (a bad URL, a missing bucket, a protocol error).
    Other,
}

/// A remote call that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what} {object}: {message}")]
pub struct Error {
    /// How to react.
    pub kind: ErrorKind,
    /// The operation ("put", "get", …).
    pub what: &'static str,
    /// The object's path, or the remote when no object is involved.
    pub object: String,
    /// What the backend said.
    pub message: String,
}

impl Error {
    /// A failure of `what` on `object`.
    pub fn new(
        kind: ErrorKind,
        what: &'static str,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            what,
            object: object.into(),
            message: message.into(),
        }
    }

    /// True when retrying may help.
    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }
}

/// Result of a remote call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Moves whole objects by (kind, name). Blocking: callers run it on their own threads.
/// Objects are immutable once written; `put` of an existing name replaces it atomically
/// (every backend here does) and callers only do so with identical bytes.
pub trait Remote: Send + Sync {
    /// Every object of `kind`.
    fn list(&self, kind: Kind) -> Result<Vec<Listed>>;
    /// The whole object.
    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>>;
    /// `len` bytes from `offset`; fewer only when the object ends sooner.
    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>>;
    /// Size of an object.
    fn size(&self, kind: Kind, name: &str) -> Result<u64>;
    /// Writes an object. Takes the bytes by value (cheap to clone for a retry) so a 16 MiB
    /// pack goes to the network without a copy.
    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()>;
    /// Removes an object (no error when it is already gone).
    fn delete(&self, kind: Kind, name: &str) -> Result<()>;
    /// Where this remote is, for messages (never with credentials).
    fn describe(&self) -> String;
}

/// A boxed or shared remote is a remote: every call goes to the one inside.
macro_rules! forward_remote {
    ($($wrapper:ident)::+) => {
        impl<R: Remote + ?Sized> Remote for $($wrapper)::+<R> {
            fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
                (**self).list(kind)
            }
            fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
                (**self).get(kind, name)
            }
            fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
                (**self).get_range(kind, name, offset, len)
            }
            fn size(&self, kind: Kind, name: &str) -> Result<u64> {
                (**self).size(kind, name)
            }
            fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
                (**self).put(kind, name, bytes)
            }
            fn delete(&self, kind: Kind, name: &str) -> Result<()> {
                (**self).delete(kind, name)
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
        }
    };
}

forward_remote!(Box);
forward_remote!(std::sync::Arc);

/// Conformance checks every backend must pass; run by unit tests on [`Memory`] and by the
/// integration tests against real S3 and WebDAV servers.
pub fn conformance(remote: &dyn Remote) -> std::result::Result<(), String> {
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
    let e = |e: Error| e.to_string();
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let missing = remote.get(Kind::Pack, "conformance-missing");
    check(
        matches!(missing, Err(ref err) if err.kind == ErrorKind::NotFound),
        "get of a missing object must say NotFound",
    )?;
    remote
        .put(Kind::Pack, "conformance-a", Bytes::from(body.clone()))
        .map_err(e)?;
    remote
        .put(Kind::Pack, "conformance-b", Bytes::from_static(b"tiny"))
        .map_err(e)?;
    remote
        .put(Kind::Config, "", Bytes::from_static(b"cfg"))
        .map_err(e)?;
    check(
        remote.get(Kind::Pack, "conformance-a").map_err(e)? == body,
        "get returns what put wrote",
    )?;
    check(
        remote.get(Kind::Config, "").map_err(e)? == b"cfg",
        "config object round trip",
    )?;
    let range = remote
        .get_range(Kind::Pack, "conformance-a", 99_990, 10)
        .map_err(e)?;
    check(
        range == body.get(99_990..).unwrap_or_default(),
        "range read of the tail",
    )?;
    let past = remote
        .get_range(Kind::Pack, "conformance-a", 99_000, 8_000_000)
        .map_err(e)?;
    check(
        past == body.get(99_000..).unwrap_or_default(),
        "a range past the end returns the rest",
    )?;
    let mid = remote
        .get_range(Kind::Pack, "conformance-a", 1000, 5)
        .map_err(e)?;
    check(
        mid == body.get(1000..1005).unwrap_or_default(),
        "range read in the middle",
    )?;
    check(
        remote.size(Kind::Pack, "conformance-a").map_err(e)? == 100_000,
        "size",
    )?;
    let mut listed = remote.list(Kind::Pack).map_err(e)?;
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    check(
        listed
            == vec![
                Listed {
                    name: "conformance-a".into(),
                    size: 100_000,
                },
                Listed {
                    name: "conformance-b".into(),
                    size: 4,
                },
            ],
        &format!("list returns exactly the objects of the kind, got {listed:?}"),
    )?;
    check(
        remote.list(Kind::Index).map_err(e)?.is_empty(),
        "list of an empty kind",
    )?;
    remote.delete(Kind::Pack, "conformance-a").map_err(e)?;
    remote.delete(Kind::Pack, "conformance-a").map_err(e)?;
    remote.delete(Kind::Pack, "conformance-b").map_err(e)?;
    remote.delete(Kind::Config, "").map_err(e)?;
    check(
        remote.list(Kind::Pack).map_err(e)?.is_empty(),
        "delete removes objects",
    )?;
    Ok(())
}
