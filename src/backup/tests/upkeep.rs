//! Forget and prune on a real library: space comes back only after the grace period, never
//! a chunk a snapshot needs, and a prune killed at any write leaves a whole repository.

use super::*;
use crate::backup::{check, forget, prune};

const DAY: i64 = 24 * 3600;

fn prune_at(remote: Arc<dyn Remote>, now: i64) -> prune::Report {
    let repo = Repo::open(remote, "pass").unwrap();
    let options = prune::Options {
        now,
        pack_target: 256 * 1024,
        ..prune::Options::default()
    };
    prune::run(&repo, &options).unwrap()
}

fn pack_bytes(memory: &Memory) -> u64 {
    memory
        .list(Kind::Pack)
        .unwrap()
        .iter()
        .map(|l| l.size)
        .sum()
}

fn assert_clean(remote: Arc<dyn Remote>) {
    let repo = Repo::open(remote, "pass").unwrap();
    let report = check::run(&repo, true).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

/// The photos of `lib` as exported equal those of snapshot `snap` restored.
fn assert_restores(remote: Arc<dyn Remote>, snap: &str, lib: &Library, dir: &Path, tag: &str) {
    let repo = Repo::open(remote, "pass").unwrap();
    let snap = snapshot::find(&repo, Some(snap)).unwrap();
    let back = Library::open(&dir.join(format!("restored-{tag}")), Options::default()).unwrap();
    restore::into_library(&repo, &snap, &back, &Progress::new("restore")).unwrap();
    lib.export(&dir.join(format!("want-{tag}")), &Progress::new("x"))
        .unwrap();
    back.export(&dir.join(format!("got-{tag}")), &Progress::new("x"))
        .unwrap();
    let (want, got) = (
        tree(&dir.join(format!("want-{tag}"))),
        tree(&dir.join(format!("got-{tag}"))),
    );
    assert!(!want.is_empty());
    assert_eq!(want, got);
}

/// Two boxes' worth of history: `old` holds a big photo the `new` library no longer has.
/// Both are backed up, then the old snapshot is forgotten; returns the new one's name.
fn forgotten_generation(dir: &Path, memory: &Arc<Memory>) -> (Library, Library, String) {
    let (old, new) = two_generations(dir);
    init(memory.clone());
    let gone = backup(memory.clone(), &old).unwrap().snapshot;
    let kept = backup(memory.clone(), &new).unwrap().snapshot;
    let repo = Repo::open(memory.clone(), "pass").unwrap();
    forget::remove(&repo, &[gone]).unwrap();
    (old, new, kept)
}

fn two_generations(dir: &Path) -> (Library, Library) {
    let old = library(&dir.join("old"));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    ingest(
        &old,
        &noisy_jpeg(&src, "gone.jpg", 3_000_000, 41),
        "/card/gone.jpg",
    );
    let new = library(&dir.join("new"));
    ingest(
        &new,
        &noisy_jpeg(&src, "kept.jpg", 1_000_000, 42),
        "/card/kept.jpg",
    );
    (old, new)
}

#[test]
fn forgotten_photos_give_their_space_back_after_the_grace_period_only() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(Memory::new());
    let (_old, new, kept) = forgotten_generation(dir.path(), &memory);
    let before = pack_bytes(&memory);
    let now = chrono::Utc::now().timestamp();

    let first = prune_at(memory.clone(), now);
    assert!(first.marked_unused >= 1, "{first:?}");
    assert!(first.marked_bytes >= 2_500_000, "{first:?}");
    assert!(first.repacked >= 1 && first.new_packs >= 1, "{first:?}");
    assert_eq!(
        first.deleted_packs, 0,
        "nothing goes before the grace period"
    );
    assert!(pack_bytes(&memory) >= before);
    assert_clean(memory.clone());
    assert_restores(memory.clone(), &kept, &new, dir.path(), "marked");

    let early = prune_at(memory.clone(), now + DAY / 2);
    assert_eq!(early.deleted_packs, 0, "{early:?}");
    assert!(early.waiting > 0, "{early:?}");

    let late = prune_at(memory.clone(), now + 2 * DAY);
    assert_eq!(late.kept_back, 0, "{late:?}");
    assert!(late.deleted_packs >= first.marked_unused, "{late:?}");
    assert!(late.deleted_index >= 1, "{late:?}");
    let after = pack_bytes(&memory);
    assert!(
        before - after >= 2_500_000,
        "the forgotten photo's bytes came back: {before} → {after}"
    );
    assert!(memory.list(Kind::Mark).unwrap().is_empty());
    assert_clean(memory.clone());
    assert_restores(memory.clone(), &kept, &new, dir.path(), "swept");

    let idle = prune_at(memory.clone(), now + 3 * DAY);
    assert_eq!(
        (idle.marked_unused, idle.repacked, idle.deleted_packs),
        (0, 0, 0),
        "{idle:?}"
    );
}

