//! A small ISO-BMFF (MP4, `QuickTime`, HEIF, CR3) box walker that seeks over boxes, so a 4 GB
//! movie costs a few KiB: only the headers of the boxes on the way and the bodies of the small
//! boxes we ask for are read. `mdat` is never read.

use std::io::{self, Read, Seek, SeekFrom};

/// Most children a box may have before we stop listing; real files have a few dozen.
const MAX_CHILDREN: usize = 4096;

/// One box: its type and where its header, body and end lie in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    /// Four-character type, e.g. `moov`.
    pub kind: [u8; 4],
    /// Offset of the first header byte.
    pub start: u64,
    /// Offset of the first body byte.
    pub body: u64,
    /// Offset just past the box (clamped to the parent's end).
    pub end: u64,
    /// The box claims to run past its parent or the file: the file is truncated.
    pub truncated: bool,
}

impl BoxHeader {
    /// Body length in bytes.
    pub fn body_len(&self) -> u64 {
        self.end.saturating_sub(self.body)
    }
}

/// Reads the header of the box at `at`, which must end by `limit`. `None` when no full
/// header fits before `limit`.
pub(crate) fn read_header<R: Read + Seek>(
    r: &mut R,
    at: u64,
    limit: u64,
) -> io::Result<Option<BoxHeader>> {
    if at.checked_add(8).is_none_or(|h| h > limit) {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(at))?;
    let mut head = [0u8; 8];
    r.read_exact(&mut head)?;
    let [s0, s1, s2, s3, k0, k1, k2, k3] = head;
    let size32 = u32::from_be_bytes([s0, s1, s2, s3]);
    let (size, header_len) = match size32 {
        0 => (limit.saturating_sub(at), 8),
        1 => {
            let mut large = [0u8; 8];
            r.read_exact(&mut large)?;
            (u64::from_be_bytes(large), 16)
        }
        n => (u64::from(n), 8),
    };
    if size < header_len {
        return Err(corrupt("box smaller than its header"));
    }
    let claimed_end = at.saturating_add(size);
    Ok(Some(BoxHeader {
        kind: [k0, k1, k2, k3],
        start: at,
        body: at.saturating_add(header_len).min(limit),
        end: claimed_end.min(limit),
        truncated: claimed_end > limit,
    }))
}

/// Lists the boxes between `start` and `end` (a parent's body), stopping at the first
/// truncated box (which is included).
pub(crate) fn children<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
) -> io::Result<Vec<BoxHeader>> {
    let mut out = Vec::new();
    let mut at = start;
    while let Some(b) = read_header(r, at, end)? {
        out.push(b);
        if b.truncated || out.len() >= MAX_CHILDREN {
            break;
        }
        at = b.end;
    }
    Ok(out)
}

/// The first child of the given type, if any.
pub(crate) fn child<R: Read + Seek>(
    r: &mut R,
    parent: &BoxHeader,
    kind: [u8; 4],
) -> io::Result<Option<BoxHeader>> {
    Ok(children(r, parent.body, parent.end)?
        .into_iter()
        .find(|b| b.kind == kind))
}

