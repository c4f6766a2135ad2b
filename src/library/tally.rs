//! Tallies of the visible timeline: how many assets each local calendar month, each camera
//! and each source folder holds. The date scrubber, jump-to-month and the "by camera" and year choices read these
//! small tables instead of walking 100 000 assets; they change in the same transaction as the
//! timeline (see `db::put_asset`), and `check` recounts them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::Library;
use super::asset::{Asset, Origin};
use super::db::{self, ASSETS, TIMELINE};
use super::error::Result;
use super::query::{Cursor, Page};

/// `year * 100 + month` (local time where the photo was taken) → visible assets.
pub(crate) const MONTHS: TableDefinition<u32, u64> = TableDefinition::new("library.months");
/// Camera model (or make when the model is missing) → visible assets.
pub(crate) const CAMERAS: TableDefinition<&str, u64> = TableDefinition::new("library.cameras");
/// Source folder (see [`folders_of`]) → visible assets: the albums the sources bring.
pub(crate) const FOLDERS: TableDefinition<&str, u64> = TableDefinition::new("library.folders");

/// Largest UTC offset in use (+14:00, Kiribati): a local month can end this long after the
/// same wall-clock instant in UTC.
const MAX_OFFSET_SECS: i64 = 14 * 3600;

/// A month on the scrubber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// Calendar year.
    pub year: i32,
    /// 1–12.
    pub month: u32,
    /// Visible assets taken that month.
    pub count: u64,
}

impl Month {
    fn from_key(key: u32, count: u64) -> Self {
        Self {
            year: i32::try_from(key / 100).unwrap_or(0),
            month: key % 100,
            count,
        }
    }
}

/// The month key of an asset's local capture date. Years before 1 are clamped to 0.
pub(crate) fn key_of(a: &Asset) -> u32 {
    let t = a.taken.local_datetime();
    u32::try_from(t.year()).unwrap_or(0) * 100 + t.month()
}

/// The camera an asset is counted under.
pub(crate) fn camera_of(a: &Asset) -> Option<&str> {
    a.model
        .as_deref()
        .or(a.make.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// The source folders an asset came from, each once: `import:<folder>` for an imported file,
/// `dav:<user>:<folder>` for a phone upload. (iCloud albums are mirrored by the iCloud source.)
pub(crate) fn folders_of(a: &Asset) -> BTreeSet<String> {
    a.origins
        .iter()
        .filter_map(|o| match o {
            Origin::Import { path } => Some(format!("import:{}", parent(path))),
            Origin::Dav { user, path } => Some(format!("dav:{user}:{}", parent(path))),
            Origin::Icloud { .. } => None,
        })
        .collect()
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => "",
    }
}

/// Adds `delta` (±1) to a count, removing the row at zero.
fn bump<K: redb::Key + 'static>(
    table: &mut redb::Table<K, u64>,
    key: K::SelfType<'_>,
    delta: i64,
) -> Result<()>
where
    for<'a> K::SelfType<'a>: Copy,
{
    let n = table
        .get(key)?
        .map_or(0, |v| v.value())
        .saturating_add_signed(delta);
    if n == 0 {
        table.remove(key)?;
    } else {
        table.insert(key, n)?;
    }
    Ok(())
}

/// Moves one asset's tallies: `before` left the visible timeline, `after` joined it (either
/// may be absent; an unchanged month and camera write nothing).
pub(crate) fn shift(
    txn: &WriteTransaction,
    before: Option<&Asset>,
    after: Option<&Asset>,
) -> Result<()> {
    let (m0, m1) = (before.map(key_of), after.map(key_of));
    if m0 != m1 {
        let mut months = txn.open_table(MONTHS)?;
        if let Some(k) = m0 {
            bump(&mut months, k, -1)?;
        }
        if let Some(k) = m1 {
            bump(&mut months, k, 1)?;
        }
    }
    let (c0, c1) = (before.and_then(camera_of), after.and_then(camera_of));
    if c0 != c1 {
        let mut cameras = txn.open_table(CAMERAS)?;
        if let Some(k) = c0 {
            bump(&mut cameras, k, -1)?;
        }
        if let Some(k) = c1 {
            bump(&mut cameras, k, 1)?;
        }
    }
    let (f0, f1) = (
        before.map(folders_of).unwrap_or_default(),
        after.map(folders_of).unwrap_or_default(),
    );
    if f0 != f1 {
        let mut folders = txn.open_table(FOLDERS)?;
        for gone in f0.difference(&f1) {
            bump(&mut folders, gone.as_str(), -1)?;
        }
        for came in f1.difference(&f0) {
            bump(&mut folders, came.as_str(), 1)?;
        }
    }
    Ok(())
}

/// Both tallies counted from scratch.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counted {
    pub months: BTreeMap<u32, u64>,
    pub cameras: BTreeMap<String, u64>,
    pub folders: BTreeMap<String, u64>,
}

impl Counted {
    /// Counts one visible asset.
    pub fn add(&mut self, a: &Asset) {
        *self.months.entry(key_of(a)).or_default() += 1;
        if let Some(c) = camera_of(a) {
            *self.cameras.entry(c.to_string()).or_default() += 1;
        }
        for f in folders_of(a) {
            *self.folders.entry(f).or_default() += 1;
        }
    }
}

