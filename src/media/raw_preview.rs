//! The largest embedded JPEG of a camera RAW file: there is no pure-Rust demosaicing worth a
//! Pi's time, and every camera stores a ready-made picture next to the sensor data.
//!
//! Where the previews are:
//! - TIFF-based (DNG, CR2, NEF, ARW, PEF, ORF, RW2): `JPEGInterchangeFormat`/`Length` in any
//!   IFD or `SubIFD`; single-strip IFDs with JPEG compression (CR2's full-size preview in IFD0,
//!   DNG's preview `SubIFD`s); RW2's `JpgFromRaw` tag.
//! - RAF: the header's JPEG offset and length.
//! - CR3: the `PRVW` box (1620×1080) in its `uuid` box, else the `THMB` box (160×120).
//!
//! Candidates are checked by reading their JPEG markers up to the frame header: only baseline,
//! extended and progressive Huffman JPEGs count (the lossless JPEG of raw sensor data does
//! not), and the largest one within the pixel ceiling wins.

use std::io::{self, Read, Seek, SeekFrom};

use super::bmff::{self, be_u16, be_u32};
use super::thumbnail::ThumbError;

/// Largest embedded JPEG we read into memory.
const MAX_JPEG_BYTES: u64 = 64 * 1024 * 1024;
/// Most IFDs visited; real files have fewer than ten.
const MAX_IFDS: usize = 32;
/// Most entries read from one IFD.
const MAX_ENTRIES: u16 = 1024;
/// Canon CR3 preview box: `uuid` eaf42b5e-1c98-4b88-b9fb-b7dc406e4d16.
const CR3_PREVIEW_UUID: [u8; 16] = [
    0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16,
];
/// Canon CR3 metadata box: `uuid` 85c0b687-820f-11e0-8111-f4ce462b6a48 (holds `THMB`).
const CR3_META_UUID: [u8; 16] = [
    0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
];

/// A JPEG stream somewhere in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    offset: u64,
    len: u64,
}

/// The bytes of the largest decodable embedded JPEG with at most `max_pixels` pixels. `None`
/// when the file has none; `TooManyPixels` when all of them are over the ceiling.
pub(crate) fn largest_jpeg<R: Read + Seek>(
    r: &mut R,
    max_pixels: u64,
) -> Result<Option<Vec<u8>>, ThumbError> {
    let len = r.seek(SeekFrom::End(0))?;
    let head = read_at(r, 0, 96)?;
    let candidates = if head.starts_with(b"FUJIFILM") {
        raf(&head)
    } else if head.get(4..8) == Some(b"ftyp") {
        cr3(r)?
    } else {
        tiff(r)?
    };
    let mut best: Option<(u64, Candidate)> = None;
    let mut too_big = None;
    for c in candidates {
        let Some(end) = c.offset.checked_add(c.len) else {
            continue;
        };
        if c.len > MAX_JPEG_BYTES || end > len {
            continue;
        }
        let Some((w, h)) = jpeg_frame_size(r, c.offset, end)? else {
            continue;
        };
        let pixels = u64::from(w).saturating_mul(u64::from(h));
        if pixels > max_pixels {
            too_big = Some((w, h));
        } else if best.is_none_or(|(p, _)| pixels > p) {
            best = Some((pixels, c));
        }
    }
    match (best, too_big) {
        (Some((_, c)), _) => {
            let len = usize::try_from(c.len).map_err(|_| ThumbError::Decode("preview".into()))?;
            Ok(Some(read_at(r, c.offset, len)?))
        }
        (None, Some((width, height))) => Err(ThumbError::TooManyPixels { width, height }),
        (None, None) => Ok(None),
    }
}

/// RAF: big-endian offset and length of the JPEG at bytes 84 and 88 of the header.
fn raf(head: &[u8]) -> Vec<Candidate> {
    match (be_u32(head, 84), be_u32(head, 88)) {
        (Some(offset), Some(len)) => vec![Candidate {
            offset: offset.into(),
            len: len.into(),
        }],
        _ => Vec::new(),
    }
}

