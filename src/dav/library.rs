//! The read-only library view `/dav/library/YYYY/MM/<file>`: every active photo's files as
//! plain files, original bytes, so Finder, Explorer and Linux file managers can browse and
//! copy them. Years and months come from the capture date; a name used twice in a month gets
//! the asset number (`IMG_0001 (42).JPG`) on every copy, so names never depend on order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Datelike;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, FsError, FsFuture, FsStream, OpenOptions,
    ReadDirMeta,
};
use futures_util::FutureExt;

use super::file::{Child, Meta, Reader, Source, blocking};
use super::tree::{Content, Entry, Kind};
use super::{Dav, Error};
use crate::library::{Asset, Filter, Library, State};
use crate::store::BlobId;

/// Assets fetched per search page while listing a period.
const PAGE: usize = 2000;

/// The library as read-only folders.
#[derive(Clone)]
pub(super) struct LibraryFs {
    pub dav: Arc<Dav>,
}

/// What a path names.
enum Node {
    Root,
    Year(i32),
    Month(i32, u32),
    File(i32, u32, String),
}

fn parse(path: &DavPath) -> Option<Node> {
    let p = std::str::from_utf8(path.as_bytes()).ok()?;
    let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    let year = |s: &str| {
        s.parse::<i32>()
            .ok()
            .filter(|y| (1800..=9999).contains(y) && s.len() == 4)
    };
    let month = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|m| (1..=12).contains(m) && s.len() == 2)
    };
    match segs.as_slice() {
        [] => Some(Node::Root),
        [y] => Some(Node::Year(year(y)?)),
        [y, m] => Some(Node::Month(year(y)?, month(m)?)),
        [y, m, name] => Some(Node::File(year(y)?, month(m)?, (*name).to_owned())),
        _ => None,
    }
}

/// Active assets taken between two local dates (inclusive, `YYYY-MM-DD`).
fn assets_between(library: &Library, from: String, to: String) -> super::Result<Vec<Asset>> {
    let filter = Filter {
        from: Some(from),
        to: Some(to),
        ..Filter::default()
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = library.search(&filter, after, PAGE)?;
        out.extend(page.assets.into_iter().filter(|a| a.state == State::Active));
        match page.next {
            Some(c) => after = Some(c),
            None => return Ok(out),
        }
    }
}

/// The files of one month: name → entry with the blob's hash.
fn month_files(library: &Library, y: i32, m: u32) -> super::Result<BTreeMap<String, Entry>> {
    let assets = assets_between(
        library,
        format!("{y:04}-{m:02}-01"),
        format!("{y:04}-{m:02}-31"),
    )?;
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = Vec::new();
    for a in &assets {
        let mut seen = BTreeSet::new();
        for part in a.parts() {
            if !seen.insert(part.blob) {
                continue;
            }
            *uses.entry(part.name.clone()).or_default() += 1;
            let entry = Entry {
                modified: a.taken.utc(),
                kind: Kind::File {
                    size: part.size,
                    hash: part.blob.to_hex(),
                    content: Content::Asset { asset: a.id.0 },
                },
                props: Vec::new(),
            };
            files.push((part.name.clone(), a.id.0, entry));
        }
    }
    Ok(files
        .into_iter()
        .map(|(name, id, e)| {
            if uses.get(&name).copied().unwrap_or(0) > 1 {
                (numbered(&name, id), e)
            } else {
                (name, e)
            }
        })
        .collect())
}

/// `IMG_1.JPG` → `IMG_1 (42).JPG`.
fn numbered(name: &str, id: u64) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({id}).{ext}"),
        _ => format!("{name} ({id})"),
    }
}

/// Folder names under `node` (years of the library, months of a year).
fn folders(library: &Library, node: &Node) -> super::Result<Vec<String>> {
    match node {
        Node::Root => Ok(library
            .facets()?
            .years
            .into_iter()
            .map(|(y, _)| format!("{y:04}"))
            .collect()),
        Node::Year(y) => {
            let months: BTreeSet<u32> =
                assets_between(library, format!("{y:04}-01-01"), format!("{y:04}-12-31"))?
                    .iter()
                    .map(|a| a.taken.local_datetime().month())
                    .collect();
            Ok(months.into_iter().map(|m| format!("{m:02}")).collect())
        }
        _ => Ok(Vec::new()),
    }
}

