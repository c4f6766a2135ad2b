//! JPEG segments: the EXIF APP1 block, the frame size (SOF) and where the scan starts (SOS).
//! Seeks over every segment body it does not need and stops at the first SOS.

use std::io::{self, Read, Seek, SeekFrom};

use super::{Facts, exif, xmp};

/// APP1 segments holding XMP start with this namespace.
const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Metadata segments met on the way to the scan.
#[derive(Default)]
struct Found {
    exif: Option<Vec<u8>>,
    xmp: Option<String>,
}

/// Reads the facts of a JPEG file. A file cut short still yields the metadata segments
/// before the cut.
pub(crate) fn read<R: Read + Seek>(r: &mut R, facts: &mut Facts) -> io::Result<()> {
    let mut found = Found::default();
    let walked = walk(r, facts, &mut found);
    if let Some(block) = found.exif {
        exif::read_raw(block, None, facts);
    }
    // EXIF wins; XMP fills what EXIF lacks, as exiftool's priorities do.
    if let Some(packet) = found.xmp {
        xmp::apply(&packet, facts);
    }
    walked
}

/// Walks the segments up to the first SOS, noting size, scan offset and metadata blocks.
fn walk<R: Read + Seek>(r: &mut R, facts: &mut Facts, found: &mut Found) -> io::Result<()> {
    r.seek(SeekFrom::Start(2))?;
    let mut pos: u64 = 2;
    loop {
        let (marker, at) = next_marker(r, &mut pos)?;
        match marker {
            0xDA => {
                facts.data_offset = Some(at);
                break;
            }
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let mut len = [0u8; 2];
        r.read_exact(&mut len)?;
        let body_len = u16::from_be_bytes(len).saturating_sub(2);
        pos = pos.saturating_add(2);
        let body_end = pos.saturating_add(u64::from(body_len));
        if is_sof(marker) {
            let mut sof = [0u8; 5];
            r.read_exact(&mut sof)?;
            let [_, h0, h1, w0, w1] = sof;
            facts.width = Some(u32::from(u16::from_be_bytes([w0, w1])));
            facts.height = Some(u32::from(u16::from_be_bytes([h0, h1])));
        } else if marker == 0xE1 {
            let mut body = Vec::with_capacity(usize::from(body_len));
            r.take(u64::from(body_len)).read_to_end(&mut body)?;
            if let Some(tiff) = body.strip_prefix(b"Exif\0\0") {
                found.exif.get_or_insert_with(|| tiff.to_vec());
            } else if let Some(packet) = body.strip_prefix(XMP_SIGNATURE) {
                found.xmp.get_or_insert_with(|| xmp::decode(packet));
            }
        }
        pos = r.seek(SeekFrom::Start(body_end))?;
    }
    if facts.data_offset.is_none() {
        facts.warnings.push("JPEG has no start of scan".into());
    }
    Ok(())
}

/// Reads the next marker, skipping fill bytes; returns it and the offset of its `FF`.
fn next_marker<R: Read>(r: &mut R, pos: &mut u64) -> io::Result<(u8, u64)> {
    let mut byte = [0u8; 1];
    r.read_exact(&mut byte)?;
    *pos = pos.saturating_add(1);
    if byte != [0xFF] {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "JPEG marker expected",
        ));
    }
    let mut at = pos.saturating_sub(1);
    loop {
        r.read_exact(&mut byte)?;
        *pos = pos.saturating_add(1);
        match byte {
            [0xFF] => at = pos.saturating_sub(1),
            [m] => return Ok((m, at)),
        }
    }
}

/// Start-of-frame markers carry the image size (not DHT `C4`, JPG `C8`, DAC `CC`).
fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn finds_frame_size_and_scan_offset() {
        let mut f = b"\xFF\xD8\xFF\xE0\0\x04ab".to_vec();
        f.extend_from_slice(b"\xFF\xC0\0\x0B\x08\x01\x2C\x02\x58\x01\x01\x11\0");
        f.extend_from_slice(b"\xFF\xFF\xDA\0\x02\x12\x34");
        let mut facts = Facts::default();
        read(&mut Cursor::new(&f), &mut facts).unwrap();
        assert_eq!((facts.width, facts.height), (Some(600), Some(300)));
        assert_eq!(facts.data_offset, Some(22));
        for n in 0..f.len() {
            let mut facts = Facts::default();
            let _ = read(&mut Cursor::new(&f[..n]), &mut facts);
        }
    }
}
