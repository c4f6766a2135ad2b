//! Apple's `MakerNote`: the Live Photo content identifier of a still.
//!
//! Layout (iOS 9 and later): `"Apple iOS\0"`, a 2-byte version, a 2-byte byte-order mark
//! (`MM` or `II`), then a TIFF-style IFD at offset 14. Value offsets count from the start of
//! the `MakerNote`, not from the TIFF header of the surrounding EXIF block.

/// `MakerNote` tag holding the content identifier (exiftool calls it `MediaGroupUUID`); a Live
/// Photo's video carries the same string in `com.apple.quicktime.content.identifier`.
const CONTENT_IDENTIFIER: u16 = 0x0011;

/// TIFF type code for ASCII strings.
const ASCII: u16 = 2;

/// Offset of the IFD inside the `MakerNote`.
const IFD_START: usize = 14;

/// Returns the Live Photo content identifier stored in an Apple `MakerNote`, or `None` when
/// `note` is not an Apple `MakerNote` or has no identifier.
pub(crate) fn content_identifier(note: &[u8]) -> Option<String> {
    if !note.starts_with(b"Apple iOS\0") {
        return None;
    }
    let le = match note.get(12..14)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = note.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = note.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let count = u16_at(IFD_START)?;
    for i in 0..usize::from(count) {
        let entry = i.checked_mul(12)?.checked_add(IFD_START)?.checked_add(2)?;
        if u16_at(entry)? != CONTENT_IDENTIFIER {
            continue;
        }
        if u16_at(entry.checked_add(2)?)? != ASCII {
            return None;
        }
        let len = usize::try_from(u32_at(entry.checked_add(4)?)?).ok()?;
        let value_at = if len <= 4 {
            entry.checked_add(8)?
        } else {
            usize::try_from(u32_at(entry.checked_add(8)?)?).ok()?
        };
        let raw = note.get(value_at..value_at.checked_add(len)?)?;
        return clean_text(raw);
    }
    None
}

/// A string field with trailing NULs and surrounding blanks removed; `None` when empty or
/// not UTF-8.
pub(crate) fn clean_text(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let text = std::str::from_utf8(raw.get(..end)?).ok()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    const UUID: &[u8] = b"570F1469-09C7-4E50-9875-05F21D5BD166\0";

    /// A `MakerNote` with `MakerNoteVersion` (inline) and the identifier (out of line).
    fn note(big_endian: bool) -> Vec<u8> {
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut n = b"Apple iOS\0\0\x01".to_vec();
        n.extend_from_slice(if big_endian { b"MM" } else { b"II" });
        n.extend_from_slice(&w16(2));
        for (tag, typ, count, value) in [(0x0001, 9, 1, 12), (0x0011, 2, UUID.len() as u32, 44)] {
            n.extend_from_slice(&w16(tag));
            n.extend_from_slice(&w16(typ));
            n.extend_from_slice(&w32(count));
            n.extend_from_slice(&w32(value));
        }
        n.extend_from_slice(&[0; 4]);
        assert_eq!(n.len(), 44);
        n.extend_from_slice(UUID);
        n
    }

    #[test]
    fn reads_content_identifier_in_both_byte_orders() {
        let want = "570F1469-09C7-4E50-9875-05F21D5BD166";
        assert_eq!(content_identifier(&note(true)).as_deref(), Some(want));
        assert_eq!(content_identifier(&note(false)).as_deref(), Some(want));
    }

    #[test]
    fn ignores_other_maker_notes_and_truncation() {
        assert_eq!(content_identifier(b"Nikon\0\x02\x10\0\0MM\0*"), None);
        let n = note(true);
        for len in 0..n.len() {
            assert_eq!(content_identifier(&n[..len]), None);
        }
    }

    #[test]
    fn clean_text_trims_nuls_and_blanks() {
        assert_eq!(clean_text(b"Canon \0\0").as_deref(), Some("Canon"));
        assert_eq!(clean_text(b"\0abc"), None);
        assert_eq!(clean_text(b"  "), None);
    }
}
