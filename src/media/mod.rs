//! Media facts: bytes in, facts out. Pure and synchronous; knows nothing of the store or library.
//!
//! May import: nothing from the crate. Invariants: a parser never panics and never reads a
//! whole file into memory; what cannot be read becomes a warning, never a lost asset.
//!
//! Files: `sniff` (magic bytes), `facts` (dispatch by format), `exif` (kamadak-exif fields),
//! `apple` (`MakerNote` content identifier), `bmff` (ISO-BMFF box walker that seeks),
//! `quicktime` (MOV/MP4 `mvhd`, `tkhd`, `keys`/`ilst`, `udta`), `heif` (`ispe`), `jpeg`, `png`,
//! `webp`, `tiff` (TIFF, RAW, CR3), `xmp` (embedded packets and sidecars), `time`.
//! Checked against exiftool by `tests/media_oracle.rs`.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod apple;
mod bmff;
mod exif;
mod facts;
mod heif;
mod jpeg;
mod png;
mod quicktime;
mod sniff;
mod tiff;
mod time;
mod webp;
mod xmp;

pub use facts::{Facts, Gps, TakenAt, read_facts};
pub use sniff::{Format, Kind, SNIFF_LEN, sniff};
