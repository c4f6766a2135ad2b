//! Just enough of Nextcloud's server API for its apps' photo upload: `status.php`, OCS
//! capabilities and user, WebDAV at `remote.php/dav/files/<user>/` (the same tree as
//! `/dav/<user>/`, with the `oc:` properties the clients read) and chunked upload v2
//! (`remote.php/dav/uploads/<user>/<transfer>/`: chunks land as plain spool files and are
//! joined into one upload, then ingested, on `MOVE …/.file`). Anything else is 501.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use dav_server::DavHandler;
use dav_server::localfs::LocalFs;

use super::tree::{self, Kind};
use super::{Dav, Error};

/// Version reported to clients (recent enough for chunking v2 and login flow v2).
const VERSION: &str = "30.0.0.0";
/// Where Nextcloud clients find a user's files.
pub const FILES: &str = "/remote.php/dav/files/";
/// Where chunked uploads are assembled.
pub const UPLOADS: &str = "/remote.php/dav/uploads/";

/// `GET /status.php`.
pub fn status() -> Response<Body> {
    json(&serde_json::json!({
        "installed": true, "maintenance": false, "needsDbUpgrade": false,
        "version": VERSION, "versionstring": "30.0.0", "edition": "",
        "productname": "shoebox", "extendedSupport": false
    }))
}

/// OCS capabilities.
pub fn capabilities() -> Response<Body> {
    ocs(&serde_json::json!({
        "version": {"major": 30, "minor": 0, "micro": 0, "string": "30.0.0", "edition": "", "extendedSupport": false},
        "capabilities": {
            "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav"},
            "dav": {"chunking": "1.0", "bulkupload": ""},
            "files": {"bigfilechunking": true, "undelete": false, "versioning": false},
            "files_sharing": {"api_enabled": false}
        }
    }))
}

/// OCS user.
pub fn user(name: &str) -> Response<Body> {
    ocs(&serde_json::json!({
        "id": name, "display-name": name, "displayname": name, "email": null,
        "enabled": true, "quota": {"free": -3, "used": 0, "total": -3, "relative": 0, "quota": -3}
    }))
}

fn ocs(data: &serde_json::Value) -> Response<Body> {
    json(&serde_json::json!({
        "ocs": {"meta": {"status": "ok", "statuscode": 100, "message": "OK"}, "data": data}
    }))
}

fn json(v: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::from(v.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// `oc:`/`nc:` properties of a tree entry, as dav-server wants them (the XML element).
pub(super) fn prop(
    entry: &tree::Entry,
    path: &str,
    ns: Option<&str>,
    name: &str,
) -> Option<Vec<u8>> {
    let (prefix, uri) = match ns? {
        u @ "http://owncloud.org/ns" => ("oc", u),
        u @ "http://nextcloud.org/ns" => ("nc", u),
        _ => return None,
    };
    let size = match &entry.kind {
        Kind::File { size, .. } => *size,
        Kind::Dir => 0,
    };
    let value = match (prefix, name) {
        ("oc", "id") => format!("{:020}ocshoebox", file_id(path)),
        ("oc", "fileid") => file_id(path).to_string(),
        ("oc", "permissions") => if entry.is_dir() { "RGDNVCK" } else { "RGDNVW" }.to_owned(),
        ("oc", "size") => size.to_string(),
        ("oc", "checksums" | "share-types" | "data-fingerprint") | ("nc", "mount-type") => {
            String::new()
        }
        ("nc", "has-preview" | "is-encrypted") => "false".to_owned(),
        _ => return None,
    };
    Some(
        format!("<{prefix}:{name} xmlns:{prefix}=\"{uri}\">{value}</{prefix}:{name}>").into_bytes(),
    )
}

/// The `OC-FileId` header value of `user`'s file at `path` (`/a/b.jpg`).
pub(super) fn file_id_header(user: &str, path: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{:020}ocshoebox",
        file_id(&format!("{user}:{path}"))
    ))
    .ok()
}

/// A stable number for a path (clients only need it unique per file).
fn file_id(path: &str) -> u64 {
    let h = blake3::hash(path.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b) >> 12
}

impl Dav {
    fn chunk_root(&self, user: &str) -> PathBuf {
        self.spool.with_file_name("nextcloud").join(user)
    }

