//! Unit tests of thumbnails: orientation, sizes, the pixel ceiling, damaged files, RAW previews
//! and placeholders, on pictures made in memory.

#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

use super::raw_preview::largest_jpeg;
use super::{
    Facts, Format, Options, Size, ThumbError, decode_full, make_thumbnails, placeholder, read_facts,
};

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 220, 20];
const BLUE: [u8; 3] = [20, 20, 230];
const WHITE: [u8; 3] = [250, 250, 250];

/// A 64×32 picture in four quadrants: red | green over blue | white.
fn quadrants() -> RgbImage {
    RgbImage::from_fn(64, 32, |x, y| {
        Rgb(match (x < 32, y < 16) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    })
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// `jpeg` with an EXIF APP1 segment holding `Orientation = o`, right after SOI.
fn with_orientation(jpeg: &[u8], o: u8) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(len.to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn close(got: Rgb<u8>, want: [u8; 3]) -> bool {
    got.0.iter().zip(want).all(|(g, w)| g.abs_diff(w) < 40)
}

/// Colour at (`tx`, `ty`) tenths of the width and height.
fn at(img: &RgbImage, tx: u32, ty: u32) -> Rgb<u8> {
    *img.get_pixel(img.width() * tx / 10, img.height() * ty / 10)
}

#[test]
fn orientation_makes_every_exif_value_upright() {
    // (orientation, colour at the top-left, colour at the top-right) once upright.
    let cases = [
        (1, RED, GREEN),
        (2, GREEN, RED),
        (3, WHITE, BLUE),
        (4, BLUE, WHITE),
        (5, RED, BLUE),
        (6, BLUE, RED),
        (7, WHITE, GREEN),
        (8, GREEN, WHITE),
    ];
    let dir = tempfile::tempdir().unwrap();
    let plain = jpeg(&quadrants(), 95);
    for (o, top_left, top_right) in cases {
        let path = write(
            dir.path(),
            &format!("o{o}.jpg"),
            &with_orientation(&plain, o),
        );
        let facts = read_facts(&path);
        assert_eq!(facts.orientation, Some(u16::from(o)));
        let thumbs = make_thumbnails(&path, &facts, &Options::default()).unwrap();
        let want = if o >= 5 { (32, 64) } else { (64, 32) };
        assert_eq!((thumbs.width, thumbs.height), want, "orientation {o}");
        assert_eq!((thumbs.preview_width, thumbs.preview_height), want);
        for bytes in [&thumbs.grid, &thumbs.preview] {
            let img = image::load_from_memory(bytes).unwrap().into_rgb8();
            assert_eq!(img.dimensions(), want);
            assert!(close(at(&img, 1, 1), top_left), "orientation {o}");
            assert!(close(at(&img, 9, 1), top_right), "orientation {o}");
        }
        let full = decode_full(&path, &facts, &Options::default()).unwrap();
        assert_eq!(full.dimensions(), want);
        assert!(close(at(&full, 1, 1), top_left), "orientation {o}");
    }
}

#[test]
fn sizes_keep_aspect_and_never_upscale() {
    assert_eq!(Size::Grid.fit(4032, 3024), (480, 360));
    assert_eq!(Size::Preview.fit(4032, 3024), (2048, 1536));
    assert_eq!(Size::Grid.fit(3024, 4032), (360, 480));
    assert_eq!(Size::Preview.fit(3024, 4032), (1536, 2048));
    assert_eq!(Size::Grid.fit(300, 200), (300, 200));
    assert_eq!(Size::Preview.fit(2048, 100), (2048, 100));
    assert_eq!(Size::Grid.fit(361, 360), (361, 360));
    // A panorama's grid image is capped at the preview's long side.
    assert_eq!(Size::Grid.fit(20_000, 1000), (2048, 102));
    assert_eq!(Size::Grid.fit(100_000, 1), (2048, 1));
    assert_eq!(Size::Preview.fit(1, 1), (1, 1));
}

#[test]
fn both_sizes_from_one_decode() {
    let dir = tempfile::tempdir().unwrap();
    let big = RgbImage::from_fn(3000, 2000, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 99])
    });
    let path = write(dir.path(), "big.jpg", &jpeg(&big, 80));
    let thumbs = make_thumbnails(&path, &read_facts(&path), &Options::default()).unwrap();
    assert_eq!((thumbs.width, thumbs.height), (540, 360));
    assert_eq!((thumbs.preview_width, thumbs.preview_height), (2048, 1365));
    let grid = image::load_from_memory(&thumbs.grid).unwrap();
    assert_eq!((grid.width(), grid.height()), (540, 360));

    let small = DynamicImage::ImageRgb8(RgbImage::from_pixel(1000, 700, Rgb(RED)));
    let path = write(dir.path(), "small.png", &png(&small));
    let thumbs = make_thumbnails(&path, &read_facts(&path), &Options::default()).unwrap();
    assert_eq!((thumbs.width, thumbs.height), (514, 360));
    assert_eq!((thumbs.preview_width, thumbs.preview_height), (1000, 700));
}

