//! Notifications from the real `shoebox serve`: a webhook receiver and a real SMTP server
//! (`aiosmtpd`, Debian's `python3-aiosmtpd`) on 127.0.0.1 get the "send a test" messages and
//! one message per iCloud episode (needs sign-in), kept across a restart; a wrong SMTP port
//! is named on the page. Skipped without aiosmtpd unless `SHOEBOX_REQUIRE_TOOLS=1`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::icloud_web::{ANNA, Browser, last_sync, set_up, sign_in_with_code, start, sync_now};

/// What a webhook receiver got: (Title header, body) per request.
pub(crate) type Got = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on 127.0.0.1 answering 200 to every POST.
pub(crate) fn receiver() -> (String, Got) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: Got = Arc::default();
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let request = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                    };
                    let len: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        break Some((header("title").unwrap_or_default(), body.to_string()));
                    }
                }
            };
            if let Some(r) = request {
                seen.lock().unwrap().push(r);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, got)
}

/// A Python that has aiosmtpd (Debian's package is for the system Python).
fn aiosmtpd_python() -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("SHOEBOX_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "aiosmtpd (python3-aiosmtpd) is required (SHOEBOX_REQUIRE_TOOLS=1) but missing"
        );
        println!("skipped: aiosmtpd (python3-aiosmtpd) is not installed");
    }
    found
}

/// A real SMTP server on 127.0.0.1 delivering into a maildir.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start(python: &str, dir: &Path) -> Self {
        Self::start_with(python, dir, &[])
    }

    /// With more aiosmtpd options (`--tlscert` for STARTTLS, `--smtpscert` for TLS).
    fn start_with(python: &str, dir: &Path, extra: &[&str]) -> Self {
        let port = free_port();
        let maildir = dir.join("maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(extra)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            port,
            maildir,
        }
    }

    /// Every message delivered, decoded (subject line, body), oldest first.
    fn messages(&self) -> Vec<(String, String)> {
        let mut files: Vec<_> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| {
                let raw = std::fs::read_to_string(p).unwrap().replace("\r\n", "\n");
                let (head, body) = raw.split_once("\n\n").unwrap();
                let subject = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or_default()
                    .to_string();
                let body = if head.contains("quoted-printable") {
                    unquote(body)
                } else {
                    body.to_string()
                };
                (subject, body)
            })
            .collect()
    }
}

/// Quoted-printable to text (what the mail client would show).
fn unquote(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn save_email(b: &mut Browser, port: u16) -> String {
    b.post(
        "/notifications/email",
        &[
            ("host", "127.0.0.1"),
            ("port", &port.to_string()),
            ("security", "none"),
            ("user", ""),
            ("password", ""),
            ("from", "shoebox@attic.example"),
            ("to", "ada@example.com"),
        ],
    )
    .body
}

/// Email: an unencrypted server elsewhere is refused; a wrong port is named; then it works.
fn email_channel_works(b: &mut Browser, smtp: &Smtp) {
    let r = b.post(
        "/notifications/email",
        &[
            ("host", "mail.example.com"),
            ("port", "25"),
            ("security", "none"),
            ("from", "shoebox@attic.example"),
            ("to", "ada@example.com"),
        ],
    );
    assert!(r.body.contains("only to this machine"), "{}", r.body);
    let closed = free_port();
    assert!(save_email(b, closed).contains("Saved."));
    let r = b.post("/notifications/email/test", &[]);
    assert!(
        r.body.contains("The test email failed")
            && r.body.contains(&format!(
                "could not talk to a mail server at 127.0.0.1:{closed}"
            )),
        "{}",
        r.body
    );
    assert!(save_email(b, smtp.port).contains("Saved."));
    let r = b.post("/notifications/email/test", &[]);
    assert!(r.body.contains("Test email sent."), "{}", r.body);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].0, "shoebox: test notification");
}

#[test]
fn push_and_email_tell_once_per_episode_and_test_buttons_work() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let (fake, dir, server, mut b) = set_up();
    let smtp = Smtp::start(python, dir.path());
    let (hook, got) = receiver();

    // Push: saved, then the test button delivers.
    let page = b.get("/notifications").body;
    assert!(page.contains("action=\"/notifications/push\""), "{page}");
    let r = b.post("/notifications/push", &[("url", "http://192.0.2.1/hook")]);
    assert!(r.body.contains("only to this machine"), "{}", r.body);
    let r = b.post("/notifications/push", &[("url", &hook)]);
    assert!(r.body.contains("Saved."), "{}", r.body);
    let r = b.post("/notifications/push/test", &[]);
    assert!(r.body.contains("Test push sent."), "{}", r.body);
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "shoebox: test notification");
        assert!(
            got[0].1.contains("This is a test from your shoebox"),
            "{:?}",
            got[0]
        );
    }

    email_channel_works(&mut b, &smtp);

    // A working Apple ID sends nothing.
    sign_in_with_code(&mut b);
    let page = sync_now(&mut b);
    assert!(last_sync(&page).ends_with("ago: ok"), "{page}");
    assert_eq!(got.lock().unwrap().len(), 1);

    // Apple ends the trust: one message on each channel, saying who, what and where.
    {
        let mut w = fake.world();
        w.web_tokens.clear();
        w.account(ANNA).trust_tokens.clear();
    }
    sync_now(&mut b);
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].0.contains(ANNA), "{:?}", got[1]);
        assert!(
            got[1].1.contains("needs sign-in") && got[1].1.contains("http://x/icloud"),
            "{:?}",
            got[1]
        );
    }
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(
        mails[1].0,
        format!("shoebox: sign in to iCloud again for {ANNA}")
    );
    assert!(
        mails[1].1.contains("Sign in again") && mails[1].1.contains("open http://x/icloud"),
        "{}",
        mails[1].1
    );

    // Failing again, and again after a restart: still the same episode, nothing more.
    sync_now(&mut b);
    drop(server);
    let (_server, mut b) = start(&fake, &dir.path().join("data"));
    sync_now(&mut b);
    assert_eq!(got.lock().unwrap().len(), 2);
    assert_eq!(smtp.messages().len(), 2);

    // Recovered (signed in, a sync works), then broken again: a second message.
    sign_in_with_code(&mut b);
    let page = sync_now(&mut b);
    assert!(last_sync(&page).ends_with("ago: ok"), "{page}");
    assert_eq!(got.lock().unwrap().len(), 2);
    {
        let mut w = fake.world();
        w.web_tokens.clear();
        w.account(ANNA).trust_tokens.clear();
    }
    sync_now(&mut b);
    assert_eq!(got.lock().unwrap().len(), 3);
    assert_eq!(smtp.messages().len(), 3);
}

