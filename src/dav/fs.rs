//! One user's upload tree as a dav-server file system. Every operation is confined to
//! `user`'s keys in `dav.tree`; paths arrive normalised by dav-server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsResult,
    FsStream, OpenOptions, ReadDirMeta,
};
use futures_util::FutureExt;
use http::StatusCode;
use redb::ReadableDatabase;

use super::file::{Child, Meta, Reader, Source, Upload, blocking};
use super::tree::{self, Content, Entry, Kind, Prop, Segs};
use super::{Dav, Error, unix_now};
use crate::library::Origin;
use crate::store::BlobId;

/// `user`'s tree, for one request.
#[derive(Clone)]
pub(super) struct UserFs {
    pub dav: Arc<Dav>,
    pub user: String,
    /// The client's `X-OC-Mtime` for an upload, unix seconds.
    pub mtime: Option<i64>,
    /// Entries this request listed: a `PROPFIND` asks for each child's properties right after
    /// listing the folder, and answering those from here saves a database read and a
    /// blocking-thread hop per child. Emptied by any write.
    pub listed: Arc<Mutex<HashMap<Segs, Entry>>>,
}

fn segs_of(path: &DavPath) -> FsResult<Segs> {
    let p = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::Forbidden)?;
    Ok(tree::segments(p))
}

impl UserFs {
    pub(super) fn new(dav: Arc<Dav>, user: String, mtime: Option<i64>) -> Self {
        Self {
            dav,
            user,
            mtime,
            listed: Arc::default(),
        }
    }

