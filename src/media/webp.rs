//! WebP canvas size from the first `VP8X`, `VP8 ` or `VP8L` chunk.

use std::io::{self, Read, Seek, SeekFrom};

/// Returns the canvas width and height of a WebP file.
pub(crate) fn size<R: Read + Seek>(r: &mut R) -> io::Result<Option<(u32, u32)>> {
    r.seek(SeekFrom::Start(12))?;
    let mut chunk = [0u8; 18];
    let n = r.read(&mut chunk)?;
    let c = chunk.get(..n).unwrap_or_default();
    let le24 = |at: usize| -> Option<u32> {
        let b = c.get(at..at.checked_add(3)?)?;
        Some(u32::from_le_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, 0]))
    };
    let le16 = |at: usize| -> Option<u32> {
        let b = c.get(at..at.checked_add(2)?)?;
        Some(u32::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
    };
    let dims = match c.get(0..4) {
        // Canvas size minus one, 24 bits each, after 4 bytes of flags.
        Some(b"VP8X") => le24(12)
            .zip(le24(15))
            .map(|(w, h)| (w.saturating_add(1), h.saturating_add(1))),
        // Key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit sizes.
        Some(b"VP8 ") => le16(14)
            .zip(le16(16))
            .map(|(w, h)| (w & 0x3FFF, h & 0x3FFF)),
        // Signature 0x2f, then 14-bit width-1 and height-1, little-endian bit packed.
        Some(b"VP8L") => c
            .get(9..13)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| {
                let bits = u32::from_le_bytes(b);
                let w = (bits & 0x3FFF).saturating_add(1);
                (w, ((bits >> 14) & 0x3FFF).saturating_add(1))
            }),
        _ => None,
    };
    Ok(dims)
}
