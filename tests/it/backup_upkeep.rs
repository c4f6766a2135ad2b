//! Forget, prune and partial read checks against a real S3 server (`s3s-fs`), through the
//! real binary: what a user does to keep a repository small and trusted.

use std::path::Path;

use crate::backup::{PASS, Server, ok, run, s3};
use crate::harness::*;

fn pack_bytes(server: &Server) -> u64 {
    std::fs::read_dir(server.objects.join("packs"))
        .map_or(0, |d| d.map(|e| e.unwrap().metadata().unwrap().len()).sum())
}

/// The first word of each line of `shoebox snapshots`: the short ids, oldest first.
fn snapshot_ids(server: &Server, data: &Path) -> Vec<String> {
    ok(&run(
        server,
        data,
        PASS,
        &["snapshots", "--repo", &server.url],
    ))
    .lines()
    .filter_map(|l| l.split_whitespace().next().map(String::from))
    .collect()
}

fn number_before(text: &str, what: &str) -> u64 {
    let at = text.find(what);
    assert!(at.is_some(), "{what:?} in {text}");
    let n = text[..at.unwrap()]
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok());
    assert!(n.is_some(), "a number before {what:?} in {text}");
    n.unwrap()
}

#[test]
fn a_forgotten_snapshot_gives_its_space_back_and_the_rest_restores() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 6);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    ok(&run(
        &server,
        &data,
        PASS,
        &[
            "backup",
            "init",
            "--repo",
            &server.url,
            "--kdf-memory-mib",
            "8",
        ],
    ));
    ok(&run(
        &server,
        &data,
        PASS,
        &["backup", "--repo", &server.url],
    ));
    let first_export = tmp.path().join("export-1");
    ok(&shoebox(&data, &["export", first_export.to_str().unwrap()]));

    // Three big new photos arrive, are backed up, and that snapshot is then forgotten.
    let more = tmp.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    for i in 0..3 {
        std::fs::write(more.join(format!("BIG_{i}.JPG")), jpeg(2_000_000, 9000 + i)).unwrap();
    }
    ok(&shoebox(&data, &["import", more.to_str().unwrap()]));
    ok(&run(
        &server,
        &data,
        PASS,
        &["backup", "--repo", &server.url],
    ));
    let ids = snapshot_ids(&server, &data);
    assert_eq!(ids.len(), 2, "{ids:?}");

    forget_needs_a_rule(&server, &data);
    let newest = ids.last().unwrap().clone();
    let forgot = ok(&run(
        &server,
        &data,
        PASS,
        &["backup", "--repo", &server.url, "forget", &newest],
    ));
    assert!(forgot.contains(&format!("forgot {newest}")), "{forgot}");
    assert_eq!(snapshot_ids(&server, &data), ids[..1]);

    prune_and_check(&server, &data);
    let restored = tmp.path().join("restored");
    ok(&run(
        &server,
        &tmp.path().join("elsewhere"),
        PASS,
        &[
            "restore",
            "--repo",
            &server.url,
            "--to",
            restored.to_str().unwrap(),
        ],
    ));
    assert_eq!(hashes(&restored), hashes(&first_export));
}

/// Prunes in two phases, then checks the whole remote and its two halves.
fn prune_and_check(server: &Server, data: &Path) {
    let before = pack_bytes(server);
    let marked = ok(&run(
        server,
        data,
        PASS,
        &["backup", "--repo", &server.url, "prune"],
    ));
    assert!(number_before(&marked, "unused and") >= 1, "{marked}");
    assert_eq!(
        number_before(&marked, "packs ("),
        0,
        "nothing deleted yet: {marked}"
    );
    assert!(
        pack_bytes(server) >= before,
        "the grace period keeps everything"
    );

    let swept = ok(&run(
        server,
        data,
        PASS,
        &[
            "backup",
            "--repo",
            &server.url,
            "prune",
            "--grace-hours",
            "0",
        ],
    ));
    assert!(number_before(&swept, "packs (") >= 1, "{swept}");
    let after = pack_bytes(server);
    assert!(
        before.saturating_sub(after) >= 5_000_000,
        "three 2 MB photos' worth came back: {before} → {after}\n{swept}"
    );

    let check = ok(&run(
        server,
        data,
        PASS,
        &["backup", "--repo", &server.url, "check", "--read-data"],
    ));
    assert!(check.contains("clean"), "{check}");
    let mut read = 0;
    for slice in ["1/2", "2/2"] {
        let part = ok(&run(
            server,
            data,
            PASS,
            &[
                "backup",
                "--repo",
                &server.url,
                "check",
                "--read-data-subset",
                slice,
            ],
        ));
        assert!(part.contains("clean"), "{part}");
        read += number_before(&part, "packs (");
    }
    assert_eq!(
        read,
        number_before(&check, "packs ("),
        "two halves read every pack once"
    );
}

/// A dry run forgets nothing; no rule and no id is refused.
fn forget_needs_a_rule(server: &Server, data: &Path) {
    let dry = ok(&run(
        server,
        data,
        PASS,
        &[
            "backup",
            "--repo",
            &server.url,
            "forget",
            "--keep-last",
            "1",
            "--dry-run",
        ],
    ));
    assert!(dry.contains("would forget"), "{dry}");
    assert_eq!(
        snapshot_ids(server, data).len(),
        2,
        "a dry run forgets nothing"
    );
    let refused = run(
        server,
        data,
        PASS,
        &["backup", "--repo", &server.url, "forget"],
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("say what to keep"),
        "{}",
        stderr(&refused)
    );
}
