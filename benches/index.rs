//! The chunk index at scale: fill a store with N chunks (default 1 000 000) through the real
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)] // a benchmark: a panic is a failed run
//! write path, reopen it, then time random lookups of present and absent chunk ids, and
//! report the process's memory. `cargo bench --bench index [-- N]`.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use redb::{Database, ReadableDatabase};
use shoebox::store::{ChunkId, Options, Store};

fn content(i: u64) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&i.to_le_bytes());
    b[8..].copy_from_slice(b"shoebox-index-bn");
    b
}

fn status(field: &str) -> String {
    let mut s = String::new();
    std::fs::File::open("/proc/self/status")
        .and_then(|mut f| f.read_to_string(&mut s))
        .unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_string()
}

fn open(dir: &std::path::Path) -> Store {
    let db = Database::builder()
        .set_cache_size(32 << 20)
        .create(dir.join("catalog.redb"))
        .unwrap();
    Store::open(Arc::new(db), dir, Options::default()).unwrap()
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "target".into()))
        .unwrap();
    let store = open(dir.path());
    let started = Instant::now();
    for batch in 0..n.div_ceil(10_000) {
        let txn = store.db().begin_write().unwrap();
        for i in batch * 10_000..((batch + 1) * 10_000).min(n) {
            let put = store.put(&txn, content(i).as_slice(), &[], false).unwrap();
            store.retain(&txn, put.blob).unwrap();
        }
        store.prepare_commit(&txn).unwrap();
        txn.commit().unwrap();
    }
    let fill = started.elapsed();
    let fill_hwm = status("VmHWM:");
    drop(store);
    let db_size = std::fs::metadata(dir.path().join("catalog.redb"))
        .unwrap()
        .len();
    // Drop the page cache when allowed, so lookups start cold.
    let cold = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
    let store = open(dir.path());
    let txn = store.db().begin_read().unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let lookups = 1_000_000u64;
    let started = Instant::now();
    let mut found = 0u64;
    for _ in 0..lookups {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        found += u64::from(
            store
                .has_chunk(&txn, ChunkId::of(&content(state % n)))
                .unwrap(),
        );
    }
    let present = started.elapsed();
    let started = Instant::now();
    for i in 0..lookups {
        assert!(!store.has_chunk(&txn, ChunkId::of(&content(n + i))).unwrap());
    }
    let absent = started.elapsed();
    assert_eq!(found, lookups);
    println!("chunks in index: {n}");
    println!(
        "fill through Store::put: {:.1} s ({:.0} chunks/s)",
        fill.as_secs_f64(),
        n as f64 / fill.as_secs_f64()
    );
    println!("catalog.redb size: {:.1} MiB", db_size as f64 / 1_048_576.0);
    println!("page cache dropped before lookups: {cold}");
    println!(
        "random lookups of present ids: {:.0}/s",
        lookups as f64 / present.as_secs_f64()
    );
    println!(
        "lookups of absent ids: {:.0}/s",
        lookups as f64 / absent.as_secs_f64()
    );
    println!(
        "RSS after lookups: {} kB; peak RSS during fill: {fill_hwm} kB; peak overall: {} kB",
        status("VmRSS:"),
        status("VmHWM:")
    );
}
