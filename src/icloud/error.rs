//! What can go wrong talking to iCloud, worded for the person who has to act on it.

/// iCloud errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Apple refused the password. Never retried by itself: Apple locks accounts that retry.
    #[error(
        "Apple refused the password for this Apple ID; sign in again with `shoebox icloud login` (shoebox never retries a refused password by itself)"
    )]
    WrongPassword,
    /// The account is locked at Apple.
    #[error(
        "Apple says this Apple ID is locked; unlock it at iforgot.apple.com, then sign in again"
    )]
    Locked,
    /// The second-factor code was refused.
    #[error("the verification code was not accepted; run the login again to get a new code")]
    WrongCode,
    /// A person has to sign in (2FA, expired trust, a refused password).
    #[error("iCloud needs you to sign in again: {0}")]
    NeedsLogin(String),
    /// No such account on this box.
    #[error("no iCloud account {0} on this box; add it with `shoebox icloud login --apple-id {0}`")]
    UnknownAccount(String),
    /// "Access iCloud Data on the Web" is off (or Advanced Data Protection blocks web access).
    #[error(
        "this Apple ID does not allow access to iCloud data from the web. On an iPhone: Settings > [your name] > iCloud > turn on \"Access iCloud Data on the Web\" (with Advanced Data Protection on, that switch must be on too), then run the sync again"
    )]
    WebAccessOff,
    /// Apple wants new iCloud terms accepted by a person before any data is served.
    #[error(
        "Apple asks this Apple ID to accept new iCloud terms first: sign in once at icloud.com (or on an iPhone, Settings > [your name]) and accept them, then sign in here again"
    )]
    TermsUpdateNeeded,
    /// CloudKit refused the private database.
    #[error(
        "Apple denied access to the photo library ({0}). If Advanced Data Protection is on, turn on \"Access iCloud Data on the Web\"; otherwise Apple is throttling and shoebox waits before trying again"
    )]
    AccessDenied(String),
    /// Apple wants the account served from the other iCloud (China mainland or global).
    #[error(
        "Apple says this Apple ID lives on {0}; sign in with `shoebox icloud login --china` (or without it) accordingly"
    )]
    WrongDomain(String),
    /// Apple asked us to slow down.
    #[error(
        "Apple is throttling requests; shoebox waits until {until} (unix time) before trying again"
    )]
    Throttled {
        /// Unix second before which nothing is sent.
        until: i64,
    },
    /// The library is still being indexed at Apple.
    #[error("Apple has not finished indexing this photo library yet; try again later")]
    NotIndexed,
    /// A session that no longer works.
    #[error("the iCloud session expired")]
    SessionExpired,
    /// A download link that expired; the record must be fetched again.
    #[error("the download link expired")]
    LinkExpired,
    /// A base URL that is neither https nor loopback http.
    #[error("refusing {0}: only https:// (or http:// to this machine, for tests)")]
    BadUrl(String),
    /// `SHOEBOX_EXTRA_CA_FILE` is unreadable.
    #[error("SHOEBOX_EXTRA_CA_FILE: {0}")]
    ExtraCa(String),
    /// Building the HTTP client failed.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The network failed. Holds no URL (signed links carry their keys in the query); made
    /// by [`Error::network`].
    #[error("network: {0}")]
    Network(reqwest::Error),
    /// Apple answered something we do not understand.
    #[error("unexpected answer from Apple: {0}")]
    Protocol(String),
    /// The local session store.
    #[error("iCloud session store: {0}")]
    Store(String),
    /// The library.
    #[error(transparent)]
    Library(#[from] crate::library::Error),
    /// A file in the spool.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

impl Error {
    /// A network failure, without the URL reqwest attaches to it.
    pub fn network(e: reqwest::Error) -> Self {
        Self::Network(e.without_url())
    }

    /// A refused URL, shown without its query or user info.
    pub fn bad_url(url: &str) -> Self {
        Self::BadUrl(crate::net::shown(url))
    }

    /// Maps an I/O error on `path`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Self::Store(e.to_string())
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
