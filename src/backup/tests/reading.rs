//! Reading back fast: the prefetching reader under tight limits, and what a restored box's
//! next backup costs.

use super::*;
use crate::backup::index::RemoteIndex;
use crate::backup::prefetch::{self, Item};

/// Every file of the snapshot, read through `options`, as (blob, bytes) in stream order.
fn read_all(
    repo: &Repo,
    options: &prefetch::Options,
) -> super::super::Result<Vec<([u8; 32], Vec<u8>)>> {
    let snap = snapshot::find(repo, None)?;
    let index = RemoteIndex::load(repo)?;
    prefetch::read(repo, &index, &snap, options, |files| {
        let mut out = Vec::new();
        while let Some(item) = files.next()? {
            if let Item::File { blob, chunks, .. } = item {
                let mut bytes = Vec::new();
                for _ in 0..chunks {
                    bytes.extend_from_slice(files.chunk()?.1.plain());
                }
                out.push((blob, bytes));
            }
        }
        Ok(out)
    })
}

#[test]
fn files_come_back_whole_and_in_order_however_tight_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let src = dir.path().join("src");
    for i in 0..20u64 {
        let name = format!("extra{i}.jpg");
        let file = noisy_jpeg(&src, &name, 40_000 + 7_000 * i as usize, 100 + i);
        ingest(&lib, &file, &format!("/card/{name}"));
    }
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    let roomy = read_all(&repo, &prefetch::Options::default()).unwrap();
    assert_eq!(roomy.len(), 25);
    for (blob, bytes) in &roomy {
        assert_eq!(blake3::hash(bytes).as_bytes(), blob);
    }
    // One chunk per read, one read at a time; and a window that cuts between chunks.
    for (parallel, window, reads_held) in [(1, 1, 1), (3, 100_000, 1), (2, 300_000, 2)] {
        let tight = prefetch::Options {
            parallel,
            window,
            reads_held,
        };
        assert_eq!(read_all(&repo, &tight).unwrap(), roomy, "{tight:?}");
    }
}

#[test]
fn a_damaged_pack_stops_the_reader_with_its_name_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let path = first(&memory, Kind::Pack);
    damage(&memory, &path, "flip");
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    let tight = prefetch::Options {
        parallel: 2,
        window: 1,
        reads_held: 2,
    };
    let err = read_all(&repo, &tight).unwrap_err().to_string();
    assert!(err.contains(&path), "{err}");
    // The caller giving up half way ends the planner and workers too.
    let snap = snapshot::find(&repo, None).unwrap();
    let index = RemoteIndex::load(&repo).unwrap();
    let stopped: super::super::Result<()> =
        prefetch::read(&repo, &index, &snap, &tight, |_| Err(Error::Cancelled));
    assert!(matches!(stopped, Err(Error::Cancelled)));
}

#[test]
fn a_restored_box_backs_up_into_the_same_repository_without_uploading_photos_again() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let back = restore_into(memory.clone(), &dir.path().join("restored")).unwrap();
    let again = backup(memory.clone(), &back).unwrap();
    assert_eq!(again.new_chunks, 0, "{again:?}");
    assert_eq!(again.packs, 0, "{again:?}");
}

#[test]
fn a_restore_to_a_folder_run_again_fetches_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    let snap = snapshot::find(&repo, None).unwrap();
    let out = dir.path().join("out");
    let first = restore::to_dir(&repo, &snap, &out, &Progress::new("r")).unwrap();
    assert_eq!(first.files, 4, "{first:?}");
    let before = tree(&out);
    // One photo lost from the folder: only it comes back, the others are found unchanged.
    let (lost, _) = before.iter().find(|(p, _)| p.ends_with("big.jpg")).unwrap();
    std::fs::remove_file(out.join(lost)).unwrap();
    let again = restore::to_dir(&repo, &snap, &out, &Progress::new("r")).unwrap();
    assert_eq!(again.files, 1, "{again:?}");
    assert_eq!(again.export.as_ref().unwrap().unchanged, 3, "{again:?}");
    assert_eq!(tree(&out), before);
    assert!(
        !before.keys().any(|p| p.contains("shoebox")),
        "{:?}",
        before.keys()
    );
}
