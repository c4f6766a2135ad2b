//! Backup and restore of a real library through the in-memory and fault-injecting remotes:
//! round trip, incremental runs, resumption, retries and corruption drills.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::remote::{Fault, Faulty, Kind, Memory, Remote, RetryPolicy, Retrying};
use super::{Error, KdfParams, Repo, restore, snapshot, upload};
use crate::jobs::Progress;
use crate::library::{Incoming, Ingested, Library, Options, Origin};

fn cheap() -> KdfParams {
    KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

/// A JPEG header followed by `len` bytes of noise: a big photo that chunks into several.
fn noisy_jpeg(dir: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let mut bytes = std::fs::read(fixture("photo.jpg")).unwrap();
    bytes.truncate(bytes.len() - 2);
    bytes.extend(
        crate::store::tests_noise(len, seed)
            .into_iter()
            .map(|b| b.min(0xFE)),
    );
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn ingest(lib: &Library, file: &Path, origin: &str) -> crate::library::AssetId {
    let item = Incoming {
        file,
        origin: Origin::Import {
            path: origin.to_string(),
        },
        name: origin.rsplit('/').next().unwrap().to_string(),
        stamp: None,
        file_time: Some(1_600_000_000),
    };
    match lib.ingest(&item).unwrap() {
        Ingested::New(id) | Ingested::Paired(id) | Ingested::Duplicate(id) => id,
        other => panic!("{other:?}"),
    }
}

/// A library with photos, a Live Photo, a big file, an album and a trashed photo.
fn library(dir: &Path) -> Library {
    let lib = Library::open(&dir.join("data"), Options::default()).unwrap();
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let a = ingest(&lib, &fixture("photo.jpg"), "/card/photo.jpg");
    ingest(&lib, &fixture("live.jpg"), "/card/live.jpg");
    ingest(&lib, &fixture("live.mov"), "/card/live.mov");
    let big = ingest(
        &lib,
        &noisy_jpeg(&src, "big.jpg", 3_000_000, 1),
        "/card/big.jpg",
    );
    let trashed = ingest(&lib, &fixture("pug.heic"), "/card/pug.heic");
    let album = lib.create_album("Holidays").unwrap();
    lib.set_in_album(album.id, a, true).unwrap();
    lib.set_in_album(album.id, big, true).unwrap();
    lib.trash_asset(trashed, false).unwrap();
    lib
}

fn options() -> upload::Options {
    upload::Options {
        pack_target: 256 * 1024,
        parallel: 2,
        host: "test".into(),
    }
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn backup(remote: Arc<dyn Remote>, lib: &Library) -> super::Result<upload::Report> {
    let repo = Repo::open(remote, "pass")?;
    upload::run(&repo, lib, &options(), &Progress::new("backup"))
}

fn init(remote: Arc<dyn Remote>) {
    Repo::init(remote, "pass", cheap()).unwrap();
}

/// A library (see `library`) backed up once to a fresh in-memory remote.
fn backed_up_in_memory(dir: &Path) -> (Library, Arc<Memory>) {
    let lib = library(dir);
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    (lib, memory)
}

fn restore_into(remote: Arc<dyn Remote>, dir: &Path) -> super::Result<Library> {
    let repo = Repo::open(remote, "pass")?;
    let snap = snapshot::find(&repo, None)?;
    let lib = Library::open(dir, Options::default()).unwrap();
    restore::into_library(&repo, &snap, &lib, &Progress::new("restore"))?;
    Ok(lib)
}

#[test]
fn a_restored_library_equals_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    let report = backup(memory.clone(), &lib).unwrap();
    assert!(!report.unchanged);
    assert!(report.packs >= 2, "{report:?}");
    let back = restore_into(memory.clone(), &dir.path().join("restored")).unwrap();
    // The very chunks came back, so even the stored size is the same.
    assert_eq!(back.counts().unwrap(), lib.counts().unwrap());
    assert_eq!(back.albums().unwrap(), lib.albums().unwrap());
    let check = back.check(true).unwrap();
    assert!(check.is_clean(), "{check:?}");
    lib.export(&dir.path().join("a"), &Progress::new("x"))
        .unwrap();
    back.export(&dir.path().join("b"), &Progress::new("x"))
        .unwrap();
    let (a, b) = (tree(&dir.path().join("a")), tree(&dir.path().join("b")));
    assert_eq!(a.len(), 4, "{:?}", a.keys());
    assert_eq!(a, b);
    // No plaintext on the remote: the big photo's noise never appears in any object.
    let needle = &std::fs::read(dir.path().join("src/big.jpg")).unwrap()[100_000..100_064];
    for (path, bytes) in memory.dump() {
        assert!(
            !bytes.windows(64).any(|w| w == needle),
            "{path} holds plaintext"
        );
    }
}

#[test]
fn to_dir_writes_every_photo_in_dated_folders() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let repo = Repo::open(memory, "pass").unwrap();
    let snap = snapshot::find(&repo, None).unwrap();
    let out = dir.path().join("out");
    restore::to_dir(&repo, &snap, &out, &Progress::new("r")).unwrap();
    lib.export(&dir.path().join("a"), &Progress::new("x"))
        .unwrap();
    assert_eq!(tree(&out), tree(&dir.path().join("a")));
    assert!(!out.join(".shoebox-restore").exists());
}

#[test]
fn an_unchanged_library_uploads_nothing_and_a_new_photo_only_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    let first = backup(memory.clone(), &lib).unwrap();
    let objects = memory.dump().len();
    let again = backup(memory.clone(), &lib).unwrap();
    assert!(again.unchanged);
    assert_eq!((again.new_chunks, again.packs, again.uploaded), (0, 0, 0));
    assert_eq!(again.snapshot, first.snapshot);
    assert_eq!(
        memory.dump().len(),
        objects,
        "an unchanged run writes no object"
    );
    let src = dir.path().join("src");
    ingest(
        &lib,
        &noisy_jpeg(&src, "new.jpg", 1_500_000, 9),
        "/card/new.jpg",
    );
    let third = backup(memory.clone(), &lib).unwrap();
    assert!(!third.unchanged);
    // The new photo's chunks plus a changed catalog chunk or two, not the whole library.
    assert!(third.new_chunks <= 6, "{third:?}");
    assert!(third.uploaded < first.uploaded, "{third:?} vs {first:?}");
    // Both runs fall in the same second here: the list still has them in the order made.
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    let names: Vec<String> = snapshot::list(&repo)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, [first.snapshot, third.snapshot.clone()]);
    assert_eq!(snapshot::find(&repo, None).unwrap().name, third.snapshot);
}