    fn listed(&self) -> std::sync::MutexGuard<'_, HashMap<Segs, Entry>> {
        self.listed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup(&self, path: &DavPath) -> FsFuture<'_, Entry> {
        let segs = segs_of(path);
        let (dav, user) = (Arc::clone(&self.dav), self.user.clone());
        async move {
            let segs = segs?;
            if let Some(entry) = self.listed().get(&segs) {
                return Ok(entry.clone());
            }
            blocking(move || {
                let txn = dav.db.begin_read()?;
                let Ok(table) = txn.open_table(tree::TREE) else {
                    return if segs.is_empty() {
                        Ok(Entry::dir(0))
                    } else {
                        Err(Error::NotFound)
                    };
                };
                tree::get(&table, &user, &segs)?.ok_or(Error::NotFound)
            })
            .await
        }
        .boxed()
    }

    /// Runs `change` in a write transaction of the tree.
    fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Dav, &redb::WriteTransaction, &str) -> super::Result<T> + Send + 'static,
    ) -> FsFuture<'_, T> {
        let (dav, user) = (Arc::clone(&self.dav), self.user.clone());
        self.listed().clear();
        async move {
            blocking(move || {
                let txn = dav.db.begin_write()?;
                let out = change(&dav, &txn, &user)?;
                txn.commit()?;
                Ok(out)
            })
            .await
        }
        .boxed()
    }

    #[allow(clippy::needless_pass_by_value)] // dav-server hands it over by value
    fn open_write(&self, path: &DavPath, options: OpenOptions) -> FsFuture<'_, Box<dyn DavFile>> {
        let segs = segs_of(path);
        self.listed().clear();
        async move {
            let segs = segs?;
            if segs.is_empty() {
                return Err(FsError::Forbidden);
            }
            if options.append {
                return Err(FsError::NotImplemented); // partial PUT: resend the whole file
            }
            let parent = self.lookup_segs(segs[..segs.len() - 1].to_vec()).await?;
            if !parent.is_dir() {
                return Err(FsError::NotFound);
            }
            match self.lookup_segs(segs.clone()).await {
                Ok(e) if e.is_dir() => return Err(FsError::Forbidden),
                Ok(_) if options.create_new => return Err(FsError::Exists),
                Err(FsError::NotFound) if !options.create => return Err(FsError::NotFound),
                Err(FsError::NotFound) if !options.truncate => {
                    // LOCK of an unmapped URL: it becomes an empty file at once.
                    let (dav, user, s) = (Arc::clone(&self.dav), self.user.clone(), segs.clone());
                    blocking(move || dav.create_empty(&user, &s)).await?;
                }
                _ => {}
            }
            let dav = Arc::clone(&self.dav);
            let size = options.size.unwrap_or(0);
            let spool = blocking(move || {
                dav.check_space(size)?;
                dav.spool_file()
            })
            .await?;
            let file = tokio::fs::File::create(&spool)
                .await
                .map_err(|e| FsError::from(Error::io(&spool)(e)))?;
            let mut upload =
                Upload::new(Arc::clone(&self.dav), self.user.clone(), segs, spool, file);
            upload.expected = options.size;
            upload.mtime = self.mtime;
            Ok(Box::new(upload) as Box<dyn DavFile>)
        }
        .boxed()
    }

    fn lookup_segs(&self, segs: Segs) -> FsFuture<'_, Entry> {
        let (dav, user) = (Arc::clone(&self.dav), self.user.clone());
        async move {
            blocking(move || {
                let txn = dav.db.begin_read()?;
                let Ok(table) = txn.open_table(tree::TREE) else {
                    return if segs.is_empty() {
                        Ok(Entry::dir(0))
                    } else {
                        Err(Error::NotFound)
                    };
                };
                tree::get(&table, &user, &segs)?.ok_or(Error::NotFound)
            })
            .await
        }
        .boxed()
    }

    fn open_read(&self, path: &DavPath) -> FsFuture<'_, Box<dyn DavFile>> {
        let entry = self.lookup(path);
        let dav = Arc::clone(&self.dav);
        async move {
            let entry = entry.await?;
            let Kind::File { hash, content, .. } = &entry.kind else {
                return Err(FsError::Forbidden);
            };
            let (hash, content) = (hash.clone(), content.clone());
            let source = blocking(move || match content {
                Content::Asset { .. } => {
                    let blob = BlobId::from_hex(&hash).ok_or(Error::NotFound)?;
                    let reader = dav
                        .library
                        .store()
                        .reader(blob)
                        .map_err(|e| Error::Library(e.into()))?;
                    Ok(Source::Blob(reader))
                }
                Content::Kept { file } => {
                    let path = dav.kept.join(file);
                    let f = std::fs::File::open(&path).map_err(Error::io(&path))?;
                    Ok(Source::Plain(f))
                }
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
}

impl DavFileSystem for UserFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        if options.write {
            self.open_write(path, options)
        } else {
            self.open_read(path)
        }
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        let segs = segs_of(path);
        let (dav, user) = (Arc::clone(&self.dav), self.user.clone());
        async move {
            let segs = segs?;
            let parent = segs.clone();
            let children = blocking(move || {
                let txn = dav.db.begin_read()?;
                let Ok(table) = txn.open_table(tree::TREE) else {
                    return Ok(Vec::new());
                };
                if !tree::get(&table, &user, &segs)?.is_some_and(|e| e.is_dir()) {
                    return Err(Error::NotFound);
                }
                tree::children(&table, &user, &segs)
            })
            .await?;
            {
                let mut listed = self.listed();
                for (name, entry) in &children {
                    let mut at = parent.clone();
                    at.push(name.clone());
                    listed.insert(at, entry.clone());
                }
            }
            let items = children
                .into_iter()
                .map(|(name, e)| Ok(Box::new(Child(name, e)) as Box<dyn DavDirEntry>));
            Ok(Box::pin(futures_util::stream::iter(items)) as FsStream<Box<dyn DavDirEntry>>)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        let entry = self.lookup(path);
        async move { Ok(Box::new(Meta(entry.await?)) as Box<dyn DavMetaData>) }.boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        let segs = segs_of(path);
        async move {
            let segs = segs?;
            self.write(move |_, txn, user| {
                if segs.is_empty() {
                    return Err(Error::Exists);
                }
                if tree::get(&txn.open_table(tree::TREE)?, user, &segs)?.is_some() {
                    return Err(Error::Exists);
                }
                tree::put(txn, user, &segs, &Entry::dir(unix_now()))?;
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        let segs = segs_of(path);
        async move {
            let segs = segs?;
            self.write(move |_, txn, user| {
                let table = txn.open_table(tree::TREE)?;
                let entry = tree::get(&table, user, &segs)?.ok_or(Error::NotFound)?;
                if !entry.is_dir() {
                    return Err(Error::Forbidden);
                }
                if !tree::children(&table, user, &segs)?.is_empty() {
                    return Err(Error::Exists);
                }
                drop(table);
                tree::remove(txn, user, &segs)?;
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        let segs = segs_of(path);
        async move {
            let segs = segs?;
            let gone = self
                .write(move |_, txn, user| {
                    let entry = tree::get(&txn.open_table(tree::TREE)?, user, &segs)?;
                    if entry.ok_or(Error::NotFound)?.is_dir() {
                        return Err(Error::Forbidden);
                    }
                    tree::remove(txn, user, &segs)
                })
                .await?;
            let dav = Arc::clone(&self.dav);
            blocking(move || {
                dav.forget_kept(&gone);
                dav.trash_if_enabled(&gone)
            })
            .await
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        let (from, to) = (segs_of(from), segs_of(to));
        async move {
            let (from, to) = (from?, to?);
            self.write(move |dav, txn, user| {
                // The library follows, in the same transaction: an upload sent under a
                // temporary name and then renamed is known by its final name.
                for (old, new, entry) in tree::relocate(txn, user, &from, &to, false)? {
                    if let Kind::File {
                        content: Content::Asset { .. },
                        ..
                    } = entry.kind
                    {
                        let at = |path| Origin::Dav {
                            user: user.to_owned(),
                            path,
                        };
                        dav.library.move_origin(txn, &at(old), &at(new))?;
                    }
                }
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        let (from, to) = (segs_of(from), segs_of(to));
        async move {
            let (from, to) = (from?, to?);
            self.write(move |dav, txn, user| {
                let entry =
                    tree::get(&txn.open_table(tree::TREE)?, user, &from)?.ok_or(Error::NotFound)?;
                let copy = dav.duplicate(entry)?;
                if tree::get(&txn.open_table(tree::TREE)?, user, &to)?.is_some() {
                    return Err(Error::Exists);
                }
                tree::put(txn, user, &to, &copy)?;
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn have_props<'a>(
        &'a self,
        _path: &'a DavPath,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        async { true }.boxed()
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        let segs = segs_of(path);
        async move {
            let segs = segs?;
            self.write(move |_, txn, user| {
                let mut out = Vec::new();
                tree::update(txn, user, &segs, |entry| {
                    for (set, p) in patch {
                        entry
                            .props
                            .retain(|q| !(q.namespace == p.namespace && q.name == p.name));
                        let bare = DavProp {
                            name: p.name.clone(),
                            prefix: p.prefix.clone(),
                            namespace: p.namespace.clone(),
                            xml: None,
                        };
                        if set {
                            entry.props.push(Prop {
                                name: p.name,
                                prefix: p.prefix,
                                namespace: p.namespace,
                                xml: p.xml,
                            });
                        }
                        out.push((StatusCode::OK, bare));
                    }
                })?;
                Ok(out)
            })
            .await
        }
        .boxed()
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool) -> FsFuture<'a, Vec<DavProp>> {
        let entry = self.lookup(path);
        async move {
            Ok(entry
                .await?
                .props
                .into_iter()
                .map(|p| DavProp {
                    name: p.name,
                    prefix: p.prefix,
                    namespace: p.namespace,
                    xml: if do_content { p.xml } else { None },
                })
                .collect())
        }
        .boxed()
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        let entry = self.lookup(path);
        let id = format!("{}:{}", self.user, String::from_utf8_lossy(path.as_bytes()));
        async move {
            let entry = entry.await?;
            if let Some(xml) = entry
                .props
                .iter()
                .find(|p| p.namespace == prop.namespace && p.name == prop.name)
                .and_then(|p| p.xml.clone())
            {
                return Ok(xml);
            }
            super::nextcloud::prop(&entry, &id, prop.namespace.as_deref(), &prop.name)
                .ok_or(FsError::NotFound)
        }
        .boxed()
    }

    fn get_quota(&self) -> FsFuture<'_, (u64, Option<u64>)> {
        let dav = Arc::clone(&self.dav);
        async move {
            let disk = blocking(move || Ok(crate::system::disks::for_path(&dav.spool))).await?;
            let (used, total) = disk.map_or((0, None), |d| {
                (d.total.saturating_sub(d.available), Some(d.total))
            });
            Ok((used, total))
        }
        .boxed()
    }
}

impl Dav {
    /// A copy of a tree entry: the same asset, or a new kept file with the same bytes.
    fn duplicate(&self, mut entry: Entry) -> super::Result<Entry> {
        if let Kind::File {
            content: Content::Kept { file },
            ..
        } = &mut entry.kind
        {
            let name = super::random_name();
            let (from, to) = (self.kept.join(&*file), self.kept.join(&name));
            std::fs::copy(&from, &to).map_err(Error::io(&to))?;
            *file = name;
        }
        entry.modified = unix_now();
        Ok(entry)
    }

    /// An empty file at `segs` (a lock-null resource).
    fn create_empty(&self, user: &str, segs: &[String]) -> super::Result<()> {
        std::fs::create_dir_all(&self.kept).map_err(Error::io(&self.kept))?;
        let file = super::random_name();
        let path = self.kept.join(&file);
        std::fs::File::create(&path).map_err(Error::io(&path))?;
        let entry = Entry {
            modified: unix_now(),
            kind: Kind::File {
                size: 0,
                hash: blake3::hash(b"").to_hex().to_string(),
                content: Content::Kept { file },
            },
            props: Vec::new(),
        };
        let txn = self.db.begin_write()?;
        tree::put(&txn, user, segs, &entry)?;
        txn.commit()?;
        Ok(())
    }

    /// Moves the assets of deleted uploads to the trash when the admin enabled that.
    fn trash_if_enabled(&self, gone: &[Entry]) -> super::Result<()> {
        if !self.delete_trashes()? {
            return Ok(());
        }
        for e in gone {
            if let Kind::File {
                content: Content::Asset { asset },
                ..
            } = &e.kind
            {
                self.library
                    .trash_asset(crate::library::AssetId(*asset), true)?;
            }
        }
        Ok(())
    }
}