/// A webhook receiver over HTTPS on 127.0.0.1 (as `localhost`), with a certificate from a
/// throwaway CA; returns its URL, the CA's PEM and what it got (bodies).
fn tls_receiver() -> (String, String, Got) {
    let (ca, config) = crate::fake_icloud::tls::make_certs_for(&["localhost"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}/hook",
        listener.local_addr().unwrap().port()
    );
    listener.set_nonblocking(true).unwrap();
    let got: Got = Arc::default();
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |body: String| {
                    seen.lock().unwrap().push((String::new(), body));
                    async { "ok" }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            crate::fake_icloud::tls::serve(listener, config, app).await;
        });
    });
    (url, ca, got)
}

#[test]
fn push_notifications_trust_the_extra_ca_file() {
    let (fake, dir, server, mut b) = set_up();
    let (hook, ca, got) = tls_receiver();
    let r = b.post("/notifications/push", &[("url", &hook)]);
    assert!(r.body.contains("Saved."), "{}", r.body);
    // Without the CA the receiver's certificate is refused.
    let r = b.post("/notifications/push/test", &[]);
    assert!(r.body.contains("not delivered"), "{}", r.body);
    assert!(got.lock().unwrap().is_empty());
    drop(server);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let ca_path = ca_file.to_string_lossy().to_string();
    let (_server, mut b) = crate::icloud_web::start_with(
        &fake,
        &dir.path().join("data"),
        &[("SHOEBOX_EXTRA_CA_FILE", &ca_path)],
    );
    b.get("/notifications");
    let r = b.post("/notifications/push/test", &[]);
    assert!(r.body.contains("Test push sent."), "{}", r.body);
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// Saves an encrypted email channel to `localhost:port` and presses "Send a test email".
fn test_email_over(b: &mut Browser, port: u16, security: &str) -> String {
    let r = b.post(
        "/notifications/email",
        &[
            ("host", "localhost"),
            ("port", &port.to_string()),
            ("security", security),
            ("user", ""),
            ("password", ""),
            ("from", "shoebox@attic.example"),
            ("to", "ada@example.com"),
        ],
    );
    assert!(r.body.contains("Saved."), "{}", r.body);
    b.post("/notifications/email/test", &[]).body
}

#[test]
fn email_over_starttls_and_tls_checks_the_certificate_and_trusts_the_extra_ca_file() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let (fake, dir, server, mut b) = set_up();
    let certs = crate::fake_icloud::tls::make_pem_for(&["localhost"]);
    let (chain, key, ca) = (
        dir.path().join("chain.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&chain, &certs.chain).unwrap();
    std::fs::write(&key, &certs.key).unwrap();
    std::fs::write(&ca, &certs.ca).unwrap();
    let (chain, key) = (chain.to_str().unwrap(), key.to_str().unwrap());
    for server in ["starttls", "tls"] {
        std::fs::create_dir_all(dir.path().join(server)).unwrap();
    }
    // A server that insists on STARTTLS, and one that speaks TLS from the first byte.
    let starttls = Smtp::start_with(
        python,
        &dir.path().join("starttls"),
        &["--tlscert", chain, "--tlskey", key],
    );
    let tls = Smtp::start_with(
        python,
        &dir.path().join("tls"),
        &["--smtpscert", chain, "--smtpskey", key],
    );

    // The certificate is from a CA the box does not know: refused, nothing delivered.
    for (smtp, security) in [(&starttls, "starttls"), (&tls, "tls")] {
        let page = test_email_over(&mut b, smtp.port, security);
        assert!(
            page.contains("The test email failed")
                && page.contains("a certificate this box does not trust"),
            "{security}: {page}"
        );
        assert!(smtp.messages().is_empty(), "{security}");
    }

    drop(server);
    let ca = ca.to_string_lossy().to_string();
    let (_server, mut b) = crate::icloud_web::start_with(
        &fake,
        &dir.path().join("data"),
        &[("SHOEBOX_EXTRA_CA_FILE", &ca)],
    );
    b.get("/notifications");
    for (smtp, security) in [(&starttls, "starttls"), (&tls, "tls")] {
        let page = test_email_over(&mut b, smtp.port, security);
        assert!(page.contains("Test email sent."), "{security}: {page}");
        let mails = smtp.messages();
        assert_eq!(mails.len(), 1, "{security}: {mails:?}");
        assert_eq!(mails[0].0, "shoebox: test notification");
    }
    // Plain SMTP to a server that requires STARTTLS is refused by the server, not sent in clear.
    let page = test_email_over(&mut b, starttls.port, "none");
    assert!(page.contains("The test email failed"), "{page}");
    assert_eq!(starttls.messages().len(), 1);
}
