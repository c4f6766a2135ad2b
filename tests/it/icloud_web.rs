//! The iCloud pages of the real `shoebox serve` against the fake iCloud: adding an Apple ID
//! with its code, wrong password and wrong code, sync now, an ended trust → "needs sign-in"
//! and the banner, then signing in again from the browser and syncing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::fake_icloud::Fake;
use crate::harness::{command, stdout};

pub(crate) const ANNA: &str = "anna@example.com";
const PASSWORD: &str = "correct horse battery staple";
const OWNER_PASSWORD: &str = "owner long passphrase";

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser without JavaScript: keeps cookies and the page's form token.
pub(crate) struct Browser {
    port: u16,
    cookies: Vec<String>,
    csrf: String,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Browser {
    fn exchange(&mut self, head: &str, body: &str) -> Reply {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let cookie = if self.cookies.is_empty() {
            String::new()
        } else {
            format!("Cookie: {}\r\n", self.cookies.join("; "))
        };
        let req = format!("{head}\r\nHost: x\r\n{cookie}Connection: close\r\n{body}");
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let mut location = None;
        for line in head.lines() {
            let Some((k, v)) = line.split_once(": ") else {
                continue;
            };
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap().to_string();
                let name = pair.split('=').next().unwrap().to_string();
                self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                self.cookies.push(pair);
            } else if k.eq_ignore_ascii_case("location") {
                location = Some(v.to_string());
            }
        }
        if let Some(t) = body.split("name=\"csrf\" value=\"").nth(1) {
            self.csrf = t.split('"').next().unwrap().to_string();
        }
        Reply {
            status: head.split(' ').nth(1).unwrap().parse().unwrap(),
            location,
            body: body.to_string(),
        }
    }

    pub(crate) fn get(&mut self, path: &str) -> Reply {
        self.exchange(&format!("GET {path} HTTP/1.1"), "\r\n")
    }

    pub(crate) fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut parts = vec![format!("csrf={}", self.csrf)];
        parts.extend(fields.iter().map(|(k, v)| format!("{k}={}", enc(v))));
        let form = parts.join("&");
        self.exchange(
            &format!("POST {path} HTTP/1.1"),
            &format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
                form.len()
            ),
        )
    }
}

/// `shoebox serve` on `data`, pointed at the fake; a browser that has not signed in.
fn serve(fake: &Fake, data: &Path, env: &[(&str, &str)]) -> (Server, Browser) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = command(
        data,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-mdns",
        ],
    );
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    c.env("SHOEBOX_ICLOUD_EVERY_SECS", "86400");
    c.envs(env.iter().copied());
    let server = Server(
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve never listened"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let b = Browser {
        port,
        cookies: Vec::new(),
        csrf: String::new(),
    };
    (server, b)
}

pub(crate) fn start(fake: &Fake, data: &Path) -> (Server, Browser) {
    start_with(fake, data, &[])
}

