//! WebDAV ingest: phones and file managers push photos to `/dav/<user>/` (HTTP Basic with
//! the account password or an app password); each finished upload goes through the one
//! library ingest with `Origin::Dav { user, path }`.
//!
//! May import `library`, `accounts`, `system`. Owns the `dav.*` tables and the `spool/dav/`
//! and `dav/kept/` folders. Invariants: an upload reaches the library only when all its
//! announced bytes arrived; a broken or cancelled upload leaves nothing (its spool file is
//! removed on drop, on the hourly sweep and at start); a name clash never replaces a
//! different photo in the library (the tree shows the newest, the library keeps both);
//! a user only ever sees and writes their own tree.

mod error;
mod file;
mod fs;
mod library;
mod login_flow;
mod nextcloud;
mod serve;
mod sidecar;
mod tree;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use dav_server::memls::MemLs;
use redb::{Database, ReadableDatabase, TableDefinition};

use crate::accounts::Accounts;
use crate::library::{Incoming, Ingested, Library, Origin};

pub use error::{Error, Result};
pub use login_flow::{FLOW_TTL, Started};
pub use tree::{Content, Entry, Kind};

/// Admin settings of the WebDAV ingest.
const SETTINGS: TableDefinition<&str, u64> = TableDefinition::new("dav.settings");
/// How many recent uploads the status page shows.
const RECENT: usize = 50;
/// A spool file untouched this long belongs to a stalled upload and is removed.
pub const STALE: Duration = Duration::from_hours(1);

/// Tuning of the WebDAV ingest.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bytes that must stay free on the data disk after an upload is stored (twice its size
    /// is needed while it is spooled and then stored).
    pub reserve: u64,
}

impl Options {
    /// The defaults, with `SHOEBOX_DAV_RESERVE_MB` overriding the reserve (tests use it to
    /// stand for a full disk).
    pub fn from_env() -> Self {
        let mut o = Self::default();
        if let Some(mb) = std::env::var("SHOEBOX_DAV_RESERVE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            o.reserve = mb.saturating_mul(1 << 20);
        }
        o
    }
}

impl Default for Options {
    fn default() -> Self {
        Self { reserve: 512 << 20 }
    }
}

/// One finished upload, for the status and phone pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The user.
    pub user: String,
    /// Path in their tree.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Unix seconds.
    pub at: i64,
    /// What the library did: "new", "duplicate", "unchanged", "paired" or "kept".
    pub outcome: &'static str,
}

/// What is happening now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Uploads in progress.
    pub active: u64,
    /// Bytes received by the uploads in progress.
    pub receiving: u64,
    /// The latest finished uploads, newest first.
    pub recent: Vec<Upload>,
}

/// The WebDAV ingest facade.
pub struct Dav {
    library: Arc<Library>,
    accounts: Arc<Accounts>,
    db: Arc<Database>,
    spool: PathBuf,
    kept: PathBuf,
    locks: Box<MemLs>,
    options: Options,
    active: AtomicU64,
    receiving: AtomicU64,
    recent: Mutex<VecDeque<Upload>>,
    flows: login_flow::LoginFlows,
}

impl Dav {
    /// Sets up the ingest over the library's data folder. Leftover spool files of a previous
    /// run (uploads cut by a crash or restart) are removed.
    pub fn new(library: Arc<Library>, accounts: Arc<Accounts>, options: Options) -> Self {
        let data_dir = library.data_dir().to_path_buf();
        let dav = Self {
            db: Arc::clone(library.store().db()),
            spool: data_dir.join("spool").join("dav"),
            kept: data_dir.join("dav").join("kept"),
            library,
            accounts,
            locks: MemLs::new(),
            options,
            active: AtomicU64::new(0),
            receiving: AtomicU64::new(0),
            recent: Mutex::new(VecDeque::new()),
            flows: login_flow::LoginFlows::default(),
        };
        dav.sweep_spool(Duration::ZERO);
        // Chunked uploads cut by a restart are not resumed: clients start them over.
        let _ = std::fs::remove_dir_all(dav.spool.with_file_name("nextcloud"));
        dav
    }

