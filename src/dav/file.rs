//! The two kinds of open file: an upload streaming into a spool file (ingested on flush when
//! complete, removed on drop otherwise), and a read of stored bytes (a library blob or a kept
//! file), both with bounded memory.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use bytes::{Buf, Bytes};
use dav_server::fs::{DavDirEntry, DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures_util::FutureExt;
use tokio::io::AsyncWriteExt;

use super::tree::{Entry, Kind, Segs};
use super::{Dav, Error};
use crate::store::BlobReader;

/// Largest read handed back at once.
const MAX_READ: usize = 1 << 20;

/// Metadata of a tree entry (or of an upload in progress).
#[derive(Clone, Debug)]
pub(super) struct Meta(pub Entry);

/// A listed child (name, entry), for the upload tree and the library view alike.
pub(super) struct Child(pub String, pub Entry);

impl DavDirEntry for Child {
    fn name(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = Meta(self.1.clone());
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        match &self.0.kind {
            Kind::File { size, .. } => *size,
            Kind::Dir => 0,
        }
    }

    fn modified(&self) -> FsResult<SystemTime> {
        let secs = u64::try_from(self.0.modified).unwrap_or(0);
        Ok(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }

    fn is_dir(&self) -> bool {
        self.0.is_dir()
    }

    /// The content hash: the same bytes have the same tag under any name.
    fn etag(&self) -> Option<String> {
        match &self.0.kind {
            Kind::File { hash, .. } => Some(hash.chars().take(32).collect()),
            Kind::Dir => Some(format!("d{:x}", self.0.modified)),
        }
    }
}

/// Runs blocking work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> super::Result<T> + Send + 'static,
) -> FsResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(FsError::from),
        Err(_) => Err(FsError::GeneralFailure),
    }
}

/// An upload in progress.
pub(super) struct Upload {
    pub dav: Arc<Dav>,
    pub user: String,
    pub segs: Segs,
    pub spool: PathBuf,
    pub file: Option<tokio::fs::File>,
    pub written: u64,
    pub expected: Option<u64>,
    pub mtime: Option<i64>,
    pub done: Option<Entry>,
}

impl Upload {
    pub(super) fn new(
        dav: Arc<Dav>,
        user: String,
        segs: Segs,
        spool: PathBuf,
        file: tokio::fs::File,
    ) -> Self {
        dav.active.fetch_add(1, Ordering::Relaxed);
        Self {
            dav,
            user,
            segs,
            spool,
            file: Some(file),
            written: 0,
            expected: None,
            mtime: None,
            done: None,
        }
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<()> {
        let file = self.file.as_mut().ok_or(FsError::GeneralFailure)?;
        file.write_all(data).await.map_err(|e| {
            FsError::from(Error::Io {
                path: self.spool.clone(),
                source: e,
            })
        })?;
        self.written += data.len() as u64;
        self.dav
            .receiving
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.dav.active.fetch_sub(1, Ordering::Relaxed);
        self.dav
            .receiving
            .fetch_sub(self.written, Ordering::Relaxed);
        // Ingested (the library holds a copy), kept (renamed away) or cut: the spool file
        // is done with either way.
        let _ = std::fs::remove_file(&self.spool);
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Upload({}:/{})", self.user, self.segs.join("/"))
    }
}

impl DavFile for Upload {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let entry = self.done.clone().unwrap_or_else(|| Entry {
            modified: super::unix_now(),
            kind: Kind::File {
                size: self.written,
                hash: String::new(),
                content: super::Content::Kept {
                    file: String::new(),
                },
            },
            props: Vec::new(),
        });
        async move { Ok(Box::new(Meta(entry)) as Box<dyn DavMetaData>) }.boxed()
    }

    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            while buf.has_remaining() {
                let chunk = buf.chunk().to_vec();
                self.write(&chunk).await?;
                buf.advance(chunk.len());
            }
            Ok(())
        }
        .boxed()
    }

    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move { self.write(&buf).await }.boxed()
    }

    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let at_start = self.written == 0 && matches!(pos, SeekFrom::Start(0));
        async move {
            if at_start {
                Ok(0)
            } else {
                Err(FsError::NotImplemented)
            }
        }
        .boxed()
    }

    /// The end of the body: when every announced byte arrived, ingest.
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            if self.done.is_some() {
                return Ok(());
            }
            if self.expected.is_some_and(|n| n != self.written) {
                return Err(FsError::from(Error::Incomplete));
            }
            let Some(mut file) = self.file.take() else {
                return Err(FsError::GeneralFailure);
            };
            file.flush().await.map_err(|_| FsError::GeneralFailure)?;
            drop(file);
            let (dav, user, segs, spool) = (
                Arc::clone(&self.dav),
                self.user.clone(),
                self.segs.clone(),
                self.spool.clone(),
            );
            let (size, mtime) = (self.written, self.mtime);
            let entry =
                blocking(move || dav.finish_upload(&user, &segs, &spool, size, mtime)).await?;
            self.done = Some(entry);
            Ok(())
        }
        .boxed()
    }
}

/// Where stored bytes are read from.
pub(super) enum Source {
    /// A library blob.
    Blob(BlobReader),
    /// A kept file.
    Plain(std::fs::File),
}

/// A read of a stored file.
pub(super) struct Reader {
    pub source: Option<Source>,
    pub entry: Entry,
    pub pos: u64,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reader(at {})", self.pos)
    }
}

fn read_some(source: &mut Source, count: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; count.min(MAX_READ)];
    let mut filled = 0;
    while filled < buf.len() {
        let n = match source {
            Source::Blob(r) => r.read(&mut buf[filled..])?,
            Source::Plain(f) => f.read(&mut buf[filled..])?,
        };
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}

impl DavFile for Reader {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = Meta(self.entry.clone());
        async move { Ok(Box::new(meta) as Box<dyn DavMetaData>) }.boxed()
    }

    fn write_buf(&mut self, _buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            let mut source = self.source.take().ok_or(FsError::GeneralFailure)?;
            let (source, data) = tokio::task::spawn_blocking(move || {
                let data = read_some(&mut source, count);
                (source, data)
            })
            .await
            .map_err(|_| FsError::GeneralFailure)?;
            self.source = Some(source);
            let data = data.map_err(|_| FsError::GeneralFailure)?;
            self.pos += data.len() as u64;
            Ok(Bytes::from(data))
        }
        .boxed()
    }

    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        async move {
            let size = Meta(self.entry.clone()).len();
            let target = match pos {
                SeekFrom::Start(n) => Some(n),
                SeekFrom::End(d) => size.checked_add_signed(d),
                SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            }
            .ok_or(FsError::GeneralFailure)?;
            match self.source.as_mut().ok_or(FsError::GeneralFailure)? {
                Source::Blob(r) => r.skip_to(target).map_err(|_| FsError::GeneralFailure)?,
                Source::Plain(f) => {
                    f.seek(SeekFrom::Start(target))
                        .map_err(|_| FsError::GeneralFailure)?;
                }
            }
            self.pos = target;
            Ok(target)
        }
        .boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}
