//! Off-site backup against real servers started here: S3 through `s3s-fs` (which checks
//! request signatures) and WebDAV through `rclone serve webdav`. Both pass the same remote
//! conformance checks and the same backup/restore round trip; on S3 the backup is also
//! killed with SIGKILL at several points and resumed, and objects are damaged on disk.
//! Without the servers installed the tests say so and pass, unless
//! `SHOEBOX_REQUIRE_TOOLS=1` (set by `.ci/run`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

pub const PASS: &str = "correct horse battery staple";

fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The tool, or `None` after saying why the test is skipped.
fn tool(name: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        assert!(
            std::env::var("SHOEBOX_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is required (SHOEBOX_REQUIRE_TOOLS=1) but not installed"
        );
        eprintln!("skipped: {name} is not installed (see .ci/run)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    pub env: Vec<(&'static str, String)>,
    /// Where the server keeps the repository's objects on disk.
    pub objects: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server on port {port} never answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn s3(root: &Path) -> Option<Server> {
    let bin = tool("s3s-fs")?;
    let port = free_port();
    std::fs::create_dir_all(root.join("bucket")).unwrap();
    let child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "AKIDTEST", "--secret-key", "SECRETTEST"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    Some(Server {
        child,
        url: format!(
            "s3://bucket/box?endpoint=http://127.0.0.1:{port}&region=us-east-1&path_style=true"
        ),
        env: vec![
            ("AWS_ACCESS_KEY_ID", "AKIDTEST".into()),
            ("AWS_SECRET_ACCESS_KEY", "SECRETTEST".into()),
        ],
        objects: root.join("bucket/box"),
    })
}

pub fn webdav(root: &Path) -> Option<Server> {
    let bin = tool("rclone")?;
    let port = free_port();
    std::fs::create_dir_all(root).unwrap();
    let child = Command::new(bin)
        .args(["serve", "webdav"])
        .arg(root)
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--user",
            "ada",
            "--pass",
            "s3cret",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    Some(Server {
        child,
        url: format!("webdav+http://127.0.0.1:{port}/backups/box"),
        env: vec![
            ("SHOEBOX_WEBDAV_USER", "ada".into()),
            ("SHOEBOX_WEBDAV_PASSWORD", "s3cret".into()),
        ],
        objects: root.join("backups/box"),
    })
}

pub fn run(server: &Server, data: &Path, pass: &str, args: &[&str]) -> Output {
    let mut c = command(data, args);
    c.env("SHOEBOX_PASSPHRASE", pass).env_remove("SHOEBOX_REPO");
    for (k, v) in &server.env {
        c.env(k, v);
    }
    c.output().unwrap()
}

pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stdout(o), stderr(o));
    stdout(o)
}

fn init(server: &Server, data: &Path) -> String {
    let out = ok(&run(
        server,
        data,
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
    out.lines()
        .find(|l| l.trim().len() == 71 && l.trim().matches('-').count() == 7)
        .expect("a recovery key is printed")
        .trim()
        .to_string()
}

fn conformance(server: &Server) {
    let url = shoebox::backup::remote::RemoteUrl::parse(&server.url).unwrap();
    let creds = shoebox::backup::remote::Credentials {
        access_key: server
            .env
            .iter()
            .find(|(k, _)| *k == "AWS_ACCESS_KEY_ID")
            .map(|(_, v)| v.clone()),
        secret_key: server
            .env
            .iter()
            .find(|(k, _)| *k == "AWS_SECRET_ACCESS_KEY")
            .map(|(_, v)| v.clone()),
        user: server
            .env
            .iter()
            .find(|(k, _)| *k == "SHOEBOX_WEBDAV_USER")
            .map(|(_, v)| v.clone()),
        password: server
            .env
            .iter()
            .find(|(k, _)| *k == "SHOEBOX_WEBDAV_PASSWORD")
            .map(|(_, v)| v.clone()),
    };
    let remote = shoebox::backup::remote::Opendal::open(&url, &creds).unwrap();
    shoebox::backup::remote::conformance(&remote).unwrap();
    // Wrong credentials are refused, not silently accepted.
    let wrong = shoebox::backup::remote::Credentials {
        access_key: creds.access_key.as_ref().map(|_| "AKIDTEST".into()),
        secret_key: creds.secret_key.as_ref().map(|_| "WRONG".into()),
        user: creds.user.as_ref().map(|_| "ada".into()),
        password: creds.password.as_ref().map(|_| "wrong".into()),
    };
    let remote = shoebox::backup::remote::Opendal::open(&url, &wrong).unwrap();
    use shoebox::backup::remote::{Kind, Remote};
    assert!(
        remote
            .put(Kind::Pack, "probe", bytes::Bytes::from_static(b"x"))
            .is_err(),
        "wrong credentials accepted"
    );
}

/// Import, back up, back up again (nothing to do), restore both ways, check.
fn round_trip(server: &Server, tmp: &Path) {
    let data = tmp.join("data");
    photo_folder(&tmp.join("photos"), 6);
    ok(&shoebox(
        &data,
        &["import", tmp.join("photos").to_str().unwrap()],
    ));
    let recovery = init(server, &data);
    let first = ok(&run(
        server,
        &data,
        PASS,
        &["backup", "--repo", &server.url],
    ));
    assert!(first.contains("uploaded"), "{first}");
    let again = ok(&run(
        server,
        &data,
        PASS,
        &["backup", "--repo", &server.url],
    ));
    assert!(again.contains("nothing changed"), "{again}");
    let list = ok(&run(
        server,
        &data,
        PASS,
        &["snapshots", "--repo", &server.url],
    ));
    assert_eq!(list.lines().count(), 1, "{list}");
    // From a machine with nothing but the binary, the credentials and the recovery key.
    let elsewhere = tmp.join("elsewhere");
    let out = tmp.join("restored-files");
    ok(&run(
        server,
        &elsewhere,
        &recovery,
        &[
            "restore",
            "--repo",
            &server.url,
            "--to",
            out.to_str().unwrap(),
        ],
    ));
    let exported = tmp.join("exported");
    ok(&shoebox(&data, &["export", exported.to_str().unwrap()]));
    assert_eq!(hashes(&out), hashes(&exported));
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .any(|e| e.unwrap().file_name() == "2021"),
        "dated folders"
    );
    let rebuilt = tmp.join("rebuilt");
    ok(&run(
        server,
        &elsewhere,
        PASS,
        &[
            "restore",
            "--repo",
            &server.url,
            "--into-library",
            rebuilt.to_str().unwrap(),
        ],
    ));
    let check = ok(&shoebox(&rebuilt, &["check", "--read-data"]));
    assert!(check.contains("clean"), "{check}");
    let stats = |d: &Path| {
        ok(&shoebox(d, &["stats"]))
            .lines()
            .filter(|l| !l.starts_with("stored on disk"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(stats(&rebuilt), stats(&data));
    let wrong = run(
        server,
        &elsewhere,
        "not the passphrase",
        &["snapshots", "--repo", &server.url],
    );
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("wrong passphrase"),
        "{}",
        stderr(&wrong)
    );
}

#[test]
fn s3_backup_round_trip_and_conformance() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    conformance(&server);
    round_trip(&server, tmp.path());
}

#[test]
fn webdav_backup_round_trip_and_conformance() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = webdav(&tmp.path().join("dav")) else {
        return;
    };
    conformance(&server);
    round_trip(&server, tmp.path());
}

fn packs(server: &Server) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = std::fs::read_dir(server.objects.join("packs"))
        .map(|d| {
            d.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn killed_backups_resume_and_upload_only_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 16);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    init(&server, &data);
    let args = ["backup", "--repo", &server.url, "--pack-mib", "1"];
    let (mut kills, mut kills_after_a_pack) = (0, 0);
    let mut delay = Duration::from_millis(120);
    let mut finished = None;
    for round in 0..20 {
        let before = packs(&server);
        let mut c = command(&data, &args);
        c.env("SHOEBOX_PASSPHRASE", PASS)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &server.env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_some() {
            finished = Some((before, child.wait_with_output().unwrap()));
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        delay += Duration::from_millis(80);
        // Finished packs are never replaced or removed by a later run.
        let after = packs(&server);
        if !after.is_empty() {
            kills_after_a_pack += 1;
        }
        for p in &before {
            assert!(after.contains(p), "round {round}: pack {} changed", p.0);
        }
    }
    let (before, done) = match finished {
        Some(f) => f,
        None => (packs(&server), run(&server, &data, PASS, &args)),
    };
    let done = ok(&done);
    assert!(
        kills >= 2,
        "the backup finished before it could be killed twice"
    );
    assert!(
        kills_after_a_pack >= 1,
        "no kill landed after a pack was uploaded"
    );
    assert!(done.contains("snapshot"), "{done}");
    let after = packs(&server);
    for p in &before {
        assert!(
            after.contains(p),
            "pack {} was uploaded again or removed",
            p.0
        );
    }
    // No chunk went up twice: the packs hold about the library's distinct bytes, not more.
    let stored: u64 = after.iter().map(|(_, s)| s).sum();
    let library: u64 = hashes_size(&tmp.path().join("photos"));
    assert!(
        stored < library + library / 20 + 200_000,
        "packs hold {stored} B for {library} B of photos"
    );
    let out = tmp.path().join("out");
    ok(&run(
        &server,
        &tmp.path().join("elsewhere"),
        PASS,
        &[
            "restore",
            "--repo",
            &server.url,
            "--to",
            out.to_str().unwrap(),
        ],
    ));
    let exported = tmp.path().join("exported");
    ok(&shoebox(&data, &["export", exported.to_str().unwrap()]));
    assert_eq!(hashes(&out), hashes(&exported));
}

/// Bytes of the distinct files under `root`.
fn hashes_size(root: &Path) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                if seen.insert(*blake3::hash(&bytes).as_bytes()) {
                    total += bytes.len() as u64;
                }
            }
        }
    }
    total
}

