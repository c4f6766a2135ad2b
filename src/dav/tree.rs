//! Each user's upload folder as the WebDAV client sees it, in the `dav.tree` table.
//!
//! Key: `user \0 parent \0 name`, where `parent` is the folder's path without a trailing
//! slash (`""` for the user's root): the children of a folder are one contiguous key range,
//! so a PROPFIND of a folder reads exactly its entries. Paths come from dav-server already
//! normalised (no `.`/`..`, no `/` or NUL inside a segment), so keys are unambiguous.
//! A file's bytes live in the library (an asset's blob) or, for what the library does not
//! take (not a photo or video), in a kept file beside the spool.

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

pub(super) const TREE: TableDefinition<&str, &[u8]> = TableDefinition::new("dav.tree");
/// Version byte of [`Entry`] values.
const VERSION: u8 = 1;

/// A file or folder in an upload tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Unix seconds: upload time, or the client's `X-OC-Mtime`.
    pub modified: i64,
    /// File or folder.
    pub kind: Kind,
    /// Dead properties set with PROPPATCH.
    pub props: Vec<Prop>,
}

/// File or folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A folder.
    Dir,
    /// A file.
    File {
        /// Bytes.
        size: u64,
        /// blake3 of the bytes (the library's blob id), hex.
        hash: String,
        /// Where the bytes are.
        content: Content,
    },
}

/// Where a file's bytes are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// An asset's blob in the library.
    Asset {
        /// The asset the upload became (or joined).
        asset: u64,
    },
    /// A kept file (not a photo or video) under this name in the kept folder.
    Kept {
        /// File name in the kept folder.
        file: String,
    },
}

/// A dead property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prop {
    /// Local name.
    pub name: String,
    /// XML prefix the client used.
    pub prefix: Option<String>,
    /// Namespace URI.
    pub namespace: Option<String>,
    /// The raw XML element.
    pub xml: Option<Vec<u8>>,
}

impl Entry {
    /// A new folder.
    pub fn dir(modified: i64) -> Self {
        Self {
            modified,
            kind: Kind::Dir,
            props: Vec::new(),
        }
    }

    /// True for folders.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir)
    }
}

/// A path inside a user's tree as segments; the root has none.
pub type Segs = Vec<String>;

/// Splits a normalised path (`/a/b/`) into segments.
pub fn segments(path: &str) -> Segs {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The folder path of `segs` as stored in keys (`""` for the root, else `/a/b`).
fn dir_key(segs: &[String]) -> String {
    segs.iter().fold(String::new(), |mut out, s| {
        out.push('/');
        out.push_str(s);
        out
    })
}

fn key(user: &str, segs: &[String]) -> Option<String> {
    let (name, parent) = segs.split_last()?;
    Some(format!("{user}\0{}\0{name}", dir_key(parent)))
}

fn encode(entry: &Entry) -> Result<Vec<u8>> {
    let mut out = vec![VERSION];
    postcard::to_io(entry, &mut out).map_err(|e| Error::BadValue(e.to_string()))?;
    Ok(out)
}

fn decode(bytes: &[u8]) -> Result<Entry> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| Error::BadValue(e.to_string()))
        }
        Some((v, _)) => Err(Error::BadValue(format!("unknown value version {v}"))),
        None => Err(Error::BadValue("empty value".into())),
    }
}

/// The entry at `segs`; the root is always a folder.
pub fn get(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
    segs: &[String],
) -> Result<Option<Entry>> {
    let Some(k) = key(user, segs) else {
        return Ok(Some(Entry::dir(0)));
    };
    table
        .get(k.as_str())?
        .map(|v| decode(v.value()))
        .transpose()
}

/// The children of folder `segs`, by name.
pub fn children(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
    segs: &[String],
) -> Result<Vec<(String, Entry)>> {
    let start = format!("{user}\0{}\0", dir_key(segs));
    let end = format!("{user}\0{}\u{1}", dir_key(segs));
    let mut out = Vec::new();
    for item in table.range(start.as_str()..end.as_str())? {
        let (k, v) = item?;
        let name = k.value().rsplit('\0').next().unwrap_or_default().to_owned();
        out.push((name, decode(v.value())?));
    }
    Ok(out)
}

