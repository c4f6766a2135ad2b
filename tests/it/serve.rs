//! The real binary as the appliance runs it: scripted setup, `serve` on a port, sign-in over
//! HTTP, and a clean stop on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{command, stdout};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange; returns (status line + headers, body).
fn http(port: u16, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.to_string(), body.to_string())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        l.split_once(": ")
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn with_stdin(data: &std::path::Path, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = command(data, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn start(data: &std::path::Path) -> (Server, u16) {
    let port = free_port();
    let child = command(
        data,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-mdns",
        ],
    )
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

/// Signs in as a browser would (the sign-in page's cookie and token); returns the session cookie.
fn sign_in(port: u16, name: &str, password: &str) -> String {
    let (head, body) = http(
        port,
        "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let pre = header(&head, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let form = format!(
        "csrf={token}&name={name}&password={}&next=%2Fstatus",
        password.replace(' ', "+")
    );
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nCookie: {pre}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let (head, _) = http(port, &req);
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    assert_eq!(header(&head, "location"), Some("/status"));
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find(|c| c.starts_with("sb_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn scripted_setup_and_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = with_stdin(
        &data,
        &[
            "setup",
            "--owner",
            "ada",
            "--device-name",
            "attic",
            "--timezone",
            "UTC",
        ],
        b"correct horse battery staple\n",
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        with_stdin(&data, &["user", "add", "bob"], b"another long passphrase\n")
            .status
            .success()
    );
    let weak = with_stdin(&data, &["user", "add", "carol"], b"123\n");
    assert!(!weak.status.success(), "a weak password is refused");
    let list = crate::harness::shoebox(&data, &["user", "list"]);
    assert_eq!(stdout(&list), "ada\tadministrator\towner\nbob\tmember\n");
    // a second setup is refused: the wizard's job is done
    assert!(
        !with_stdin(
            &data,
            &["setup", "--owner", "eve"],
            b"correct horse battery staple\n"
        )
        .status
        .success()
    );
    assert!(
        with_stdin(&data, &["user", "remove", "bob"], b"")
            .status
            .success()
    );
    assert_eq!(
        stdout(&crate::harness::shoebox(&data, &["user", "list"])),
        "ada\tadministrator\towner\n"
    );
}

#[test]
fn serve_answers_signs_in_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(
        with_stdin(
            &data,
            &["setup", "--owner", "ada", "--device-name", "attic"],
            b"correct horse battery staple\n"
        )
        .status
        .success()
    );
    let (mut server, port) = start(&data);
    let (head, _) = http(
        port,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    assert_eq!(header(&head, "location"), Some("/login?next=/"));
    assert_eq!(
        http(
            port,
            "GET /setup/welcome HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .0
        .split(' ')
        .nth(1),
        Some("404")
    );
    let session = sign_in(port, "ada", "correct horse battery staple");
    let (head, body) = http(
        port,
        &format!(
            "GET /api/status HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("\"device\":\"attic\""), "{body}");

    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &server.0.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(crate::harness::shoebox(&data, &["check"]).status.success());
    // sessions survive a restart
    let (_server, port) = start(&data);
    let (head, _) = http(
        port,
        &format!(
            "GET /status HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}
