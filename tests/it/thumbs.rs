//! Thumbnails through the real binary: every decodable fixture gets both sizes, upright and
//! no bigger than asked; what cannot be decoded gets a labelled placeholder and a reason; a
//! second run makes nothing new; the web app serves them.

use crate::harness::{fixture, jpeg, shoebox, stdout};

#[test]
fn thumbnails_for_every_fixture_then_nothing_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for f in [
        "photo.jpg",
        "pug.heic",
        "L_exif_xmp_iptc.heic",
        "RGB_8__128x128.heif",
        "live.jpg",
        "live.mov",
    ] {
        std::fs::copy(fixture(f), src.join(f)).unwrap();
    }
    let mut broken = jpeg(200_000, 3);
    broken.truncate(300); // inside the EXIF block: no picture at all
    std::fs::write(src.join("broken.jpg"), broken).unwrap();
    let data = tmp.path().join("data");
    assert!(
        shoebox(&data, &["import", src.to_str().unwrap()])
            .status
            .success()
    );
    let out = shoebox(&data, &["thumbnails"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    // photo, pug, L_exif, RGB_8, the Live Photo's still: decoded; broken.jpg: a placeholder
    assert!(
        text.contains("thumbnails: 5 made, 0 already there, 1 placeholders, 0 failed"),
        "{text}"
    );
    assert!(text.contains("broken.jpg"), "{text}");
    let mut checked = 0;
    for entry in walk(&data.join("derived")) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if entry.extension().is_none_or(|e| e != "jpg") {
            continue;
        }
        let img = image::open(&entry).unwrap();
        let (w, h) = (img.width(), img.height());
        if name.ends_with(".grid.jpg") {
            assert!(w.min(h) <= 360 && w.max(h) <= 2048, "{name}: {w}x{h}");
        } else {
            assert!(w.max(h) <= 2048, "{name}: {w}x{h}");
        }
        checked += 1;
    }
    assert_eq!(checked, 12, "two sizes for each of the six assets");
    // photo.jpg is 64x48 with EXIF orientation 6 (rotate 90°): upright it is portrait
    let again = stdout(&shoebox(&data, &["thumbnails"]));
    assert!(again.contains("0 made, 6 already there"), "{again}");
    let rebuilt = stdout(&shoebox(&data, &["thumbnails", "--rebuild"]));
    assert!(
        rebuilt.contains("5 made, 0 already there, 1 placeholders"),
        "{rebuilt}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A photo purged from the trash loses its thumbnails and, after `gc`, its bytes; the rest keep
/// theirs and the library stays clean.
#[tokio::test]
async fn purged_photos_lose_their_thumbnails_and_bytes_on_gc() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big.jpg"), jpeg(2_000_000, 41)).unwrap();
    std::fs::copy(fixture("photo.jpg"), src.join("photo.jpg")).unwrap();
    assert!(
        shoebox(&data, &["import", src.to_str().unwrap()])
            .status
            .success()
    );
    assert!(shoebox(&data, &["thumbnails"]).status.success());
    let thumbnails = || {
        walk(&data.join("derived"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .count()
    };
    assert_eq!(thumbnails(), 4, "two sizes of two photos");
    {
        let services = shoebox::app::services(&data).unwrap();
        let big = services
            .library
            .timeline(None, 10)
            .unwrap()
            .assets
            .into_iter()
            .find(|a| a.original.name == "big.jpg")
            .unwrap();
        services.library.trash_asset(big.id, false).unwrap();
        services.library.purge_trash(None, true).unwrap();
    }
    let stored = || {
        stdout(&shoebox(&data, &["stats"]))
            .lines()
            .find(|l| l.starts_with("stored on disk:"))
            .unwrap()
            .to_string()
    };
    assert!(stored().contains("MiB"), "before gc: {}", stored());
    let out = shoebox(&data, &["gc", "--grace", "0"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 thumbnail file(s) deleted"), "{text}");
    assert_eq!(thumbnails(), 2, "photo.jpg keeps both sizes");
    assert!(
        stored().contains("KiB"),
        "the big file's bytes are gone: {}",
        stored()
    );
    let check = shoebox(&data, &["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
}
