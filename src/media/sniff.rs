//! Format detection by magic bytes, never by file name.

/// The container format of a file, as its first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// HEIC / HEIF (ISO-BMFF with an image brand).
    Heic,
    /// AVIF (ISO-BMFF with `avif`/`avis` brand).
    Avif,
    /// PNG.
    Png,
    /// Plain TIFF.
    Tiff,
    /// A camera RAW file (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF...).
    Raw,
    /// WebP.
    Webp,
    /// JPEG XL (codestream or container).
    Jxl,
    /// GIF.
    Gif,
    /// `QuickTime` movie.
    Mov,
    /// MPEG-4 / 3GP video.
    Mp4,
    /// XMP sidecar.
    Xmp,
    /// Anything else.
    Unknown,
}

/// What a user would call the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A still image.
    Image,
    /// A video.
    Video,
    /// Metadata sidecar.
    Sidecar,
    /// Not media.
    Other,
}

impl Format {
    /// Photo, video or neither.
    pub fn kind(self) -> Kind {
        match self {
            Self::Jpeg
            | Self::Heic
            | Self::Avif
            | Self::Png
            | Self::Tiff
            | Self::Raw
            | Self::Webp
            | Self::Jxl
            | Self::Gif => Kind::Image,
            Self::Mov | Self::Mp4 => Kind::Video,
            Self::Xmp => Kind::Sidecar,
            Self::Unknown => Kind::Other,
        }
    }

    /// True when the payload is already entropy-coded, so zstd would not pay.
    pub fn is_compressed(self) -> bool {
        !matches!(self, Self::Tiff | Self::Raw | Self::Xmp | Self::Unknown)
    }

    /// A conventional lower-case file extension, for files that have no name.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Heic => "heic",
            Self::Avif => "avif",
            Self::Png => "png",
            Self::Tiff => "tif",
            Self::Raw => "raw",
            Self::Webp => "webp",
            Self::Jxl => "jxl",
            Self::Gif => "gif",
            Self::Mov => "mov",
            Self::Mp4 => "mp4",
            Self::Xmp => "xmp",
            Self::Unknown => "bin",
        }
    }
}

/// How many leading bytes [`sniff`] looks at. DNG, NEF and ARW are TIFF files told apart by
/// tags in the first IFD, which usually sits in the first few KiB.
pub const SNIFF_LEN: usize = 4096;

/// Identifies the format from the first bytes of a file. 64 bytes settle most formats; pass up
/// to [`SNIFF_LEN`] so TIFF-based RAW files can be told from plain TIFF.
pub fn sniff(head: &[u8]) -> Format {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\xFF\xD8\xFF") {
        Format::Jpeg
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Format::Png
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Format::Gif
    } else if starts(b"\xFF\x0A") || starts(b"\0\0\0\x0CJXL \r\n\x87\n") {
        Format::Jxl
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        Format::Webp
    } else if starts(b"FUJIFILMCCD-RAW") {
        Format::Raw
    } else if starts(b"II*\0") || starts(b"MM\0*") || starts(b"IIRO") || starts(b"IIRS") {
        tiff_flavour(head)
    } else if starts(b"IIU\0") {
        Format::Raw
    } else if head.get(4..8) == Some(b"ftyp") {
        ftyp_format(head)
    } else if is_quicktime_without_ftyp(head) {
        Format::Mov
    } else if is_xmp(head) {
        Format::Xmp
    } else {
        Format::Unknown
    }
}

/// Plain TIFF or a camera RAW built on TIFF.
fn tiff_flavour(head: &[u8]) -> Format {
    let orf = head.starts_with(b"IIRO") || head.starts_with(b"IIRS");
    let cr2 = head.get(8..10) == Some(b"CR");
    if orf || cr2 || ifd0_looks_raw(head) {
        Format::Raw
    } else {
        Format::Tiff
    }
}

/// Scans the entries of IFD0 that lie inside `head`: a `DNGVersion` tag means DNG; `SubIFDs`
/// together with a Make tag is how NEF, ARW, PEF and friends keep their full-size image.
fn ifd0_looks_raw(head: &[u8]) -> bool {
    let le = head.first() == Some(&b'I');
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = head.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let Some(ifd) = head.get(4..8).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
        return false;
    };
    let ifd = if le {
        u32::from_le_bytes(ifd)
    } else {
        u32::from_be_bytes(ifd)
    } as usize;
    let Some(count) = u16_at(ifd) else {
        return false;
    };
    let (mut sub_ifds, mut make) = (false, false);
    for i in 0..usize::from(count) {
        let Some(tag) = i
            .checked_mul(12)
            .and_then(|o| o.checked_add(ifd)?.checked_add(2))
            .and_then(u16_at)
        else {
            break;
        };
        match tag {
            0xC612 => return true,
            0x014A => sub_ifds = true,
            0x010F => make = true,
            _ => {}
        }
    }
    sub_ifds && make
}

