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
//!
//! Pictures: `thumbnail` (grid and preview JPEGs, orientation, sizes), `decode` (one frame per
//! format; sizes checked before decoding), `raw_preview` (embedded JPEGs of RAW files),
//! `placeholder` (typed stand-ins). Checked by `tests/thumbnails.rs`, HEIC against libheif.
//! Invariants there: never panics; the pixel count is read from the header and refused over
//! `Options::max_pixels` before decoding; at most one full-size frame is alive (the decoders
//! take the file's bytes whole, a picture being decoded whole anyway).

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod apple;
mod bmff;
mod decode;
mod exif;
mod facts;
mod heif;
mod jpeg;
mod placeholder;
mod png;
mod quicktime;
mod raw_preview;
mod sniff;
mod thumbnail;
#[cfg(test)]
mod thumbnail_tests;
mod tiff;
mod time;
mod webp;
mod xmp;

pub use facts::{Facts, Gps, TakenAt, read_facts};
pub use placeholder::placeholder;
pub use sniff::{Format, Kind, SNIFF_LEN, sniff};
pub use thumbnail::{
    GRID_SHORT_SIDE, Options, PREVIEW_LONG_SIDE, Size, ThumbError, Thumbnails, decode_full,
    make_thumbnails,
};
