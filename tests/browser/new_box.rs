//! The first test's steps: a new box through the wizard, signing out and in, an import from
//! the browser with its live progress bar, the closed wizard, a phone-sized window.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use shoebox::system::disks;

use super::rig::Browser;
use super::{IMPORT, OWNER, PASSPHRASE, POLL, ZONE};

/// A new box sends every visitor to the wizard; it ends on the empty photos page.
pub async fn wizard(b: &Browser, data: &Path) {
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
    b.button("Skip for now").await.click().await.unwrap();

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
pub async fn owner_form(b: &Browser) -> String {
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
pub async fn sign_out_and_in(b: &Browser) {
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
pub async fn import_a_folder(b: &Browser, data: &Path) {
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
    assert!(
        count.ends_with("photos and videos.") || count == "1 photo or video.",
        "{count}"
    );
    println!("photos page: {listed} listed, {count:?}");
    b.shot("12-photos").await;
}

/// The wizard is closed for good: its addresses answer 404, like unknown ones.
pub async fn wizard_is_gone(b: &Browser) {
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

/// The Nextcloud app signs in as it does on a phone (login flow v2): it asks the box for a
/// flow, opens the flow's page in the browser, the person signs in there and allows it; the
/// app's poll then receives an app password, once, which works for its WebDAV calls.
pub async fn nextcloud_app_signs_in(b: &Browser) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = reqwest::Client::new();
    let agent = "Mozilla/5.0 (iOS) Nextcloud-iOS/6.1.0";
    let flow: serde_json::Value = app
        .post(format!("{}/index.php/login/v2", b.base()))
        .header("user-agent", agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login = flow["login"].as_str().unwrap().to_owned();
    let poll_url = flow["poll"]["endpoint"].as_str().unwrap().to_owned();
    let token = flow["poll"]["token"].as_str().unwrap().to_owned();
    let poll = || async {
        app.post(&poll_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        poll().await.status(),
        404,
        "granted before anyone allowed it"
    );

    // The app opens the page; the person is not signed in in that browser.
    b.goto("/").await;
    b.wait_path("/").await;
    b.button("Sign out").await.click().await.unwrap();
    b.wait_path("/login").await;
    b.client.goto(&login).await.unwrap();
    b.wait_path("/login").await;
    b.css("#f-name").await.send_keys(OWNER).await.unwrap();
    b.css("#f-password")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    b.button("Sign in").await.click().await.unwrap();
    let flow_path = login.split_once("127.0.0.1").unwrap().1;
    let flow_path = &flow_path[flow_path.find('/').unwrap()..];
    b.wait_path(flow_path).await;
    assert_eq!(b.h1().await, "Connect an app");
    let text = b.css("main").await.text().await.unwrap();
    assert!(
        text.contains("Nextcloud-iOS") && text.contains(OWNER),
        "{text}"
    );
    b.shot("14b-nextcloud-allow").await;
    b.button("Allow").await.click().await.unwrap();
    b.until("the app to be connected", || async {
        let text = b.css("main").await.text().await.ok()?;
        text.contains("Go back to the app").then_some(())
    })
    .await;
    b.shot("14c-nextcloud-connected").await;

    let answer = poll().await;
    assert_eq!(answer.status(), 200);
    let creds: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(creds["loginName"], OWNER);
    assert_eq!(creds["server"].as_str(), Some(b.base()));
    let password = creds["appPassword"].as_str().unwrap().to_owned();
    assert_eq!(
        poll().await.status(),
        404,
        "the password is handed out once"
    );
    let propfind = app
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{}/remote.php/dav/files/{OWNER}/", b.base()),
        )
        .basic_auth(OWNER, Some(&password))
        .header("depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(propfind.status().as_u16(), 207);
    // The Phone page lists it under the app's name, to revoke.
    b.goto("/phone").await;
    let text = b.css("main").await.text().await.unwrap();
    assert!(text.contains("Nextcloud-iOS"), "{text}");
}

/// The main pages on a phone-sized window, for the eye.
pub async fn on_a_phone(b: &Browser) {
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto("/").await;
    b.wait_path("/").await;
    b.shot("15-phone-photos").await;
    b.goto("/status").await;
    b.wait_css(".job[data-job] progress").await;
    b.shot("16-phone-status").await;
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
