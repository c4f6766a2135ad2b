//! The web app in-process (`Router::oneshot`, no port): wizard order and closing, sign-in,
//! roles, CSRF, throttling, access of every route, security headers, live progress.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use shoebox::http::{AppState, app, routes};
use tower::ServiceExt;

/// A browser in miniature: keeps cookies and the last CSRF token it saw in a form.
pub struct Client {
    state: AppState,
    cookies: Vec<(String, String)>,
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Client {
    pub fn new(dir: &Path) -> Self {
        let services = shoebox::app::services(dir).unwrap();
        Self {
            state: AppState(Arc::new(services)),
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let res: Response<Body> = app(self.state.clone()).oneshot(req).await.unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let first = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            self.csrf = rest[..rest.find('"').unwrap()].to_string();
        }
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A form post as our own page would send it (same origin, the page's CSRF token).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = format!("csrf={}", self.csrf);
        for (k, v) in fields {
            let _ = write!(body, "&{k}={}", enc(v));
        }
        self.post_raw(path, body, Some("http://shoebox.local"))
            .await
    }

    pub async fn post_raw(&mut self, path: &str, body: String, origin: Option<&str>) -> Page {
        let mut req = Request::post(path)
            .header(header::HOST, "shoebox.local")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, self.cookie_header());
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, _)| k == name)
    }

    pub fn forget_cookies(&mut self) {
        self.cookies.clear();
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub const OWNER_PW: &str = "correct horse battery staple";

/// Walks the wizard to the end as the owner "ada".
pub async fn set_up(c: &mut Client) {
    c.get("/setup/welcome").await;
    assert_eq!(
        c.post("/setup/welcome", &[("choice", "fresh")])
            .await
            .location
            .as_deref(),
        Some("/setup/owner")
    );
    c.get("/setup/owner").await;
    let p = c
        .post(
            "/setup/owner",
            &[
                ("name", "ada"),
                ("password", OWNER_PW),
                ("password2", OWNER_PW),
                ("device", "shoebox"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/setup/storage"), "{}", p.body);
    for (get, post, next) in [
        ("/setup/storage", "/setup/storage", "/setup/sources"),
        ("/setup/sources", "/setup/sources", "/setup/backup"),
        ("/setup/backup", "/setup/backup", "/setup/summary"),
        ("/setup/summary", "/setup/finish", "/"),
    ] {
        let page = c.get(get).await;
        assert_eq!(page.status, StatusCode::OK, "{get}: {}", page.body);
        assert_eq!(
            c.post(post, &[]).await.location.as_deref(),
            Some(next),
            "{post}"
        );
    }
}

#[tokio::test]
async fn wizard_runs_in_order_then_closes_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    // before an owner exists, every page leads to the wizard
    for path in ["/", "/status", "/users", "/login", "/setup"] {
        let p = c.get(path).await;
        assert!(p.status.is_redirection(), "{path}: {}", p.status);
    }
    assert_eq!(
        c.get("/setup").await.location.as_deref(),
        Some("/setup/welcome")
    );
    // skipping ahead is not possible
    assert_eq!(
        c.get("/setup/summary").await.location.as_deref(),
        Some("/setup/welcome")
    );
    c.get("/setup/welcome").await;
    // The restore branch can be left for a fresh library before anything was restored.
    let restore = c.post("/setup/welcome", &[("choice", "restore")]).await;
    assert_eq!(restore.location.as_deref(), Some("/setup/storage"));
    assert!(
        c.get("/setup/storage")
            .await
            .body
            .contains("Start fresh instead")
    );
    c.post("/setup/restore/fresh", &[]).await;
    assert_eq!(
        c.get("/setup").await.location.as_deref(),
        Some("/setup/owner")
    );
    c.post("/setup/welcome", &[("choice", "fresh")]).await;
    c.get("/setup/owner").await;
    let weak = c
        .post(
            "/setup/owner",
            &[
                ("name", "ada"),
                ("password", "abc"),
                ("password2", "abc"),
                ("device", "shoebox"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::OK);
    assert!(
        weak.body.contains("role=\"alert\""),
        "a weak password is refused with a hint"
    );
    // a reboot mid-wizard resumes where it was
    let mut again = Client::new_shared(&c);
    assert_eq!(
        again.get("/setup").await.location.as_deref(),
        Some("/setup/owner")
    );
    c.forget_cookies();
    let mut c = Client::new_shared(&again);
    set_up_from_owner(&mut c).await;
    // closed: every wizard URL is gone, and a second owner is impossible
    for path in [
        "/setup",
        "/setup/welcome",
        "/setup/owner",
        "/setup/storage",
        "/setup/summary",
    ] {
        assert_eq!(c.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let second = c
        .post(
            "/setup/owner",
            &[
                ("name", "eve"),
                ("password", OWNER_PW),
                ("password2", OWNER_PW),
                ("device", "x"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(second.status, StatusCode::NOT_FOUND);
    assert_eq!(c.state().accounts.users().unwrap().len(), 1);
    assert_eq!(c.get("/").await.status, StatusCode::OK);
}

impl Client {
    /// Another client on the same services (a second browser, or the same box after a restart).
    pub fn new_shared(other: &Client) -> Self {
        Self {
            state: other.state.clone(),
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }
}

async fn set_up_from_owner(c: &mut Client) {
    c.get("/setup/owner").await;
    let p = c
        .post(
            "/setup/owner",
            &[
                ("name", "Ada"),
                ("password", OWNER_PW),
                ("password2", OWNER_PW),
                ("device", "attic"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/setup/storage"), "{}", p.body);
    assert!(c.has_cookie("sb_session"));
    for (get, post) in [
        ("/setup/storage", "/setup/storage"),
        ("/setup/sources", "/setup/sources"),
        ("/setup/backup", "/setup/backup"),
        ("/setup/summary", "/setup/finish"),
    ] {
        c.get(get).await;
        assert!(c.post(post, &[]).await.status.is_redirection());
    }
}

#[tokio::test]
async fn every_route_but_the_public_ones_refuses_without_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut owner = Client::new(dir.path());
    set_up(&mut owner).await;
    let mut stranger = Client::new_shared(&owner);
    stranger.get("/login").await; // a real visitor has the sign-in page's token
    for (method, path, access) in routes::ROUTES {
        let concrete = path
            .replace("{file}", "nothing.css")
            .replace("{name}", "ada");
        let p = if *method == "GET" {
            stranger.get(&concrete).await
        } else {
            stranger.post(&concrete, &[]).await
        };
        match access {
            routes::Access::Public => assert_ne!(
                p.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{method} {path}"
            ),
            routes::Access::Login => assert!(
                p.status.is_success()
                    || p.status.is_redirection()
                    || p.status == StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path}: {}",
                p.status
            ),
            routes::Access::WizardOpen | routes::Access::Wizard => {
                assert_eq!(p.status, StatusCode::NOT_FOUND, "{method} {path}");
            }
            routes::Access::User | routes::Access::Admin => {
                let to_login = p
                    .location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("/login"));
                assert!(
                    to_login || p.status == StatusCode::UNAUTHORIZED,
                    "{method} {path} answered {} without a session",
                    p.status
                );
            }
        }
    }
}

#[tokio::test]
async fn sign_in_out_roles_and_throttling() {
    let dir = tempfile::tempdir().unwrap();
    let mut owner = Client::new(dir.path());
    set_up(&mut owner).await;
    owner
        .state()
        .accounts
        .add_user(
            "bob",
            "another long passphrase",
            shoebox::accounts::Role::Member,
        )
        .unwrap();
    let mut bob = Client::new_shared(&owner);
    bob.get("/login").await;
    let wrong = bob
        .post(
            "/login",
            &[
                ("name", "bob"),
                ("password", "nope nope nope"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong name or password"));
    let ok = bob
        .post(
            "/login",
            &[
                ("name", "bob"),
                ("password", "another long passphrase"),
                ("next", "/status"),
            ],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/status"));
    let cookie = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("sb_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(bob.get("/status").await.status, StatusCode::OK);
    assert_eq!(
        bob.get("/users").await.status,
        StatusCode::FORBIDDEN,
        "members do not manage people"
    );
    assert_eq!(bob.get("/import").await.status, StatusCode::FORBIDDEN);
    assert_eq!(owner.get("/users").await.status, StatusCode::OK);
    bob.get("/status").await;
    assert_eq!(
        bob.post("/logout", &[]).await.location.as_deref(),
        Some("/login")
    );
    assert!(
        bob.get("/status")
            .await
            .location
            .unwrap()
            .starts_with("/login")
    );
    // throttling: after five failures the box stops checking passwords for a while
    let mut mallory = Client::new_shared(&owner);
    mallory.get("/login").await;
    let mut last = StatusCode::OK;
    for _ in 0..7 {
        last = mallory
            .post(
                "/login",
                &[
                    ("name", "ada"),
                    ("password", "guess guess guess"),
                    ("next", "/"),
                ],
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let right = mallory
        .post(
            "/login",
            &[("name", "ada"), ("password", OWNER_PW), ("next", "/")],
        )
        .await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}

#[tokio::test]
async fn forms_without_the_token_or_from_another_site_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    set_up(&mut c).await;
    c.get("/users").await;
    let forged = c
        .post_raw(
            "/users",
            "csrf=0000&name=eve&password=aaaaaaaaaaaaaaa".into(),
            Some("http://shoebox.local"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let token = c.csrf.clone();
    let cross = c
        .post_raw(
            "/users",
            format!("csrf={token}&name=eve&password=long+enough+pass+phrase"),
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.state().accounts.users().unwrap().len(),
        1,
        "nothing was added"
    );
    let ok = c
        .post(
            "/users",
            &[("name", "eve"), ("password", "long enough pass phrase")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(c.state().accounts.users().unwrap().len(), 2);
}

#[tokio::test]
async fn security_headers_on_every_kind_of_response() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    for path in [
        "/",
        "/setup/welcome",
        "/no/such/page",
        &shoebox::http::assets::url("style.css"),
    ] {
        let p = c.get(path).await;
        let csp = p
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(p.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(p.headers.get("referrer-policy").is_some());
    }
    let css = c.get(&shoebox::http::assets::url("style.css")).await;
    assert!(
        css.headers
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

#[tokio::test]
async fn import_from_the_browser_shows_live_progress_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = Client::new(&data);
    set_up(&mut c).await;
    let photos = data.join("incoming"); // on the data disk, which the picker allows
    crate::harness::photo_folder(&photos, 6);
    let browse = c.get(&format!("/import?path={}", photos.display())).await;
    assert_eq!(browse.status, StatusCode::OK, "{}", browse.body);
    let outside = c.get("/import?path=/etc/../proc").await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);
    let start = c
        .post("/import", &[("path", photos.to_str().unwrap())])
        .await;
    assert_eq!(start.location.as_deref(), Some("/status"));
    // the live feed reports the job until it is finished
    let req = Request::get("/status/events")
        .header(header::COOKIE, c.cookie_header())
        .body(Body::empty())
        .unwrap();
    let res = app(c.state().clone()).oneshot(req).await.unwrap();
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    let mut body = res.into_body().into_data_stream();
    let mut finished = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
    while !finished && std::time::Instant::now() < deadline {
        use futures_util::StreamExt;
        let chunk = body.next().await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&chunk);
        if text.contains("event: status")
            && text.contains("\"name\":\"import\"")
            && text.contains("\"finished\":true")
        {
            assert!(text.contains("\"percent\":100"), "{text}");
            finished = true;
        }
    }
    assert!(finished, "the import never reported completion");
    let status = c.get("/api/status").await;
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(json["library"]["assets"], 9, "{json}");
    let page = c.get("/status").await;
    assert!(page.body.contains("finished"));
}

#[tokio::test]
async fn settings_change_the_box_and_refuse_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    set_up(&mut c).await;
    assert_eq!(c.get("/settings").await.status, StatusCode::OK);
    let bad = c
        .post(
            "/settings",
            &[
                ("device", "-bad-"),
                ("time_zone", "UTC"),
                ("retention", "30"),
            ],
        )
        .await;
    assert!(bad.body.contains("role=\"alert\""), "{}", bad.body);
    let ok = c
        .post(
            "/settings",
            &[("device", "Attic"), ("time_zone", "UTC"), ("retention", "")],
        )
        .await;
    assert!(ok.body.contains("Saved."));
    let s = c.state().settings.get().unwrap();
    assert_eq!(
        (s.device_name.as_str(), s.mdns, s.trash_retention_days),
        ("attic", false, None)
    );
    assert!(
        c.get("/status")
            .await
            .body
            .contains("<title>Status · attic</title>")
    );
}
