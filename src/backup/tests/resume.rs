//! A restore cut short (a damaged download after some files were committed) goes on from
//! where it was when run again: the library ends up equal to the original, every blob with
//! exactly the references its photos hold, and the files already stored are not fetched again.

use super::*;

#[test]
fn a_cut_restore_resumes_without_fetching_stored_files_again() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let memory = Arc::new(Memory::new());
    init(memory.clone());
    backup(memory.clone(), &lib).unwrap();
    let (mut resumed, mut fewer) = (0, 0);
    for nth in 2..80 {
        let target = dir.path().join(format!("restored-{nth}"));
        let back = Library::open(&target, Options::default()).unwrap();
        let cut: Arc<dyn Remote> =
            Arc::new(Faulty::new(memory.clone(), Fault::TruncateEveryNth(nth)));
        let Ok(repo) = Repo::open(cut, "pass") else {
            continue;
        };
        let Ok(snap) = snapshot::find(&repo, None) else {
            continue;
        };
        let first = restore::into_library_by(&repo, &snap, &back, &Progress::new("r"), 1);
        let stored = back.store().stats().unwrap().blobs;
        if first.is_ok() || stored == 0 {
            continue;
        }
        assert_eq!(
            back.counts().unwrap().assets,
            0,
            "the catalog came before the files"
        );
        let counting = Arc::new(Faulty::new(memory.clone(), Fault::EveryNth(0)));
        let repo = Repo::open(counting.clone(), "pass").unwrap();
        let before = counting.calls();
        let progress = Progress::new("r");
        restore::into_library(&repo, &snap, &back, &progress).unwrap();
        let (mut got, want) = (back.counts().unwrap(), lib.counts().unwrap());
        got.stored_bytes = want.stored_bytes;
        assert_eq!(got, want);
        assert_eq!(
            back.store().stats().unwrap().blobs,
            lib.store().stats().unwrap().blobs
        );
        let check = back.check(true).unwrap();
        assert!(check.is_clean(), "{nth}: {:?}", check.problems);
        assert_eq!(
            progress.snapshot().items_done,
            snap.body.files,
            "every file counted"
        );
        let full = Arc::new(Faulty::new(memory.clone(), Fault::EveryNth(0)));
        let fresh =
            Library::open(&dir.path().join(format!("full-{nth}")), Options::default()).unwrap();
        let repo2 = Repo::open(full.clone(), "pass").unwrap();
        let full_before = full.calls();
        restore::into_library(&repo2, &snap, &fresh, &Progress::new("r")).unwrap();
        let (again, whole) = (counting.calls() - before, full.calls() - full_before);
        assert!(
            again <= whole,
            "{nth}: the resumed run fetched more than a whole one"
        );
        // A pack shared with files still missing is fetched anyway; a later cut saves calls.
        fewer += usize::from(again < whole);
        resumed += 1;
    }
    assert!(resumed > 0, "no restore was cut after a committed file");
    assert!(fewer > 0, "no resumed run fetched less than a whole one");
}
