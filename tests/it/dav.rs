//! WebDAV ingest with real clients against the real binary: `litmus` (compliance), `rclone`
//! (a phone-like sync client: copy, copy again, kill -9 and resume) and `curl` (auth, paths,
//! clashes, broken uploads, a full disk). Whatever arrives must be in the library exactly once,
//! byte-identical, with the same metadata as a local import of the same files.
//!
//! Tests needing a tool skip with a printed reason when it is missing, unless
//! `SHOEBOX_REQUIRE_TOOLS=1` (CI) makes that a failure.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{command, photo_folder, shoebox, stdout};

const OWNER_PW: &str = "correct horse battery staple";
const BEN_PW: &str = "another long pass phrase";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A set-up box with users anna (owner) and ben, and an app password for anna.
struct Box {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    app_pw: String,
}

fn with_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = command(data, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn new_box() -> Box {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(
        with_stdin(&data, &["setup", "--owner", "anna"], OWNER_PW)
            .status
            .success()
    );
    assert!(
        with_stdin(&data, &["user", "add", "ben"], BEN_PW)
            .status
            .success()
    );
    let out = shoebox(&data, &["user", "app-password", "anna", "--label", "phone"]);
    assert!(out.status.success());
    let app_pw = stdout(&out).trim().to_owned();
    assert_eq!(app_pw.len(), 29, "{app_pw}");
    Box {
        _tmp: tmp,
        data,
        app_pw,
    }
}

fn start(data: &Path, env: &[(&str, &str)]) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = command(
        data,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-mdns",
        ],
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve never listened"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (server, port)
}

/// Whether `tool` can run; skipping is allowed unless `SHOEBOX_REQUIRE_TOOLS=1`.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var("SHOEBOX_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{tool} is required (SHOEBOX_REQUIRE_TOOLS=1) but missing"
        );
        println!("skipped: {tool} is not installed");
    }
    ok
}

/// `curl -s -o BODY -w %{http_code}` with extra args; returns (status, body).
fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-g", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let mut body = out.stdout;
    let nl = body.iter().rposition(|b| *b == b'\n').unwrap();
    let code = String::from_utf8_lossy(&body[nl + 1..])
        .trim()
        .parse()
        .unwrap();
    body.truncate(nl);
    (code, body)
}

fn spool_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("spool/dav")).map_or(0, Iterator::count)
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Relative path → blake3 of every file under `root`.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                let hash = blake3::hash(&std::fs::read(e.path()).unwrap())
                    .to_hex()
                    .to_string();
                out.insert(rel, hash);
            }
        }
    }
    out
}

