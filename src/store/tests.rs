//! Behaviour of the store as a whole: dedup, durability, GC, check, rebuild.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use redb::Database;

use super::*;

fn noise(len: usize, seed: u64) -> Vec<u8> {
    super::chunker::tests::noise(len, seed)
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

fn fixture(options: Options) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::create(dir.path().join("catalog.redb")).unwrap());
    let store = Store::open(db, dir.path(), options).unwrap();
    Fixture { dir, store }
}

impl Fixture {
    fn put(&self, bytes: &[u8], cuts: &[u64], compressible: bool) -> Put {
        let txn = self.store.db().begin_write().unwrap();
        let put = self.store.put(&txn, bytes, cuts, compressible).unwrap();
        self.store.retain(&txn, put.blob).unwrap();
        self.store.prepare_commit(&txn).unwrap();
        txn.commit().unwrap();
        put
    }

    fn get(&self, blob: BlobId) -> Vec<u8> {
        let mut out = Vec::new();
        self.store
            .reader(blob)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn release(&self, blob: BlobId) {
        let txn = self.store.db().begin_write().unwrap();
        self.store.release(&txn, blob).unwrap();
        txn.commit().unwrap();
    }
}

fn no_grace() -> Options {
    Options {
        grace: Duration::ZERO,
        ..Options::default()
    }
}

#[test]
fn put_then_read_back_identical_bytes() {
    let f = fixture(Options::default());
    let photo = noise(5_000_000, 1);
    let text: Vec<u8> = (0..3_000_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let a = f.put(&photo, &[], false);
    let b = f.put(&text, &[], true);
    assert_eq!(f.get(a.blob), photo);
    assert_eq!(f.get(b.blob), text);
    assert!(
        b.stored_bytes < text.len() as u64 / 2,
        "text should compress"
    );
    assert!(
        a.stored_bytes >= photo.len() as u64,
        "noise is stored as is"
    );
    assert!(f.store.check(true).unwrap().is_clean());
}

#[test]
fn same_bytes_twice_are_stored_once() {
    let f = fixture(Options::default());
    let photo = noise(3_000_000, 2);
    let first = f.put(&photo, &[], false);
    let second = f.put(&photo, &[], false);
    assert!(first.new_blob);
    assert!(!second.new_blob);
    assert_eq!(second.stored_bytes, 0);
    let stats = f.store.stats().unwrap();
    assert_eq!((stats.blobs, stats.blob_bytes), (1, 3_000_000));
}

#[test]
fn metadata_edit_shares_pixel_chunks_when_cut_at_the_data_offset() {
    let f = fixture(Options::default());
    let pixels = noise(6_000_000, 3);
    let original: Vec<u8> = [b"EXIF date 2020".as_slice(), &pixels].concat();
    let edited: Vec<u8> = [vec![7u8; 40_000].as_slice(), &pixels].concat();
    f.put(&original, &[14], false);
    let second = f.put(&edited, &[40_000], false);
    // only the new header chunk and the manifest were written
    assert!(
        second.stored_bytes < 50_000,
        "stored {}",
        second.stored_bytes
    );
    assert_eq!(f.get(second.blob), edited);
}

#[test]
fn aborted_transaction_leaves_nothing_visible_and_check_clean() {
    let f = fixture(Options::default());
    let kept = f.put(&noise(1_000_000, 4), &[], false);
    {
        let txn = f.store.db().begin_write().unwrap();
        f.store
            .put(&txn, noise(2_000_000, 5).as_slice(), &[], false)
            .unwrap();
        // dropped without commit, as a crash would
    }
    f.store.discard_uncommitted();
    let report = f.store.check(true).unwrap();
    assert!(report.is_clean(), "{:?}", report.damage);
    assert_eq!(f.store.stats().unwrap().blobs, 1);
    let again = f.put(&noise(2_000_000, 5), &[], false);
    assert!(again.new_blob);
    assert_eq!(f.get(kept.blob), noise(1_000_000, 4));
    assert!(f.store.check(true).unwrap().is_clean());
}

#[test]
fn gc_keeps_blob_within_grace_period() {
    let f = fixture(Options::default());
    let p = f.put(&noise(600_000, 6), &[], false);
    f.release(p.blob);
    let report = f.store.gc().unwrap();
    assert_eq!((report.blobs_freed, report.blobs_in_grace), (0, 1));
    assert_eq!(f.get(p.blob), noise(600_000, 6));
}

#[test]
fn gc_frees_unreferenced_blobs_and_rewrites_sparse_packs() {
    let f = fixture(Options {
        pack_target: 3_000_000,
        ..no_grace()
    });
    let files: Vec<Vec<u8>> = (0..8).map(|i| noise(1_000_000, 100 + i)).collect();
    let puts: Vec<Put> = files.iter().map(|b| f.put(b, &[], false)).collect();
    for p in puts.iter().skip(1).step_by(2).chain(puts.iter().take(1)) {
        f.release(p.blob);
    }
    let before = f.store.stats().unwrap();
    let report = f.store.gc().unwrap();
    assert_eq!(report.blobs_freed, 5);
    assert!(report.packs_rewritten >= 1, "{report:?}");
    assert!(report.pack_files_deleted >= 1, "{report:?}");
    assert!(f.store.stats().unwrap().stored_bytes < before.stored_bytes);
    for i in [2, 4, 6] {
        assert_eq!(f.get(puts[i].blob), files[i]);
    }
    assert!(matches!(
        f.store.reader(puts[1].blob),
        Err(Error::BlobMissing(_))
    ));
    let check = f.store.check(true).unwrap();
    assert!(check.is_clean(), "{:?}", check.damage);
    assert!(check.leftovers.is_empty(), "{:?}", check.leftovers);
}

#[test]
fn read_data_check_names_the_blob_behind_a_flipped_byte() {
    let f = fixture(Options::default());
    let victim = f.put(&noise(700_000, 7), &[], false);
    let healthy = f.put(&noise(900_000, 8), &[], false);
    assert!(f.store.check(false).unwrap().is_clean());
    let path = pack::pack_path(&f.dir.path().join("packs"), PackId(1));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[32 + 52 + 1000] ^= 0xff; // inside the first chunk's bytes
    std::fs::write(&path, bytes).unwrap();
    assert!(
        f.store.check(false).unwrap().is_clean(),
        "structure is intact"
    );
    let report = f.store.check(true).unwrap();
    assert_eq!(report.damage.len(), 1, "{:?}", report.damage);
    assert_eq!(report.damage[0].blobs(), &[victim.blob]);
    assert_eq!(f.get(healthy.blob), noise(900_000, 8));
    let mut sink = Vec::new();
    assert!(
        f.store
            .reader(victim.blob)
            .unwrap()
            .read_to_end(&mut sink)
            .is_err()
    );
}

#[test]
fn index_rebuilt_from_packs_alone_reads_everything_back() {
    let f = fixture(Options {
        pack_target: 2_000_000,
        ..Options::default()
    });
    let files: Vec<Vec<u8>> = (0..5)
        .map(|i| noise(900_000 + i * 1000, 200 + i as u64))
        .collect();
    let puts: Vec<Put> = files.iter().map(|b| f.put(b, &[], false)).collect();
    let before = f.store.stats().unwrap();
    let txn = f.store.db().begin_write().unwrap();
    let report = f.store.rebuild_index(&txn).unwrap();
    for p in &puts {
        f.store.retain(&txn, p.blob).unwrap();
    }
    txn.commit().unwrap();
    assert_eq!(report.blobs, 5);
    assert!(report.damaged_packs.is_empty());
    assert_eq!(f.store.stats().unwrap(), before);
    for (p, bytes) in puts.iter().zip(&files) {
        assert_eq!(&f.get(p.blob), bytes);
    }
    assert!(f.store.check(true).unwrap().is_clean());
    // and the store keeps working afterwards
    let more = f.put(&noise(300_000, 999), &[], false);
    assert_eq!(f.get(more.blob), noise(300_000, 999));
}

#[test]
fn random_operations_match_a_model() {
    // A model-based run: random put/release/gc against a map of what must be readable.
    let f = fixture(Options {
        pack_target: 1_500_000,
        ..no_grace()
    });
    let mut model: std::collections::HashMap<BlobId, (Vec<u8>, u32)> =
        std::collections::HashMap::default();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..60 {
        match next() % 4 {
            0 | 1 => {
                let seed = next() % 12; // small seed space makes duplicates common
                let bytes = noise(100_000 + (seed as usize) * 37_000, seed);
                let p = f.put(&bytes, &[(seed * 1000) % 90_000], seed % 2 == 0);
                model.entry(p.blob).or_insert((bytes, 0)).1 += 1;
            }
            2 => {
                let live: Vec<BlobId> = model
                    .iter()
                    .filter(|(_, v)| v.1 > 0)
                    .map(|(k, _)| *k)
                    .collect();
                if let Some(b) = live.get((next() as usize) % live.len().max(1)) {
                    f.release(*b);
                    model.get_mut(b).unwrap().1 -= 1;
                }
            }
            _ => {
                f.store.gc().unwrap();
                model.retain(|_, v| v.1 > 0);
            }
        }
        for (blob, (bytes, refs)) in &model {
            if *refs > 0 {
                assert_eq!(&f.get(*blob), bytes);
            }
        }
    }
    let report = f.store.check(true).unwrap();
    assert!(report.is_clean(), "{:?}", report.damage);
}
