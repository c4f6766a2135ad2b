//! Looking inside a snapshot and restoring one photo or album from it into the running
//! library, through the in-memory remote.

use std::io::Read;

use super::backed_up_in_memory;
use crate::backup::remote::Remote;
use crate::backup::{Error, Repo, bring, browse, snapshot};
use crate::jobs::Progress;
use crate::library::{AssetId, Library, Presence};

/// A library (see `library`), backed up once; returns it, the repo and the snapshot.
fn backed_up(dir: &std::path::Path) -> (Library, Repo, crate::backup::Snapshot) {
    let (lib, memory) = backed_up_in_memory(dir);
    let repo = Repo::open(memory, "pass").unwrap();
    let snap = snapshot::find(&repo, None).unwrap();
    (lib, repo, snap)
}

fn bytes_of(lib: &Library, part: &crate::library::Part) -> Vec<u8> {
    let mut out = Vec::new();
    lib.open_file(part).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn id_named(lib: &Library, name: &str) -> AssetId {
    let mut found = None;
    lib.for_each_asset(|a| {
        if a.original.name == name {
            found = Some(a.id);
        }
        Ok(())
    })
    .unwrap();
    found.unwrap()
}

#[test]
fn contents_lists_the_albums_and_pages_through_the_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (_lib, repo, snap) = backed_up(dir.path());
    let first = browse::contents(&repo, &snap, None, 3).unwrap();
    assert_eq!(first.total, 4, "photo, Live Photo, big photo, trashed HEIC");
    let ids: Vec<u64> = first.photos.iter().map(|a| a.id.0).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(first.next, Some(AssetId(3)));
    let names: Vec<(&str, u64)> = first
        .albums
        .iter()
        .map(|(a, n)| (a.name.as_str(), *n))
        .collect();
    assert_eq!(names, [("Holidays", 2)]);
    let second = browse::contents(&repo, &snap, first.next, 3).unwrap();
    let ids: Vec<u64> = second.photos.iter().map(|a| a.id.0).collect();
    assert_eq!((ids, second.next), (vec![4], None));
    assert_eq!(second.photos[0].original.name, "pug.heic");
}

#[test]
fn a_photo_deleted_for_good_comes_back_byte_identical_and_the_library_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, repo, snap) = backed_up(dir.path());
    let live = id_named(&lib, "live.jpg");
    let before = lib.asset(live).unwrap().unwrap();
    let (still, clip) = (
        bytes_of(&lib, &before.original),
        bytes_of(&lib, before.live_video.as_ref().unwrap()),
    );
    // The HEIC trashed before the backup goes for good with the purge and stays gone.
    let pug = lib.asset(id_named(&lib, "pug.heic")).unwrap().unwrap();
    let mut counts = lib.counts().unwrap();
    (counts.assets, counts.photos, counts.trashed) = (3, 2, 0);
    counts.bytes -= pug.size();
    lib.trash_asset(live, false).unwrap();
    lib.purge_trash(None, true).unwrap();
    lib.gc().unwrap();
    assert!(lib.asset(live).unwrap().is_none());
    assert_eq!(lib.presence(&[&before]).unwrap(), [Presence::Missing]);

    let (here, brought) = bring::asset(&repo, &snap, &lib, live, &Progress::new("r")).unwrap();
    assert_eq!(here, live, "the old id was free, so it is kept");
    assert_eq!((brought.restored, brought.files), (1, 2), "{brought:?}");
    let back = lib.asset(here).unwrap().unwrap();
    assert_eq!(bytes_of(&lib, &back.original), still);
    assert_eq!(bytes_of(&lib, back.live_video.as_ref().unwrap()), clip);
    assert_eq!(back.origins, before.origins);
    let mut now = lib.counts().unwrap();
    now.stored_bytes = counts.stored_bytes;
    assert_eq!(now, counts);
    let check = lib.check(true).unwrap();
    assert!(check.is_clean(), "{check:?}");
    // The origin is known again: importing the same file is a duplicate, not a new photo.
    assert_eq!(
        lib.origin(&before.origins[0]).unwrap().map(|(id, _)| id),
        Some(here)
    );
    // A second restore finds it there and fetches nothing.
    let (again, brought) = bring::asset(&repo, &snap, &lib, live, &Progress::new("r")).unwrap();
    assert_eq!((again, brought.present, brought.files), (here, 1, 0));
}

#[test]
fn a_photo_in_the_trash_is_taken_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, repo, snap) = backed_up(dir.path());
    let id = id_named(&lib, "photo.jpg");
    lib.trash_asset(id, false).unwrap();
    let (here, brought) = bring::asset(&repo, &snap, &lib, id, &Progress::new("r")).unwrap();
    assert_eq!((here, brought.present, brought.files), (id, 1, 0));
    let a = lib.asset(id).unwrap().unwrap();
    assert_eq!(a.state, crate::library::State::Active);
    assert!(lib.check(false).unwrap().is_clean());
}