/// Classifies an ISO-BMFF file by its major brand, then by its compatible brands.
fn ftyp_format(head: &[u8]) -> Format {
    let size = head
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes) as usize;
    let end = size.clamp(16, head.len().max(16));
    let major = head.get(8..12).unwrap_or_default();
    let compatible = head.get(16..end).unwrap_or_default();
    let brand = brand_format(major);
    if brand != Format::Unknown && !matches!(major, b"mif1" | b"msf1" | b"isom") {
        return brand;
    }
    // Generic majors (mif1, isom) defer to the most specific compatible brand.
    let mut best = brand;
    for b in compatible.chunks_exact(4) {
        match (best, brand_format(b)) {
            (_, Format::Avif | Format::Raw) => return brand_format(b),
            (Format::Unknown | Format::Mp4, f @ (Format::Heic | Format::Mov))
            | (Format::Unknown, f) => best = f,
            _ => {}
        }
    }
    best
}

/// The format an ISO-BMFF brand stands for, or `Unknown`.
fn brand_format(brand: &[u8]) -> Format {
    match brand {
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" | b"mif1"
        | b"msf1" | b"mif2" => Format::Heic,
        b"avif" | b"avis" => Format::Avif,
        b"crx " => Format::Raw,
        b"qt  " => Format::Mov,
        b"isom"
        | b"iso2"
        | b"iso3"
        | b"iso4"
        | b"iso5"
        | b"iso6"
        | b"mp41"
        | b"mp42"
        | b"mp71"
        | b"avc1"
        | b"M4V "
        | b"M4VH"
        | b"M4VP"
        | b"f4v "
        | b"MSNV"
        | b"XAVC"
        | b"mmp4"
        | b"dash"
        | [b'3', b'g', ..] => Format::Mp4,
        _ => Format::Unknown,
    }
}

/// Old `QuickTime` files start with a `moov`, `mdat`, `wide`, `free`, `skip` or `pnot` atom.
fn is_quicktime_without_ftyp(head: &[u8]) -> bool {
    let size = head
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes);
    let known = matches!(
        head.get(4..8),
        Some(b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot")
    );
    // Size 0 ("to end of file") and 1 (64-bit size follows) are legal; 2..8 never are.
    known && size.is_some_and(|s| s == 0 || s == 1 || s >= 8)
}

/// An XMP sidecar: an `<?xpacket` or `<x:xmpmeta` start, after an optional BOM and blanks,
/// in UTF-8 or UTF-16 (Windows tools write UTF-16LE with a BOM).
fn is_xmp(head: &[u8]) -> bool {
    let ascii: Vec<u8> = match head {
        [0xFF, 0xFE, rest @ ..] => rest
            .chunks_exact(2)
            .filter_map(|c| ascii_of(c, 0))
            .collect(),
        [0xFE, 0xFF, rest @ ..] => rest
            .chunks_exact(2)
            .filter_map(|c| ascii_of(c, 1))
            .collect(),
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest.to_vec(),
        _ => head.to_vec(),
    };
    let text = ascii.trim_ascii_start();
    if text.starts_with(b"<?xpacket") || text.starts_with(b"<x:xmpmeta") {
        return true;
    }
    text.starts_with(b"<?xml") && text.windows(10).any(|w| w == b"<x:xmpmeta")
}