    /// Removes spool files untouched for `older_than` (zero: all of them). Returns how many.
    pub fn sweep_spool(&self, older_than: Duration) -> usize {
        let Ok(dir) = std::fs::read_dir(&self.spool) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in dir.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_none_or(|age| age >= older_than);
            if stale && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed unfinished WebDAV uploads from the spool");
        }
        removed
    }

    /// Whether deleting an uploaded file over WebDAV moves its photo to the trash (default:
    /// no, the library keeps it; phones "free up space" by deleting what they uploaded).
    pub fn delete_trashes(&self) -> Result<bool> {
        let txn = self.db.begin_read()?;
        let Ok(table) = txn.open_table(SETTINGS) else {
            return Ok(false);
        };
        Ok(table.get("delete_trashes")?.is_some_and(|v| v.value() == 1))
    }

    /// Sets [`Self::delete_trashes`].
    pub fn set_delete_trashes(&self, on: bool) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(SETTINGS)?
            .insert("delete_trashes", u64::from(on))?;
        txn.commit()?;
        Ok(())
    }

    /// Uploads in progress and the latest finished ones.
    pub fn activity(&self) -> Activity {
        Activity {
            active: self.active.load(Ordering::Relaxed),
            receiving: self.receiving.load(Ordering::Relaxed),
            recent: self.recent().iter().cloned().collect(),
        }
    }

    /// `user`'s latest uploads from their tree, newest first (survives restarts).
    pub fn last_uploads(&self, user: &str, limit: usize) -> Result<Vec<(String, Entry)>> {
        let txn = self.db.begin_read()?;
        let Ok(table) = txn.open_table(tree::TREE) else {
            return Ok(Vec::new());
        };
        let mut files = tree::files(&table, user)?;
        files.sort_by_key(|(_, e)| std::cmp::Reverse(e.modified));
        files.truncate(limit);
        Ok(files)
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, VecDeque<Upload>> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails with [`Error::Full`] when `size` more bytes (spooled, then stored) would leave
    /// less than the reserve free.
    fn check_space(&self, size: u64) -> Result<()> {
        let free = crate::system::disks::for_path(&self.spool).map_or(u64::MAX, |d| d.available);
        if free < size.saturating_mul(2).saturating_add(self.options.reserve) {
            tracing::warn!(free, size, "WebDAV upload refused: the disk would fill");
            return Err(Error::Full);
        }
        Ok(())
    }

    /// A new spool file path.
    fn spool_file(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.spool).map_err(Error::io(&self.spool))?;
        Ok(self.spool.join(format!("{}.part", random_name())))
    }

    /// Takes a complete spool file into the library (or keeps it as a plain file when the
    /// library does not take it) and records it in `user`'s tree at `segs`.
    fn finish_upload(
        &self,
        user: &str,
        segs: &[String],
        spool: &Path,
        size: u64,
        mtime: Option<i64>,
    ) -> Result<Entry> {
        let path = format!("/{}", segs.join("/"));
        let origin = Origin::Dav {
            user: user.to_owned(),
            path: path.clone(),
        };
        let name = segs.last().cloned().unwrap_or_default();
        let outcome = self.library.ingest(&Incoming {
            file: spool,
            origin: origin.clone(),
            name,
            stamp: None,
            file_time: mtime,
        })?;
        let (hash, content, label) = match outcome {
            Ingested::Skipped(_) => {
                let hash = hash_file(spool)?;
                std::fs::create_dir_all(&self.kept).map_err(Error::io(&self.kept))?;
                let file = random_name();
                let to = self.kept.join(&file);
                std::fs::rename(spool, &to).map_err(Error::io(&to))?;
                (hash, Content::Kept { file }, "kept")
            }
            Ingested::New(_)
            | Ingested::Duplicate(_)
            | Ingested::Unchanged(_)
            | Ingested::Paired(_) => {
                let (asset, blob) = self.library.origin(&origin)?.ok_or(Error::NotFound)?;
                let label = match outcome {
                    Ingested::New(_) => "new",
                    Ingested::Duplicate(_) => "duplicate",
                    Ingested::Unchanged(_) => "unchanged",
                    _ => "paired",
                };
                (blob.to_hex(), Content::Asset { asset: asset.0 }, label)
            }
        };
        let entry = Entry {
            modified: mtime.unwrap_or_else(unix_now),
            kind: Kind::File {
                size,
                hash,
                content,
            },
            props: Vec::new(),
        };
        let txn = self.db.begin_write()?;
        let old = tree::put(&txn, user, segs, &entry)?;
        txn.commit()?;
        if let Some(old) = old {
            self.forget_kept(&[old]);
        }
        tracing::info!(user, path, size, outcome = label, "WebDAV upload stored");
        let is_sidecar = std::path::Path::new(&path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xmp"));
        if label != "kept"
            && !is_sidecar
            && let Err(e) = self.adopt_sidecars(user, segs)
        {
            // The photo is stored; the sidecar stays a plain file until the next try.
            tracing::warn!(user, path, "attaching an earlier sidecar: {e}");
        }
        let mut recent = self.recent();
        recent.push_front(Upload {
            user: user.to_owned(),
            path,
            size,
            at: unix_now(),
            outcome: label,
        });
        recent.truncate(RECENT);
        Ok(entry)
    }

    /// Removes the kept files of entries that left the tree.
    fn forget_kept(&self, gone: &[Entry]) {
        for e in gone {
            if let Kind::File {
                content: Content::Kept { file },
                ..
            } = &e.kind
            {
                let _ = std::fs::remove_file(self.kept.join(file));
            }
        }
    }
}

/// 16 random bytes as hex: spool and kept file names.
fn random_name() -> String {
    let mut bytes = [0u8; 16];
    // A failing system RNG still leaves a usable (time-based) name.
    if getrandom::fill(&mut bytes).is_err() {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = t.to_le_bytes();
    }
    let mut wide = [0u8; 32];
    wide[..16].copy_from_slice(&bytes);
    blake3::Hash::from_bytes(wide).to_hex()[..32].to_owned()
}

fn hash_file(path: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::open(path).map_err(Error::io(path))?)
        .map_err(Error::io(path))?;
    Ok(hasher.finalize().to_hex().to_string())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