/// Stores `entry` at `segs`, whose parent must be an existing folder. Returns what it
/// replaced.
pub fn put(
    txn: &WriteTransaction,
    user: &str,
    segs: &[String],
    entry: &Entry,
) -> Result<Option<Entry>> {
    let mut table = txn.open_table(TREE)?;
    let k = key(user, segs).ok_or(Error::Forbidden)?;
    let parent = segs.get(..segs.len() - 1).unwrap_or_default();
    if !get(&table, user, parent)?.is_some_and(|e| e.is_dir()) {
        return Err(Error::NoParent);
    }
    let old = table
        .insert(k.as_str(), encode(entry)?.as_slice())?
        .map(|v| decode(v.value()))
        .transpose()?;
    Ok(old)
}

/// Removes `segs` and, for a folder, everything under it. Returns the removed entries.
pub fn remove(txn: &WriteTransaction, user: &str, segs: &[String]) -> Result<Vec<Entry>> {
    let mut table = txn.open_table(TREE)?;
    let k = key(user, segs).ok_or(Error::Forbidden)?;
    let Some(entry) = table
        .remove(k.as_str())?
        .map(|v| decode(v.value()))
        .transpose()?
    else {
        return Err(Error::NotFound);
    };
    let mut removed = vec![entry];
    if removed[0].is_dir() {
        for (k, _) in descendants(&table, user, segs)? {
            if let Some(v) = table.remove(k.as_str())? {
                removed.push(decode(v.value())?);
            }
        }
    }
    Ok(removed)
}

/// Every key and entry under folder `segs` (not the folder itself).
fn descendants(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
    segs: &[String],
) -> Result<Vec<(String, Entry)>> {
    let dir = dir_key(segs);
    let mut out = Vec::new();
    // Direct children (`dir \0 name`) and deeper ones (`dir/… \0 name`).
    for (start, end) in [
        (format!("{user}\0{dir}\0"), format!("{user}\0{dir}\u{1}")),
        (format!("{user}\0{dir}/"), format!("{user}\0{dir}0")),
    ] {
        for item in table.range(start.as_str()..end.as_str())? {
            let (k, v) = item?;
            out.push((k.value().to_owned(), decode(v.value())?));
        }
    }
    Ok(out)
}

/// An entry [`relocate`] wrote: its old path, its new path (`/a/b.jpg`) and the entry.
pub type Relocated = (String, String, Entry);

/// Moves (or copies) `from` and, for a folder, everything under it to `to`, whose parent must
/// exist and which must not. Returns what was written at the destination.
pub fn relocate(
    txn: &WriteTransaction,
    user: &str,
    from: &[String],
    to: &[String],
    keep_source: bool,
) -> Result<Vec<Relocated>> {
    if to.starts_with(from) {
        return Err(Error::Forbidden);
    }
    let mut table = txn.open_table(TREE)?;
    let entry = get(&table, user, from)?.ok_or(Error::NotFound)?;
    if from.is_empty() {
        return Err(Error::Forbidden);
    }
    let parent = to.get(..to.len().saturating_sub(1)).unwrap_or_default();
    if to.is_empty() || !get(&table, user, parent)?.is_some_and(|e| e.is_dir()) {
        return Err(Error::NoParent);
    }
    if get(&table, user, to)?.is_some() {
        return Err(Error::Exists);
    }
    let from_dir = format!("{user}\0{}", dir_key(from));
    let to_dir = format!("{user}\0{}", dir_key(to));
    let mut moved = vec![(key(user, from), key(user, to), entry)];
    if moved[0].2.is_dir() {
        for (k, e) in descendants(&table, user, from)? {
            let rest = k.get(from_dir.len()..).unwrap_or_default();
            moved.push((Some(k.clone()), Some(format!("{to_dir}{rest}")), e));
        }
    }
    let mut written = Vec::new();
    for (old, new, e) in moved {
        let (Some(old), Some(new)) = (old, new) else {
            continue;
        };
        if !keep_source {
            table.remove(old.as_str())?;
        }
        table.insert(new.as_str(), encode(&e)?.as_slice())?;
        written.push((path_of(&old), path_of(&new), e));
    }
    Ok(written)
}

/// The path (`/a/b.jpg`) a key (`user \0 /a \0 b.jpg`) stands for.
fn path_of(key: &str) -> String {
    let mut parts = key.splitn(3, '\0').skip(1);
    let (dir, name) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    format!("{dir}/{name}")
}