/// [`start`] with more environment for the server.
pub(crate) fn start_with(fake: &Fake, data: &Path, env: &[(&str, &str)]) -> (Server, Browser) {
    let (server, mut b) = serve(fake, data, env);
    b.get("/login");
    let r = b.post(
        "/login",
        &[
            ("name", "ada"),
            ("password", OWNER_PASSWORD),
            ("next", "/icloud"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    b.get("/icloud");
    (server, b)
}

pub(crate) fn set_up() -> (Fake, tempfile::TempDir, Server, Browser) {
    let fake = Fake::start();
    fake.add_account(ANNA, PASSWORD, "s2k");
    fake.world().populate(ANNA, "PrimarySync", 4, 0, 3000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut setup = command(
        &data,
        &["setup", "--owner", "ada", "--device-name", "attic"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    setup
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{OWNER_PASSWORD}\n").as_bytes())
        .unwrap();
    let out = setup.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let (server, b) = start(&fake, &data);
    (fake, dir, server, b)
}

/// Signs `ANNA` in through the pages: password, then the code on the device.
pub(crate) fn sign_in_with_code(b: &mut Browser) {
    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", PASSWORD)]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    assert!(r.body.contains("Text me a code instead"), "{}", r.body);
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "424242")]);
    assert!(
        r.body.contains(&format!("Signed in to iCloud as {ANNA}")),
        "{}",
        r.body
    );
}

/// "Sync now", then the iCloud page once the sync has finished.
pub(crate) fn sync_now(b: &mut Browser) -> String {
    let r = b.post("/icloud/sync", &[("apple_id", ANNA)]);
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/status"));
    let started = Instant::now();
    loop {
        let page = b.get("/icloud").body;
        if !page.contains("running now") && page.contains("ago: ") {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never ended: {page}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn last_sync(page: &str) -> &str {
    page.split("data-k=\"last-sync\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
}

#[test]
fn an_ended_trust_is_shown_and_signed_in_again_from_the_web() {
    let (fake, _dir, _server, mut b) = set_up();
    let page = b.get("/icloud").body;
    assert!(page.contains("No Apple ID on this box yet."), "{page}");
    sign_in_with_code(&mut b);
    assert_eq!(
        fake.world().pushes,
        1,
        "the code was pushed to the devices once"
    );

    let page = sync_now(&mut b);
    assert!(last_sync(&page).ends_with("ago: ok"), "{page}");
    assert!(page.contains("data-k=\"here\">4<"), "{page}");
    let status = b.get("/status").body;
    assert!(status.contains(&format!("iCloud sync {ANNA}")), "{status}");

    // Apple ends the session and the trust: the next sync needs a person.
    {
        let mut w = fake.world();
        w.web_tokens.clear();
        w.account(ANNA).trust_tokens.clear();
    }
    let page = sync_now(&mut b);
    assert!(
        page.contains("Needs sign-in: the two-factor trust of this box ended"),
        "{page}"
    );
    let home = b.get("/").body;
    assert!(
        home.contains(&format!("iCloud {ANNA} needs sign-in")),
        "the banner: {home}"
    );

    // Sign in again from the page, then the next sync pulls the new photos.
    sign_in_with_code(&mut b);
    assert!(
        !b.get("/").body.contains("needs sign-in"),
        "the banner is gone"
    );
    fake.world().populate(ANNA, "PrimarySync", 2, 500, 3000);
    let page = sync_now(&mut b);
    assert!(last_sync(&page).ends_with("ago: ok"), "{page}");
    assert!(page.contains("data-k=\"here\">6<"), "{page}");
}

#[test]
fn wrong_password_and_wrong_code_get_clear_messages_in_the_web() {
    let (fake, _dir, _server, mut b) = set_up();
    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", "not it")]);
    assert!(
        r.body
            .contains("Apple refused the password for anna@example.com"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("No Apple ID on this box yet."),
        "a refused sign-in leaves nothing"
    );
    assert_eq!(fake.world().signin_attempts, 1, "never retried by itself");

    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", PASSWORD)]);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "000000")]);
    assert!(
        r.body
            .contains("That code was not accepted. Apple sent a new one."),
        "{}",
        r.body
    );
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "sms")]);
    assert!(r.body.contains("text message"), "{}", r.body);
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "135790")]);
    assert!(
        r.body.contains("Signed in to iCloud as anna@example.com"),
        "{}",
        r.body
    );
    assert!(b.get("/icloud").body.contains(">Signed in<"));
}

#[test]
/// The wizard's sources step signs an Apple ID in (password, then the code) and lists it;
/// its sign-in routes are gone once the wizard is done.
fn the_wizard_signs_an_apple_id_in() {
    let fake = Fake::start();
    fake.add_account(ANNA, PASSWORD, "s2k");
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut b) = serve(&fake, &dir.path().join("data"), &[]);
    b.get("/setup/welcome");
    b.post("/setup/welcome", &[("choice", "fresh")]);
    b.get("/setup/owner");
    let r = b.post(
        "/setup/owner",
        &[
            ("name", "ada"),
            ("password", OWNER_PASSWORD),
            ("password2", OWNER_PASSWORD),
            ("device", "attic"),
            ("time_zone", "UTC"),
        ],
    );
    assert_eq!(r.location.as_deref(), Some("/setup/storage"), "{}", r.body);
    b.get("/setup/storage");
    b.post("/setup/storage", &[]);
    let page = b.get("/setup/sources").body;
    assert!(page.contains("action=\"/setup/icloud\""), "{page}");
    let r = b.post(
        "/setup/icloud",
        &[("apple_id", ANNA), ("password", "wrong")],
    );
    assert!(r.body.contains("Apple refused the password"), "{}", r.body);
    let r = b.post(
        "/setup/icloud",
        &[("apple_id", ANNA), ("password", PASSWORD)],
    );
    assert!(
        r.body.contains("action=\"/setup/icloud/code\""),
        "{}",
        r.body
    );
    let r = b.post(
        "/setup/icloud/code",
        &[("apple_id", ANNA), ("code", "424242")],
    );
    assert!(
        r.body.contains(&format!("Signed in to iCloud as {ANNA}"))
            && r.body.contains("Where photos come from"),
        "{}",
        r.body
    );
    assert!(r.body.contains(&format!("✓ {ANNA}")), "{}", r.body);
    assert_eq!(
        b.post("/setup/sources", &[]).location.as_deref(),
        Some("/setup/backup")
    );
    b.get("/setup/backup");
    b.post("/setup/backup", &[]);
    b.get("/setup/summary");
    assert_eq!(b.post("/setup/finish", &[]).location.as_deref(), Some("/"));
    let page = b.get("/icloud").body;
    assert!(page.contains(ANNA), "{page}");
    assert_eq!(
        b.post(
            "/setup/icloud",
            &[("apple_id", ANNA), ("password", PASSWORD)]
        )
        .status,
        404
    );
}
