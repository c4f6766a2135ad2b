//! The photo library: assets, their origins, Live Photo pairs, the trash, and the one ingest
//! pipeline every source (import, WebDAV, iCloud) goes through.
//!
//! May import `store` and `media`. Owns the `library.*` tables. Invariants: an asset is
//! visible only after the transaction that stored its bytes committed; every blob an asset
//! holds carries exactly one store reference per asset; counters are updated in the same
//! transaction as the change they count.

mod albums;
mod asset;
mod attach;
mod check;
mod db;
mod dump;
mod error;
mod export;
mod filter;
mod ingest;
mod mirror;
mod pairing;
mod query;
mod rename;
mod revive;
mod source_facts;
mod tally;
mod trash;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableDatabase};

use crate::store::{self, Store};

pub use albums::{Album, Mirror};
pub use asset::{Asset, AssetId, AssetKind, Notes, Origin, Part, State, Taken, TimeSource};
pub use attach::Role;
pub use check::LibraryCheck;
pub use db::Stamp;
pub use dump::CatalogRow;
pub use error::{Error, Result};
pub use export::{ExportPlan, ExportReport};
pub use filter::{Facets, Filter, SourceKind, is_screenshot, uploaded_by};
pub use ingest::{Batch, Incoming, Ingested};
pub use mirror::MirrorChange;
pub use query::{Counts, Cursor, Page};
pub use revive::Presence;
pub use source_facts::SourceFacts;
pub use tally::{Month, SourceFolder};

/// Library settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Store tuning.
    pub store: store::Options,
    /// redb page cache. Bounded so a 100 000-photo library stays small in RAM on a 1 GiB
    /// board; lookups beyond it cost a disk read, which the index layout keeps rare.
    pub db_cache_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            store: store::Options::default(),
            db_cache_bytes: 32 * 1024 * 1024,
        }
    }
}

/// The library facade: the only type other modules hold.
pub struct Library {
    db: Arc<Database>,
    store: Store,
    data_dir: PathBuf,
}

impl Library {
    /// Opens the library in `data_dir`, creating it on first use.
    pub fn open(data_dir: &Path, options: Options) -> Result<Self> {
        let db = open_database(data_dir, options.db_cache_bytes)?;
        Self::with_db(Arc::new(db), data_dir, options)
    }

    /// Opens the library on a database the caller opened (the app shares one `catalog.redb`
    /// between the library, accounts and settings).
    pub fn with_db(db: Arc<Database>, data_dir: &Path, options: Options) -> Result<Self> {
        let store = Store::open(Arc::clone(&db), data_dir, options.store)?;
        let library = Self {
            db,
            store,
            data_dir: data_dir.to_path_buf(),
        };
        library.init_tables()?;
        Ok(library)
    }

    /// Creates the tables on first open; writes nothing once they exist (a full disk can still
    /// be checked and exported).
    fn init_tables(&self) -> Result<()> {
        if let Ok(meta) = self.db.begin_read()?.open_table(db::META) {
            let schema = db::meta_get(&meta, "schema")?;
            if schema > db::SCHEMA {
                return Err(Error::BadValue {
                    table: "library.meta",
                    what: format!("schema {schema} is newer than this binary"),
                });
            }
            if schema == db::SCHEMA {
                return Ok(());
            }
        }
        let txn = self.db.begin_write()?;
        {
            txn.open_table(db::ASSETS)?;
            txn.open_table(db::BLOB_OWNERS)?;
            txn.open_table(db::ORIGINS)?;
            txn.open_table(db::TIMELINE)?;
            txn.open_table(db::TRASH)?;
            txn.open_table(db::CONTENT_IDS)?;
            txn.open_table(albums::ALBUMS)?;
            txn.open_table(albums::ALBUM_ITEMS)?;
            let mut meta = txn.open_table(db::META)?;
            let schema = db::meta_get(&meta, "schema")?;
            if schema > db::SCHEMA {
                return Err(Error::BadValue {
                    table: "library.meta",
                    what: format!("schema {schema} is newer than this binary"),
                });
            }
            meta.insert("schema", db::SCHEMA)?;
            drop(meta);
            // 3, 4: tallies appear; count what an older library already holds.
            tally::rebuild(&txn)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The underlying store (for stats and GC).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether this origin already delivered a file with this stamp (so it need not be read).
    pub fn is_unchanged(&self, origin: &Origin, stamp: Stamp) -> Result<bool> {
        let txn = self.db.begin_read()?;
        let origins = txn.open_table(db::ORIGINS)?;
        let Some(v) = origins.get(origin.key().as_str())? else {
            return Ok(false);
        };
        let entry: db::OriginEntry = db::decode(v.value())?;
        Ok(entry.stamp == Some(stamp))
    }

    /// The asset and blob this origin delivered last (sources that show what they sent,
    /// like the WebDAV tree, read it after an ingest).
    pub fn origin(&self, origin: &Origin) -> Result<Option<(AssetId, store::BlobId)>> {
        let txn = self.db.begin_read()?;
        let origins = txn.open_table(db::ORIGINS)?;
        let Some(v) = origins.get(origin.key().as_str())? else {
            return Ok(None);
        };
        let entry: db::OriginEntry = db::decode(v.value())?;
        Ok(Some((entry.asset, entry.blob)))
    }

    /// Runs store GC.
    pub fn gc(&self) -> Result<store::GcReport> {
        Ok(self.store.gc()?)
    }
}

/// Opens (creating on first use) `catalog.redb` in `data_dir` with a bounded page cache.
pub fn open_database(data_dir: &Path, cache_bytes: usize) -> Result<Database> {
    std::fs::create_dir_all(data_dir).map_err(Error::io(data_dir))?;
    Database::builder()
        .set_cache_size(cache_bytes)
        .create(data_dir.join("catalog.redb"))
        .map_err(|e| Error::Db(e.into()))
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests;
