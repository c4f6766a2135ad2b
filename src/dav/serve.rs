//! The HTTP side: who is asking (HTTP Basic), may they (their own folder only), then
//! dav-server on their tree. Status codes are WebDAV's: 401 with a challenge, 403 for another
//! user's folder, 429 while throttled.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use base64::Engine;
use dav_server::{DavHandler, DavMethodSet};

use super::Dav;
use super::fs::UserFs;
use super::library::LibraryFs;
use super::nextcloud;
use crate::accounts::LoginError;

/// The mount point.
pub const PREFIX: &str = "/dav";
/// The read-only library view under the mount point (a reserved name: no user can have it).
pub const LIBRARY: &str = "library";

impl Dav {
    /// Answers one request under [`PREFIX`] or the Nextcloud paths. `client` feeds the
    /// login throttle.
    pub async fn handle(self: Arc<Self>, req: Request<Body>, client: IpAddr) -> Response<Body> {
        let path = req.uri().path().to_owned();
        if path == "/status.php" {
            return nextcloud::status();
        }
        if path.ends_with("/cloud/capabilities") {
            return nextcloud::capabilities();
        }
        let Some((name, secret)) = basic_credentials(&req) else {
            return challenge();
        };
        let dav = Arc::clone(&self);
        let checked =
            tokio::task::spawn_blocking(move || dav.accounts.check_basic(&name, &secret, client))
                .await;
        let user = match checked {
            Ok(Ok((user, _role))) => user,
            Ok(Err(LoginError::Throttled { retry_after })) => {
                let mut r = plain(StatusCode::TOO_MANY_REQUESTS, "too many attempts");
                if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return r;
            }
            Ok(Err(LoginError::BadCredentials)) => return challenge(),
            Ok(Err(LoginError::Other(e))) => {
                tracing::error!("webdav sign-in: {e}");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
            }
            Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        };
        if path.starts_with("/ocs/") {
            if path.ends_with("/cloud/user") {
                return nextcloud::user(&user);
            }
            return plain(StatusCode::NOT_IMPLEMENTED, "not supported");
        }
        let first = |rest: &str| {
            rest.trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        if let Some(rest) = path.strip_prefix(nextcloud::UPLOADS) {
            if first(rest) != user {
                return plain(StatusCode::FORBIDDEN, "this is not your folder");
            }
            return self.serve_chunks(req, user).await;
        }
        let (folder, prefix) = if let Some(rest) = path.strip_prefix(nextcloud::FILES) {
            (first(rest), format!("{}{user}", nextcloud::FILES))
        } else if path == "/remote.php/webdav" || path.starts_with("/remote.php/webdav/") {
            (user.clone(), "/remote.php/webdav".to_owned())
        } else if let Some(rest) = path.strip_prefix(PREFIX) {
            (first(rest), format!("{PREFIX}/{user}"))
        } else {
            return plain(StatusCode::NOT_IMPLEMENTED, "not supported");
        };
        if folder.is_empty() {
            return plain(
                StatusCode::NOT_FOUND,
                &format!("your folder is {PREFIX}/{user}/"),
            );
        }
        if folder == LIBRARY && prefix.starts_with(PREFIX) {
            return self.serve_library(req, user).await;
        }
        // The folder segment must be exactly the signed-in name; an encoded or other name
        // is refused before dav-server sees the request.
        if folder != user {
            return plain(StatusCode::FORBIDDEN, "this is not your folder");
        }
        self.serve_user(req, user, prefix).await
    }

    async fn serve_library(self: Arc<Self>, req: Request<Body>, user: String) -> Response<Body> {
        // A member an administrator limited to their own uploads does not browse the family's.
        let (dav, name) = (Arc::clone(&self), user.clone());
        let limited = tokio::task::spawn_blocking(move || dav.accounts.own_uploads_only(&name))
            .await
            .map_or(true, |r| r.unwrap_or(true));
        if limited {
            return plain(
                StatusCode::FORBIDDEN,
                "an administrator limited this account to its own uploads",
            );
        }
        let handler = DavHandler::builder()
            .filesystem(Box::new(LibraryFs {
                dav: Arc::clone(&self),
            }))
            .methods(DavMethodSet::WEBDAV_RO)
            .strip_prefix(format!("{PREFIX}/{LIBRARY}"))
            .principal(user)
            .build_handler();
        handler.handle(req).await.map(Body::new)
    }

    async fn serve_user(
        self: Arc<Self>,
        req: Request<Body>,
        user: String,
        prefix: String,
    ) -> Response<Body> {
        let mtime = req
            .headers()
            .get("x-oc-mtime")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let fs = UserFs::new(Arc::clone(&self), user.clone(), mtime);
        let is_put = req.method() == axum::http::Method::PUT;
        let file_id = req
            .uri()
            .path()
            .strip_prefix(&prefix)
            .and_then(|p| dav_server::davpath::DavPath::new(p).ok())
            .and_then(|p| nextcloud::file_id_header(&user, &String::from_utf8_lossy(p.as_bytes())));
        let handler = DavHandler::builder()
            .filesystem(Box::new(fs))
            .locksystem(self.locks.clone())
            .strip_prefix(prefix)
            .principal(user)
            .build_handler();
        let mut response = handler.handle(req).await.map(Body::new);
        if is_put && response.status().is_success() {
            let h = response.headers_mut();
            if mtime.is_some() {
                h.insert("x-oc-mtime", HeaderValue::from_static("accepted"));
            }
            if let Some(etag) = h.get(header::ETAG).cloned() {
                h.insert("oc-etag", etag);
            }
            if let Some(id) = file_id {
                h.insert("oc-fileid", id);
            }
        }
        response
    }
}

/// The user name and secret of an `Authorization: Basic` header.
fn basic_credentials(req: &Request<Body>) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, secret) = text.split_once(':')?;
    Some((name.to_owned(), secret.to_owned()))
}

fn challenge() -> Response<Body> {
    let mut r = plain(
        StatusCode::UNAUTHORIZED,
        "sign in with your shoebox name and an app password",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"shoebox\", charset=\"UTF-8\""),
    );
    r
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(text.to_owned()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
