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

/// `DNGVersion`: only DNG files have it.
const DNG_VERSION: Tag = Tag(Context::Tiff, 0xC612);

/// `SubIFDs`: offsets of further IFDs (the full-size image of DNG, NEF, ARW).
const SUB_IFDS: Tag = Tag(Context::Tiff, 0x014A);

/// Makers whose TIFF-structured files are raw sensor data rather than pictures.
const RAW_MAKERS: [&str; 8] = [
    "NIKON",
    "SONY",
    "PENTAX",
    "OLYMPUS",
    "Panasonic",
    "LEICA",
    "FUJIFILM",
    "Hasselblad",
];

/// Reads a TIFF-structured file of `len` bytes; may refine `facts.format` to RAW.
pub(crate) fn read<R: Read + Seek>(r: &mut R, len: u64, facts: &mut Facts) -> io::Result<()> {
    r.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    r.take(len.min(MAX_TIFF_HEAD)).read_to_end(&mut buf)?;
    if len > MAX_TIFF_HEAD {
        facts.warnings.push(format!(
            "only the first {MAX_TIFF_HEAD} bytes of the TIFF were read"
        ));
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
    let raw_maker = facts.make.as_deref().is_some_and(|m| {
        RAW_MAKERS
            .iter()
            .any(|k| m.to_ascii_uppercase().starts_with(&k.to_ascii_uppercase()))
    });
    if dng || raw_maker {
        facts.format = Some(Format::Raw);
    }
    if let Some((w, h)) = full_size_sub_ifd(&parsed) {
        (facts.width, facts.height) = (Some(w), Some(h));
    }
    Ok(())
}

/// When IFD0 is only a preview (`NewSubfileType` 1, as in DNG and NEF), the size of the first
/// full-resolution `SubIFD`.
fn full_size_sub_ifd(parsed: &::exif::Exif) -> Option<(u32, u32)> {
    let subfile = parsed
        .get_field(Tag(Context::Tiff, 0x00FE), In::PRIMARY)?
        .value
        .get_uint(0);
    if subfile != Some(1) {
        return None;
    }
    let subs = parsed.get_field(SUB_IFDS, In::PRIMARY)?;
    let (buf, le) = (parsed.buf(), parsed.little_endian());
    (0..8)
        .map_while(|i| subs.value.get_uint(i))
        .filter_map(|off| ifd_image_size(buf, le, usize::try_from(off).ok()?))
        .find_map(|(subfile, w, h)| (subfile == 0).then_some((w, h)))
}

/// (`NewSubfileType`, `ImageWidth`, `ImageLength`) of the IFD at `at`.
fn ifd_image_size(buf: &[u8], le: bool, at: usize) -> Option<(u32, u32, u32)> {
    let u16_at = |p: usize| -> Option<u16> {
        let b: [u8; 2] = buf.get(p..p.checked_add(2)?)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |p: usize| -> Option<u32> {
        let b: [u8; 4] = buf.get(p..p.checked_add(4)?)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let (mut subfile, mut w, mut h) = (0, None, None);
    for i in 0..usize::from(u16_at(at)?) {
        let e = i.checked_mul(12)?.checked_add(at)?.checked_add(2)?;
        // SHORT (3) values sit in the first two bytes of the value field, LONG (4) in all four.
        let value = match u16_at(e.checked_add(2)?)? {
            3 => u32::from(u16_at(e.checked_add(8)?)?),
            4 => u32_at(e.checked_add(8)?)?,
            _ => continue,
        };
        match u16_at(e)? {
            0x00FE => subfile = value,
            0x0100 => w = Some(value),
            0x0101 => h = Some(value),
            _ => {}
        }
    }
    Some((subfile, w?, h?))
}

/// Reads a Canon CR3: EXIF blocks `CMT1` (IFD0), `CMT2` (Exif IFD), `CMT4` (GPS IFD) inside
/// Canon's `moov/uuid` box, and the movie header for what exiftool calls its duration.
pub(crate) fn read_cr3<R: Read + Seek>(
    r: &mut R,
    top: &[BoxHeader],
    facts: &mut Facts,
) -> io::Result<()> {
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
        let mut blocks = bmff::children(r, uuid.body.saturating_add(16), uuid.end)?;
        // The Exif IFD first, so DateTimeOriginal wins over IFD0's DateTime.
        blocks.sort_by_key(|b| &b.kind != b"CMT2");
        for cmt in blocks {
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