    /// Chunked uploads of `user`: MKCOL/PUT/PROPFIND/DELETE on plain spool folders, and
    /// `MOVE <transfer>/.file` joins the chunks into one upload at the destination.
    pub(super) async fn serve_chunks(
        self: Arc<Self>,
        req: Request<Body>,
        user: String,
    ) -> Response<Body> {
        let root = self.chunk_root(&user);
        if let Err(e) = std::fs::create_dir_all(&root) {
            tracing::warn!("chunk folder: {e}");
            return super::serve::plain(StatusCode::INSUFFICIENT_STORAGE, "cannot store chunks");
        }
        let prefix = format!("{UPLOADS}{user}");
        let path = req.uri().path().to_owned();
        if req.method().as_str() == "MOVE" && path.ends_with("/.file") {
            let transfer = path
                .strip_prefix(&prefix)
                .and_then(|p| p.strip_suffix("/.file"))
                .unwrap_or_default()
                .trim_matches('/')
                .to_owned();
            let dest = req
                .headers()
                .get("destination")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mtime = req
                .headers()
                .get("x-oc-mtime")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
            return self
                .assemble(&user, &transfer, dest.as_deref(), mtime)
                .await;
        }
        let handler = DavHandler::builder()
            .filesystem(LocalFs::new(&root, false, false, false))
            .locksystem(self.locks.clone())
            .strip_prefix(prefix)
            .build_handler();
        handler.handle(req).await.map(Body::new)
    }

    async fn assemble(
        self: Arc<Self>,
        user: &str,
        transfer: &str,
        dest: Option<&str>,
        mtime: Option<i64>,
    ) -> Response<Body> {
        let plain = super::serve::plain;
        if transfer.is_empty() || transfer.contains('/') || transfer.starts_with('.') {
            return plain(StatusCode::BAD_REQUEST, "bad transfer");
        }
        let Some(segs) = dest.and_then(|d| destination(d, user)) else {
            return plain(StatusCode::BAD_REQUEST, "bad destination");
        };
        let file_id = file_id_header(user, &format!("/{}", segs.join("/")));
        let dir = self.chunk_root(user).join(transfer);
        let dav = Arc::clone(&self);
        let user2 = user.to_owned();
        let done = tokio::task::spawn_blocking(move || {
            let spool = dav.spool_file()?;
            let joined = join_chunks(&dir, &spool);
            let result = joined.and_then(|size| {
                dav.check_space(0)?;
                dav.finish_upload(&user2, &segs, &spool, size, mtime)
            });
            let _ = std::fs::remove_file(&spool);
            let _ = std::fs::remove_dir_all(&dir);
            result
        })
        .await;
        match done {
            Ok(Ok(entry)) => {
                let mut r = plain(StatusCode::CREATED, "");
                if let Kind::File { hash, .. } = &entry.kind {
                    let etag = format!("\"{}\"", &hash[..32.min(hash.len())]);
                    if let Ok(v) = HeaderValue::from_str(&etag) {
                        r.headers_mut().insert(header::ETAG, v.clone());
                        r.headers_mut().insert("oc-etag", v);
                    }
                }
                if let Some(id) = file_id {
                    r.headers_mut().insert("oc-fileid", id);
                }
                r
            }
            Ok(Err(Error::NotFound)) => plain(StatusCode::NOT_FOUND, "no such upload"),
            Ok(Err(Error::NoParent)) => plain(StatusCode::CONFLICT, "no such folder"),
            Ok(Err(Error::Full)) => plain(StatusCode::INSUFFICIENT_STORAGE, "the disk is full"),
            Ok(Err(e)) => {
                tracing::warn!("chunked upload: {e}");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not store the upload",
                )
            }
            Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        }
    }
}

/// The path segments of a `Destination` inside `user`'s files, or `None`.
fn destination(dest: &str, user: &str) -> Option<tree::Segs> {
    let path = match dest.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => dest,
    };
    let inside = path.strip_prefix(FILES)?.strip_prefix(user)?;
    if !inside.starts_with('/') {
        return None;
    }
    let decoded = dav_server::davpath::DavPath::new(inside).ok()?;
    let text = std::str::from_utf8(decoded.as_bytes()).ok()?;
    let segs = tree::segments(text);
    (!segs.is_empty()).then_some(segs)
}

/// Concatenates the chunk files of `dir` in name order into `to`; returns the size.
fn join_chunks(dir: &Path, to: &Path) -> super::Result<u64> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|_| Error::NotFound)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut out = std::fs::File::create(to).map_err(Error::io(to))?;
    let mut size = 0;
    for name in names {
        let mut f = std::fs::File::open(&name).map_err(Error::io(&name))?;
        size += std::io::copy(&mut f, &mut out).map_err(Error::io(to))?;
    }
    out.flush().map_err(Error::io(to))?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_stay_in_the_users_files() {
        let d = |s: &str| destination(s, "anna");
        assert_eq!(
            d("http://h:1/remote.php/dav/files/anna/a/b.jpg"),
            Some(vec!["a".into(), "b.jpg".into()])
        );
        assert_eq!(
            d("/remote.php/dav/files/anna/x%20y.jpg"),
            Some(vec!["x y.jpg".into()])
        );
        assert_eq!(d("/remote.php/dav/files/ben/x.jpg"), None);
        assert_eq!(d("/remote.php/dav/files/annab/x.jpg"), None);
        assert_eq!(d("/remote.php/dav/files/anna/../ben/x.jpg"), None);
    }
}