/// Follows a path of box types from `parent`, e.g. `[b"trak", b"mdia", b"hdlr"]`.
pub(crate) fn descend<R: Read + Seek>(
    r: &mut R,
    parent: &BoxHeader,
    path: &[&[u8; 4]],
) -> io::Result<Option<BoxHeader>> {
    let mut cur = *parent;
    for kind in path {
        match child(r, &cur, **kind)? {
            Some(next) => cur = next,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Reads a box body of at most `max` bytes; a larger body is an error, so a hostile size can
/// never make us allocate much.
pub(crate) fn read_body<R: Read + Seek>(
    r: &mut R,
    b: &BoxHeader,
    max: usize,
) -> io::Result<Vec<u8>> {
    let len = usize::try_from(b.body_len()).unwrap_or(usize::MAX);
    if len > max {
        return Err(corrupt("box too large to read"));
    }
    r.seek(SeekFrom::Start(b.body))?;
    let mut buf = Vec::with_capacity(len);
    r.take(len as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The body start of a `meta` box: a full box (version and flags first) in ISO files, a plain
/// container in `QuickTime`. Tells them apart by whether a box type follows at once.
pub(crate) fn meta_children_start<R: Read + Seek>(r: &mut R, meta: &BoxHeader) -> io::Result<u64> {
    r.seek(SeekFrom::Start(meta.body))?;
    let mut probe = [0u8; 8];
    if r.read_exact(&mut probe).is_err() {
        return Ok(meta.body);
    }
    let plain = probe
        .get(4..8)
        .is_some_and(|k| k.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' '));
    Ok(if plain {
        meta.body
    } else {
        meta.body.saturating_add(4)
    })
}

/// Top-level boxes of a whole file.
pub(crate) fn top_level<R: Read + Seek>(r: &mut R) -> io::Result<Vec<BoxHeader>> {
    let len = r.seek(SeekFrom::End(0))?;
    children(r, 0, len)
}

/// A big-endian `u32` at `at` in `buf`.
pub(crate) fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

/// A big-endian `u64` at `at` in `buf`.
pub(crate) fn be_u64(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(b.try_into().ok()?))
}

/// A big-endian `u16` at `at` in `buf`.
pub(crate) fn be_u16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(b.try_into().ok()?))
}

fn corrupt(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// Builds a box from a type and body.
    pub(crate) fn bx(kind: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(&kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn walks_nested_boxes_and_skips_bodies() {
        let file = [
            bx(*b"ftyp", b"qt  \0\0\0\0qt  "),
            bx(*b"mdat", &[0xAA; 100]),
            bx(*b"moov", &bx(*b"trak", &bx(*b"tkhd", &[1, 2, 3]))),
        ]
        .concat();
        let mut r = Cursor::new(file);
        let top = top_level(&mut r).unwrap();
        let kinds: Vec<_> = top.iter().map(|b| &b.kind).collect();
        assert_eq!(kinds, [b"ftyp", b"mdat", b"moov"]);
        assert_eq!(top[1].start, 20);
        let tkhd = descend(&mut r, &top[2], &[b"trak", b"tkhd"])
            .unwrap()
            .unwrap();
        assert_eq!(read_body(&mut r, &tkhd, 16).unwrap(), [1, 2, 3]);
        assert!(read_body(&mut r, &top[1], 16).is_err());
    }

    #[test]
    fn handles_large_size_and_size_zero() {
        let mut file = 1u32.to_be_bytes().to_vec();
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&20u64.to_be_bytes());
        file.extend_from_slice(&[0; 4]);
        file.extend_from_slice(&[0, 0, 0, 0, b'f', b'r', b'e', b'e', 9]);
        let top = top_level(&mut Cursor::new(file)).unwrap();
        assert_eq!(top.len(), 2);
        assert_eq!((top[0].body, top[0].end), (16, 20));
        assert_eq!((top[1].kind, top[1].end), (*b"free", 29));
    }

    #[test]
    fn flags_truncated_and_rejects_tiny_boxes() {
        let top = top_level(&mut Cursor::new(bx(*b"moov", &[0; 8])[..10].to_vec())).unwrap();
        assert!(top[0].truncated);
        assert_eq!(top[0].end, 10);
        let tiny = [0, 0, 0, 4, b'm', b'o', b'o', b'v'];
        assert!(top_level(&mut Cursor::new(tiny.to_vec())).is_err());
    }

    #[test]
    fn tells_quicktime_meta_from_iso_meta() {
        let qt = bx(*b"meta", &bx(*b"hdlr", &[0; 4]));
        let iso = bx(*b"meta", &[&[0u8; 4][..], &bx(*b"hdlr", &[0; 4])].concat());
        for (file, start) in [(qt, 8), (iso, 12)] {
            let mut r = Cursor::new(file);
            let meta = top_level(&mut r).unwrap()[0];
            assert_eq!(meta_children_start(&mut r, &meta).unwrap(), start);
        }
    }
}