/// CR3: the JPEG inside the `PRVW` box, and the one inside `moov`'s `THMB` box.
fn cr3<R: Read + Seek>(r: &mut R) -> io::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    let top = bmff::top_level(r)?;
    let mut holders = Vec::new();
    for b in &top {
        if &b.kind == b"uuid" {
            holders.push(*b);
        } else if &b.kind == b"moov" {
            holders.extend(
                bmff::children(r, b.body, b.end)?
                    .into_iter()
                    .filter(|k| &k.kind == b"uuid"),
            );
        }
    }
    for holder in holders {
        let uuid = read_at(r, holder.body, 16)?;
        if uuid != CR3_PREVIEW_UUID && uuid != CR3_META_UUID {
            continue;
        }
        // The preview `uuid` has 8 bytes of its own before its child boxes.
        let skip = if uuid == CR3_PREVIEW_UUID { 24 } else { 16 };
        let kids = bmff::children(r, holder.body.saturating_add(skip), holder.end)?;
        for kid in kids
            .iter()
            .filter(|k| &k.kind == b"PRVW" || &k.kind == b"THMB")
        {
            // A few header bytes (version, size, length) precede the JPEG: find its SOI.
            let head = read_at(r, kid.body, 32)?;
            if let Some(at) = head.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF]) {
                let offset = kid.body.saturating_add(at as u64);
                out.push(Candidate {
                    offset,
                    len: kid.end.saturating_sub(offset),
                });
            }
        }
    }
    Ok(out)
}

/// TIFF structure: every IFD reachable from IFD0 through next-IFD links and `SubIFDs`.
fn tiff<R: Read + Seek>(r: &mut R) -> io::Result<Vec<Candidate>> {
    let head = read_at(r, 0, 8)?;
    let le = match head.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Ok(Vec::new()),
    };
    let t = Tiff { le };
    let mut out = Vec::new();
    let mut queue: Vec<u64> = t.u32(&head, 4).map(u64::from).into_iter().collect();
    let mut seen = Vec::new();
    while let Some(at) = queue.pop() {
        if at == 0 || seen.contains(&at) || seen.len() >= MAX_IFDS {
            continue;
        }
        seen.push(at);
        let Ok(ifd) = t.read_ifd(r, at) else {
            continue;
        };
        out.extend(ifd.candidates());
        queue.extend(ifd.sub_ifds.iter().copied());
        queue.extend(ifd.next);
    }
    Ok(out)
}

/// Byte order of a TIFF file.
struct Tiff {
    le: bool,
}

/// The tags of one IFD that locate pictures.
#[derive(Default)]
struct Ifd {
    jpeg_offset: Option<u64>,
    jpeg_len: Option<u64>,
    compression: Option<u32>,
    photometric: Option<u32>,
    strip_offset: Option<u64>,
    strip_len: Option<u64>,
    jpg_from_raw: Option<Candidate>,
    sub_ifds: Vec<u64>,
    next: Option<u64>,
}

impl Ifd {
    fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        if let (Some(offset), Some(len)) = (self.jpeg_offset, self.jpeg_len) {
            out.push(Candidate { offset, len });
        }
        // Old-style (6) or new-style (7) JPEG strips; CFA (32803) and LinearRaw (34892)
        // strips are sensor data, left to the frame-header check otherwise.
        let sensor = matches!(self.photometric, Some(32803 | 34892));
        if let (Some(6 | 7), false, Some(offset), Some(len)) =
            (self.compression, sensor, self.strip_offset, self.strip_len)
        {
            out.push(Candidate { offset, len });
        }
        out.extend(self.jpg_from_raw);
        out
    }
}

