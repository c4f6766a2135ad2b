//! The backup target stored on the box (sealed with the box key) against the real S3 and
//! WebDAV servers of `backup.rs`: the connection test names wrong credentials and an
//! unreachable host, "create" stores the target, and `shoebox backup` without `--repo` uses it; the
//! repository then restores byte-identical from the command line with only the passphrase, and
//! `serve` makes a snapshot by itself when the schedule says so.

use std::path::Path;
use std::sync::Arc;

use shoebox::backup::probe::Problem;
use shoebox::backup::{Backup, KdfParams, Target, test as test_connection};
use shoebox::library::{Library, Options};

use crate::backup::{PASS, Server, ok, run, s3, webdav};
use crate::harness::*;

fn env(server: &Server, key: &str) -> Option<String> {
    server
        .env
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
}

fn target(server: &Server) -> Target {
    Target {
        url: server.url.clone(),
        access_key: env(server, "AWS_ACCESS_KEY_ID"),
        secret_key: env(server, "AWS_SECRET_ACCESS_KEY"),
        user: env(server, "SHOEBOX_WEBDAV_USER"),
        password: env(server, "SHOEBOX_WEBDAV_PASSWORD"),
        passphrase: PASS.into(),
    }
}

fn cheap() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        ..KdfParams::default()
    }
}

/// Configures `server` as the box's target, backs up without `--repo`, restores elsewhere.
fn configured_round_trip(server: &Server, tmp: &Path) {
    let data = tmp.join("data");
    photo_folder(&tmp.join("photos"), 3);
    ok(&shoebox(
        &data,
        &["import", tmp.join("photos").to_str().unwrap()],
    ));
    test_connection(&target(server)).unwrap();
    {
        let lib = Arc::new(Library::open(&data, Options::default()).unwrap());
        let backup = Backup::open(lib).unwrap();
        let recovery = backup.create(&target(server), cheap()).unwrap();
        assert_eq!(recovery.len(), 71, "{recovery}");
        assert_eq!(
            backup.store().target().unwrap().unwrap().url,
            server.url,
            "the target is stored"
        );
    }
    // No --repo, no passphrase, no credentials in the environment: the stored target.
    let out = shoebox(&data, &["backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("snapshot"), "{}", stdout(&out));
    {
        let lib = Arc::new(Library::open(&data, Options::default()).unwrap());
        let status = Backup::open(lib).unwrap().store().status().unwrap();
        assert!(status.last_success.is_some(), "{status:?}");
        assert_eq!(status.snapshots.len(), 1);
        assert!(status.remote_bytes.unwrap() > 1_000_000);
    }
    let listed = ok(&run(
        server,
        &tmp.join("elsewhere"),
        PASS,
        &["snapshots", "--repo", &server.url],
    ));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let restored = tmp.join("restored");
    ok(&run(
        server,
        &tmp.join("elsewhere"),
        PASS,
        &[
            "restore",
            "--repo",
            &server.url,
            "--to",
            restored.to_str().unwrap(),
        ],
    ));
    let exported = tmp.join("exported");
    ok(&shoebox(&data, &["export", exported.to_str().unwrap()]));
    assert_eq!(hashes(&restored), hashes(&exported));
}

#[test]
fn a_configured_s3_target_names_its_problems_and_backs_up_without_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let wrong = Target {
        secret_key: Some("WRONG".into()),
        ..target(&server)
    };
    assert_eq!(test_connection(&wrong), Err(Problem::WrongCredentials));
    // (A missing bucket cannot be checked here: s3s-fs makes the folder of any bucket named;
    // `probe::tests` covers the words for NoSuchBucket.)
    let closed = Target {
        url: "s3://bucket/box?endpoint=http://127.0.0.1:9&path_style=true".into(),
        ..target(&server)
    };
    assert_eq!(
        test_connection(&closed),
        Err(Problem::Unreachable("127.0.0.1:9".into()))
    );
    configured_round_trip(&server, tmp.path());
}

#[test]
fn a_configured_webdav_target_names_wrong_credentials_and_backs_up_without_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = webdav(&tmp.path().join("dav")) else {
        return;
    };
    let wrong = Target {
        password: Some("wrong".into()),
        ..target(&server)
    };
    assert_eq!(test_connection(&wrong), Err(Problem::WrongCredentials));
    configured_round_trip(&server, tmp.path());
}

#[test]
fn init_remember_makes_the_repository_this_boxs_target() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = webdav(&tmp.path().join("dav")) else {
        return;
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 2);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    let out = ok(&run(
        &server,
        &data,
        PASS,
        &[
            "backup",
            "init",
            "--remember",
            "--repo",
            &server.url,
            "--kdf-memory-mib",
            "8",
        ],
    ));
    assert!(out.contains("by itself"), "{out}");
    // Neither the passphrase nor the WebDAV password is in the catalog file in clear.
    let raw = std::fs::read(data.join("catalog.redb")).unwrap();
    for secret in [PASS.as_bytes(), b"s3cret"] {
        assert!(!raw.windows(secret.len()).any(|w| w == secret));
    }
    let out = shoebox(&data, &["backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = ok(&run(
        &server,
        &tmp.path().join("elsewhere"),
        PASS,
        &["snapshots", "--repo", &server.url],
    ));
    assert_eq!(listed.lines().count(), 1, "{listed}");
}

/// Kills `serve` when the test ends, however it ends.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_backs_up_by_itself_when_its_time_comes() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = webdav(&tmp.path().join("dav")) else {
        return;
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 2);
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
            "--remember",
            "--repo",
            &server.url,
            "--kdf-memory-mib",
            "8",
        ],
    ));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A one-second period stands in for the nightly slot; nobody presses anything.
    let _serve = Serve(
        command(
            &data,
            &[
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--no-mdns",
            ],
        )
        .env("SHOEBOX_BACKUP_EVERY_SECS", "1")
        .env_remove("SHOEBOX_PASSPHRASE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let listed = run(
            &server,
            &tmp.path().join("elsewhere"),
            PASS,
            &["snapshots", "--repo", &server.url],
        );
        if listed.status.success() && stdout(&listed).lines().any(|l| l.contains("files")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot from the schedule: {}",
            stdout(&listed)
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
