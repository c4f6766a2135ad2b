//! The library with real files: dedup across origins, Live Photo pairing, timeline paging,
//! trash, export, check.

use std::path::{Path, PathBuf};

use super::*;
use crate::jobs::Progress;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn item(file: &Path, origin: &str) -> Incoming<'static> {
    let file: &'static Path = Box::leak(file.to_path_buf().into_boxed_path());
    Incoming {
        file,
        origin: Origin::Import {
            path: origin.to_string(),
        },
        name: origin.rsplit('/').next().unwrap().to_string(),
        stamp: None,
        file_time: Some(1_600_000_000),
    }
}

fn open(dir: &Path) -> Library {
    Library::open(dir, Options::default()).unwrap()
}

/// A JPEG of `pixels` noise behind the header of `photo.jpg`, with one header byte changed
/// when `edit` is set: the same picture with edited metadata.
fn big_jpeg(dir: &Path, name: &str, edit: bool) -> PathBuf {
    let header_src = std::fs::read(fixture("photo.jpg")).unwrap();
    let sos = crate::media::read_facts(&fixture("photo.jpg"))
        .data_offset
        .unwrap() as usize;
    let mut header = header_src[..sos].to_vec();
    if edit {
        let at = header.windows(5).position(|w| w == b"Canon").unwrap();
        header[at] = b'K';
    }
    let mut bytes = header;
    bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    bytes.extend(
        crate::store::tests_noise(4_000_000, 77)
            .into_iter()
            .map(|b| b.min(0xFE)),
    );
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn same_bytes_from_two_origins_make_one_asset_with_two_origins() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let a = lib
        .ingest(&item(&fixture("photo.jpg"), "/card/DCIM/photo.jpg"))
        .unwrap();
    let b = lib
        .ingest(&item(&fixture("photo.jpg"), "/phone/photo-copy.jpg"))
        .unwrap();
    let again = lib
        .ingest(&item(&fixture("photo.jpg"), "/phone/photo-copy.jpg"))
        .unwrap();
    let Ingested::New(id) = a else {
        panic!("{a:?}")
    };
    assert_eq!(b, Ingested::Duplicate(id));
    assert_eq!(again, Ingested::Unchanged(id));
    let asset = lib.asset(id).unwrap().unwrap();
    assert_eq!(asset.origins.len(), 2);
    assert_eq!(asset.make.as_deref(), Some("Canon"));
    assert_eq!(asset.taken.offset, Some(-4 * 3600));
    let counts = lib.counts().unwrap();
    assert_eq!(
        (counts.assets, counts.photos, counts.ingested_files),
        (1, 1, 3)
    );
    assert!(lib.check(true).unwrap().is_clean());
}

#[test]
fn live_photo_halves_pair_in_either_order() {
    for order in [["live.jpg", "live.mov"], ["live.mov", "live.jpg"]] {
        let dir = tempfile::tempdir().unwrap();
        let lib = open(dir.path());
        let first = lib
            .ingest(&item(&fixture(order[0]), &format!("/x/{}", order[0])))
            .unwrap();
        let second = lib
            .ingest(&item(&fixture(order[1]), &format!("/x/{}", order[1])))
            .unwrap();
        let Ingested::New(id) = first else {
            panic!("{first:?}")
        };
        assert_eq!(second, Ingested::Paired(id));
        let asset = lib.asset(id).unwrap().unwrap();
        assert_eq!(asset.kind, AssetKind::LivePhoto);
        assert_eq!(asset.original.name, "live.jpg", "the still is the original");
        assert_eq!(asset.live_video.as_ref().unwrap().name, "live.mov");
        assert!(asset.duration_ms.is_some());
        let counts = lib.counts().unwrap();
        assert_eq!(
            (
                counts.assets,
                counts.live_photos,
                counts.photos,
                counts.videos
            ),
            (1, 1, 0, 0)
        );
        assert_eq!(lib.timeline(None, 10).unwrap().assets.len(), 1);
        let check = lib.check(false).unwrap();
        assert!(check.is_clean(), "{:?}", check.problems);
    }
}

#[test]
fn files_that_are_not_media_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "shopping list").unwrap();
    assert_eq!(
        lib.ingest(&item(&text, "/x/notes.txt")).unwrap(),
        Ingested::Skipped("not a photo or video".into())
    );
    assert_eq!(lib.counts().unwrap().assets, 0);
}

