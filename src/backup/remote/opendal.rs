//! The one real remote: `OpenDAL` with its `s3`, `webdav` and `fs` services, over reqwest with
//! rustls and the ring provider (no aws-lc, no OpenSSL).
//!
//! The trait is blocking; this adapter owns a small tokio runtime and blocks on it, so
//! callers can upload from plain worker threads. Do not call it from inside a tokio runtime.

use std::sync::Once;
use std::time::Duration;

use opendal::{ErrorKind as DalKind, Operator};

use bytes::Bytes;

use super::{Error, ErrorKind, Kind, Listed, Remote, RemoteUrl, Result};

/// A remote reached through `OpenDAL`.
pub struct Opendal {
    op: Operator,
    runtime: tokio::runtime::Runtime,
    describe: String,
}

/// Credentials, read from the environment by the caller.
#[derive(Default, Clone)]
pub struct Credentials {
    /// S3 access key id.
    pub access_key: Option<String>,
    /// S3 secret.
    pub secret_key: Option<String>,
    /// WebDAV user.
    pub user: Option<String>,
    /// WebDAV password.
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

impl Credentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `SHOEBOX_WEBDAV_USER`,
    /// `SHOEBOX_WEBDAV_PASSWORD`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            access_key: var("AWS_ACCESS_KEY_ID"),
            secret_key: var("AWS_SECRET_ACCESS_KEY"),
            user: var("SHOEBOX_WEBDAV_USER"),
            password: var("SHOEBOX_WEBDAV_PASSWORD"),
        }
    }
}

/// Installs ring as the TLS provider and our reqwest client as `OpenDAL`'s transport, once.
fn install_transport() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut failure = None;
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        match reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .read_timeout(Duration::from_mins(2))
            .build()
        {
            Ok(client) => opendal::HttpTransporter::install_default(
                opendal_http_transport_reqwest::ReqwestTransport::new(client),
            ),
            Err(e) => failure = Some(e.to_string()),
        }
    });
    match failure {
        Some(m) => Err(Error::new(ErrorKind::Other, "connect", "http client", m)),
        None => Ok(()),
    }
}

impl Opendal {
    /// Connects (lazily: nothing is sent until the first call).
    pub fn open(url: &RemoteUrl, creds: &Credentials) -> Result<Self> {
        install_transport()?;
        let fail = |m: opendal::Error| {
            Error::new(ErrorKind::Other, "open", url.to_string(), m.to_string())
        };
        let op = match url {
            RemoteUrl::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                path_style,
            } => {
                let mut b = opendal_service_s3::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    .region(region.as_deref().unwrap_or("us-east-1"))
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(e) = endpoint {
                    b = b.endpoint(e);
                }
                if !path_style {
                    b = b.enable_virtual_host_style();
                }
                if let (Some(k), Some(s)) = (&creds.access_key, &creds.secret_key) {
                    b = b.access_key_id(k).secret_access_key(s);
                }
                Operator::new(b).map_err(fail)?
            }
            RemoteUrl::Webdav { endpoint, root } => {
                let mut b = opendal_service_webdav::Webdav::default()
                    .endpoint(endpoint)
                    .root(root);
                if let Some(u) = &creds.user {
                    b = b.username(u);
                }
                if let Some(p) = &creds.password {
                    b = b.password(p);
                }
                Operator::new(b).map_err(fail)?
            }
            RemoteUrl::File { path } => {
                let b = opendal_service_fs::Fs::default().root(&path.to_string_lossy());
                Operator::new(b).map_err(fail)?
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("shoebox-remote")
            .enable_all()
            .build()
            .map_err(|e| Error::new(ErrorKind::Other, "open", url.to_string(), e.to_string()))?;
        Ok(Self {
            op,
            runtime,
            describe: url.to_string(),
        })
    }
}

fn convert(what: &'static str, path: &str, e: &opendal::Error) -> Error {
    let kind = match e.kind() {
        DalKind::NotFound => ErrorKind::NotFound,
        DalKind::PermissionDenied => ErrorKind::Denied,
        DalKind::RateLimited => ErrorKind::Transient,
        _ if e.is_temporary() => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    Error::new(kind, what, path, e.to_string())
}

impl Remote for Opendal {
    fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        if kind == Kind::Config {
            return match self.size(kind, "") {
                Ok(size) => Ok(vec![Listed {
                    name: String::new(),
                    size,
                }]),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(e),
            };
        }
        let folder = format!("{}/", kind.folder());
        let entries = match self
            .runtime
            .block_on(async { self.op.list_with(&folder).recursive(true).await })
        {
            Ok(entries) => entries,
            Err(e) if e.kind() == DalKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(convert("list", &folder, &e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            if !entry.metadata().is_file() {
                continue;
            }
            let Some(name) = entry.path().strip_prefix(&folder) else {
                continue;
            };
            if name.is_empty() || name.contains('/') {
                continue;
            }
            let size = entry.metadata().content_length();
            out.push(Listed {
                name: name.to_string(),
                size,
            });
        }
        Ok(out)
    }

    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        let path = kind.path(name);
        self.runtime
            .block_on(self.op.read(&path))
            .map(|b| b.to_vec())
            .map_err(|e| convert("get", &path, &e))
    }

    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let path = kind.path(name);
        let end = offset.saturating_add(len);
        let read = |end: u64| {
            self.runtime
                .block_on(async { self.op.read_with(&path).range(offset..end).await })
        };
        match read(end) {
            Ok(b) => Ok(b.to_vec()),
            // Services refuse a range past the end in different ways (416, or a short body
            // that OpenDAL reports as unexpected); the trait promises the rest instead.
            Err(e) if e.kind() != DalKind::NotFound && !e.is_temporary() => {
                let size = self.size(kind, name)?;
                if end <= size {
                    return Err(convert("get", &path, &e));
                }
                if offset >= size {
                    return Ok(Vec::new());
                }
                read(end.min(size))
                    .map(|b| b.to_vec())
                    .map_err(|e| convert("get", &path, &e))
            }
            Err(e) => Err(convert("get", &path, &e)),
        }
    }

    fn size(&self, kind: Kind, name: &str) -> Result<u64> {
        let path = kind.path(name);
        self.runtime
            .block_on(self.op.stat(&path))
            .map(|m| m.content_length())
            .map_err(|e| convert("stat", &path, &e))
    }

    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
        let path = kind.path(name);
        let buffer = opendal::Buffer::from(bytes);
        let written = self
            .runtime
            .block_on(self.op.write(&path, buffer))
            .map_err(|e| convert("put", &path, &e))?;
        let _ = written;
        Ok(())
    }

    fn delete(&self, kind: Kind, name: &str) -> Result<()> {
        let path = kind.path(name);
        match self.runtime.block_on(self.op.delete(&path)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == DalKind::NotFound => Ok(()),
            Err(e) => Err(convert("delete", &path, &e)),
        }
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_folder_passes_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let url = RemoteUrl::File {
            path: dir.path().to_path_buf(),
        };
        let remote = Opendal::open(&url, &Credentials::default()).unwrap();
        super::super::conformance(&remote).unwrap();
    }
}