#[test]
fn a_backup_that_reuses_marked_chunks_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(Memory::new());
    let (old, new, kept) = forgotten_generation(dir.path(), &memory);
    let now = chrono::Utc::now().timestamp();
    let marked = prune_at(memory.clone(), now);
    assert!(marked.marked_unused >= 1, "{marked:?}");
    // During the grace period the old box backs up again: its big photo is deduplicated
    // against the marked packs, so nothing of it is uploaded.
    let again = backup(memory.clone(), &old).unwrap();
    assert!(again.uploaded < 1_000_000, "{again:?}");
    let swept = prune_at(memory.clone(), now + 2 * DAY);
    assert!(swept.kept_back >= 1, "{swept:?}");
    assert_clean(memory.clone());
    assert_restores(memory.clone(), &again.snapshot, &old, dir.path(), "old");
    assert_restores(memory.clone(), &kept, &new, dir.path(), "new");
}

#[test]
fn a_prune_killed_at_any_write_leaves_a_whole_repository() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(Memory::new());
    let (_old, new, kept) = forgotten_generation(dir.path(), &memory);
    let start = chrono::Utc::now().timestamp();
    let pristine = memory.dump();
    // Count the writes of an undisturbed mark + sweep, then die after each of them in turn.
    let counting = Arc::new(Faulty::new(memory.clone(), Fault::EveryNth(0)));
    prune_at(counting.clone(), start);
    prune_at(counting.clone(), start + 2 * DAY);
    let writes = counting.writes();
    assert!(writes >= 4, "a mark and a sweep write something: {writes}");
    for k in 1..writes.min(40) {
        for (path, _) in memory.dump() {
            memory.set_raw(&path, None);
        }
        for (path, bytes) in &pristine {
            memory.set_raw(path, Some(bytes.clone()));
        }
        let dying: Arc<dyn Remote> =
            Arc::new(Faulty::new(memory.clone(), Fault::DieAfterWrites(k)));
        let repo = Repo::open(dying.clone(), "pass").unwrap();
        let mut options = prune::Options {
            now: start,
            pack_target: 256 * 1024,
            ..prune::Options::default()
        };
        let died = prune::run(&repo, &options).is_err();
        if !died {
            options.now = start + 2 * DAY;
            let _ = prune::run(&repo, &options);
        }
        assert_clean(memory.clone());
        // The next prunes, undisturbed, finish the work and take in what the dead one left.
        prune_at(memory.clone(), start + 3 * DAY);
        prune_at(memory.clone(), start + 5 * DAY);
        assert_clean(memory.clone());
        let repo = Repo::open(memory.clone(), "pass").unwrap();
        let after = check::run(&repo, false).unwrap();
        assert!(after.notes.is_empty(), "k={k}: {:?}", after.notes);
        assert_restores(memory.clone(), &kept, &new, dir.path(), &format!("kill{k}"));
    }
}