#[test]
fn transparency_is_laid_on_white_and_16_bit_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(400, 400, Rgba([0, 0, 0, 0])));
    let path = write(dir.path(), "clear.png", &png(&clear));
    let full = decode_full(&path, &read_facts(&path), &Options::default()).unwrap();
    assert_eq!(*full.get_pixel(10, 10), Rgb([255, 255, 255]));
    let thumbs = make_thumbnails(&path, &read_facts(&path), &Options::default()).unwrap();
    let grid = image::load_from_memory(&thumbs.grid).unwrap().into_rgb8();
    assert!(close(*grid.get_pixel(5, 5), [255, 255, 255]));

    let deep = DynamicImage::ImageRgb16(image::ImageBuffer::from_pixel(
        800,
        600,
        Rgb([65535u16, 0, 0]),
    ));
    let path = write(dir.path(), "deep.png", &png(&deep));
    let thumbs = make_thumbnails(&path, &read_facts(&path), &Options::default()).unwrap();
    assert_eq!((thumbs.width, thumbs.height), (480, 360));
    let grid = image::load_from_memory(&thumbs.grid).unwrap().into_rgb8();
    assert!(close(*grid.get_pixel(100, 100), [255, 0, 0]));
}

/// A PNG whose IHDR claims `width`×`height`, with a correct CRC, and no pixel data at all.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(width.to_be_bytes());
    chunk.extend(height.to_be_bytes());
    chunk.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&chunk);
    out.extend(crc32(&chunk).to_be_bytes());
    // A little deflate data and the end: what a bomb looks like (pixels that compress well).
    for (kind, body) in [
        (&b"IDAT"[..], &b"\x78\x9c\x63\x00\x00\x00\x01\x00\x01"[..]),
        (b"IEND", b""),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend(body);
        out.extend(u32::try_from(body.len()).unwrap().to_be_bytes());
        out.extend(&chunk);
        out.extend(crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites the size in a JPEG's SOF0 header.
fn patch_sof(jpeg: &mut [u8], width: u16, height: u16) {
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default();
    let path = write(dir.path(), "bomb.png", &png_header(50_000, 50_000));
    let facts = read_facts(&path);
    let started = std::time::Instant::now();
    let err = make_thumbnails(&path, &facts, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            ThumbError::TooManyPixels {
                width: 50_000,
                height: 50_000
            }
        ),
        "{err:?}"
    );

    let mut bomb = jpeg(&quadrants(), 80);
    patch_sof(&mut bomb, 50_000, 50_000);
    let path = write(dir.path(), "bomb.jpg", &bomb);
    let err = make_thumbnails(&path, &read_facts(&path), &opts).unwrap_err();
    assert!(matches!(err, ThumbError::TooManyPixels { .. }), "{err:?}");
    let err = decode_full(&path, &read_facts(&path), &opts).unwrap_err();
    assert!(matches!(err, ThumbError::TooManyPixels { .. }), "{err:?}");
    // Refused without decoding: 2.5 gigapixels would take far longer than this.
    assert!(started.elapsed().as_secs() < 2);

    // The ceiling is the caller's: a small one refuses a small picture.
    let path = write(dir.path(), "q.jpg", &jpeg(&quadrants(), 80));
    let tight = Options {
        max_pixels: 1000,
        ..opts
    };
    let err = make_thumbnails(&path, &read_facts(&path), &tight).unwrap_err();
    assert!(matches!(
        err,
        ThumbError::TooManyPixels {
            width: 64,
            height: 32
        }
    ));
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good_jpeg = jpeg(&quadrants(), 80);
    let good_png = png(&DynamicImage::ImageRgb8(quadrants()));
    let opts = Options::default();
    for (name, good, format) in [
        ("t.jpg", &good_jpeg, Format::Jpeg),
        ("t.png", &good_png, Format::Png),
    ] {
        for cut in [0, 1, 2, 10, 40, good.len() / 2, good.len() - 3] {
            let path = write(dir.path(), name, &good[..cut]);
            let facts = Facts {
                format: Some(format),
                ..Facts::default()
            };
            // A JPEG cut inside its scan may still decode (grey at the bottom): that is fine.
            match make_thumbnails(&path, &facts, &opts) {
                Ok(_) | Err(ThumbError::Decode(_) | ThumbError::Io(_)) => {}
                Err(e) => panic!("{name} cut at {cut}: {e:?}"),
            }
        }
        let path = write(dir.path(), name, &good[..10]);
        let facts = Facts {
            format: Some(format),
            ..Facts::default()
        };
        assert!(matches!(
            make_thumbnails(&path, &facts, &opts),
            Err(ThumbError::Decode(_))
        ));
        // Flipped bytes all over the file.
        for step in [7, 13, 31, 97] {
            let mut bad = good.clone();
            for i in (20..bad.len()).step_by(step) {
                bad[i] ^= 0x5A;
            }
            let path = write(dir.path(), name, &bad);
            let _ = make_thumbnails(&path, &facts, &opts);
        }
    }
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let path = write(dir.path(), "garbage", &garbage);
    for format in [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Tiff,
        Format::Raw,
        Format::Heic,
        Format::Jxl,
    ] {
        let facts = Facts {
            format: Some(format),
            ..Facts::default()
        };
        match make_thumbnails(&path, &facts, &opts) {
            Err(ThumbError::Decode(_) | ThumbError::Unsupported(_) | ThumbError::Io(_)) => {}
            other => panic!("{format:?}: {other:?}"),
        }
    }
}

#[test]
fn formats_without_a_decoder_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x", b"anything");
    for format in [
        Format::Mov,
        Format::Mp4,
        Format::Avif,
        Format::Xmp,
        Format::Unknown,
    ] {
        let facts = Facts {
            format: Some(format),
            ..Facts::default()
        };
        let err = make_thumbnails(&path, &facts, &Options::default()).unwrap_err();
        assert!(
            matches!(err, ThumbError::Unsupported(f) if f == format),
            "{err:?}"
        );
    }
}

mod raw;
