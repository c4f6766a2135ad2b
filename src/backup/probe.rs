//! "Test connection": write, read back and delete a small probe object, and say what is wrong
//! in words a person can act on (wrong credentials, missing bucket, wrong region, clock skew,
//! unreachable host, TLS failure) instead of the server's error text.

use super::remote::{self, ErrorKind, Kind, Remote, RemoteUrl};

/// Why a target does not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Credentials refused.
    #[error(
        "The server refused the credentials. Check the access key and secret (S3) or the user name and password (WebDAV)."
    )]
    WrongCredentials,
    /// The bucket does not exist.
    #[error(
        "The bucket \"{0}\" does not exist on this server. Create it first, or check its name."
    )]
    MissingBucket(String),
    /// The folder does not exist (WebDAV, folder).
    #[error("The folder does not exist on the server, and it could not be created there.")]
    MissingFolder,
    /// The bucket lives in another region.
    #[error(
        "The bucket is in another region than the one given. Set the region the provider shows for this bucket."
    )]
    WrongRegion,
    /// The server says this box's clock is off.
    #[error(
        "The server refused the request because this box's clock is wrong. Check the date and time (and that the box reaches a time server)."
    )]
    ClockSkew,
    /// Nothing answers at the address.
    #[error("Cannot reach {0}. Check the address and port, and that the server is running.")]
    Unreachable(String),
    /// The secure connection failed.
    #[error(
        "The secure connection to {0} failed: its certificate is not valid for this name or not trusted."
    )]
    Tls(String),
    /// The probe came back different.
    #[error("The server stored the test file but gave back different bytes.")]
    Garbled,
    /// A folder target that cannot be written.
    #[error("This box may not write to that folder ({0}).")]
    NotWritable(String),
    /// The target itself is malformed.
    #[error("{0}")]
    BadTarget(String),
    /// Anything else, with what the server said.
    #[error("The server answered with an error: {0}")]
    Other(String),
}

/// Writes, reads and deletes `probe/<random>`.
pub fn probe(remote: &dyn Remote, url: &RemoteUrl) -> Result<(), Problem> {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).map_err(|e| Problem::Other(e.to_string()))?;
    let name = format!("{:016x}", u64::from_le_bytes(r));
    let body = format!("shoebox connection test {name}\n").into_bytes();
    remote
        .put(Kind::Probe, &name, body.clone().into())
        .map_err(|e| classify(&e, url))?;
    let back = remote
        .get(Kind::Probe, &name)
        .map_err(|e| classify(&e, url))?;
    if back != body {
        return Err(Problem::Garbled);
    }
    remote
        .delete(Kind::Probe, &name)
        .map_err(|e| classify(&e, url))
}

/// Turns a remote error into the problem a person fixes.
pub fn classify(e: &remote::Error, url: &RemoteUrl) -> Problem {
    let m = e.message.to_ascii_lowercase();
    let host = host_of(url);
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["requesttimetooskewed", "clock skew", "time too skewed"]) {
        return Problem::ClockSkew;
    }
    if has(&[
        "authorizationheadermalformed",
        "permanentredirect",
        "incorrect region",
        "region is wrong",
        "wrong region",
        "illegallocationconstraint",
    ]) {
        return Problem::WrongRegion;
    }
    if has(&["certificate", "tls", "ssl", "handshake"]) {
        return Problem::Tls(host);
    }
    if has(&[
        "connection refused",
        // reqwest's text when the connection itself failed (no detail given).
        "error sending request",
        "dns error",
        "failed to lookup",
        "error trying to connect",
        "tcp connect",
        "connect error",
        "operation timed out",
        "no route to host",
        "network is unreachable",
    ]) {
        return Problem::Unreachable(host);
    }
    if has(&["nosuchbucket", "specified bucket does not exist"]) {
        return Problem::MissingBucket(bucket_of(url));
    }
    if has(&[
        "signaturedoesnotmatch",
        "invalidaccesskeyid",
        "accessdenied",
        "unauthorized",
        "forbidden",
    ]) || e.kind == ErrorKind::Denied
    {
        return match url {
            RemoteUrl::File { path } => Problem::NotWritable(path.display().to_string()),
            _ => Problem::WrongCredentials,
        };
    }
    if e.kind == ErrorKind::NotFound || has(&["conflict"]) {
        return match url {
            RemoteUrl::S3 { bucket, .. } => Problem::MissingBucket(bucket.clone()),
            _ => Problem::MissingFolder,
        };
    }
    if matches!(url, RemoteUrl::File { .. }) && has(&["permission denied", "read-only"]) {
        return Problem::NotWritable(host);
    }
    Problem::Other(e.message.clone())
}

