//! Search and smart views: which assets a timeline page shows. A filter walks the timeline
//! newest first and keeps the matches; a page stops after a bounded scan so a rare match in a
//! huge library costs a few pages, never one slow request.

use redb::ReadableDatabase;

use super::Library;
use super::asset::{Asset, AssetKind, Origin};
use super::db::{self, ASSETS, TIMELINE};
use super::error::Result;
use super::query::{Cursor, Page};

/// Timeline entries examined per page at most.
const SCAN_LIMIT: usize = 20_000;

/// Where photos came from, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `shoebox import` or Import in the browser.
    Import,
    /// Phone uploads.
    Dav,
    /// iCloud.
    Icloud,
}

/// What to show. Every field narrows; the default shows everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Photos, videos or Live Photos only.
    pub kind: Option<AssetKind>,
    /// Favorites only.
    pub favorites: bool,
    /// Taken on or after this local date (`YYYY-MM-DD` compared as text).
    pub from: Option<String>,
    /// Taken on or before this local date.
    pub to: Option<String>,
    /// Camera model contains this (case-insensitive).
    pub camera: Option<String>,
    /// From this kind of source.
    pub source: Option<SourceKind>,
    /// With (true) or without (false) a location.
    pub located: Option<bool>,
    /// File name contains this (case-insensitive).
    pub name: Option<String>,
    /// Screenshots only (see [`is_screenshot`]).
    pub screenshots: bool,
    /// Only what this shoebox user uploaded (a member restricted to their own uploads).
    pub uploader: Option<String>,
    /// From this source folder (a [`super::SourceFolder`] key).
    pub folder: Option<String>,
}

/// A screen capture rather than a photo: no camera named, and a screenshot's file name (iOS,
/// Android, macOS, Windows in a few languages) or a PNG without a location, which is how
/// phones save them.
pub fn is_screenshot(a: &Asset) -> bool {
    const NAMES: [&str; 5] = [
        "screenshot",
        "screen shot",
        "bildschirmfoto",
        "capture d",
        "schermafbeelding",
    ];
    if a.kind != AssetKind::Photo || a.make.is_some() || a.model.is_some() {
        return false;
    }
    let name = a.original.name.to_lowercase();
    NAMES.iter().any(|n| name.contains(n)) || (a.format == "png" && a.gps.is_none())
}

impl Filter {
    /// True when nothing narrows the view.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `a` belongs in the view.
    pub fn matches(&self, a: &Asset) -> bool {
        let day = a.taken.local_datetime().format("%Y-%m-%d").to_string();
        let contains = |hay: Option<&str>, needle: &Option<String>| {
            needle
                .as_ref()
                .is_none_or(|n| hay.is_some_and(|h| h.to_lowercase().contains(&n.to_lowercase())))
        };
        self.kind.is_none_or(|k| a.kind == k)
            && (!self.favorites || a.favorite)
            && self.from.as_ref().is_none_or(|f| day >= *f)
            && self.to.as_ref().is_none_or(|t| day <= *t)
            && contains(a.model.as_deref().or(a.make.as_deref()), &self.camera)
            && contains(Some(a.original.name.as_str()), &self.name)
            && self.located.is_none_or(|l| a.gps.is_some() == l)
            && (!self.screenshots || is_screenshot(a))
            && self.uploader.as_deref().is_none_or(|u| uploaded_by(a, u))
            && self
                .folder
                .as_ref()
                .is_none_or(|f| super::tally::folders_of(a).contains(f))
            && self
                .source
                .is_none_or(|s| a.origins.iter().any(|o| source_of(o) == s))
    }
}

/// Whether `user` uploaded `a` (over WebDAV from their phone).
pub fn uploaded_by(a: &Asset, user: &str) -> bool {
    a.origins
        .iter()
        .any(|o| matches!(o, Origin::Dav { user: u, .. } if u == user))
}

fn source_of(o: &Origin) -> SourceKind {
    match o {
        Origin::Import { .. } => SourceKind::Import,
        Origin::Dav { .. } => SourceKind::Dav,
        Origin::Icloud { .. } => SourceKind::Icloud,
    }
}

/// The values present in the library, for filter choices.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    /// Camera models (or makes) with their number of visible assets, by name.
    pub cameras: Vec<(String, u64)>,
    /// Years with their number of visible assets, newest first.
    pub years: Vec<(i32, u64)>,
}

impl Library {
    /// A page of the timeline, newest first, with only the assets `filter` keeps. `next` is set
    /// whenever older entries remain (a page may come back short when the scan limit was hit).
    pub fn search(&self, filter: &Filter, after: Option<Cursor>, limit: usize) -> Result<Page> {
        if filter.is_empty() {
            return self.timeline(after, limit);
        }
        let txn = self.db.begin_read()?;
        let timeline = txn.open_table(TIMELINE)?;
        let assets = txn.open_table(ASSETS)?;
        let end = after.map_or([0xff; 16], |c| db::order_key(c.instant, c.id));
        let mut out = Vec::with_capacity(limit);
        let mut last = None;
        let mut more = false;
        for (scanned, row) in timeline.range::<&[u8; 16]>(..&end)?.rev().enumerate() {
            if out.len() == limit || scanned == SCAN_LIMIT {
                more = true;
                break;
            }
            let (k, _) = row?;
            let (instant, id) = db::split_order_key(k.value());
            last = Some(Cursor { instant, id });
            if let Some(a) = db::get_asset(&assets, id)?.filter(|a| filter.matches(a)) {
                out.push(a);
            }
        }
        Ok(Page {
            assets: out,
            next: if more { last } else { None },
        })
    }

    /// Camera models and years present, with counts, for the filter choices (reads the
    /// tallies, never the assets).
    pub fn facets(&self) -> Result<Facets> {
        let mut years: Vec<(i32, u64)> = Vec::new();
        for m in self.months()? {
            match years.last_mut() {
                Some((y, n)) if *y == m.year => *n += m.count,
                _ => years.push((m.year, m.count)),
            }
        }
        Ok(Facets {
            cameras: self.cameras()?,
            years,
        })
    }
}