/// Recounts both tallies from the timeline (schema upgrade).
pub(crate) fn rebuild(txn: &WriteTransaction) -> Result<()> {
    let mut counted = Counted::default();
    {
        let timeline = txn.open_table(TIMELINE)?;
        let assets = txn.open_table(ASSETS)?;
        for row in timeline.iter()? {
            let (k, _) = row?;
            if let Some(a) = db::get_asset(&assets, db::split_order_key(k.value()).1)? {
                counted.add(&a);
            }
        }
    }
    txn.delete_table(MONTHS)?;
    txn.delete_table(CAMERAS)?;
    txn.delete_table(FOLDERS)?;
    let mut months = txn.open_table(MONTHS)?;
    for (k, n) in counted.months {
        months.insert(k, n)?;
    }
    let mut cameras = txn.open_table(CAMERAS)?;
    for (k, n) in &counted.cameras {
        cameras.insert(k.as_str(), *n)?;
    }
    let mut folders = txn.open_table(FOLDERS)?;
    for (k, n) in &counted.folders {
        folders.insert(k.as_str(), *n)?;
    }
    Ok(())
}

/// Both tallies as recorded, for `check`.
pub(crate) fn recorded(txn: &redb::ReadTransaction) -> Result<Counted> {
    let mut out = Counted::default();
    for row in txn.open_table(MONTHS)?.iter()? {
        let (k, v) = row?;
        out.months.insert(k.value(), v.value());
    }
    for row in txn.open_table(CAMERAS)?.iter()? {
        let (k, v) = row?;
        out.cameras.insert(k.value().to_string(), v.value());
    }
    for row in txn.open_table(FOLDERS)?.iter()? {
        let (k, v) = row?;
        out.folders.insert(k.value().to_string(), v.value());
    }
    Ok(out)
}

/// A folder a source brought photos from: the albums of imports and phone uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFolder {
    /// Stable key, used in links (`import:/path` or `dav:user:/path`).
    pub key: String,
    /// Who or what: "Imported" or the uploading user.
    pub source: String,
    /// The folder path as the source named it.
    pub path: String,
    /// Visible assets from it.
    pub count: u64,
}

impl SourceFolder {
    /// The folder of a key (as found in a link), with `count`.
    pub fn from_key(key: &str, count: u64) -> Self {
        let (source, path) = match key.split_once(':') {
            Some(("import", path)) => ("Imported".to_string(), path.to_string()),
            Some(("dav", rest)) => {
                let (user, path) = rest.split_once(':').unwrap_or((rest, ""));
                (format!("Uploaded by {user}"), path.to_string())
            }
            _ => (String::new(), key.to_string()),
        };
        Self {
            key: key.to_string(),
            source,
            path,
            count,
        }
    }
}

impl Library {
    /// Folders the sources brought photos from, by key, with their visible assets.
    pub fn source_folders(&self) -> Result<Vec<SourceFolder>> {
        let txn = self.db.begin_read()?;
        txn.open_table(FOLDERS)?
            .iter()?
            .map(|r| {
                let (k, v) = r?;
                Ok(SourceFolder::from_key(k.value(), v.value()))
            })
            .collect()
    }

    /// Cameras with their number of visible assets, by name.
    pub fn cameras(&self) -> Result<Vec<(String, u64)>> {
        let txn = self.db.begin_read()?;
        txn.open_table(CAMERAS)?
            .iter()?
            .map(|r| {
                let (k, v) = r?;
                Ok((k.value().to_string(), v.value()))
            })
            .collect()
    }

    /// Months that hold visible assets, newest first.
    pub fn months(&self) -> Result<Vec<Month>> {
        let txn = self.db.begin_read()?;
        let months = txn.open_table(MONTHS)?;
        months
            .iter()?
            .rev()
            .map(|r| {
                let (k, v) = r?;
                Ok(Month::from_key(k.value(), v.value()))
            })
            .collect()
    }

    /// The timeline page that starts with the newest asset taken in `year`-`month` (local time)
    /// or, when that month is empty, the next older one. Costs a few reads past the boundary.
    pub fn timeline_from_month(&self, year: i32, month: u32, limit: usize) -> Result<Page> {
        let Some(start) = NaiveDate::from_ymd_opt(year, month, 1) else {
            return Ok(Page {
                assets: Vec::new(),
                next: None,
            });
        };
        let after = start
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp());
        let target = u32::try_from(year).unwrap_or(0) * 100 + month;
        let mut cursor = after.map(|t| Cursor {
            instant: t.saturating_add(MAX_OFFSET_SECS),
            id: crate::library::AssetId(0),
        });
        // Assets of the next month can sit just below the boundary (their offset is east of
        // UTC): skip them, a page at a time, before taking the page.
        loop {
            let page = self.timeline(cursor, limit)?;
            let newer = page
                .assets
                .iter()
                .take_while(|a| key_of(a) > target)
                .count();
            if newer < page.assets.len() || page.next.is_none() {
                let mut assets = page.assets;
                assets.drain(..newer);
                if assets.is_empty() {
                    return Ok(Page { assets, next: None });
                }
                return match assets.last() {
                    Some(last) if assets.len() < limit && page.next.is_some() => {
                        // Fill the page back up from just after the last kept asset.
                        let rest = self.timeline(
                            Some(Cursor {
                                instant: last.taken.utc(),
                                id: last.id,
                            }),
                            limit - assets.len(),
                        )?;
                        assets.extend(rest.assets);
                        Ok(Page {
                            assets,
                            next: rest.next,
                        })
                    }
                    _ => Ok(Page {
                        assets,
                        next: page.next,
                    }),
                };
            }
            cursor = page.next;
        }
    }
}