#[test]
fn damaged_objects_on_a_real_server_are_named_and_never_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 3);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    init(&server, &data);
    ok(&run(
        &server,
        &data,
        PASS,
        &["backup", "--repo", &server.url],
    ));
    let restore = |n: u32| {
        let out = tmp.path().join(format!("out{n}"));
        run(
            &server,
            &tmp.path().join(format!("elsewhere{n}")),
            PASS,
            &[
                "restore",
                "--repo",
                &server.url,
                "--to",
                out.to_str().unwrap(),
            ],
        )
    };
    let first_file = |kind: &str| -> PathBuf {
        std::fs::read_dir(server.objects.join(kind))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    };
    // A flipped bit in the middle of a pack: the chunk there does not authenticate.
    let pack = first_file("packs");
    let original = std::fs::read(&pack).unwrap();
    let mut bytes = original.clone();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let o = restore(1);
    assert!(!o.status.success());
    let name = pack.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr(&o).contains(&format!("packs/{name}")),
        "{}",
        stderr(&o)
    );
    std::fs::write(&pack, &original).unwrap();
    ok(&restore(2));
    // A changed snapshot: its bytes no longer match its name.
    let snap = first_file("snapshots");
    let mut bytes = std::fs::read(&snap).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&snap, &bytes).unwrap();
    let o = restore(3);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("snapshots/"), "{}", stderr(&o));
    // Key objects gone: the repository cannot be opened, and says why.
    for e in std::fs::read_dir(server.objects.join("keys")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let o = restore(4);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("wrong passphrase"), "{}", stderr(&o));
}