#[test]
fn an_interrupted_backup_resumes_without_uploading_finished_packs_again() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    let dying = Arc::new(Faulty::new(memory.clone(), Fault::DieAfterPuts(2)));
    let err = backup(dying.clone(), &lib).unwrap_err();
    assert!(matches!(err, Error::Remote(_)), "{err}");
    let first_packs: Vec<String> = dying.put_log();
    assert!(!first_packs.is_empty());
    assert!(
        memory.list(Kind::Snapshot).unwrap().is_empty(),
        "no snapshot without its packs"
    );
    let counting = Arc::new(Faulty::new(memory.clone(), Fault::EveryNth(0)));
    let resumed = backup(counting.clone(), &lib).unwrap();
    assert!(resumed.adopted >= 1, "{resumed:?}");
    for path in counting.put_log() {
        assert!(!first_packs.contains(&path), "{path} uploaded twice");
    }
    restore_into(memory, &dir.path().join("restored")).unwrap();
}

#[test]
fn transient_failures_slow_a_backup_down_but_do_not_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    let policy = RetryPolicy {
        attempts: 6,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
    };
    let flaky: Arc<dyn Remote> = Arc::new(Retrying::new(
        Faulty::new(memory.clone(), Fault::EveryNth(3)),
        policy,
    ));
    backup(flaky.clone(), &lib).unwrap();
    restore_into(flaky, &dir.path().join("restored")).unwrap();
}

fn first(memory: &Memory, kind: Kind) -> String {
    let name = memory
        .list(kind)
        .unwrap()
        .into_iter()
        .max_by_key(|l| l.size)
        .unwrap()
        .name;
    kind.path(&name)
}

fn damage(memory: &Memory, path: &str, how: &str) {
    let mut bytes = memory
        .dump()
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap()
        .1;
    match how {
        "flip" => {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x10;
        }
        "truncate" => bytes.truncate(bytes.len() / 2),
        _ => {
            memory.set_raw(path, None);
            return;
        }
    }
    memory.set_raw(path, Some(bytes));
}

#[test]
fn damage_to_any_object_is_detected_and_named() {
    for kind in [Kind::Pack, Kind::Index, Kind::Snapshot] {
        for how in ["flip", "truncate", "delete"] {
            let dir = tempfile::tempdir().unwrap();
            let (_lib, memory) = backed_up_in_memory(dir.path());
            let path = first(&memory, kind);
            damage(&memory, &path, how);
            let result = restore_into(memory.clone(), &dir.path().join("restored"));
            match (kind, how) {
                // Without its index the packs are adopted from their tables of contents.
                (Kind::Index, "delete") => {
                    result.unwrap();
                }
                (Kind::Snapshot, "delete") => assert!(matches!(result, Err(Error::NoSnapshot))),
                _ => {
                    let err = result.err().expect("restore must fail").to_string();
                    assert!(err.contains(&path), "{kind} {how}: {err}");
                }
            }
        }
    }
}

