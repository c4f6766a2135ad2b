//! Facts read from a file's metadata.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::bmff::{self, BoxHeader};
use super::{Format, SNIFF_LEN, exif, heif, jpeg, png, quicktime, sniff, tiff, webp, xmp};

/// When a photo was taken: the local wall-clock time where it was taken, and the UTC offset
/// there when the file says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenAt {
    /// Local date and time at the place of capture.
    pub local: chrono::NaiveDateTime,
    /// Offset from UTC in seconds, when known.
    pub offset_secs: Option<i32>,
}

/// A position on earth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gps {
    /// Degrees, north positive.
    pub lat: f64,
    /// Degrees, east positive.
    pub lon: f64,
    /// Metres above sea level, when known.
    pub alt: Option<f64>,
}

/// Everything shoebox reads from a media file. Every field is optional: a truncated or odd
/// file yields what could be read plus `warnings`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// Sniffed format.
    pub format: Option<Format>,
    /// Capture time.
    pub taken_at: Option<TakenAt>,
    /// Pixel width as stored (before orientation).
    pub width: Option<u32>,
    /// Pixel height as stored (before orientation).
    pub height: Option<u32>,
    /// EXIF orientation 1..=8.
    pub orientation: Option<u16>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Location.
    pub gps: Option<Gps>,
    /// Video duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// Apple Live Photo content identifier (pairs a still with its video).
    pub content_id: Option<String>,
    /// Byte offset where image/video data starts (JPEG start-of-scan, ISO-BMFF `mdat`), so the
    /// store can cut a chunk there and metadata edits leave pixel chunks untouched.
    pub data_offset: Option<u64>,
    /// What could not be read, in words.
    pub warnings: Vec<String>,
}

/// Reads the facts of the file at `path`. Never panics and never reads a whole file; I/O
/// errors and damaged structures become warnings next to whatever could be read.
pub fn read_facts(path: &Path) -> Facts {
    let mut facts = Facts::default();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            facts.warnings.push(format!("cannot open: {e}"));
            return facts;
        }
    };
    let mut r = BufReader::new(file);
    if let Err(e) = read_into(&mut r, &mut facts) {
        facts.warnings.push(format!("stopped reading: {e}"));
    }
    facts
}

/// Sniffs, then hands the file to the reader for its format.
fn read_into<R: BufRead + Seek>(r: &mut R, facts: &mut Facts) -> io::Result<()> {
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    r.by_ref().take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    let format = sniff(&head);
    facts.format = Some(format);
    match format {
        Format::Jpeg => jpeg::read(r, facts),
        Format::Png => png::read(r, facts),
        Format::Raw if head.starts_with(b"FUJIFILM") => {
            facts.warnings.push("RAF metadata is not read".into());
            Ok(())
        }
        Format::Raw if head.get(4..8) == Some(b"ftyp") => {
            let top = bmff::top_level(r)?;
            facts.data_offset = first_mdat(&top);
            tiff::read_cr3(r, &top, facts)
        }
        Format::Tiff | Format::Raw => tiff::read(r, len, facts),
        Format::Heic | Format::Avif => {
            let top = bmff::top_level(r)?;
            facts.data_offset = first_mdat(&top);
            heif::read(r, &top, facts)
        }
        Format::Mov | Format::Mp4 => {
            let top = bmff::top_level(r)?;
            facts.data_offset = first_mdat(&top);
            quicktime::read(r, &top, facts)
        }
        Format::Webp => {
            if let Some((w, h)) = webp::size(r)? {
                (facts.width, facts.height) = (Some(w), Some(h));
            }
            r.seek(SeekFrom::Start(0))?;
            exif::read_container(r, facts);
            Ok(())
        }
        Format::Xmp => xmp::read_sidecar(r, facts),
        Format::Gif | Format::Jxl | Format::Unknown => Ok(()),
    }
}

/// Offset of the first top-level `mdat` box: pixel or sample data starts there.
fn first_mdat(top: &[BoxHeader]) -> Option<u64> {
    top.iter().find(|b| &b.kind == b"mdat").map(|b| b.start)
}
