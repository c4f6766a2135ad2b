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
