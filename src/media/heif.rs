//! HEIF / HEIC / AVIF: the primary item's size from `ispe`, EXIF through `kamadak-exif`.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use super::bmff::{self, BoxHeader, be_u16, be_u32};
use super::{Facts, exif};

/// Largest `ipma` / `ipco` body we read; these list a few hundred properties at most.
const MAX_PROPS: usize = 256 * 1024;

/// Reads the facts of a HEIF-family image whose top-level boxes are `top`.
pub(crate) fn read<R: BufRead + Seek>(
    r: &mut R,
    top: &[BoxHeader],
    facts: &mut Facts,
) -> io::Result<()> {
    let Some(meta) = top.iter().find(|b| &b.kind == b"meta") else {
        facts.warnings.push("HEIF without meta box".into());
        return Ok(());
    };
    // An ISO `meta` is a full box: its children start after version and flags.
    let kids = bmff::children(r, meta.body.saturating_add(4), meta.end)?;
    let find = |k: &[u8; 4]| kids.iter().find(|b| &b.kind == k).copied();
    if let (Some(pitm), Some(iprp)) = (find(b"pitm"), find(b"iprp")) {
        let pitm = bmff::read_body(r, &pitm, 64)?;
        let primary = if pitm.first() == Some(&0) {
            be_u16(&pitm, 4).map(u32::from)
        } else {
            be_u32(&pitm, 4)
        };
        if let Some(primary) = primary
            && let Some((w, h)) = primary_size(r, &iprp, primary)?
        {
            (facts.width, facts.height) = (Some(w), Some(h));
        }
    }
    r.seek(SeekFrom::Start(0))?;
    exif::read_container(r, facts);
    Ok(())
}

/// The `ispe` size associated with item `primary` through `ipma`.
fn primary_size<R: Read + Seek>(
    r: &mut R,
    iprp: &BoxHeader,
    primary: u32,
) -> io::Result<Option<(u32, u32)>> {
    let Some(ipco) = bmff::child(r, iprp, *b"ipco")? else {
        return Ok(None);
    };
    let props = bmff::children(r, ipco.body, ipco.end)?;
    let Some(ipma) = bmff::child(r, iprp, *b"ipma")? else {
        return Ok(None);
    };
    let ipma = bmff::read_body(r, &ipma, MAX_PROPS)?;
    for index in associations(&ipma, primary) {
        let Some(prop) = index.checked_sub(1).and_then(|i| props.get(usize::from(i))) else {
            continue;
        };
        if &prop.kind == b"ispe" {
            let body = bmff::read_body(r, prop, 64)?;
            if let (Some(w), Some(h)) = (be_u32(&body, 4), be_u32(&body, 8)) {
                return Ok(Some((w, h)));
            }
        }
    }
    Ok(None)
}

/// The 1-based property indices `ipma` associates with `item`.
fn associations(ipma: &[u8], item: u32) -> Vec<u16> {
    let version = ipma.first().copied().unwrap_or(0);
    let wide_index = ipma.get(3).is_some_and(|f| f & 1 == 1);
    let count = be_u32(ipma, 4).unwrap_or(0);
    let mut at: usize = 8;
    for _ in 0..count {
        let (id, id_len) = if version < 1 {
            (be_u16(ipma, at).map(u32::from), 2)
        } else {
            (be_u32(ipma, at), 4)
        };
        let Some(n) = at.checked_add(id_len).and_then(|i| ipma.get(i)) else {
            break;
        };
        let Some(start) = at.checked_add(id_len).and_then(|i| i.checked_add(1)) else {
            break;
        };
        let step = if wide_index { 2 } else { 1 };
        let Some(end) = usize::from(*n)
            .checked_mul(step)
            .and_then(|l| l.checked_add(start))
        else {
            break;
        };
        if id == Some(item) {
            let Some(raw) = ipma.get(start..end) else {
                break;
            };
            return raw
                .chunks_exact(step)
                .map(|c| match c {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]) & 0x7FFF,
                    [b] => u16::from(*b & 0x7F),
                    _ => 0,
                })
                .collect();
        }
        at = end;
    }
    Vec::new()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn reads_ipma_associations() {
        // version 0, flags 0; two items; item 1 -> [1, essential 3]; item 2 -> [2].
        let ipma = [0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 2, 0x01, 0x83, 0, 2, 1, 0x02];
        assert_eq!(associations(&ipma, 1), [1, 3]);
        assert_eq!(associations(&ipma, 2), [2]);
        assert!(associations(&ipma, 3).is_empty());
        // flags & 1: 16-bit indices.
        let wide = [0, 0, 0, 1, 0, 0, 0, 1, 0, 7, 1, 0x80, 0x05];
        assert_eq!(associations(&wide, 7), [5]);
        for n in 0..ipma.len() {
            let _ = associations(&ipma[..n], 2);
        }
    }
}