impl Tiff {
    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let v: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.le {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        })
    }

    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let v: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        })
    }

    /// Reads the IFD at `at`: the tags that locate pictures, `SubIFDs` and the next link.
    fn read_ifd<R: Read + Seek>(&self, r: &mut R, at: u64) -> io::Result<Ifd> {
        let count = self
            .u16(&read_at(r, at, 2)?, 0)
            .unwrap_or(0)
            .min(MAX_ENTRIES);
        let body_len = usize::from(count).saturating_mul(12).saturating_add(4);
        let body = read_at(r, at.saturating_add(2), body_len)?;
        let mut ifd = Ifd::default();
        for entry in body.chunks_exact(12).take(usize::from(count)) {
            let (Some(tag), Some(kind), Some(n)) =
                (self.u16(entry, 0), self.u16(entry, 2), self.u32(entry, 4))
            else {
                continue;
            };
            // The first value, when it is a single SHORT or LONG held in the entry itself.
            let value = match kind {
                3 => self.u16(entry, 8).map(u32::from),
                4 | 13 => self.u32(entry, 8),
                _ => None,
            }
            .map(u64::from);
            match tag {
                0x0201 => ifd.jpeg_offset = value,
                0x0202 => ifd.jpeg_len = value,
                0x0103 => ifd.compression = value.and_then(|v| u32::try_from(v).ok()),
                0x0106 => ifd.photometric = value.and_then(|v| u32::try_from(v).ok()),
                0x0111 if n == 1 => ifd.strip_offset = value,
                0x0117 if n == 1 => ifd.strip_len = value,
                0x014A => ifd.sub_ifds = self.sub_ifds(r, kind, n, entry)?,
                // Panasonic's JpgFromRaw: an UNDEFINED blob whose entry points at the JPEG.
                0x002E if kind == 7 => {
                    ifd.jpg_from_raw = self.u32(entry, 8).map(|offset| Candidate {
                        offset: offset.into(),
                        len: n.into(),
                    });
                }
                _ => {}
            }
        }
        ifd.next = body
            .get(usize::from(count).saturating_mul(12)..)
            .and_then(|b| self.u32(b, 0))
            .map(u64::from);
        Ok(ifd)
    }

    /// The offsets a `SubIFDs` entry lists: inline when one, else at the entry's pointer.
    fn sub_ifds<R: Read + Seek>(
        &self,
        r: &mut R,
        kind: u16,
        n: u32,
        entry: &[u8],
    ) -> io::Result<Vec<u64>> {
        if !matches!(kind, 4 | 13) || n == 0 {
            return Ok(Vec::new());
        }
        let n = usize::try_from(n).unwrap_or(0).min(MAX_IFDS);
        if n == 1 {
            return Ok(self.u32(entry, 8).map(u64::from).into_iter().collect());
        }
        let Some(at) = self.u32(entry, 8) else {
            return Ok(Vec::new());
        };
        let list = read_at(r, at.into(), n.saturating_mul(4))?;
        Ok(list
            .chunks_exact(4)
            .filter_map(|c| self.u32(c, 0).map(u64::from))
            .collect())
    }
}

/// Walks the JPEG markers from `offset` to the frame header. `Some((width, height))` for a
/// baseline, extended or progressive Huffman JPEG; `None` for anything else.
fn jpeg_frame_size<R: Read + Seek>(
    r: &mut R,
    offset: u64,
    end: u64,
) -> io::Result<Option<(u32, u32)>> {
    if read_at(r, offset, 2)? != [0xFF, 0xD8] {
        return Ok(None);
    }
    let mut at = offset.saturating_add(2);
    // Marker segments before the frame header: APPn, DQT, DHT, COM, DRI...
    for _ in 0..256 {
        let seg = read_at(r, at, 9)?;
        let (Some(&0xFF), Some(&marker)) = (seg.first(), seg.get(1)) else {
            return Ok(None);
        };
        match marker {
            // Fill byte: the marker starts one byte later.
            0xFF => {
                at = at.saturating_add(1);
                continue;
            }
            0xC0..=0xC2 => {
                let (Some(h), Some(w)) = (be_u16(&seg, 5), be_u16(&seg, 7)) else {
                    return Ok(None);
                };
                return Ok((w > 0 && h > 0).then_some((w.into(), h.into())));
            }
            // Other frame types (lossless, arithmetic), end of image, start of scan.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF | 0xD9 | 0xDA => return Ok(None),
            _ => {}
        }
        let Some(seg_len) = be_u16(&seg, 2) else {
            return Ok(None);
        };
        at = at.saturating_add(2).saturating_add(seg_len.into());
        if at >= end {
            return Ok(None);
        }
    }
    Ok(None)
}

/// Up to `len` bytes at `offset` (fewer at the end of the file).
fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(len.min(1 << 20));
    r.take(len as u64).read_to_end(&mut buf)?;
    Ok(buf)
}