#[test]
fn wrong_passphrase_and_missing_keys_are_clear_errors() {
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    let err = Repo::open(memory.clone(), "not it").err().unwrap();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    for l in memory.list(Kind::Key).unwrap() {
        let path = Kind::Key.path(&l.name);
        let mut bytes = memory.get(Kind::Key, &l.name).unwrap();
        let at = bytes.len() - 5;
        bytes[at] ^= 1;
        memory.set_raw(&path, Some(bytes));
    }
    assert!(matches!(
        Repo::open(memory.clone(), "pass"),
        Err(Error::WrongPassphrase { keys: 0 })
    ));
}

/// The committed repository of format version 1 (`tests/fixtures/backup-v1`), made once by
/// `make_backup_v1_fixture` and read by every later version of shoebox.
fn fixture_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backup-v1")
}

const FIXTURE_PASS: &str = "shoebox fixture passphrase";

/// Writes the fixture. Run once, by hand: `cargo test --lib make_backup_v1_fixture -- --ignored`.
#[test]
#[ignore = "writes the committed compatibility fixture"]
fn make_backup_v1_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(&dir.path().join("data"), Options::default()).unwrap();
    let a = ingest(&lib, &fixture("photo.jpg"), "/card/photo.jpg");
    ingest(&lib, &fixture("live.jpg"), "/card/live.jpg");
    ingest(&lib, &fixture("live.mov"), "/card/live.mov");
    let gone = ingest(
        &lib,
        &fixture("RGB_8__128x128.heif"),
        "/card/RGB_8__128x128.heif",
    );
    let album = lib.create_album("Holidays").unwrap();
    lib.set_in_album(album.id, a, true).unwrap();
    lib.trash_asset(gone, false).unwrap();
    let root = fixture_repo();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let url = super::remote::RemoteUrl::File { path: root };
    let remote: Arc<dyn Remote> = Arc::new(
        super::remote::Opendal::open(&url, &super::remote::Credentials::default()).unwrap(),
    );
    let (repo, _) = Repo::init(remote, FIXTURE_PASS, cheap()).unwrap();
    upload::run(&repo, &lib, &options(), &Progress::new("b")).unwrap();
}

#[test]
fn the_version_1_fixture_still_restores() {
    let url = super::remote::RemoteUrl::File {
        path: fixture_repo(),
    };
    let remote: Arc<dyn Remote> = Arc::new(
        super::remote::Opendal::open(&url, &super::remote::Credentials::default()).unwrap(),
    );
    let repo = Repo::open(remote, FIXTURE_PASS).unwrap();
    let snaps = snapshot::list(&repo).unwrap();
    assert_eq!(snaps.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(&dir.path().join("data"), Options::default()).unwrap();
    restore::into_library(&repo, &snaps[0], &lib, &Progress::new("r")).unwrap();
    let counts = lib.counts().unwrap();
    assert_eq!(
        (counts.assets, counts.trashed, counts.live_photos),
        (3, 1, 1)
    );
    let albums = lib.albums().unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!((albums[0].0.name.as_str(), albums[0].1), ("Holidays", 1));
    assert!(lib.check(true).unwrap().is_clean());
    let out = dir.path().join("out");
    lib.export(&out, &Progress::new("x")).unwrap();
    let mut got: Vec<Vec<u8>> = tree(&out).into_values().collect();
    let mut want: Vec<Vec<u8>> = ["photo.jpg", "live.jpg", "live.mov"]
        .iter()
        .map(|f| std::fs::read(fixture(f)).unwrap())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn check_finds_damage_that_a_structure_check_cannot_see_only_with_read_data() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    let clean = super::check::run(&repo, true).unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert!(clean.bytes_read > 4_000_000);
    let path = first(&memory, Kind::Pack);
    let mut bytes = memory
        .dump()
        .into_iter()
        .find(|(p, _)| *p == path)
        .unwrap()
        .1;
    bytes[100] ^= 1;
    memory.set_raw(&path, Some(bytes));
    assert!(super::check::run(&repo, false).unwrap().is_clean());
    let damaged = super::check::run(&repo, true).unwrap();
    assert_eq!(damaged.problems.len(), 1, "{damaged:?}");
    assert!(damaged.problems[0].contains(&path), "{damaged:?}");
    memory.set_raw(&path, None);
    let missing = super::check::run(&repo, false).unwrap();
    assert!(
        missing.problems.iter().any(|p| p.contains(&path)),
        "{missing:?}"
    );
}

mod bring;
mod reading;
mod resume;
mod upkeep;
