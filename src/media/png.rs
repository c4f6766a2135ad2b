//! PNG chunks: `IHDR` for the size and `eXIf` for EXIF. Seeks over `IDAT` and the rest.

use std::io::{self, Read, Seek, SeekFrom};

use super::bmff::be_u32;
use super::{Facts, exif};

/// Largest `eXIf` chunk we read.
const MAX_EXIF: u32 = 1024 * 1024;

/// Reads the facts of a PNG file.
pub(crate) fn read<R: Read + Seek>(r: &mut R, facts: &mut Facts) -> io::Result<()> {
    let mut pos: u64 = 8;
    loop {
        r.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 8];
        r.read_exact(&mut head)?;
        let len = be_u32(&head, 0).unwrap_or(0);
        let kind = head.get(4..8).unwrap_or_default();
        match kind {
            b"IHDR" => {
                let mut ihdr = [0u8; 8];
                r.read_exact(&mut ihdr)?;
                facts.width = be_u32(&ihdr, 0);
                facts.height = be_u32(&ihdr, 4);
            }
            b"eXIf" if len <= MAX_EXIF => {
                let mut body = Vec::new();
                r.take(u64::from(len)).read_to_end(&mut body)?;
                exif::read_raw(body, None, facts);
            }
            b"IEND" => return Ok(()),
            _ => {}
        }
        // Length, type, data, CRC.
        pos = pos.saturating_add(12).saturating_add(u64::from(len));
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_ihdr_size() {
        let mut f = b"\x89PNG\r\n\x1a\n\0\0\0\x0DIHDR".to_vec();
        f.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0x80, 8, 2, 0, 0, 0, 1, 2, 3, 4]);
        f.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
        let mut facts = Facts::default();
        read(&mut Cursor::new(&f), &mut facts).unwrap();
        assert_eq!((facts.width, facts.height), (Some(256), Some(128)));
        for n in 0..f.len() {
            let _ = read(&mut Cursor::new(&f[..n]), &mut Facts::default());
        }
    }
}
