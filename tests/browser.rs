//! The web app in a real browser: headless Chromium, driven through chromedriver, against the
//! real `shoebox serve` on a free port. It walks what a person does on a new box: the wizard
//! (with the live password meter), signing out and in, importing a folder from the browser and
//! watching its progress bar fill over Server-Sent Events, then the photos page. Every step
//! saves a screenshot to `target/browser-screenshots/<step>.png`.
//!
//! Needs `chromium` and `chromedriver` on the `PATH` (Debian: `chromium chromium-driver`). Without
//! them the test says so and passes, unless `SHOEBOX_REQUIRE_BROWSER=1` (CI) makes it fail.

// A test and its helpers: a failed step stops the test with its message, which is what
// unwrap, expect and panic are for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use shoebox::system::disks;

const OWNER: &str = "ada";
const PASSPHRASE: &str = "correct horse battery staple";
const ZONE: &str = "Europe/Berlin";
/// How long one page or element may take to appear.
const STEP: Duration = Duration::from_secs(20);
/// How long the import may take (the shared corpus is ~60 MB; CI machines are slow).
const IMPORT: Duration = Duration::from_mins(5);
const POLL: Duration = Duration::from_millis(100);

#[tokio::test]
async fn a_new_box_in_a_real_browser() {
    let Some((chromedriver, chromium)) = browser_tools() else {
        let msg = "the browser test cannot run: `chromium` and `chromedriver` are not on the PATH \
                   (Debian: apt-get install chromium chromium-driver)";
        assert!(
            std::env::var("SHOEBOX_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "{msg}, and SHOEBOX_REQUIRE_BROWSER=1 says it must"
        );
        // straight to stderr, past the test harness's capture, so a plain `cargo test` shows it
        let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
        return;
    };
    let started = Instant::now();
    let rig = Rig::start(&chromedriver, &chromium).await;
    let b = &rig.browser;
    wizard(b, rig.data.path()).await;
    sign_out_and_in(b).await;
    import_a_folder(b, rig.data.path()).await;
    wizard_is_gone(b).await;
    on_a_phone(b).await;
    rig.finish().await;
    println!("browser test took {:.1} s", started.elapsed().as_secs_f64());
}

/// A new box sends every visitor to the wizard; it ends on the empty photos page.
async fn wizard(b: &Browser, data: &Path) {
    b.goto("/").await;
    b.wait_path("/setup/welcome").await;
    assert_eq!(b.h1().await, "Welcome to your shoebox");
    b.shot("01-welcome").await;
    b.button("Start fresh").await.click().await.unwrap();

    b.wait_path("/setup/owner").await;
    assert_eq!(b.h1().await, "Your account");
    let zone = owner_form(b).await;
    b.shot("02-owner").await;
    b.button("Create account").await.click().await.unwrap();

    // Storage: the library folder and its free space.
    b.wait_path("/setup/storage").await;
    assert_eq!(b.h1().await, "Storage");
    let folder = b.fact("Folder").await;
    let canonical = data.canonicalize().unwrap();
    assert!(
        folder == data.display().to_string() || folder == canonical.display().to_string(),
        "storage shows folder {folder:?}, the box uses {}",
        data.display()
    );
    let free = b.fact("Free").await;
    assert!(
        free.ends_with('B') && free.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "free space: {free:?}"
    );
    println!("storage: {folder}, {free} free");
    b.shot("03-storage").await;
    b.button("Use this folder").await.click().await.unwrap();

    // Sources and backup: cards, then Continue.
    b.wait_path("/setup/sources").await;
    assert_eq!(b.h1().await, "Where photos come from");
    b.shot("04-sources").await;
    b.button("Continue").await.click().await.unwrap();
    b.wait_path("/setup/backup").await;
    assert_eq!(b.h1().await, "Off-site backup");
    b.shot("05-backup").await;
    b.button("Continue").await.click().await.unwrap();

    // Summary: what was chosen.
    b.wait_path("/setup/summary").await;
    assert_eq!(b.h1().await, "All set");
    assert_eq!(b.fact("Owner").await, OWNER);
    assert_eq!(b.fact("Box name").await, "attic.local");
    assert_eq!(b.fact("Time zone").await, zone);
    b.shot("06-summary").await;
    b.button("Open my photos").await.click().await.unwrap();

    // The empty library says how to bring photos in.
    b.wait_path("/").await;
    assert_eq!(b.h1().await, "Photos");
    let cta = b.css("a.button.primary[href='/import']").await;
    assert_eq!(cta.text().await.unwrap(), "Import a folder");
    assert!(cta.is_displayed().await.unwrap());
    assert!(
        b.title().await.ends_with("attic"),
        "the box's name is in the title"
    );
    b.shot("07-photos-empty").await;
}

/// Fills the owner form, watching the strength meter while the passphrase is typed. Returns
/// the chosen time zone.
async fn owner_form(b: &Browser) -> String {
    b.css("#f-name").await.send_keys(OWNER).await.unwrap();
    let meter = b.css("meter.strength").await;
    assert!(
        !meter.is_displayed().await.unwrap(),
        "the meter is hidden before typing"
    );
    b.css("#f-password")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    let strength = b
        .until("the strength meter to show a good score", || async {
            let v = b
                .js("const m = document.querySelector('meter.strength'); return m.hidden ? null : m.value;")
                .await;
            v.as_f64().filter(|s| *s >= 2.0)
        })
        .await;
    assert!(meter.is_displayed().await.unwrap());
    let hint = b.css(".strength-hint").await.text().await.unwrap();
    println!("strength meter: {strength} ({hint})");
    assert!(hint == "Good." || hint == "Strong.", "hint: {hint}");
    b.css("#f-password2")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    let device = b.css("#f-device").await;
    device.clear().await.unwrap();
    device.send_keys("attic").await.unwrap();
    let zones = b.css("#f-tz").await;
    if b.exists(&format!("#f-tz option[value='{ZONE}']")).await {
        zones.select_by_value(ZONE).await.unwrap();
        ZONE.to_string()
    } else {
        // a machine without tzdata offers only its fallback zone(s)
        zones.prop("value").await.unwrap().unwrap_or_default()
    }
}

/// "Sign out" in the navigation, then the sign-in form.
async fn sign_out_and_in(b: &Browser) {
    b.button("Sign out").await.click().await.unwrap();
    b.wait_path("/login").await;
    assert_eq!(b.h1().await, "Sign in");
    assert!(!b.exists("nav.nav").await, "no navigation when signed out");
    b.css("#f-name").await.send_keys(OWNER).await.unwrap();
    b.css("#f-password")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    b.shot("08-sign-in").await;
    b.button("Sign in").await.click().await.unwrap();
    b.wait_path("/").await;
    assert_eq!(b.h1().await, "Photos");
    let me = b.css("nav.nav a[href='/account']").await;
    assert_eq!(me.text().await.unwrap(), OWNER);
}

/// The folder browser, the start button, the live progress bar, then the photos page.
async fn import_a_folder(b: &Browser, data: &Path) {
    let source = import_source(data);
    println!("importing {}", source.display());
    b.goto(&format!(
        "/import?path={}",
        urlencode(&source.display().to_string())
    ))
    .await;
    assert_eq!(b.h1().await, "Import photos");
    let shown = b.css(".card code").await.text().await.unwrap();
    assert_eq!(
        shown,
        source.display().to_string(),
        "the folder being browsed"
    );
    b.shot("09-import").await;
    b.button("Import this folder").await.click().await.unwrap();
    let clicked = Instant::now();

    // The status page fills the job's bar live (Server-Sent Events, no reload).
    b.wait_path("/status").await;
    assert_eq!(b.h1().await, "Status");
    let bar = b.wait_css(".job[data-job] progress").await;
    let at_load = bar.attr("value").await.unwrap().unwrap_or_default();
    b.shot("10-status-importing").await;
    // Blank what the server rendered, so only the live feed can bring the figures back; the
    // marker on `window` shows the page was never reloaded.
    b.js("window.sbNoReload = true;
          document.querySelector('.job[data-job] progress').value = 0;
          document.querySelector('.job[data-job] .job-state').textContent = '';
          document.querySelector('[data-k=photos]').textContent = '';")
        .await;
    let mut seen_running = at_load != "100";
    let deadline = Instant::now() + IMPORT;
    loop {
        let state = b
            .js("const j = document.querySelector('.job[data-job]');
                 return [j.querySelector('progress').value, j.querySelector('.job-state').textContent,
                         document.querySelector('[data-k=photos]').textContent, window.sbNoReload === true];")
            .await;
        let (value, label, photos) = (state[0].as_f64(), state[1].as_str(), state[2].as_str());
        assert_eq!(state[3], json!(true), "the status page reloaded");
        seen_running |= label == Some("running");
        if value == Some(100.0) && label == Some("finished") && photos != Some("") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not finish within {IMPORT:?}: progress {value:?}, state {label:?}"
        );
        tokio::time::sleep(POLL).await;
    }
    println!(
        "import finished {:.1} s after the click (bar at {at_load}% when the page loaded; \
         running state seen live: {seen_running})",
        clicked.elapsed().as_secs_f64()
    );
    let photos: u64 = b
        .css("[data-k=photos]")
        .await
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(photos > 0, "the library counts the imported photos");
    let items = b
        .css(".job[data-job] [data-k=items]")
        .await
        .text()
        .await
        .unwrap();
    println!("status: {photos} photos, job: {items}");
    b.shot("11-status-finished").await;

    // The photos page lists them.
    b.css("nav.nav a[href='/']").await.click().await.unwrap();
    b.wait_path("/").await;
    let listed = b.all("li.tile img").await.len();
    assert!(listed > 0, "the photos page shows a thumbnail per asset");
    let count = b.css("main p.muted").await.text().await.unwrap();
    assert!(count.ends_with("photos and videos."), "{count}");
    println!("photos page: {listed} listed, {count:?}");
    b.shot("12-photos").await;
}

/// The wizard is closed for good: its addresses answer 404, like unknown ones.
async fn wizard_is_gone(b: &Browser) {
    let gone = [
        ("/setup/welcome", "13-wizard-gone"),
        ("/no/such/page", "14-unknown-page"),
    ];
    // asked from a page of the box, before an error page (another origin) is showing
    for (path, _) in gone {
        let script = format!("return fetch('{path}').then(r => r.status);");
        assert_eq!(b.js(&script).await, json!(404), "{path}");
    }
    for (path, step) in gone {
        b.goto(path).await;
        // shoebox's own page, not the browser's: the closed wizard looks like any missing page
        let heading = b.h1().await;
        assert!(heading.starts_with("404"), "{path}: {heading}");
        let text = b.css("main").await.text().await.unwrap();
        assert!(text.contains("Not found."), "{path}: {text}");
        b.shot(step).await;
    }
}

/// The main pages on a phone-sized window, for the eye.
async fn on_a_phone(b: &Browser) {
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto("/").await;
    b.wait_path("/").await;
    b.shot("15-phone-photos").await;
    b.goto("/status").await;
    b.wait_css(".job[data-job] progress").await;
    b.shot("16-phone-status").await;
}

/// `chromedriver` and a Chromium/Chrome binary, when both are installed.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let driver = on_path("chromedriver")?;
    let browser = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .into_iter()
    .find_map(on_path)?;
    Some((driver, browser))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The folder to import: the shared test corpus next to the crate when there is one, else the
/// committed fixtures; either only if the box's folder browser may show it (it is on the library's
/// disk or under `$HOME`), else a copy of the fixtures in the library's folder.
fn import_source(data: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roots = disks::allowed_roots(data);
    let readable = |p: &Path| p.is_dir() && disks::list_dir(&roots, p).is_ok();
    let fixtures = root.join("tests/fixtures/media");
    if let Some(dir) = [root.join("../shared/corpus"), fixtures.clone()]
        .into_iter()
        .find(|p| readable(p))
    {
        return dir.canonicalize().unwrap();
    }
    let copy = data.join("incoming"); // on the library's disk, which the browser may show
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    copy.canonicalize().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`, failing early if `child` died.
async fn wait_listening(port: u16, child: &mut Child, what: &str, log: &Path) {
    let deadline = Instant::now() + STEP;
    loop {
        if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{what} exited ({status}) before listening:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{what} is not listening on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The processes and folders of one run. Dropping it (also on a failed assertion) stops the
/// processes, then removes the folders.
struct Rig {
    browser: Browser,
    _children: Children,
    data: tempfile::TempDir,
    _profile: tempfile::TempDir,
}

/// Processes stopped when dropped, from the moment they are started: the server, and
/// chromedriver's whole process group (it and the browser it started).
#[derive(Default)]
struct Children(Vec<(Child, bool)>);

impl Children {
    fn add(&mut self, child: Child, whole_group: bool) -> &mut Child {
        self.0.push((child, whole_group));
        &mut self.0.last_mut().unwrap().0
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (child, whole_group) in &mut self.0 {
            if *whole_group {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Rig {
    async fn start(chromedriver: &Path, chromium: &Path) -> Self {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
        let shots = target.join("browser-screenshots");
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        // The library sits on the build disk, like the corpus, so the import page may read it.
        let data = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let profile = tempfile::tempdir().unwrap();

        let server_port = free_port();
        let server_log = shots.join("server.log");
        let log = File::create(&server_log).unwrap();
        let mut children = Children::default();
        let server = Command::new(env!("CARGO_BIN_EXE_shoebox"))
            .arg("--data")
            .arg(data.path())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{server_port}"),
                "--no-mdns",
            ])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = children.add(server, false);
        wait_listening(server_port, server, "shoebox serve", &server_log).await;

        let driver_port = free_port();
        let driver_log = shots.join("chromedriver.log");
        // Its own process group, so that Drop can stop it together with the browser.
        let driver = Command::new(chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdin(Stdio::null())
            .stdout(File::create(&driver_log).unwrap())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let driver = children.add(driver, true);
        wait_listening(driver_port, driver, "chromedriver", &driver_log).await;

        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start {}: {e}\n{}",
                    chromium.display(),
                    std::fs::read_to_string(&driver_log).unwrap_or_default()
                )
            });
        Self {
            browser: Browser {
                client,
                base: format!("http://127.0.0.1:{server_port}"),
                shots,
            },
            _children: children,
            data,
            _profile: profile,
        }
    }

    /// Closes the browser session cleanly; Drop does the rest.
    async fn finish(self) {
        self.browser.client.clone().close().await.unwrap();
    }
}

/// The browser session with the few actions a person's steps need.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Waits until the browser shows `path` (after a click that navigates).
    async fn wait_path(&self, path: &str) {
        let url = self
            .until(&format!("the browser to reach {path}"), || async {
                let url = self.client.current_url().await.ok()?;
                (url.path() == path).then_some(url)
            })
            .await;
        // The document of the new page, not the old one unloading.
        self.until(&format!("{url} to finish loading"), || async {
            let ready = self.js("return document.readyState").await;
            (ready == "complete").then_some(())
        })
        .await;
    }

    /// Polls `probe` until it answers, failing after [`STEP`].
    async fn until<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            if Instant::now() > deadline {
                let url = self.client.current_url().await.ok();
                self.shot("failed").await;
                panic!("timed out waiting for {what} (at {url:?})");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    async fn css(&self, selector: &str) -> Element {
        let found = self.client.find(Locator::Css(selector)).await;
        self.found(found, selector).await
    }

    async fn wait_css(&self, selector: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(selector))
            .await;
        self.found(found, selector).await
    }

    async fn all(&self, selector: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(selector)).await.unwrap()
    }

    async fn exists(&self, selector: &str) -> bool {
        !self.all(selector).await.is_empty()
    }

    /// The button a person would click, by its visible words.
    async fn button(&self, words: &str) -> Element {
        let xpath =
            format!("//button[normalize-space(.)='{words}' or normalize-space(strong)='{words}']");
        let button = self.client.find(Locator::XPath(&xpath)).await;
        let button = self.found(button, &format!("button {words:?}")).await;
        assert!(
            button.is_displayed().await.unwrap(),
            "button {words:?} is hidden"
        );
        assert!(
            button.is_enabled().await.unwrap(),
            "button {words:?} is disabled"
        );
        button
    }

    /// The value next to a label in a `dl.facts` list.
    async fn fact(&self, label: &str) -> String {
        let xpath = format!(
            "//dl[contains(@class,'facts')]/dt[normalize-space(.)='{label}']/following-sibling::dd[1]"
        );
        let fact = self.client.find(Locator::XPath(&xpath)).await;
        self.found(fact, &format!("fact {label:?}"))
            .await
            .text()
            .await
            .unwrap()
    }

    /// The value of a lookup, or a screenshot and a panic saying what is missing where.
    async fn found<T>(&self, lookup: Result<T, CmdError>, what: &str) -> T {
        match lookup {
            Ok(v) => v,
            Err(e) => {
                let here = self.here().await;
                self.shot("failed").await;
                panic!("no {what} on {here}: {e}");
            }
        }
    }

    async fn h1(&self) -> String {
        self.css("h1").await.text().await.unwrap()
    }

    async fn title(&self) -> String {
        self.client.title().await.unwrap()
    }

    async fn here(&self) -> String {
        self.client
            .current_url()
            .await
            .map_or_else(|e| e.to_string(), |u| u.to_string())
    }

    /// Saves what the browser shows as `<step>.png`.
    async fn shot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{step}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}
