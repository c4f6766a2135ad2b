//! The harness: chromedriver with headless Chromium, the real `shoebox serve` on a free port,
//! and a [`Browser`] with the few actions a person's steps need.

use std::fs::File;
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

use super::{POLL, STEP};

/// `chromedriver` and a Chromium/Chrome binary, when both are installed.
pub fn browser_tools() -> Option<(PathBuf, PathBuf)> {
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

pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
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
pub struct Rig {
    pub browser: Browser,
    _children: Children,
    pub data: tempfile::TempDir,
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
    /// Starts `shoebox serve` (with `env` added) on the library in `data` (which the rig then
    /// owns) and a browser.
    /// Screenshots go to `target/browser-screenshots/<name>/`.
    pub async fn start(
        name: &str,
        data: tempfile::TempDir,
        chromedriver: &Path,
        chromium: &Path,
        env: &[(&str, String)],
    ) -> Self {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
        let shots = target.join("browser-screenshots").join(name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
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
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
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
    pub async fn finish(self) {
        self.browser.client.clone().close().await.unwrap();
    }
}

/// The browser session with the few actions a person's steps need.
pub struct Browser {
    pub client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    /// `http://127.0.0.1:PORT` of the server.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Waits until the browser shows `path` (after a click that navigates).
    pub async fn wait_path(&self, path: &str) {
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

    /// Clicks `el` and waits for a new document at `path`, also when it is the page already
    /// showing (a form that posts and redirects back).
    pub async fn click_to(&self, el: Element, path: &str) {
        self.js("window.sbOldPage = true;").await;
        el.click().await.unwrap();
        self.until(&format!("a new page at {path}"), || async {
            let old = self.js("return window.sbOldPage === true;").await;
            (old == json!(false)).then_some(())
        })
        .await;
        self.wait_path(path).await;
    }

    /// Polls `probe` until it answers, failing after [`STEP`].
    pub async fn until<T, F, Fut>(&self, what: &str, mut probe: F) -> T
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

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    pub async fn css(&self, selector: &str) -> Element {
        let found = self.client.find(Locator::Css(selector)).await;
        self.found(found, selector).await
    }

    pub async fn wait_css(&self, selector: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(selector))
            .await;
        self.found(found, selector).await
    }

    pub async fn all(&self, selector: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(selector)).await.unwrap()
    }

    pub async fn exists(&self, selector: &str) -> bool {
        !self.all(selector).await.is_empty()
    }

    /// The button a person would click, by its visible words.
    pub async fn button(&self, words: &str) -> Element {
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
    pub async fn fact(&self, label: &str) -> String {
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
    pub async fn found<T>(&self, lookup: Result<T, CmdError>, what: &str) -> T {
        match lookup {
            Ok(v) => v,
            Err(e) => {
                let here = self.here().await;
                self.shot("failed").await;
                panic!("no {what} on {here}: {e}");
            }
        }
    }

    pub async fn h1(&self) -> String {
        self.css("h1").await.text().await.unwrap()
    }

    pub async fn title(&self) -> String {
        self.client.title().await.unwrap()
    }

    pub async fn here(&self) -> String {
        self.client
            .current_url()
            .await
            .map_or_else(|e| e.to_string(), |u| u.to_string())
    }

    /// Saves what the browser shows as `<step>.png`.
    pub async fn shot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{step}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

/// A new library folder. It sits on the build disk, like the corpus, so the import page may
/// read it.
pub fn library_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}