/// The ASCII byte of a UTF-16 code unit whose other byte is zero.
fn ascii_of(unit: &[u8], low: usize) -> Option<u8> {
    let (lo, hi) = (*unit.get(low)?, *unit.get(1_usize.checked_sub(low)?)?);
    (hi == 0 && lo.is_ascii()).then_some(lo)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn ftyp(major: [u8; 4], compat: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compat.len() as u32;
        let mut v = size.to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(&major);
        v.extend_from_slice(&[0, 0, 0, 0]);
        for c in compat {
            v.extend_from_slice(*c);
        }
        v.extend_from_slice(b"\0\0\0\x08mdat");
        v
    }

    fn tiff_with_tags(tags: &[u16]) -> Vec<u8> {
        let mut v = b"II*\0\x08\0\0\0".to_vec();
        v.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        for t in tags {
            v.extend_from_slice(&t.to_le_bytes());
            v.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        }
        v.extend_from_slice(&[0; 4]);
        v
    }

    #[test]
    fn sniffs_simple_magics() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE1\0\x10Exif"), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), Format::Png);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"\xFF\x0A\xFA\x7F"), Format::Jxl);
        assert_eq!(
            sniff(b"\0\0\0\x0CJXL \r\n\x87\n\0\0\0\x14ftypjxl "),
            Format::Jxl
        );
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8X"), Format::Webp);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Format::Unknown);
        assert_eq!(sniff(b""), Format::Unknown);
        assert_eq!(sniff(b"hello world"), Format::Unknown);
    }

    #[test]
    fn sniffs_tiff_and_raw_flavours() {
        assert_eq!(sniff(&tiff_with_tags(&[0x0100, 0x0101])), Format::Tiff);
        assert_eq!(sniff(b"MM\0*\0\0\0\x08\0\0"), Format::Tiff);
        assert_eq!(sniff(&tiff_with_tags(&[0x0100, 0xC612])), Format::Raw);
        assert_eq!(sniff(&tiff_with_tags(&[0x010F, 0x014A])), Format::Raw);
        assert_eq!(sniff(b"II*\0\x10\0\0\0CR\x02\0"), Format::Raw);
        assert_eq!(sniff(b"IIRO\x08\0\0\0"), Format::Raw);
        assert_eq!(sniff(b"IIU\0\x08\0\0\0"), Format::Raw);
        assert_eq!(sniff(b"FUJIFILMCCD-RAW 0201"), Format::Raw);
    }

    #[test]
    fn sniffs_iso_bmff_brands() {
        assert_eq!(sniff(&ftyp(*b"heic", &[b"mif1", b"heic"])), Format::Heic);
        assert_eq!(sniff(&ftyp(*b"mif1", &[b"mif1", b"heic"])), Format::Heic);
        assert_eq!(sniff(&ftyp(*b"mif1", &[b"mif1", b"avif"])), Format::Avif);
        assert_eq!(sniff(&ftyp(*b"avif", &[b"mif1"])), Format::Avif);
        assert_eq!(sniff(&ftyp(*b"avis", &[b"msf1"])), Format::Avif);
        assert_eq!(sniff(&ftyp(*b"crx ", &[b"crx ", b"isom"])), Format::Raw);
        assert_eq!(sniff(&ftyp(*b"qt  ", &[b"qt  "])), Format::Mov);
        assert_eq!(sniff(&ftyp(*b"isom", &[b"isom", b"mp41"])), Format::Mp4);
        assert_eq!(sniff(&ftyp(*b"mp42", &[b"isom"])), Format::Mp4);
        assert_eq!(sniff(&ftyp(*b"3gp5", &[])), Format::Mp4);
        assert_eq!(sniff(&ftyp(*b"M4V ", &[])), Format::Mp4);
        assert_eq!(sniff(&ftyp(*b"zzzz", &[b"yyyy"])), Format::Unknown);
    }

    #[test]
    fn sniffs_quicktime_without_ftyp() {
        assert_eq!(sniff(b"\0\0\x01\0moov\0\0\0\x6cmvhd"), Format::Mov);
        assert_eq!(sniff(b"\0\0\0\x08wide\0\0\x10\0mdat"), Format::Mov);
        assert_eq!(sniff(b"\0\0\0\x04moov"), Format::Unknown);
    }

    #[test]
    fn sniffs_xmp_in_utf8_and_utf16() {
        assert_eq!(
            sniff(b"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0\"?>"),
            Format::Xmp
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF\n  <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"),
            Format::Xmp
        );
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<x:xmpmeta>"), Format::Xmp);
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<svg>"), Format::Unknown);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<?xpacket begin".bytes().flat_map(|b| [b, 0]))
            .collect();
        assert_eq!(sniff(&utf16), Format::Xmp);
    }

    #[test]
    fn sniff_never_panics_on_prefixes() {
        let samples = [
            ftyp(*b"heic", &[b"mif1"]),
            tiff_with_tags(&[0xC612, 0x010F]),
        ];
        for s in &samples {
            for n in 0..=s.len() {
                let _ = sniff(s.get(..n).unwrap());
            }
        }
    }
}
