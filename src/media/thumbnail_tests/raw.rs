//! Thumbnails of RAW files (embedded previews), placeholders and colour profiles.

use super::*;

/// A little-endian TIFF: IFD0 points at `small` through `JPEGInterchangeFormat`; its one
/// `SubIFD` holds `big` as a single JPEG-compressed strip.
fn tiff_with_previews(small: &[u8], big: &[u8]) -> Vec<u8> {
    let ifd0 = 8u32;
    let sub = ifd0 + 2 + 3 * 12 + 4;
    let small_at = sub + 2 + 3 * 12 + 4;
    let big_at = small_at + small.len() as u32;
    let entry = |tag: u16, kind: u16, value: u32| {
        let mut e = tag.to_le_bytes().to_vec();
        e.extend(kind.to_le_bytes());
        e.extend(1u32.to_le_bytes());
        e.extend(value.to_le_bytes());
        e
    };
    let mut out = b"II*\0".to_vec();
    out.extend(ifd0.to_le_bytes());
    out.extend(3u16.to_le_bytes());
    out.extend(entry(0x014A, 4, sub));
    out.extend(entry(0x0201, 4, small_at));
    out.extend(entry(0x0202, 4, small.len() as u32));
    out.extend(0u32.to_le_bytes());
    out.extend(3u16.to_le_bytes());
    out.extend(entry(0x0103, 3, 7));
    out.extend(entry(0x0111, 4, big_at));
    out.extend(entry(0x0117, 4, big.len() as u32));
    out.extend(0u32.to_le_bytes());
    out.extend(small);
    out.extend(big);
    out
}

#[test]
fn raw_files_show_their_largest_embedded_jpeg() {
    let small = jpeg(&RgbImage::from_pixel(160, 120, Rgb(RED)), 80);
    let big = jpeg(&RgbImage::from_pixel(600, 400, Rgb(BLUE)), 80);
    let file = tiff_with_previews(&small, &big);
    let found = largest_jpeg(&mut Cursor::new(&file), 100_000_000).unwrap();
    assert_eq!(found.as_deref(), Some(&big[..]));
    // Over the ceiling, the next largest is taken; when none fits, the file is refused.
    let found = largest_jpeg(&mut Cursor::new(&file), 100_000).unwrap();
    assert_eq!(found.as_deref(), Some(&small[..]));
    let err = largest_jpeg(&mut Cursor::new(&file), 100).unwrap_err();
    assert!(matches!(err, ThumbError::TooManyPixels { .. }));
    // Lossless JPEG (raw sensor data) is not a preview.
    let mut lossless = big.clone();
    let sof = lossless.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    lossless[sof + 1] = 0xC3;
    let file = tiff_with_previews(&small, &lossless);
    let found = largest_jpeg(&mut Cursor::new(&file), 100_000_000).unwrap();
    assert_eq!(found.as_deref(), Some(&small[..]));

    // End to end, with the orientation of the RAW file applied to its preview.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.dng", &tiff_with_previews(&small, &big));
    let facts = Facts {
        format: Some(Format::Raw),
        orientation: Some(6),
        ..Facts::default()
    };
    let thumbs = make_thumbnails(&path, &facts, &Options::default()).unwrap();
    assert_eq!((thumbs.width, thumbs.height), (360, 540));
    // Truncated and empty RAW files are errors or unsupported, never a panic.
    for cut in [0, 4, 8, 30, 60, 120, file.len() - 10] {
        let path = write(dir.path(), "cut.dng", &file[..cut]);
        let r = make_thumbnails(&path, &facts, &Options::default());
        assert!(
            r.is_ok()
                || matches!(
                    r,
                    Err(ThumbError::Unsupported(Format::Raw) | ThumbError::Decode(_))
                ),
            "{cut}: {r:?}"
        );
    }
}

#[test]
fn placeholders_are_jpegs_of_the_asked_size() {
    for (label, w, h) in [
        ("HEIC", 360, 360),
        ("VIDEO 0:12", 480, 360),
        ("RAW", 2048, 1536),
    ] {
        let img = image::load_from_memory_with_format(
            &placeholder(label, w, h),
            image::ImageFormat::Jpeg,
        )
        .unwrap()
        .into_rgb8();
        assert_eq!(img.dimensions(), (w, h));
        // Some light text on the dark tile.
        assert!(img.pixels().any(|p| p.0[0] > 180), "{label}");
        assert!(close(*img.get_pixel(2, 2), [0x3a, 0x3d, 0x42]));
    }
    // Odd labels and sizes still make a picture.
    for (label, w, h) in [
        ("", 0, 0),
        ("ünïcode ✓ and a label far too long for the tile", 16, 9999),
    ] {
        let img = image::load_from_memory(&placeholder(label, w, h)).unwrap();
        assert!(img.width() >= 16 && img.height() >= 16);
    }
}