#[test]
fn timeline_pages_cover_everything_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    // 25 distinct files without metadata dates: ordered by file time
    for i in 0..25i64 {
        let p = dir.path().join(format!("n{i}.jpg"));
        let mut bytes = std::fs::read(fixture("photo.jpg")).unwrap();
        bytes.extend_from_slice(&i.to_le_bytes()); // distinct bytes, same metadata
        std::fs::write(&p, bytes).unwrap();
        let mut it = item(&p, &format!("/x/n{i}.jpg"));
        it.file_time = Some(i);
        lib.ingest(&it).unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = lib.timeline(cursor, 7).unwrap();
        seen.extend(page.assets.iter().map(|a| a.id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "no asset twice");
}

#[test]
fn trash_restore_purge_then_gc_frees_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        store: crate::store::Options {
            grace: std::time::Duration::ZERO,
            ..Default::default()
        },
        ..Options::default()
    };
    let lib = Library::open(dir.path(), options).unwrap();
    let big = big_jpeg(dir.path(), "big.jpg", false);
    let Ingested::New(id) = lib.ingest(&item(&big, "/x/big.jpg")).unwrap() else {
        panic!()
    };
    lib.trash_asset(id, true).unwrap();
    assert_eq!(lib.timeline(None, 10).unwrap().assets.len(), 0);
    assert_eq!(lib.trash(10).unwrap().len(), 1);
    lib.restore_asset(id).unwrap();
    assert_eq!(lib.timeline(None, 10).unwrap().assets.len(), 1);
    lib.trash_asset(id, false).unwrap();
    assert_eq!(
        lib.purge_trash(Some(30), false).unwrap(),
        0,
        "within the retention period"
    );
    assert_eq!(lib.purge_trash(Some(30), true).unwrap(), 1);
    let gc = lib.gc().unwrap();
    assert_eq!(gc.blobs_freed, 1);
    assert_eq!(lib.counts().unwrap().assets, 0);
    assert_eq!(lib.store().stats().unwrap().chunk_bytes, 0);
    assert!(lib.check(true).unwrap().is_clean());
    // the same file can come back
    assert!(matches!(
        lib.ingest(&item(&big, "/x/big.jpg")).unwrap(),
        Ingested::New(_)
    ));
}

#[test]
fn metadata_edited_copy_shares_its_pixel_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let original = big_jpeg(dir.path(), "a.jpg", false);
    let edited = big_jpeg(dir.path(), "b.jpg", true);
    lib.ingest(&item(&original, "/x/a.jpg")).unwrap();
    let before = lib.store().stats().unwrap().stored_bytes;
    assert!(matches!(
        lib.ingest(&item(&edited, "/x/b.jpg")).unwrap(),
        Ingested::New(_)
    ));
    let added = lib.store().stats().unwrap().stored_bytes - before;
    assert!(
        added < 10_000,
        "an edited header should cost a header chunk, cost {added}"
    );
}

#[test]
fn export_writes_dated_folders_byte_identical_with_pairs_and_clashes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(&dir.path().join("lib"));
    lib.ingest(&item(&fixture("photo.jpg"), "/a/photo.jpg"))
        .unwrap();
    lib.ingest(&item(&fixture("live.jpg"), "/a/live.jpg"))
        .unwrap();
    lib.ingest(&item(&fixture("live.mov"), "/a/live.mov"))
        .unwrap();
    // a different file with the same name and date: must not overwrite
    let clash = dir.path().join("photo.jpg");
    let mut bytes = std::fs::read(fixture("photo.jpg")).unwrap();
    bytes.push(0);
    std::fs::write(&clash, &bytes).unwrap();
    lib.ingest(&item(&clash, "/b/photo.jpg")).unwrap();
    let out = dir.path().join("out");
    let report = lib.export(&out, &Progress::new("export")).unwrap();
    assert_eq!((report.assets, report.written, report.renamed), (3, 4, 1));
    let day = out.join("2021/07/14");
    assert_eq!(
        std::fs::read(day.join("photo.jpg")).unwrap(),
        std::fs::read(fixture("photo.jpg")).unwrap()
    );
    assert_eq!(std::fs::read(day.join("photo (2).jpg")).unwrap(), bytes);
    let live = out.join("2023/06/01");
    assert_eq!(
        std::fs::read(live.join("live.jpg")).unwrap(),
        std::fs::read(fixture("live.jpg")).unwrap()
    );
    assert_eq!(
        std::fs::read(live.join("live.mov")).unwrap(),
        std::fs::read(fixture("live.mov")).unwrap()
    );
    let again = lib.export(&out, &Progress::new("export")).unwrap();
    assert_eq!((again.written, again.unchanged), (0, 4));
}

#[test]
fn check_names_the_asset_behind_a_corrupt_pack_byte() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let big = big_jpeg(dir.path(), "big.jpg", false);
    lib.ingest(&item(&big, "/x/big.jpg")).unwrap();
    lib.ingest(&item(&fixture("photo.jpg"), "/x/photo.jpg"))
        .unwrap();
    drop(lib);
    let pack = std::fs::read_dir(dir.path().join("packs/01"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    std::fs::write(&pack, bytes).unwrap();
    let lib = open(dir.path());
    let report = lib.check(true).unwrap();
    assert!(!report.is_clean());
    assert_eq!(
        report.damaged_assets.len(),
        1,
        "{:?}",
        report.damaged_assets
    );
    assert_eq!(report.damaged_assets[0].1, "big.jpg");
}

#[test]
fn rebuilt_index_keeps_every_asset_readable() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    lib.ingest(&item(&big_jpeg(dir.path(), "big.jpg", false), "/x/big.jpg"))
        .unwrap();
    lib.ingest(&item(&fixture("pug.heic"), "/x/pug.heic"))
        .unwrap();
    let before = lib.counts().unwrap();
    lib.rebuild_store_index().unwrap();
    assert_eq!(lib.counts().unwrap(), before);
    let check = lib.check(true).unwrap();
    assert!(
        check.is_clean(),
        "{:?} {:?}",
        check.problems,
        check.store.damage
    );
}

mod views;