fn host_of(url: &RemoteUrl) -> String {
    match url {
        RemoteUrl::S3 { endpoint, .. } => endpoint
            .as_deref()
            .map_or("the S3 service", |e| {
                e.split_once("://").map_or(e, |(_, rest)| rest)
            })
            .trim_end_matches('/')
            .to_string(),
        RemoteUrl::Webdav { endpoint, .. } => endpoint
            .split_once("://")
            .map_or(endpoint.as_str(), |(_, rest)| rest)
            .to_string(),
        RemoteUrl::File { path } => path.display().to_string(),
    }
}

fn bucket_of(url: &RemoteUrl) -> String {
    match url {
        RemoteUrl::S3 { bucket, .. } => bucket.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::remote::Memory;
    use super::*;

    fn s3() -> RemoteUrl {
        RemoteUrl::parse("s3://photos/box?endpoint=https://s3.example.org:9000").unwrap()
    }

    fn err(kind: ErrorKind, message: &str) -> remote::Error {
        remote::Error::new(kind, "put", "probe/x", message)
    }

    #[test]
    fn server_errors_become_problems_a_person_can_fix() {
        let cases = [
            (
                ErrorKind::Denied,
                "PermissionDenied (permanent) at write, context: { response: Parts { status: 403 } } => <Code>SignatureDoesNotMatch</Code>",
                Problem::WrongCredentials,
            ),
            (
                ErrorKind::NotFound,
                "NotFound (permanent) at write => <Code>NoSuchBucket</Code>",
                Problem::MissingBucket("photos".into()),
            ),
            (
                ErrorKind::Other,
                "<Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-3'</Message>",
                Problem::WrongRegion,
            ),
            (
                ErrorKind::Other,
                "<Code>RequestTimeTooSkewed</Code>",
                Problem::ClockSkew,
            ),
            (
                ErrorKind::Transient,
                "Unexpected (temporary) at write => send http request, source: error sending request for url (https://s3.example.org:9000/photos/box/probe/x): client error (Connect): tcp connect error: Connection refused (os error 111)",
                Problem::Unreachable("s3.example.org:9000".into()),
            ),
            (
                ErrorKind::Transient,
                "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer",
                Problem::Tls("s3.example.org:9000".into()),
            ),
            (
                ErrorKind::Other,
                "something odd",
                Problem::Other("something odd".into()),
            ),
        ];
        for (kind, message, want) in cases {
            assert_eq!(classify(&err(kind, message), &s3()), want, "{message}");
        }
        let dav = RemoteUrl::parse("webdav+http://127.0.0.1:1/x").unwrap();
        assert_eq!(
            classify(&err(ErrorKind::Denied, "401 Unauthorized"), &dav),
            Problem::WrongCredentials
        );
        assert_eq!(
            classify(&err(ErrorKind::NotFound, "not found"), &dav),
            Problem::MissingFolder
        );
        assert!(
            Problem::WrongCredentials
                .to_string()
                .starts_with("The server refused")
        );
    }

    #[test]
    fn a_working_remote_passes_and_keeps_nothing() {
        let remote = Memory::new();
        probe(&remote, &s3()).unwrap();
        assert!(remote.list(Kind::Probe).unwrap().is_empty());
    }
}
