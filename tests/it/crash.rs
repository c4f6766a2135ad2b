//! kill -9 at random moments of `import` and `gc`: after every kill `check` is clean, and the
//! import run to the end afterwards has every photo, once.

use std::time::Duration;

use crate::harness::*;

#[test]
fn killed_import_and_gc_never_corrupt_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("photos");
    let mut expected_assets = photo_folder(&src, 10) - 3; // copies are duplicates; the clip pairs
    let data = tmp.path().join("data");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut kills = 0;
    // how long an unkilled import of one round's arrivals takes here, to aim kills inside it
    let mut typical = Duration::from_millis(200);
    let (mut last_count, mut killed_after_progress) = (0u64, 0);
    // Rounds go on until enough kills landed mid-run (timing varies with the machine's load).
    for round in 0..90u64 {
        if kills >= 24 {
            break;
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // new photos keep arriving, so every import has work to be killed in
        let batch = src.join(format!("arrivals/{round:02}"));
        std::fs::create_dir_all(&batch).unwrap();
        for i in 0..12u64 {
            let bytes = jpeg(
                700_000 + ((state >> i) % 1_800_000) as usize,
                round * 100 + i + 7,
            );
            std::fs::write(batch.join(format!("IMG_{i}.JPG")), bytes).unwrap();
        }
        expected_assets += 12;
        let args: Vec<&str> = if round % 5 == 4 {
            vec!["gc", "--grace", "0"]
        } else {
            vec!["import", "--commit-every", "2", src.to_str().unwrap()]
        };
        let started = std::time::Instant::now();
        let mut killed = false;
        let mut child = command(&data, &args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let fraction = 0.05 + (state % 1000) as f64 / 1500.0;
        std::thread::sleep(typical.mul_f64(if round % 5 == 4 {
            fraction / 4.0
        } else {
            fraction
        }));
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "round {round} ({args:?}) failed unkilled");
            if round % 5 != 4 {
                typical = started.elapsed();
            }
        } else {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
            killed = true;
        }
        child.wait().unwrap();
        let check = shoebox(&data, &["check"]);
        assert!(
            check.status.success(),
            "round {round} ({args:?}): {}",
            stdout(&check)
        );
        let now = assets(&data);
        if now > last_count && killed {
            killed_after_progress += 1;
        }
        last_count = now;
    }
    eprintln!(
        "{kills} kills, {killed_after_progress} of them after the run had committed some photos"
    );
    assert!(kills >= 20, "only {kills} runs were killed mid-way");
    assert!(
        killed_after_progress >= 3,
        "kills should also land between commits, not only before the first"
    );
    let out = shoebox(&data, &["import", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let check = shoebox(&data, &["check", "--read-data"]);
    assert!(check.status.success(), "{}", stdout(&check));
    let stats = stdout(&shoebox(&data, &["stats"]));
    assert!(
        stats.contains(&format!(
            "assets: {expected_assets} ({} photos, 0 videos, 1 Live Photos)",
            expected_assets - 1
        )),
        "{stats}"
    );
    let export = tmp.path().join("export");
    assert!(
        shoebox(&data, &["export", export.to_str().unwrap()])
            .status
            .success()
    );
    let mut expected = hashes(&src);
    expected.remove(&blake3::hash(b"not a photo").to_hex().to_string());
    assert_eq!(
        hashes(&export),
        expected,
        "every photo, byte-identical, after {kills} kills"
    );
}

fn assets(data: &std::path::Path) -> u64 {
    let text = stdout(&shoebox(data, &["stats"]));
    text.strip_prefix("assets: ")
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