#[test]
fn keys_can_be_added_changed_and_removed_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("folder-repo");
    std::fs::create_dir_all(&root).unwrap();
    let server = Server {
        child: Command::new("sleep").arg("60").spawn().unwrap(),
        url: format!("file://{}", root.display()),
        env: Vec::new(),
        objects: root.clone(),
    };
    let data = tmp.path().join("data");
    init(&server, &data);
    let keys = ok(&run(
        &server,
        &data,
        PASS,
        &["key", "list", "--repo", &server.url],
    ));
    assert_eq!(keys.lines().count(), 2, "{keys}");
    assert!(
        keys.contains("(in use)") && keys.contains("recovery"),
        "{keys}"
    );
    let mut c = command(
        &data,
        &[
            "key",
            "add",
            "--label",
            "laptop",
            "--repo",
            &server.url,
            "--kdf-memory-mib",
            "8",
        ],
    );
    c.env("SHOEBOX_PASSPHRASE", PASS)
        .env("SHOEBOX_NEW_PASSPHRASE", "laptop pass");
    ok(&c.output().unwrap());
    let keys = ok(&run(
        &server,
        &data,
        "laptop pass",
        &["key", "list", "--repo", &server.url],
    ));
    assert_eq!(keys.lines().count(), 3, "{keys}");
    let mut c = command(
        &data,
        &[
            "key",
            "passwd",
            "--repo",
            &server.url,
            "--kdf-memory-mib",
            "8",
        ],
    );
    c.env("SHOEBOX_PASSPHRASE", PASS)
        .env("SHOEBOX_NEW_PASSPHRASE", "new pass");
    ok(&c.output().unwrap());
    assert!(
        !run(
            &server,
            &data,
            PASS,
            &["key", "list", "--repo", &server.url]
        )
        .status
        .success()
    );
    let laptop = keys
        .lines()
        .find(|l| l.contains("laptop"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    ok(&run(
        &server,
        &data,
        "new pass",
        &["key", "remove", &laptop, "--repo", &server.url],
    ));
    assert!(
        !run(
            &server,
            &data,
            "laptop pass",
            &["key", "list", "--repo", &server.url]
        )
        .status
        .success()
    );
}

/// A TCP proxy in front of the S3 server that answers every 4th connection with a 503 and
/// resets every 5th one outright; the rest are piped through.
fn faulty_proxy(upstream: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let faults = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = faults.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut client) = conn else { continue };
            if n % 5 == 4 || n % 4 == 3 {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            if n % 5 == 4 {
                drop(client); // connection reset before a byte is answered
                continue;
            }
            if n % 4 == 3 {
                use std::io::{Read, Write};
                let mut buf = [0u8; 1024];
                let _ = client.read(&mut buf);
                let _ = client.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let mut server = server;
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, faults)
}

#[test]
fn a_backup_through_resets_and_503s_completes_and_restores_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(direct) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let upstream: u16 = direct
        .url
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let (proxy, faults) = faulty_proxy(upstream);
    let flaky = Server {
        child: Command::new("sleep").arg("120").spawn().unwrap(),
        url: direct.url.replace(
            &format!("127.0.0.1:{upstream}"),
            &format!("127.0.0.1:{proxy}"),
        ),
        env: direct.env.clone(),
        objects: direct.objects.clone(),
    };
    let data = tmp.path().join("data");
    photo_folder(&tmp.path().join("photos"), 8);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    init(&flaky, &data);
    ok(&run(
        &flaky,
        &data,
        PASS,
        &[
            "backup",
            "--repo",
            &flaky.url,
            "--pack-mib",
            "1",
            "--parallel",
            "3",
        ],
    ));
    let out = tmp.path().join("out");
    ok(&run(
        &flaky,
        &tmp.path().join("elsewhere"),
        PASS,
        &[
            "restore",
            "--repo",
            &flaky.url,
            "--to",
            out.to_str().unwrap(),
        ],
    ));
    let exported = tmp.path().join("exported");
    ok(&shoebox(&data, &["export", exported.to_str().unwrap()]));
    assert_eq!(hashes(&out), hashes(&exported));
    let injected = faults.load(std::sync::atomic::Ordering::SeqCst);
    assert!(injected >= 2, "only {injected} faults were injected");
    let check = ok(&run(
        &direct,
        &data,
        PASS,
        &["backup", "check", "--read-data", "--repo", &direct.url],
    ));
    assert!(check.contains("clean"), "{check}");
}