#[test]
fn a_deleted_album_comes_back_with_its_photos_even_those_deleted_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, repo, snap) = backed_up(dir.path());
    let albums = lib.albums().unwrap();
    let (album, _) = &albums[0];
    let (_, members) = lib.album(album.id).unwrap();
    let big = id_named(&lib, "big.jpg");
    let big_bytes = bytes_of(&lib, &lib.asset(big).unwrap().unwrap().original);
    lib.delete_album(album.id).unwrap();
    lib.trash_asset(big, false).unwrap();
    lib.purge_trash(None, true).unwrap();
    lib.gc().unwrap();

    let found = bring::find_album(&repo, &snap, album.id).unwrap();
    let (id, brought) = bring::album(&repo, &snap, &lib, found, &Progress::new("r")).unwrap();
    assert_eq!((brought.restored, brought.present), (1, 1), "{brought:?}");
    assert_eq!(
        lib.albums().unwrap(),
        albums,
        "same name, id, creation and count"
    );
    let (_, back) = lib.album(id).unwrap();
    let ids = |v: &[crate::library::Asset]| v.iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(&back), ids(&members), "same photos in the same order");
    let restored = lib.asset(big).unwrap().unwrap();
    assert_eq!(bytes_of(&lib, &restored.original), big_bytes);
    assert_eq!(lib.albums_like(&[album]).unwrap(), [Some(id)]);
    let check = lib.check(true).unwrap();
    assert!(check.is_clean(), "{check:?}");
}

#[test]
fn an_id_the_snapshot_lacks_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, repo, snap) = backed_up(dir.path());
    let e = bring::asset(&repo, &snap, &lib, AssetId(99), &Progress::new("r")).unwrap_err();
    assert!(
        matches!(&e, Error::NotInSnapshot(w) if w == "photo 99"),
        "{e}"
    );
    let e = bring::find_album(&repo, &snap, 42).unwrap_err();
    assert!(
        matches!(&e, Error::NotInSnapshot(w) if w == "album 42"),
        "{e}"
    );
}

#[test]
fn an_original_reads_back_whole_from_the_remote() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, repo, snap) = backed_up(dir.path());
    let big = id_named(&lib, "big.jpg");
    let want = bytes_of(&lib, &lib.asset(big).unwrap().unwrap().original);
    let (mut got, mut size) = (Vec::new(), 0);
    browse::read_original(
        &repo,
        &snap,
        big,
        |p| {
            size = p.size;
            true
        },
        |b| {
            got.extend_from_slice(b);
            true
        },
    )
    .unwrap();
    assert_eq!((got.len() as u64, got == want), (size, true));
}

#[test]
fn a_damaged_remote_stops_a_restore_by_name_and_leaves_the_library_as_it_was() {
    for how in ["flip", "truncate", "delete"] {
        let dir = tempfile::tempdir().unwrap();
        let (lib, memory) = backed_up_in_memory(dir.path());
        let big = id_named(&lib, "big.jpg");
        let want = bytes_of(&lib, &lib.asset(big).unwrap().unwrap().original);
        lib.trash_asset(big, false).unwrap();
        lib.purge_trash(None, true).unwrap();
        lib.gc().unwrap();
        let counts = lib.counts().unwrap();
        // Every pack is damaged: which pack holds which chunk depends on the upload workers.
        let kind = crate::backup::remote::Kind::Pack;
        let packs: Vec<String> = memory
            .list(kind)
            .unwrap()
            .into_iter()
            .map(|l| kind.path(&l.name))
            .collect();
        for path in &packs {
            super::damage(&memory, path, how);
        }
        let named = |e: &Error| packs.iter().any(|p| e.to_string().contains(p.as_str()));
        let repo = Repo::open(memory.clone(), "pass").unwrap();
        let snap = snapshot::find(&repo, None).unwrap();

        let e = bring::asset(&repo, &snap, &lib, big, &Progress::new("r")).unwrap_err();
        assert!(named(&e), "{how}: {e}");
        assert!(lib.asset(big).unwrap().is_none(), "{how}");
        assert_eq!(lib.counts().unwrap(), counts, "{how}");
        let check = lib.check(true).unwrap();
        assert!(check.is_clean(), "{how}: {check:?}");

        // A download gets the checked chunks before the damaged one, then the error (the
        // server cuts the transfer): never a wrong byte.
        let mut sent = Vec::new();
        let e = browse::read_original(
            &repo,
            &snap,
            big,
            |_| true,
            |b| {
                sent.extend_from_slice(b);
                true
            },
        )
        .unwrap_err();
        assert!(named(&e), "{how}: {e}");
        assert!(sent.len() < want.len() && want.starts_with(&sent), "{how}");
    }
}