#[test]
fn cr3_shows_its_prvw_preview_else_its_thmb() {
    use super::super::bmff::tests::bx;
    let uuid_box = |uuid: &str, extra: &[u8], inner: &[u8]| {
        let hex: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&uuid.replace('-', "")[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        bx(*b"uuid", &[&hex[..], extra, inner].concat())
    };
    // PRVW and THMB bodies: 16 bytes of sizes and flags, then the JPEG.
    let with_header = |jpeg: &[u8]| [&[0u8; 16][..], jpeg].concat();
    let thmb = jpeg(&RgbImage::from_pixel(160, 120, Rgb(RED)), 80);
    let prvw = jpeg(&RgbImage::from_pixel(1620, 1080, Rgb(GREEN)), 80);
    let meta = uuid_box(
        "85c0b687-820f-11e0-8111-f4ce462b6a48",
        &[],
        &bx(*b"THMB", &with_header(&thmb)),
    );
    let preview = uuid_box(
        "eaf42b5e-1c98-4b88-b9fb-b7dc406e4d16",
        &[0; 8],
        &bx(*b"PRVW", &with_header(&prvw)),
    );
    let ftyp = bx(*b"ftyp", b"crx \0\0\0\x01crx isom");
    let file = [
        &ftyp[..],
        &bx(*b"moov", &meta),
        &preview,
        &bx(*b"mdat", &[0; 64]),
    ]
    .concat();
    let found = largest_jpeg(&mut Cursor::new(&file), 100_000_000)
        .unwrap()
        .unwrap();
    assert_eq!(&found[..prvw.len()], &prvw[..]);
    let without_prvw = [&ftyp[..], &bx(*b"moov", &meta), &bx(*b"mdat", &[0; 64])].concat();
    let found = largest_jpeg(&mut Cursor::new(&without_prvw), 100_000_000)
        .unwrap()
        .unwrap();
    assert_eq!(&found[..thmb.len()], &thmb[..]);
    for cut in 0..file.len().min(400) {
        let _ = largest_jpeg(&mut Cursor::new(&file[..cut]), 100_000_000);
    }
}

/// A minimal ICC profile whose only tag is a v2 'desc' with `text`.
fn icc_named(text: &str) -> Vec<u8> {
    let mut icc = vec![0u8; 128];
    icc.extend(1u32.to_be_bytes());
    icc.extend(b"desc");
    icc.extend(144u32.to_be_bytes());
    icc.extend((12 + text.len() as u32).to_be_bytes());
    icc.extend(b"desc\0\0\0\0");
    icc.extend((text.len() as u32).to_be_bytes());
    icc.extend(text.as_bytes());
    icc
}

#[test]
fn wide_gamut_profiles_ride_along_and_srgb_does_not() {
    use super::super::decode::worth_carrying;
    assert!(worth_carrying(&icc_named("Display P3")));
    assert!(!worth_carrying(&icc_named("sRGB IEC61966-2.1")));
    assert!(worth_carrying(&[]));
    assert!(!worth_carrying(&vec![0; 100_000]));
    let p3 = icc_named("Display P3");
    for cut in 0..p3.len() {
        let _ = worth_carrying(&p3[..cut]);
    }
    // An iPhone photo (Display P3) keeps its profile in both JPEGs.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media/pug.heic");
    let thumbs = make_thumbnails(&path, &read_facts(&path), &Options::default()).unwrap();
    for jpeg in [&thumbs.grid, &thumbs.preview] {
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(jpeg)).unwrap();
        let icc = image::ImageDecoder::icc_profile(&mut decoder)
            .unwrap()
            .unwrap();
        // A v4 profile: its 'mluc' description is UTF-16BE.
        let name: Vec<u8> = "Display P3".bytes().flat_map(|b| [0, b]).collect();
        assert!(icc.windows(name.len()).any(|w| w == name));
    }
}
