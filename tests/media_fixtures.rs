//! `media::read_facts` on the small committed fixtures in `tests/fixtures/media/`, whose facts
//! are known exactly (see that folder's LICENSES.md for how they were made).

// Helpers outside #[test] fns unwrap too; clippy.toml allows it only inside test fns.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use shoebox::media::{Facts, Format, read_facts, sniff};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-6, "{got} != {want}");
}

/// The bytes at `data_offset` are a JPEG SOS marker or the header of an `mdat` box.
fn assert_data_offset_points_at_data(path: &Path, f: &Facts) {
    let bytes = std::fs::read(path).unwrap();
    let at = usize::try_from(f.data_offset.unwrap()).unwrap();
    match f.format.unwrap() {
        Format::Jpeg => assert_eq!(&bytes[at..at + 2], b"\xFF\xDA"),
        _ => assert_eq!(&bytes[at + 4..at + 8], b"mdat"),
    }
}

#[test]
fn jpeg_with_exif_gps_and_orientation() {
    let path = fixture("photo.jpg");
    let f = read_facts(&path);
    assert_eq!(f.format, Some(Format::Jpeg));
    let t = f.taken_at.unwrap();
    assert_eq!(
        (t.local, t.offset_secs),
        (local("2021-07-14 09:15:30"), Some(-4 * 3600))
    );
    assert_eq!(
        (f.width, f.height, f.orientation),
        (Some(64), Some(48), Some(6))
    );
    assert_eq!(f.make.as_deref(), Some("Canon"));
    assert_eq!(f.model.as_deref(), Some("Canon EOS R6"));
    let gps = f.gps.unwrap();
    assert_close(gps.lat, 40.748_817);
    assert_close(gps.lon, -73.985_428);
    assert_close(gps.alt.unwrap(), 12.5);
    assert_eq!((f.duration_ms, f.content_id.as_deref()), (None, None));
    assert_eq!(f.data_offset, Some(694));
    assert_data_offset_points_at_data(&path, &f);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn live_photo_still_and_video_share_content_identifier() {
    let uuid = "570F1469-09C7-4E50-9875-05F21D5BD166";
    let still = read_facts(&fixture("live.jpg"));
    let video = read_facts(&fixture("live.mov"));
    assert_eq!(still.content_id.as_deref(), Some(uuid));
    assert_eq!(video.content_id.as_deref(), Some(uuid));
    assert_eq!(still.taken_at, video.taken_at);
    assert_eq!(still.make.as_deref(), Some("Apple"));
    assert_eq!(still.model.as_deref(), Some("iPhone 13"));
    assert_eq!(still.data_offset, Some(503));
    assert_data_offset_points_at_data(&fixture("live.jpg"), &still);
}

#[test]
fn quicktime_keys_give_time_place_camera_and_duration() {
    let path = fixture("live.mov");
    let f = read_facts(&path);
    assert_eq!(f.format, Some(Format::Mov));
    let t = f.taken_at.unwrap();
    assert_eq!(
        (t.local, t.offset_secs),
        (local("2023-06-01 12:34:56"), Some(7200))
    );
    assert_eq!((f.width, f.height), (Some(320), Some(240)));
    assert_eq!(f.duration_ms, Some(1000));
    assert_eq!(f.make.as_deref(), Some("Apple"));
    assert_eq!(f.model.as_deref(), Some("iPhone 13"));
    let gps = f.gps.unwrap();
    assert_eq!((gps.lat, gps.lon, gps.alt), (48.8584, 2.2945, Some(35.0)));
    assert_eq!(f.data_offset, Some(28));
    assert_data_offset_points_at_data(&path, &f);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn iphone_heic_facts() {
    let path = fixture("pug.heic");
    let f = read_facts(&path);
    assert_eq!(f.format, Some(Format::Heic));
    let t = f.taken_at.unwrap();
    assert_eq!(
        (t.local, t.offset_secs),
        (local("2023-02-21 14:33:08"), Some(3 * 3600))
    );
    assert_eq!(
        (f.width, f.height, f.orientation),
        (Some(4032), Some(3024), Some(1))
    );
    assert_eq!(f.make.as_deref(), Some("Apple"));
    assert_eq!(f.model.as_deref(), Some("iPhone 13 Pro"));
    let gps = f.gps.unwrap();
    assert!((gps.lat - 44.850_477_8).abs() < 1e-6 && (gps.lon - 34.976_647_2).abs() < 1e-6);
    assert_eq!(f.data_offset, Some(3934));
    assert_data_offset_points_at_data(&path, &f);
}

#[test]
fn heif_with_and_without_exif() {
    let f = read_facts(&fixture("L_exif_xmp_iptc.heic"));
    let t = f.taken_at.unwrap();
    assert_eq!(
        (t.local, t.offset_secs),
        (local("2020-09-14 11:09:34"), Some(-5 * 3600))
    );
    assert_eq!(
        (f.make.as_deref(), f.model.as_deref()),
        (Some("SONY"), Some("ILCE-7SM3"))
    );
    assert_eq!((f.width, f.height), (Some(64), Some(64)));
    let bare = read_facts(&fixture("RGB_8__128x128.heif"));
    assert_eq!(
        (bare.format, bare.width, bare.height),
        (Some(Format::Heic), Some(128), Some(128))
    );
    assert_eq!((bare.taken_at, bare.make), (None, None));
    assert!(bare.warnings.is_empty(), "{:?}", bare.warnings);
}

#[test]
fn truncated_fixtures_give_partial_facts_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "photo.jpg",
        "live.jpg",
        "live.mov",
        "L_exif_xmp_iptc.heic",
        "RGB_8__128x128.heif",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let cut = dir.path().join(name);
        for len in (0..bytes.len()).step_by((bytes.len() / 600).max(1)) {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            let f = read_facts(&cut);
            if len >= 64 {
                assert_eq!(f.format, Some(sniff(&bytes[..64])), "{name} cut at {len}");
            }
        }
    }
    // Cut just before the scan: metadata is all there, the missing scan is reported.
    let bytes = std::fs::read(fixture("photo.jpg")).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..694]).unwrap();
    let f = read_facts(&cut);
    assert_eq!(f.make.as_deref(), Some("Canon"));
    assert_eq!(f.data_offset, None);
    assert!(!f.warnings.is_empty());
    let missing = read_facts(&dir.path().join("absent.jpg"));
    assert_eq!(missing.format, None);
    assert_eq!(missing.warnings.len(), 1);
}
