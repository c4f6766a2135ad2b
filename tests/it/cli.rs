//! The CLI as a user drives it: import, re-import, export, check, stats, gc, and bad input.

use std::fs;
use std::path::Path;

use crate::harness::*;

#[test]
fn import_reimport_export_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("photos");
    photo_folder(&src, 12);
    let data = tmp.path().join("data");

    let out = shoebox(&data, &["import", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    // 12 JPEGs + photo.jpg + pug.heic + the Live Photo still = 15 new; the clip pairs
    assert!(text.contains("15 new, 3 duplicates, 1 paired"), "{text}");
    assert!(text.contains("skipped 1: not a photo or video"), "{text}");
    assert!(text.contains("readme.txt"), "{text}");

    let again = shoebox(&data, &["import", src.to_str().unwrap()]);
    let text = stdout(&again);
    assert!(text.contains("0 new, 0 duplicates, 0 paired (Live Photo halves, sidecars), 19 unchanged since last import (not read)"), "{text}");

    let stats = stdout(&shoebox(&data, &["stats"]));
    assert!(
        stats.contains("assets: 15 (14 photos, 0 videos, 1 Live Photos)"),
        "{stats}"
    );

    let check = shoebox(&data, &["check", "--read-data"]);
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(stdout(&check).contains("clean"));

    let export = tmp.path().join("export");
    let out = shoebox(&data, &["export", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // every distinct source photo comes back byte-identical
    let mut expected = hashes(&src);
    expected.remove(&blake3::hash(b"not a photo").to_hex().to_string());
    assert_eq!(hashes(&export), expected);
    assert!(
        export.join("2023/06/01/live.jpg").exists() && export.join("2023/06/01/live.mov").exists()
    );
}

#[test]
fn bad_files_are_reported_and_nothing_else_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("mess");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("empty.jpg"), b"").unwrap();
    fs::write(src.join("truncated.jpg"), &jpeg(300_000, 5)[..1000]).unwrap();
    let mut corrupt = jpeg(200_000, 6);
    corrupt[30..200].fill(0xAA); // smashed EXIF
    fs::write(src.join("corrupt.jpg"), corrupt).unwrap();
    fs::write(src.join("good.jpg"), jpeg(400_000, 7)).unwrap();
    std::os::unix::fs::symlink(&src, src.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(src.join("gone.jpg"), src.join("dangling.jpg")).unwrap();
    let fifo = src.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let data = tmp.path().join("data");
    let out = shoebox(&data, &["import", src.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(
        !out.status.success(),
        "a dangling link is a failure to report: {text}"
    );
    assert!(
        text.contains("3 new"),
        "truncated and corrupt files are still kept: {text}"
    );
    assert!(text.contains("empty file"), "{text}");
    assert!(text.contains("symlink loop"), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
    assert!(
        text.contains("failed: ") && text.contains("dangling.jpg"),
        "{text}"
    );
    let check = shoebox(&data, &["check", "--read-data"]);
    assert!(check.status.success(), "{}", stdout(&check));
}

#[test]
fn unreadable_file_fails_with_its_reason() {
    if running_as_root() {
        eprintln!(
            "running as root: file permissions do not stop root, so this case cannot be staged here"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("locked.jpg"), jpeg(1000, 1)).unwrap();
    fs::set_permissions(
        src.join("locked.jpg"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    let out = shoebox(&tmp.path().join("data"), &["import", src.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("Permission denied"),
        "{}",
        stdout(&out)
    );
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

#[test]
fn full_disk_gives_a_clear_error_and_a_consistent_library() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=12m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("cannot mount a small tmpfs here (needs root): disk-full case not staged");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    for i in 0..12 {
        fs::write(src.join(format!("p{i:02}.jpg")), jpeg(1_500_000, 50 + i)).unwrap();
    }
    let data = mnt.join("data");
    let out = shoebox(&data, &["import", src.to_str().unwrap()]);
    assert!(!out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
    let check = shoebox(&data, &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "library must stay consistent: {}",
        stdout(&check)
    );
    // move the library to a bigger disk and finish: nothing lost, nothing twice
    let bigger = tmp.path().join("bigger");
    assert!(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&data)
            .arg(&bigger)
            .status()
            .unwrap()
            .success()
    );
    let out = shoebox(&bigger, &["import", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let stats = stdout(&shoebox(&bigger, &["stats"]));
    assert!(stats.contains("assets: 12 (12 photos"), "{stats}");
    assert!(shoebox(&bigger, &["check", "--read-data"]).status.success());
}

#[test]
fn corrupt_pack_byte_is_named_by_check() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("victim.jpg"), jpeg(800_000, 9)).unwrap();
    let data = tmp.path().join("data");
    assert!(
        shoebox(&data, &["import", src.to_str().unwrap()])
            .status
            .success()
    );
    let pack = fs::read_dir(data.join("packs/01"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = fs::read(&pack).unwrap();
    bytes[5000] ^= 1;
    fs::write(&pack, bytes).unwrap();
    assert!(
        shoebox(&data, &["check"]).status.success(),
        "structure alone does not read data"
    );
    let out = shoebox(&data, &["check", "--read-data"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("AFFECTED: asset 1 (victim.jpg)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn repair_rebuilds_the_index_from_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    photo_folder(&src, 4);
    let data = tmp.path().join("data");
    assert!(
        shoebox(&data, &["import", src.to_str().unwrap()])
            .status
            .success()
    );
    let out = shoebox(&data, &["repair", "--rebuild-index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("rebuilt the index"));
    assert!(shoebox(&data, &["check", "--read-data"]).status.success());
}

#[test]
fn version_prints_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let v = shoebox(tmp.path(), &["version"]);
    assert!(stdout(&v).starts_with("shoebox 0."));
}

#[test]
fn a_huge_video_streams_through_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    // A 2 GiB QuickTime file (sparse on disk): ftyp, then one mdat box covering the rest.
    let size: u64 = 2 << 30;
    let mut head = Vec::new();
    head.extend_from_slice(&20u32.to_be_bytes());
    head.extend_from_slice(b"ftypqt  \0\0\0\0qt  ");
    head.extend_from_slice(&1u32.to_be_bytes());
    head.extend_from_slice(b"mdat");
    head.extend_from_slice(&(size - 20).to_be_bytes());
    head.extend_from_slice(&noise(3_000_000, 42)); // some real content at the start
    let path = src.join("huge.mov");
    fs::write(&path, &head).unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size)
        .unwrap();

    let data = tmp.path().join("data");
    let mut child = command(&data, &["import", src.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = fs::read_to_string(&status_file) {
            let hwm = s.lines().find(|l| l.starts_with("VmHWM:"));
            if let Some(kib) = hwm
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 new"), "{}", stdout(&out));
    assert!(
        peak_kib > 0 && peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB for a 2 GiB file"
    );
    let stats = stdout(&shoebox(&data, &["stats"]));
    assert!(stats.contains("1 videos"), "{stats}");
    assert!(stats.contains("library size: 2.00 GiB"), "{stats}");
}