fn lookup(library: &Library, node: &Node) -> super::Result<Entry> {
    match node {
        Node::Root => Ok(Entry::dir(0)),
        Node::Year(y) => {
            let name = format!("{y:04}");
            folders(library, &Node::Root)?
                .contains(&name)
                .then(|| Entry::dir(0))
                .ok_or(Error::NotFound)
        }
        Node::Month(y, m) => {
            let name = format!("{m:02}");
            folders(library, &Node::Year(*y))?
                .contains(&name)
                .then(|| Entry::dir(0))
                .ok_or(Error::NotFound)
        }
        Node::File(y, m, name) => month_files(library, *y, *m)?
            .remove(name)
            .ok_or(Error::NotFound),
    }
}

impl DavFileSystem for LibraryFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        let node = parse(path);
        let dav = Arc::clone(&self.dav);
        async move {
            if options.write {
                return Err(FsError::Forbidden);
            }
            let node = node.ok_or(FsError::NotFound)?;
            let (entry, source) = blocking(move || {
                let entry = lookup(&dav.library, &node)?;
                let Kind::File { hash, .. } = &entry.kind else {
                    return Err(Error::Forbidden);
                };
                let blob = BlobId::from_hex(hash).ok_or(Error::NotFound)?;
                let reader = dav
                    .library
                    .store()
                    .reader(blob)
                    .map_err(|e| Error::Library(e.into()))?;
                Ok((entry, Source::Blob(reader)))
            })
            .await?;
            Ok(Box::new(Reader {
                source: Some(source),
                entry,
                pos: 0,
            }) as Box<dyn DavFile>)
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        let node = parse(path);
        let dav = Arc::clone(&self.dav);
        async move {
            let node = node.ok_or(FsError::NotFound)?;
            let children = blocking(move || match node {
                Node::Month(y, m) => Ok(month_files(&dav.library, y, m)?.into_iter().collect()),
                Node::File(..) => Err(Error::NotFound),
                _ => Ok(folders(&dav.library, &node)?
                    .into_iter()
                    .map(|n| (n, Entry::dir(0)))
                    .collect::<Vec<_>>()),
            })
            .await?;
            let items = children
                .into_iter()
                .map(|(name, e)| Ok(Box::new(Child(name, e)) as Box<dyn DavDirEntry>));
            Ok(Box::pin(futures_util::stream::iter(items)) as FsStream<Box<dyn DavDirEntry>>)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        let node = parse(path);
        let dav = Arc::clone(&self.dav);
        async move {
            let node = node.ok_or(FsError::NotFound)?;
            let entry = blocking(move || lookup(&dav.library, &node)).await?;
            Ok(Box::new(Meta(entry)) as Box<dyn DavMetaData>)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_get_the_asset_number() {
        assert_eq!(numbered("IMG_1.JPG", 42), "IMG_1 (42).JPG");
        assert_eq!(numbered("noext", 7), "noext (7)");
        assert_eq!(numbered(".hidden", 7), ".hidden (7)");
    }

    #[test]
    fn paths_parse_to_years_months_and_files() {
        let p = |s: &str| parse(&DavPath::new(s).unwrap());
        assert!(matches!(p("/"), Some(Node::Root)));
        assert!(matches!(p("/2024/"), Some(Node::Year(2024))));
        assert!(matches!(p("/2024/03/"), Some(Node::Month(2024, 3))));
        assert!(matches!(p("/2024/03/a.jpg"), Some(Node::File(2024, 3, _))));
        assert!(p("/24/").is_none());
        assert!(p("/2024/13/").is_none());
        assert!(p("/2024/03/a/b").is_none());
    }
}
