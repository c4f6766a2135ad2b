//! The web app in a real browser: headless Chromium, driven through chromedriver, against the
//! real `shoebox serve` on a free port. Two walks through it, each saving a screenshot of every
//! step to `target/browser-screenshots/<test>/<step>.png`:
//!
//! - `new-box`: what a person does on a new box: the wizard (with the live password meter),
//!   signing out and in, importing a folder from the browser and watching its progress bar fill
//!   over Server-Sent Events, then the photos page; then the Nextcloud app's sign-in (login flow
//!   v2): the page it opens, signing in there and allowing it; then an Apple ID added on the
//!   iCloud page against the fake iCloud (password, code), signed in, synced, with its counts.
//! - `gallery`: a library prepared on the command line (setup, import, thumbnails), then the
//!   gallery: thumbnails, the timeline (justified rows, infinite scroll, the month scrubber,
//!   the square grid), the photo page with its arrow keys and swipes, a Live Photo's motion
//!   on hover and press, a video, favorites, albums (from the photo page and from a selection
//!   in the grid), the trash and restoring from it.
//! - `restore`: the wizard's "Restore from a backup" on a new box, from a folder repository
//!   a box made on the command line backed up to, up to the restored photos.
//!
//! Needs `chromium` and `chromedriver` on the `PATH` (Debian: `chromium chromium-driver`). Without
//! them the tests say so and pass, unless `SHOEBOX_REQUIRE_BROWSER=1` (CI) makes them fail.

// A test and its helpers: a failed step stops the test with its message, which is what
// unwrap, expect and panic are for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::duration_suboptimal_units
)]

#[path = "../fake_icloud/mod.rs"]
mod fake_icloud;
mod gallery;
mod icloud;
mod new_box;
mod restore;
mod rig;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rig::Rig;

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
    let Some((chromedriver, chromium)) = browser_or_skip() else {
        return;
    };
    let started = Instant::now();
    let fake = fake_icloud::Fake::start();
    fake.add_account(icloud::APPLE_ID, icloud::APPLE_PASSWORD, "s2k");
    fake.world()
        .populate(icloud::APPLE_ID, "PrimarySync", icloud::PHOTOS, 0, 3000);
    let rig = Rig::start(
        "new-box",
        rig::library_dir(),
        &chromedriver,
        &chromium,
        &fake.env(),
    )
    .await;
    let b = &rig.browser;
    new_box::wizard(b, rig.data.path()).await;
    new_box::sign_out_and_in(b).await;
    new_box::import_a_folder(b, rig.data.path()).await;
    new_box::wizard_is_gone(b).await;
    new_box::nextcloud_app_signs_in(b).await;
    new_box::on_a_phone(b).await;
    icloud::add_an_apple_id(b).await;
    rig.finish().await;
    println!("browser test took {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test]
async fn the_gallery_in_a_real_browser() {
    let Some((chromedriver, chromium)) = browser_or_skip() else {
        return;
    };
    let started = Instant::now();
    // The library is made on the command line, which is much faster than through the browser.
    let data = rig::library_dir();
    let has_video = gallery::prepare(data.path());
    println!(
        "library prepared in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rig = Rig::start("gallery", data, &chromedriver, &chromium, &[]).await;
    let b = &rig.browser;
    gallery::sign_in(b).await;
    gallery::thumbnails(b).await;
    gallery::timeline(b).await;
    let id = gallery::photo_page(b).await;
    gallery::swipe(b, id).await;
    gallery::live_photo(b).await;
    if has_video {
        gallery::video(b).await;
    }
    gallery::favorite(b, id).await;
    gallery::album(b, id).await;
    gallery::select_into_album(b).await;
    gallery::trash_and_restore(b, id).await;
    rig.finish().await;
    println!("gallery test took {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test]
async fn restoring_a_backup_from_the_wizard_in_a_real_browser() {
    let Some((chromedriver, chromium)) = browser_or_skip() else {
        return;
    };
    let old = tempfile::tempdir().unwrap();
    let (url, assets) = restore::backed_up(old.path());
    let rig = Rig::start("restore", rig::library_dir(), &chromedriver, &chromium, &[]).await;
    restore::restore(&rig.browser, &url, assets).await;
    rig.finish().await;
}

/// `chromedriver` and a browser, or `None` after saying why the test is skipped; panics instead
/// when `SHOEBOX_REQUIRE_BROWSER=1`.
fn browser_or_skip() -> Option<(PathBuf, PathBuf)> {
    let tools = rig::browser_tools();
    if tools.is_none() {
        let msg = "the browser test cannot run: `chromium` and `chromedriver` are not on the PATH \
                   (Debian: apt-get install chromium chromium-driver)";
        assert!(
            std::env::var("SHOEBOX_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "{msg}, and SHOEBOX_REQUIRE_BROWSER=1 says it must"
        );
        // straight to stderr, past the test harness's capture, so a plain `cargo test` shows it
        let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
    }
    tools
}
