//! The asset: one photo, video or Live Photo as the user sees it, and where it came from.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::store::BlobId;

/// An asset's number, assigned in order of arrival.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct AssetId(pub u64);

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the user sees.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum AssetKind {
    /// A still image.
    Photo,
    /// A video.
    Video,
    /// A still with its motion clip.
    LivePhoto,
}

/// Where an asset came from. Identity is the source's own id (`iCloud` record name, a user's
/// upload path, an import path), never just a file name.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Origin {
    /// `shoebox import` of a file on disk (absolute path).
    Import {
        /// Absolute path at import time.
        path: String,
    },
    /// A WebDAV upload.
    Dav {
        /// The shoebox user.
        user: String,
        /// Path inside the user's upload tree.
        path: String,
    },
    /// An iCloud Photo Library record.
    Icloud {
        /// CloudKit zone.
        zone: String,
        /// CloudKit record name.
        record: String,
    },
}

impl Origin {
    /// A unique key for the origin table.
    pub fn key(&self) -> String {
        match self {
            Self::Import { path } => format!("import:{path}"),
            Self::Dav { user, path } => format!("dav:{user}:{path}"),
            Self::Icloud { zone, record } => format!("icloud:{zone}:{record}"),
        }
    }

    /// The file name the source used, if it has one.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Self::Import { path } | Self::Dav { path, .. } => {
                path.rsplit('/').next().filter(|n| !n.is_empty())
            }
            Self::Icloud { .. } => None,
        }
    }
}

/// One file that is part of an asset.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Part {
    /// The bytes.
    pub blob: BlobId,
    /// Size in bytes.
    pub size: u64,
    /// File name to use on export.
    pub name: String,
}

/// Capture time: local wall clock where it was taken, and the UTC offset when known.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Taken {
    /// Local date-time as seconds since 1970-01-01T00:00 (a naive, zone-less count).
    pub local: i64,
    /// Offset from UTC in seconds, when the file says.
    pub offset: Option<i32>,
    /// Where the time came from.
    pub source: TimeSource,
}

impl Taken {
    /// The instant as UTC seconds; a time without an offset is taken as UTC.
    pub fn utc(&self) -> i64 {
        self.local - i64::from(self.offset.unwrap_or(0))
    }

    /// The local calendar date-time.
    pub fn local_datetime(&self) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp(self.local, 0)
            .unwrap_or_default()
            .naive_utc()
    }
}

/// Which clue gave the capture time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TimeSource {
    /// Embedded metadata (EXIF, QuickTime).
    Metadata,
    /// The source service said so (iCloud asset date).
    Source,
    /// The file's modification time: a guess.
    FileTime,
}

/// Active or in the trash.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum State {
    /// Visible in the library.
    Active,
    /// In the trash since this unix second; purged after the retention period.
    Trashed {
        /// When it was trashed.
        at: i64,
        /// True when the source deleted it (rather than a user here).
        by_source: bool,
    },
}

/// A photo, video or Live Photo.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: AssetId,
    /// Photo, video or Live Photo.
    pub kind: AssetKind,
    /// The main file (the still for a Live Photo).
    pub original: Part,
    /// The motion clip of a Live Photo.
    pub live_video: Option<Part>,
    /// An edited rendering, when the source has one.
    pub edited: Option<Part>,
    /// A RAW alternative.
    pub raw: Option<Part>,
    /// XMP sidecars.
    pub sidecars: Vec<Part>,
    /// Capture time.
    pub taken: Taken,
    /// Unix seconds when it entered the library.
    pub added: i64,
    /// Pixel width as stored.
    pub width: Option<u32>,
    /// Pixel height as stored.
    pub height: Option<u32>,
    /// EXIF orientation.
    pub orientation: Option<u16>,
    /// Video length.
    pub duration_ms: Option<u64>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Latitude, longitude, altitude.
    pub gps: Option<(f64, f64, Option<f64>)>,
    /// Apple Live Photo pairing id.
    pub content_id: Option<String>,
    /// Sniffed format name of the original (e.g. "jpg", "heic").
    pub format: String,
    /// Marked as favorite.
    pub favorite: bool,
    /// Hidden from the timeline.
    pub hidden: bool,
    /// Every source this asset came from.
    pub origins: Vec<Origin>,
    /// Active or trashed.
    pub state: State,
    /// What could not be read from its metadata.
    pub warnings: Vec<String>,
    /// A caption and keywords a source attached. Last field: the v1 encoding is this one
    /// without it (see `db.rs`).
    #[serde(default)]
    pub notes: Notes,
}

/// Words a source attached to an asset (iCloud's caption and keywords).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Notes {
    /// The title shown under the photo.
    pub caption: Option<String>,
    /// Keywords, in the source's order.
    pub keywords: Vec<String>,
}

impl Asset {
    /// Every blob this asset holds, each once.
    pub fn blobs(&self) -> Vec<BlobId> {
        let mut out: Vec<BlobId> = std::iter::once(&self.original)
            .chain(&self.live_video)
            .chain(&self.edited)
            .chain(&self.raw)
            .chain(&self.sidecars)
            .map(|p| p.blob)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every part with its role, for export and display.
    pub fn parts(&self) -> Vec<&Part> {
        std::iter::once(&self.original)
            .chain(&self.live_video)
            .chain(&self.edited)
            .chain(&self.raw)
            .chain(&self.sidecars)
            .collect()
    }

    /// Sum of the sizes of its distinct files.
    pub fn size(&self) -> u64 {
        let mut seen = Vec::new();
        self.parts()
            .into_iter()
            .filter(|p| {
                let new = !seen.contains(&p.blob);
                seen.push(p.blob);
                new
            })
            .map(|p| p.size)
            .sum()
    }
}