/// Replaces the entry at `segs` (which must exist) with `change` applied.
pub fn update(
    txn: &WriteTransaction,
    user: &str,
    segs: &[String],
    change: impl FnOnce(&mut Entry),
) -> Result<Entry> {
    let mut table = txn.open_table(TREE)?;
    let k = key(user, segs).ok_or(Error::Forbidden)?;
    let mut entry = get(&table, user, segs)?.ok_or(Error::NotFound)?;
    change(&mut entry);
    table.insert(k.as_str(), encode(&entry)?.as_slice())?;
    Ok(entry)
}

/// Every file of `user` (path, entry), for the "last uploads" list.
pub fn files(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
) -> Result<Vec<(String, Entry)>> {
    let start = format!("{user}\0");
    let end = format!("{user}\u{1}");
    let mut out = Vec::new();
    for item in table.range(start.as_str()..end.as_str())? {
        let (k, v) = item?;
        let e = decode(v.value())?;
        if e.is_dir() {
            continue;
        }
        let mut parts = k.value().splitn(3, '\0').skip(1);
        let (dir, name) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        out.push((format!("{dir}/{name}"), e));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    fn file(size: u64) -> Entry {
        Entry {
            modified: 1,
            kind: Kind::File {
                size,
                hash: "h".into(),
                content: Content::Asset { asset: 1 },
            },
            props: Vec::new(),
        }
    }

    fn s(p: &str) -> Segs {
        segments(p)
    }

    #[test]
    fn children_are_exactly_one_level_and_one_user() {
        let (_d, db) = db();
        let txn = db.begin_write().unwrap();
        put(&txn, "anna", &s("/a"), &Entry::dir(1)).unwrap();
        put(&txn, "anna", &s("/a-b"), &Entry::dir(1)).unwrap();
        put(&txn, "anna", &s("/a/x.jpg"), &file(3)).unwrap();
        put(&txn, "anna", &s("/a/b"), &Entry::dir(1)).unwrap();
        put(&txn, "anna", &s("/a/b/y.jpg"), &file(4)).unwrap();
        put(&txn, "annabel", &s("/a"), &Entry::dir(1)).unwrap();
        assert!(matches!(
            put(&txn, "anna", &s("/zz/y.jpg"), &file(4)),
            Err(Error::NoParent)
        ));
        let t = txn.open_table(TREE).unwrap();
        let names: Vec<String> = children(&t, "anna", &s("/a"))
            .unwrap()
            .into_iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(names, ["b", "x.jpg"]);
        assert_eq!(children(&t, "anna", &[]).unwrap().len(), 2);
        assert_eq!(files(&t, "anna").unwrap().len(), 2);
    }

    #[test]
    fn move_and_remove_take_the_whole_subtree() {
        let (_d, db) = db();
        let txn = db.begin_write().unwrap();
        put(&txn, "anna", &s("/a"), &Entry::dir(1)).unwrap();
        put(&txn, "anna", &s("/a/b"), &Entry::dir(1)).unwrap();
        put(&txn, "anna", &s("/a/b/y.jpg"), &file(4)).unwrap();
        put(&txn, "anna", &s("/ab"), &Entry::dir(1)).unwrap();
        assert!(matches!(
            relocate(&txn, "anna", &s("/a"), &s("/a/b/c"), false),
            Err(Error::Forbidden)
        ));
        relocate(&txn, "anna", &s("/a"), &s("/c"), true).unwrap();
        let moved = relocate(&txn, "anna", &s("/a"), &s("/d"), false).unwrap();
        let paths: Vec<(&str, &str)> = moved
            .iter()
            .map(|(a, b, _)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            paths,
            [("/a", "/d"), ("/a/b", "/d/b"), ("/a/b/y.jpg", "/d/b/y.jpg")]
        );
        {
            let t = txn.open_table(TREE).unwrap();
            assert!(get(&t, "anna", &s("/a/b/y.jpg")).unwrap().is_none());
            assert_eq!(get(&t, "anna", &s("/d/b/y.jpg")).unwrap(), Some(file(4)));
            assert_eq!(get(&t, "anna", &s("/c/b/y.jpg")).unwrap(), Some(file(4)));
        }
        assert_eq!(remove(&txn, "anna", &s("/d")).unwrap().len(), 3);
        let t = txn.open_table(TREE).unwrap();
        assert!(get(&t, "anna", &s("/d/b")).unwrap().is_none());
        assert!(get(&t, "anna", &s("/ab")).unwrap().is_some());
    }
}
