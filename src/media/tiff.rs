//! TIFF and camera RAW files: EXIF from the TIFF structure (DNG, CR2, NEF, ARW, ORF, RW2) or
//! from the Canon CR3 `CMT` boxes.

use std::io::{self, Read, Seek, SeekFrom};

use ::exif::{Context, In, Tag};

use super::bmff::{self, BoxHeader};
use super::{Facts, Format, exif, quicktime};

/// How much of a TIFF file we hand to the EXIF parser. Camera files keep their IFDs and
/// values at the front, and kamadak-exif wants one contiguous buffer; the bound keeps a
/// 100 MB scan from being read into memory.
const MAX_TIFF_HEAD: u64 = 16 * 1024 * 1024;

/// Canon's CR3 metadata box: `uuid` 85c0b687-820f-11e0-8111-f4ce462b6a48.
const CANON_UUID: [u8; 16] = [
    0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
];

/// DNGVersion: only DNG files have it.
const DNG_VERSION: Tag = Tag(Context::Tiff, 0xC612);

/// Makers whose TIFF-structured files are raw sensor data rather than pictures.
const RAW_MAKERS: [&str; 8] = ["NIKON", "SONY", "PENTAX", "OLYMPUS", "Panasonic", "LEICA", "FUJIFILM", "Hasselblad"];

/// Reads a TIFF-structured file of `len` bytes; may refine `facts.format` to RAW.
pub(crate) fn read<R: Read + Seek>(r: &mut R, len: u64, facts: &mut Facts) -> io::Result<()> {
    r.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    r.take(len.min(MAX_TIFF_HEAD)).read_to_end(&mut buf)?;
    if len > MAX_TIFF_HEAD {
        facts.warnings.push(format!("only the first {MAX_TIFF_HEAD} bytes of the TIFF were read"));
    }
    // ORF (`IIRO`, `IIRS`) and RW2 (`IIU\0`) are TIFF with a private magic number.
    let little_endian = buf.starts_with(b"II");
    if let Some(magic) = buf.get_mut(2..4)
        && little_endian
    {
        magic.copy_from_slice(&[0x2A, 0]);
    }
    let Some(parsed) = exif::read_raw(buf, None, facts) else {
        return Ok(());
    };
    let dng = parsed.get_field(DNG_VERSION, In::PRIMARY).is_some();
    let raw_maker = facts
        .make
        .as_deref()
        .is_some_and(|m| RAW_MAKERS.iter().any(|k| m.to_ascii_uppercase().starts_with(&k.to_ascii_uppercase())));
    if dng || raw_maker {
        facts.format = Some(Format::Raw);
    }
    Ok(())
}

/// Reads a Canon CR3: EXIF blocks `CMT1` (IFD0), `CMT2` (Exif IFD), `CMT4` (GPS IFD) inside
/// Canon's `moov/uuid` box, and the movie header for what exiftool calls its duration.
pub(crate) fn read_cr3<R: Read + Seek>(r: &mut R, top: &[BoxHeader], facts: &mut Facts) -> io::Result<()> {
    let Some(moov) = top.iter().find(|b| &b.kind == b"moov") else {
        facts.warnings.push("CR3 without moov box".into());
        return Ok(());
    };
    for uuid in bmff::children(r, moov.body, moov.end)? {
        if &uuid.kind != b"uuid" {
            continue;
        }
        r.seek(SeekFrom::Start(uuid.body))?;
        let mut id = [0u8; 16];
        r.read_exact(&mut id)?;
        if id != CANON_UUID {
            continue;
        }
        for cmt in bmff::children(r, uuid.body.saturating_add(16), uuid.end)? {
            let ctx = match &cmt.kind {
                b"CMT1" => None,
                b"CMT2" => Some(Context::Exif),
                b"CMT4" => Some(Context::Gps),
                _ => continue,
            };
            let block = bmff::read_body(r, &cmt, 1024 * 1024)?;
            exif::read_raw(block, ctx, facts);
        }
    }
    let mut movie = Facts::default();
    quicktime::read(r, top, &mut movie)?;
    facts.duration_ms = movie.duration_ms;
    Ok(())
}