fn export(data: &Path, to: &Path) -> BTreeMap<String, String> {
    let out = shoebox(data, &["export", to.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tree(to)
}

#[test]
fn litmus_suites_pass() {
    if !have("curl") || !Path::new("/usr/bin/litmus").exists() && !have("litmus") {
        return;
    }
    let b = new_box();
    let (_server, port) = start(&b.data, &[]);
    let out = Command::new("litmus")
        .arg(format!("http://127.0.0.1:{port}/dav/anna/"))
        .args(["anna", &b.app_pw])
        .current_dir(b.data.parent().unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summaries: Vec<&str> = text.lines().filter(|l| l.contains("summary for")).collect();
    println!("{}", summaries.join("\n"));
    for suite in ["basic", "copymove", "props", "locks", "http"] {
        let line = summaries
            .iter()
            .find(|l| l.contains(&format!("`{suite}'")))
            .unwrap_or_else(|| panic!("suite {suite} did not run:\n{text}"));
        assert!(line.contains(" 0 failed"), "{line}\n{text}");
    }
}

/// A box serving on a port, with two photos to send.
struct Rig {
    b: Box,
    server: Option<Server>,
    port: u16,
    base: String,
    app: String,
    tmp: tempfile::TempDir,
    photo: PathBuf,
    other: PathBuf,
}

fn rig() -> Rig {
    let b = new_box();
    let (server, port) = start(&b.data, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.jpg");
    std::fs::write(&other, crate::harness::jpeg(200_000, 7)).unwrap();
    Rig {
        app: format!("anna:{}", b.app_pw),
        b,
        server: Some(server),
        port,
        base: format!("http://127.0.0.1:{port}/dav"),
        tmp,
        photo: crate::harness::fixture("photo.jpg"),
        other,
    }
}

#[test]
/// Basic sign-in, and every way into another user's folder.
fn curl_sign_in_and_other_users_folders_refused() {
    if !have("curl") {
        return;
    }
    let r = rig();
    let (port, base, app) = (r.port, r.base.clone(), r.app.clone());
    let photo = r.photo.clone();
    let photo_s = photo.to_str().unwrap();
    // Sign-in: nothing, a wrong password, the account password, an app password.
    assert_eq!(curl(&["-X", "PROPFIND", &format!("{base}/anna/")]).0, 401);
    assert_eq!(
        curl(&[
            "-u",
            "anna:wrong",
            "-X",
            "PROPFIND",
            &format!("{base}/anna/")
        ])
        .0,
        401
    );
    assert_eq!(
        curl(&[
            "-u",
            &format!("anna:{OWNER_PW}"),
            "-X",
            "PROPFIND",
            "-H",
            "Depth: 0",
            &format!("{base}/anna/")
        ])
        .0,
        207
    );
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-X",
            "PROPFIND",
            "-H",
            "Depth: 0",
            &format!("{base}/anna/")
        ])
        .0,
        207
    );

    // Another user's folder, by name, by traversal, encoded, or as an absolute URL.
    assert_eq!(
        curl(&["-u", &app, "-T", photo_s, &format!("{base}/ben/x.jpg")]).0,
        403
    );
    for path in [
        "/anna/../ben/x.jpg",
        "/anna/%2e%2e/ben/x.jpg",
        "/anna/..%2fben%2fx.jpg",
        "/anna/a%2fb.jpg",
        "/%61nna/x.jpg",
    ] {
        let (code, _) = curl(&[
            "--path-as-is",
            "-u",
            &app,
            "-T",
            photo_s,
            &format!("{base}{path}"),
        ]);
        assert!(code >= 400, "{path} answered {code}");
    }
    let (code, _) = curl(&[
        "-u",
        &app,
        "-T",
        photo_s,
        "--request-target",
        &format!("http://127.0.0.1:{port}/dav/ben/x.jpg"),
        &format!("{base}/anna/"),
    ]);
    assert_eq!(code, 403);
    let ben = format!("ben:{BEN_PW}");
    let (code, body) = curl(&[
        "-u",
        &ben,
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 1",
        &format!("{base}/ben/"),
    ]);
    assert_eq!(code, 207);
    assert!(
        !String::from_utf8_lossy(&body).contains("x.jpg"),
        "ben's folder got a file"
    );
}

#[test]
/// Uploads read back byte-identical; clashes keep both photos in the library.
#[allow(clippy::too_many_lines)] // one scenario, step by step
fn curl_upload_read_clash_move_copy_delete() {
    if !have("curl") {
        return;
    }
    let mut r = rig();
    let (base, app) = (r.base.clone(), r.app.clone());
    let (photo, other) = (r.photo.clone(), r.other.clone());
    let (photo_s, other_s) = (photo.to_str().unwrap(), other.to_str().unwrap());
    // Upload, read back byte-identical, with Range.
    assert_eq!(
        curl(&["-u", &app, "-X", "MKCOL", &format!("{base}/anna/no/such")]).0,
        409
    );
    assert_eq!(
        curl(&["-u", &app, "-X", "MKCOL", &format!("{base}/anna/DCIM")]).0,
        201
    );
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-T",
            photo_s,
            &format!("{base}/anna/DCIM/IMG_1.jpg")
        ])
        .0,
        201
    );
    let original = std::fs::read(&photo).unwrap();
    assert_eq!(
        curl(&["-u", &app, &format!("{base}/anna/DCIM/IMG_1.jpg")]).1,
        original
    );
    let (code, part) = curl(&[
        "-u",
        &app,
        "-r",
        "100-199",
        &format!("{base}/anna/DCIM/IMG_1.jpg"),
    ]);
    assert_eq!((code, part.as_slice()), (206, &original[100..200]));
    // The same bytes again: success, nothing new.
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-T",
            photo_s,
            &format!("{base}/anna/DCIM/IMG_1.jpg")
        ])
        .0,
        204
    );
    // Different bytes under the same name: the tree shows them, the library keeps both.
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-T",
            other_s,
            &format!("{base}/anna/DCIM/IMG_1.jpg")
        ])
        .0,
        204
    );
    // PROPFIND lists size and ETag.
    let (_, listing) = curl(&[
        "-u",
        &app,
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 1",
        &format!("{base}/anna/DCIM/"),
    ]);
    let listing = String::from_utf8_lossy(&listing);
    assert!(
        listing.contains(&format!(
            "<D:getcontentlength>{}</D:getcontentlength>",
            std::fs::metadata(&other).unwrap().len()
        )),
        "{listing}"
    );
    assert!(listing.contains("getetag"), "{listing}");
    // MOVE, COPY, DELETE (the library keeps deleted uploads by default).
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-X",
            "MOVE",
            "-H",
            &format!("Destination: {base}/anna/moved.jpg"),
            &format!("{base}/anna/DCIM/IMG_1.jpg")
        ])
        .0,
        201
    );
    assert_eq!(
        curl(&[
            "-u",
            &app,
            "-X",
            "COPY",
            "-H",
            &format!("Destination: {base}/anna/copy.jpg"),
            &format!("{base}/anna/moved.jpg")
        ])
        .0,
        201
    );
    let (code, _) = curl(&[
        "-u",
        &app,
        "-X",
        "MOVE",
        "-H",
        &format!("Destination: {base}/ben/stolen.jpg"),
        &format!("{base}/anna/copy.jpg"),
    ]);
    assert!(code >= 400, "MOVE into ben's folder answered {code}");
    assert_eq!(
        curl(&["-u", &app, "-X", "DELETE", &format!("{base}/anna/copy.jpg")]).0,
        204
    );
    assert_eq!(curl(&["-u", &app, &format!("{base}/anna/copy.jpg")]).0, 404);
    assert_eq!(
        curl(&["-u", &app, &format!("{base}/anna/moved.jpg")]).1,
        std::fs::read(&other).unwrap()
    );

    r.server = None;
    // The library holds both clashing photos, once each, byte-identical.
    let exported = export(&r.b.data, &r.tmp.path().join("export"));
    let mut want: Vec<String> = [&photo, &other]
        .iter()
        .map(|p| {
            blake3::hash(&std::fs::read(p).unwrap())
                .to_hex()
                .to_string()
        })
        .collect();
    want.sort();
    let mut got: Vec<String> = exported.into_values().collect();
    got.sort();
    assert_eq!(got, want);
}

