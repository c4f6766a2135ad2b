//! Gain of format-aware cut points: stores every file of a corpus twice, once cutting only
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)] // a benchmark: a panic is a failed run
//! where FastCDC says and once also where metadata ends and image data begins, and compares
//! the bytes each store keeps. `cargo bench --bench cutpoints -- CORPUS_DIR`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::Database;
use shoebox::media;
use shoebox::store::{Options, Store};

fn files(root: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn store(dir: &Path) -> Store {
    std::fs::create_dir_all(dir).unwrap();
    let db = Database::create(dir.join("catalog.redb")).unwrap();
    Store::open(Arc::new(db), dir, Options::default()).unwrap()
}

fn main() {
    let root = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or_else(|| PathBuf::from("/work/bench-corpus"), PathBuf::from);
    let mut all = Vec::new();
    files(&root, &mut all);
    let tmp = tempfile::tempdir_in("target").unwrap();
    let (plain_dir, aware_dir) = (tmp.path().join("plain"), tmp.path().join("aware"));
    let (plain, aware) = (store(&plain_dir), store(&aware_dir));
    let (mut source, mut with_offset) = (0u64, 0u64);
    for path in &all {
        let facts = media::read_facts(path);
        let compressible = !facts.format.is_some_and(media::Format::is_compressed);
        let cuts: Vec<u64> = facts.data_offset.into_iter().collect();
        with_offset += u64::from(!cuts.is_empty());
        for (s, cuts) in [(&plain, &[][..]), (&aware, &cuts[..])] {
            let txn = s.db().begin_write().unwrap();
            let put = s
                .put(&txn, std::fs::File::open(path).unwrap(), cuts, compressible)
                .unwrap();
            s.retain(&txn, put.blob).unwrap();
            s.prepare_commit(&txn).unwrap();
            txn.commit().unwrap();
        }
        source += std::fs::metadata(path).unwrap().len();
    }
    let (p, a) = (
        plain.stats().unwrap().stored_bytes,
        aware.stats().unwrap().stored_bytes,
    );
    println!(
        "corpus: {} ({} files, {with_offset} with a metadata/data boundary), {source} bytes",
        root.display(),
        all.len()
    );
    println!(
        "stored, FastCDC only:          {p} bytes ({:.4} of source)",
        p as f64 / source as f64
    );
    println!(
        "stored, with format-aware cuts: {a} bytes ({:.4} of source)",
        a as f64 / source as f64
    );
    println!(
        "gain: {} bytes ({:.2}% less)",
        p.saturating_sub(a),
        100.0 * (p as f64 - a as f64) / p as f64
    );
}
