//! Repository URLs: `s3://BUCKET/PREFIX?endpoint=…&region=…&path_style=true`,
//! `webdav+http://HOST/PATH`, `webdav+https://HOST/PATH`, `file:///PATH`.

use std::fmt;
use std::path::PathBuf;

/// A parsed repository location (credentials come from the environment, never the URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// Any S3-compatible service.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket ("" for the whole bucket).
        prefix: String,
        /// Service URL; AWS when absent.
        endpoint: Option<String>,
        /// Region; `us-east-1` when absent.
        region: Option<String>,
        /// `BUCKET` in the path rather than in the host name (`MinIO`, Garage, s3s).
        path_style: bool,
    },
    /// A WebDAV server.
    Webdav {
        /// `http://host:port` or `https://host:port`.
        endpoint: String,
        /// Folder on the server.
        root: String,
    },
    /// A local folder (a second USB disk).
    File {
        /// The folder.
        path: PathBuf,
    },
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("repository URL {url:?}: {why}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub why: String,
}

impl RemoteUrl {
    /// Parses one of the three forms.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let fail = |why: &str| UrlError {
            url: url.to_string(),
            why: why.to_string(),
        };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
            if bucket.is_empty() {
                return Err(fail("no bucket name"));
            }
            let mut endpoint = None;
            let mut region = None;
            let mut path_style = true;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                match k {
                    "endpoint" => endpoint = Some(percent_decode(v)),
                    "region" => region = Some(percent_decode(v)),
                    "path_style" => path_style = matches!(v, "true" | "1" | "yes"),
                    other => return Err(fail(&format!("unknown option {other:?}"))),
                }
            }
            return Ok(Self::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
                endpoint,
                region,
                path_style,
            });
        }
        if let Some(rest) = url.strip_prefix("webdav+") {
            let scheme_len = if rest.starts_with("https://") {
                8
            } else if rest.starts_with("http://") {
                7
            } else {
                return Err(fail("webdav needs webdav+http:// or webdav+https://"));
            };
            let after = rest.get(scheme_len..).unwrap_or_default();
            let (host, path) = after.split_once('/').unwrap_or((after, ""));
            if host.is_empty() {
                return Err(fail("no host"));
            }
            return Ok(Self::Webdav {
                endpoint: format!("{}{host}", rest.get(..scheme_len).unwrap_or_default()),
                root: format!("/{}", path.trim_matches('/')),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(fail("file URLs need an absolute path: file:///PATH"));
            }
            return Ok(Self::File {
                path: PathBuf::from(path),
            });
        }
        Err(fail("use s3://, webdav+http(s):// or file://"))
    }

    /// The URL in the form [`RemoteUrl::parse`] reads back (no credentials: there are none).
    pub fn to_url(&self) -> String {
        match self {
            Self::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                path_style,
            } => {
                let mut url = format!("s3://{bucket}/{prefix}?path_style={path_style}");
                if let Some(e) = endpoint {
                    url.push_str("&endpoint=");
                    url.push_str(&percent_encode(e));
                }
                if let Some(r) = region {
                    url.push_str("&region=");
                    url.push_str(&percent_encode(r));
                }
                url
            }
            Self::Webdav { endpoint, root } => format!("webdav+{endpoint}{root}"),
            Self::File { path } => format!("file://{}", path.display()),
        }
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S3 {
                bucket,
                prefix,
                endpoint,
                ..
            } => {
                write!(f, "s3://{bucket}/{prefix}")?;
                if let Some(e) = endpoint {
                    write!(f, " at {e}")?;
                }
                Ok(())
            }
            Self::Webdav { endpoint, root } => write!(f, "webdav {endpoint}{root}"),
            Self::File { path } => write!(f, "folder {}", path.display()),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (b'%', Some(v)) = (b, hex) {
            out.push(v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_carry_bucket_prefix_and_options() {
        let u = RemoteUrl::parse(
            "s3://photos/box1/backup?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-3&path_style=false",
        )
        .unwrap();
        assert_eq!(
            u,
            RemoteUrl::S3 {
                bucket: "photos".into(),
                prefix: "box1/backup".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("eu-west-3".into()),
                path_style: false,
            }
        );
        assert!(matches!(
            RemoteUrl::parse("s3://b").unwrap(),
            RemoteUrl::S3 {
                path_style: true,
                ..
            }
        ));
    }

    #[test]
    fn webdav_and_file_urls() {
        assert_eq!(
            RemoteUrl::parse(
                "webdav+https://dav.example.org:8443/remote.php/dav/files/ada/backup/"
            )
            .unwrap(),
            RemoteUrl::Webdav {
                endpoint: "https://dav.example.org:8443".into(),
                root: "/remote.php/dav/files/ada/backup".into(),
            }
        );
        assert_eq!(
            RemoteUrl::parse("file:///mnt/usb2/shoebox").unwrap(),
            RemoteUrl::File {
                path: "/mnt/usb2/shoebox".into()
            }
        );
    }

    #[test]
    fn urls_written_back_parse_to_the_same_location() {
        for url in [
            "s3://photos/box1?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-3",
            "s3://photos?path_style=false",
            "webdav+https://dav.example.org:8443/remote.php/dav/files/ada",
            "file:///mnt/usb2/shoebox",
        ] {
            let parsed = RemoteUrl::parse(url).unwrap();
            assert_eq!(RemoteUrl::parse(&parsed.to_url()).unwrap(), parsed, "{url}");
        }
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for bad in [
            "ftp://x",
            "s3://",
            "s3://b?foo=1",
            "webdav+ftp://h/p",
            "file://relative",
            "webdav+http:///p",
        ] {
            assert!(RemoteUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
