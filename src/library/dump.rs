//! The catalog as rows of bytes, for the off-site backup: every `library.*` table dumped
//! key by key, and loaded back into an empty library on restore. Table numbers are part of
//! the backup format (`docs/remote-format.md`); a new table gets a new number, never a reused
//! one.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::Library;
use super::albums::{ALBUM_ITEMS, ALBUMS};
use super::db::{ASSETS, BLOB_OWNERS, CONTENT_IDS, META, ORIGINS, TIMELINE, TRASH};
use super::error::{Error, Result};

/// One row of one catalog table, keys and values as raw bytes (integers little-endian).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    /// Table number: 0 assets, 1 blob owners, 2 origins, 3 timeline, 4 trash, 5 content ids,
    /// 6 meta, 7 albums, 8 album items.
    pub table: u8,
    /// Key bytes.
    pub key: Vec<u8>,
    /// Value bytes.
    pub value: Vec<u8>,
}

fn row(table: u8, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> CatalogRow {
    CatalogRow {
        table,
        key: key.into(),
        value: value.into(),
    }
}

fn bad(what: &str) -> Error {
    Error::BadValue {
        table: "catalog dump",
        what: what.to_string(),
    }
}

fn u64_of(bytes: &[u8]) -> Result<u64> {
    bytes
        .try_into()
        .map(u64::from_le_bytes)
        .map_err(|_| bad("an integer is not 8 bytes"))
}

fn str_of(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| bad("a text key is not UTF-8"))
}

impl Library {
    /// Calls `f` with every row of every catalog table as of `txn`.
    pub fn dump_catalog(
        &self,
        txn: &ReadTransaction,
        mut f: impl FnMut(CatalogRow) -> Result<()>,
    ) -> Result<()> {
        for r in txn.open_table(ASSETS)?.iter()? {
            let (k, v) = r?;
            f(row(0, k.value().to_le_bytes(), v.value()))?;
        }
        for r in txn.open_table(BLOB_OWNERS)?.iter()? {
            let (k, v) = r?;
            f(row(1, k.value().as_slice(), v.value().to_le_bytes()))?;
        }
        for r in txn.open_table(ORIGINS)?.iter()? {
            let (k, v) = r?;
            f(row(2, k.value().as_bytes(), v.value()))?;
        }
        for r in txn.open_table(TIMELINE)?.iter()? {
            f(row(3, r?.0.value().as_slice(), []))?;
        }
        for r in txn.open_table(TRASH)?.iter()? {
            f(row(4, r?.0.value().as_slice(), []))?;
        }
        for r in txn.open_table(CONTENT_IDS)?.iter()? {
            let (k, v) = r?;
            f(row(5, k.value().as_bytes(), v.value().to_le_bytes()))?;
        }
        for r in txn.open_table(META)?.iter()? {
            let (k, v) = r?;
            f(row(6, k.value().as_bytes(), v.value().to_le_bytes()))?;
        }
        for r in txn.open_table(ALBUMS)?.iter()? {
            let (k, v) = r?;
            f(row(7, k.value().to_le_bytes(), v.value()))?;
        }
        for r in txn.open_table(ALBUM_ITEMS)?.iter()? {
            f(row(8, r?.0.value().as_slice(), []))?;
        }
        Ok(())
    }

    /// Writes rows from [`Library::dump_catalog`] back into the tables, in `txn`. The
    /// caller has checked that the library was empty and restored the blobs the rows name.
    pub fn load_catalog(
        &self,
        txn: &WriteTransaction,
        rows: impl IntoIterator<Item = Result<CatalogRow>>,
    ) -> Result<u64> {
        let n = Self::load_rows(txn, rows)?;
        // The month, camera and folder tallies are derived: count them from what came back.
        super::tally::rebuild(txn)?;
        Ok(n)
    }

    fn load_rows(
        txn: &WriteTransaction,
        rows: impl IntoIterator<Item = Result<CatalogRow>>,
    ) -> Result<u64> {
        let mut assets = txn.open_table(ASSETS)?;
        let mut owners = txn.open_table(BLOB_OWNERS)?;
        let mut origins = txn.open_table(ORIGINS)?;
        let mut timeline = txn.open_table(TIMELINE)?;
        let mut trash = txn.open_table(TRASH)?;
        let mut content_ids = txn.open_table(CONTENT_IDS)?;
        let mut meta = txn.open_table(META)?;
        let mut albums = txn.open_table(ALBUMS)?;
        let mut album_items = txn.open_table(ALBUM_ITEMS)?;
        let key16 = |k: &[u8]| -> Result<[u8; 16]> {
            k.try_into()
                .map_err(|_| bad("a 16-byte key has another length"))
        };
        let mut n = 0u64;
        for r in rows {
            let CatalogRow { table, key, value } = r?;
            match table {
                0 => drop(assets.insert(u64_of(&key)?, value.as_slice())?),
                1 => {
                    let k: [u8; 32] = key
                        .as_slice()
                        .try_into()
                        .map_err(|_| bad("a blob id is not 32 bytes"))?;
                    drop(owners.insert(&k, u64_of(&value)?)?);
                }
                2 => drop(origins.insert(str_of(&key)?, value.as_slice())?),
                3 => drop(timeline.insert(&key16(&key)?, ())?),
                4 => drop(trash.insert(&key16(&key)?, ())?),
                5 => drop(content_ids.insert(str_of(&key)?, u64_of(&value)?)?),
                6 => drop(meta.insert(str_of(&key)?, u64_of(&value)?)?),
                7 => drop(albums.insert(u64_of(&key)?, value.as_slice())?),
                8 => drop(album_items.insert(&key16(&key)?, ())?),
                t => return Err(bad(&format!("unknown catalog table {t}"))),
            }
            n += 1;
        }
        Ok(n)
    }
}