#[test]
/// A body cut short and a full disk leave nothing behind.
fn cut_upload_and_full_disk_leave_nothing() {
    if !have("curl") {
        return;
    }
    let mut r = rig();
    let (port, base, app) = (r.port, r.base.clone(), r.app.clone());
    let other = r.other.clone();
    let other_s = other.to_str().unwrap();
    // A body cut short: nothing reaches the library, nothing stays in the spool.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = base64_basic(&app);
    write!(s, "PUT /dav/anna/cut.jpg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nContent-Length: 5000000\r\n\r\n").unwrap();
    s.write_all(&crate::harness::jpeg(100_000, 9)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    wait_until("the cut upload's spool file is removed", || {
        spool_files(&r.b.data) == 0
    });
    assert_eq!(curl(&["-u", &app, &format!("{base}/anna/cut.jpg")]).0, 404);

    // A full disk: 507, nothing kept.
    r.server = None;
    let (full, port) = start(&r.b.data, &[("SHOEBOX_DAV_RESERVE_MB", "1000000000")]);
    r.server = Some(full);
    let (code, _) = curl(&[
        "-u",
        &app,
        "-T",
        other_s,
        &format!("http://127.0.0.1:{port}/dav/anna/full.jpg"),
    ]);
    assert_eq!(code, 507);
    assert_eq!(spool_files(&r.b.data), 0);
    r.server = None;
}

pub fn base64_basic(userpass: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(userpass)
}

fn rclone(remote_url: &str, user: &str, pass: &str, args: &[&str]) -> Command {
    let obscured = Command::new("rclone")
        .args(["obscure", pass])
        .output()
        .unwrap();
    let mut c = Command::new("rclone");
    c.env("RCLONE_CONFIG", "/dev/null")
        .env("RCLONE_CONFIG_SB_TYPE", "webdav")
        .env("RCLONE_CONFIG_SB_URL", remote_url)
        .env("RCLONE_CONFIG_SB_VENDOR", "other")
        .env("RCLONE_CONFIG_SB_USER", user)
        .env(
            "RCLONE_CONFIG_SB_PASS",
            String::from_utf8_lossy(&obscured.stdout).trim(),
        )
        .args(args);
    c
}

#[test]
fn rclone_copies_once_resumes_after_kill_and_the_library_matches_an_import() {
    if !have("rclone") {
        return;
    }
    let b = new_box();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("phone");
    photo_folder(&src, 24);
    let (server, port) = start(&b.data, &[]);
    let url = format!("http://127.0.0.1:{port}/dav/anna/");
    let src_s = src.to_str().unwrap();

    // Interrupted: kill -9 once some files arrived, mid-transfer of others.
    let mut slow = rclone(
        &url,
        "anna",
        &b.app_pw,
        &["copy", src_s, "sb:", "--bwlimit", "3M", "--transfers", "2"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_until("rclone sent a few files", || {
        let out = rclone(&url, "anna", &b.app_pw, &["lsf", "-R", "sb:"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.ends_with('/'))
            .count()
            >= 3
    });
    slow.kill().unwrap(); // SIGKILL
    slow.wait().unwrap();
    wait_until("the killed uploads leave nothing in the spool", || {
        spool_files(&b.data) == 0
    });

    // Resume, then everything is there.
    let out = rclone(&url, "anna", &b.app_pw, &["copy", src_s, "sb:", "-v"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("Copied (new)"),
        "resume copied nothing:\n{log}"
    );
    let out = rclone(
        &url,
        "anna",
        &b.app_pw,
        &["check", src_s, "sb:", "--download"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Again: nothing re-sent.
    let out = rclone(&url, "anna", &b.app_pw, &["copy", src_s, "sb:", "-v"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains("Copied"),
        "a second copy re-sent files:\n{log}"
    );
    drop(server);

    // The library equals a local import of the same folder: same files (each photo once,
    // byte-identical) under the same dates from their metadata.
    let via_dav = export(&b.data, &tmp.path().join("dav-export"));
    let local = tmp.path().join("local");
    let out = shoebox(&local, &["import", src_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let via_import = export(&local, &tmp.path().join("import-export"));
    assert!(!via_dav.is_empty());
    let names = |m: &BTreeMap<String, String>| -> Vec<(String, String)> {
        // Same day folder and bytes; the file name of a duplicate may differ (first seen).
        m.iter()
            .map(|(k, v)| (k.rsplit_once('/').map_or("", |x| x.0).to_owned(), v.clone()))
            .collect()
    };
    let (mut a, mut b2) = (names(&via_dav), names(&via_import));
    a.sort();
    b2.sort();
    assert_eq!(a, b2);
    let distinct: std::collections::BTreeSet<&String> = via_dav.values().collect();
    assert_eq!(
        distinct.len(),
        via_dav.len(),
        "a photo is in the library twice"
    );
}

/// The hrefs of a Depth 1 PROPFIND, without the folder itself.
fn children(url: &str, auth: &str) -> Vec<String> {
    let (code, body) = curl(&["-u", auth, "-X", "PROPFIND", "-H", "Depth: 1", url]);
    assert_eq!(code, 207, "{url}");
    let body = String::from_utf8_lossy(&body);
    body.split("<D:href>")
        .skip(2)
        .filter_map(|s| s.split("</D:href>").next())
        .map(str::to_owned)
        .collect()
}

#[test]
/// `/dav/library/YYYY/MM/` shows what was uploaded, original bytes, with Range, read-only.
fn library_view_by_year_and_month() {
    if !have("curl") {
        return;
    }
    let r = rig();
    let photo = r.photo.to_str().unwrap();
    let put = curl(&["-u", &r.app, "-T", photo, &format!("{}/anna/p.jpg", r.base)]);
    assert_eq!(put.0, 201);
    let host = format!("http://127.0.0.1:{}", r.port);
    let years = children(&format!("{}/library/", r.base), &r.app);
    assert_eq!(years.len(), 1, "{years:?}");
    let months = children(&format!("{host}{}", years[0]), &r.app);
    assert_eq!(months.len(), 1, "{months:?}");
    let files = children(&format!("{host}{}", months[0]), &r.app);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("/p.jpg"), "{files:?}");
    let original = std::fs::read(&r.photo).unwrap();
    let url = format!("{host}{}", files[0]);
    assert_eq!(curl(&["-u", &r.app, &url]).1, original);
    let (code, part) = curl(&["-u", &r.app, "-r", "5-24", &url]);
    assert_eq!((code, part.as_slice()), (206, &original[5..25]));
    let (code, _) = curl(&[
        "-u",
        &r.app,
        "-T",
        photo,
        &format!("{host}{}x.jpg", months[0]),
    ]);
    assert!(
        code == 403 || code == 405,
        "PUT into the library view answered {code}"
    );
    assert_eq!(
        curl(&["-X", "PROPFIND", &format!("{}/library/", r.base)]).0,
        401
    );
}

/// A WebDAV request through the in-process app (no port), signed in with Basic.
async fn dav_status(c: &mut crate::web::Client, method: &str, path: &str, auth: &str) -> u16 {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Basic {}", base64_basic(auth)))
        .header("depth", "0")
        .body(axum::body::Body::empty())
        .unwrap();
    c.send(req).await.status.as_u16()
}

#[tokio::test]
/// The phone page: address and QR, an app password shown once that works for WebDAV until it
/// is revoked; every form carries the CSRF token; only admins see the delete setting.
async fn phone_page_mints_shows_once_and_revokes_app_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::web::Client::new(dir.path());
    crate::web::set_up(&mut c).await;
    let page = c.get("/phone").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("/dav/ada/") && page.body.contains("<svg"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/phone/delete-trashes"));
    let forms = page.body.matches("<form").count();
    assert_eq!(forms, page.body.matches("name=\"csrf\"").count());

    let minted = c
        .post("/phone/app-passwords", &[("label", "Ada's phone")])
        .await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    let secret = minted
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 29, "{secret}");
    assert!(
        !c.get("/phone").await.body.contains(&secret),
        "the secret is shown again"
    );
    let auth = format!("ada:{secret}");
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/ada/", &auth).await,
        207
    );

    let id = c.state().accounts.app_passwords("ada").unwrap()[0]
        .id
        .clone();
    let revoked = c
        .post(&format!("/phone/app-passwords/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/ada/", &auth).await,
        401
    );

    // The admin setting, and the status page's upload card.
    assert!(!c.state().dav.delete_trashes().unwrap());
    c.get("/phone").await;
    c.post("/phone/delete-trashes", &[("on", "1")]).await;
    assert!(c.state().dav.delete_trashes().unwrap());
    let auth = format!("ada:{}", crate::web::OWNER_PW);
    let put = axum::http::Request::builder()
        .method("PUT")
        .uri("/dav/ada/x.jpg")
        .header("authorization", format!("Basic {}", base64_basic(&auth)))
        .body(axum::body::Body::from(
            std::fs::read(crate::harness::fixture("photo.jpg")).unwrap(),
        ))
        .unwrap();
    assert_eq!(c.send(put).await.status.as_u16(), 201);
    assert_eq!(c.state().library.counts().unwrap().trashed, 0);
    assert_eq!(
        dav_status(&mut c, "DELETE", "/dav/ada/x.jpg", &auth).await,
        204
    );
    assert_eq!(c.state().library.counts().unwrap().trashed, 1);
    let status = c.get("/status").await.body;
    assert!(
        status.contains("Phone uploads") && status.contains("/x.jpg"),
        "{status}"
    );
}

#[test]
/// The Nextcloud desktop client (`nextcloudcmd`) syncs a folder of photos into shoebox through
/// the Nextcloud endpoints, a 30 MB video in chunks (v2, joined on `MOVE .file`); everything
/// arrives byte-identical and a second sync sends nothing.
fn nextcloudcmd_syncs_photos_with_chunked_upload() {
    if !have("nextcloudcmd") || !have("curl") {
        return;
    }
    let b = new_box();
    let (server, port) = start(&b.data, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("phone");
    std::fs::create_dir_all(src.join("Camera")).unwrap();
    for f in ["photo.jpg", "live.jpg", "live.mov", "pug.heic"] {
        std::fs::copy(crate::harness::fixture(f), src.join("Camera").join(f)).unwrap();
    }
    let big = crate::harness::noise(30_000_000, 11);
    std::fs::write(src.join("Camera/big.mov"), &big).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let sync = || {
        Command::new("nextcloudcmd")
            .args(["--non-interactive", "-u", "anna", "-p", &b.app_pw])
            .arg(&src)
            .arg(&url)
            .output()
            .unwrap()
    };
    let first = sync();
    let log = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{log}");
    assert!(
        log.contains("/remote.php/dav/uploads/anna/"),
        "the big file was not chunked:\n{log}"
    );
    let app = format!("anna:{}", b.app_pw);
    for f in ["photo.jpg", "live.jpg", "live.mov", "pug.heic", "big.mov"] {
        let (code, body) = curl(&["-u", &app, &format!("{url}/dav/anna/Camera/{f}")]);
        assert_eq!(code, 200, "{f}");
        assert_eq!(
            body,
            std::fs::read(src.join("Camera").join(f)).unwrap(),
            "{f}"
        );
    }
    let again = sync();
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{log}");
    assert!(
        !log.contains("PUT of"),
        "a second sync re-sent files:\n{log}"
    );
    assert_eq!(spool_files(&b.data), 0);
    drop(server);
}

#[tokio::test]
/// A member an administrator limited to their own uploads uploads as before but cannot browse
/// the family's library view; lifting the limit opens it.
async fn a_limited_member_cannot_browse_the_library_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::web::Client::new(dir.path());
    crate::web::set_up(&mut c).await;
    let pw = "another long passphrase";
    c.state()
        .accounts
        .add_user("bob", pw, shoebox::accounts::Role::Member)
        .unwrap();
    let auth = format!("bob:{pw}");
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/library/", &auth).await,
        207
    );
    c.state()
        .accounts
        .set_own_uploads_only("bob", true)
        .unwrap();
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/library/", &auth).await,
        403
    );
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/bob/", &auth).await,
        207,
        "their own folder stays"
    );
    c.state()
        .accounts
        .set_own_uploads_only("bob", false)
        .unwrap();
    assert_eq!(
        dav_status(&mut c, "PROPFIND", "/dav/library/", &auth).await,
        207
    );
}
