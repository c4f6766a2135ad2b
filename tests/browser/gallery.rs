//! The second test's steps: a library made on the command line, then the gallery in the browser.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use fantoccini::actions::{
    InputSource as _, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
    TouchActions,
};
use fantoccini::key::Key;
use fantoccini::{Locator, elements::Element};
use serde_json::{Value, json};

use super::rig::{Browser, on_path};
use super::{OWNER, PASSPHRASE, POLL, STEP};

const ALBUM: &str = "Seaside";

/// Sets the box up with `shoebox setup`, imports the committed fixtures (a Live Photo among
/// them) and, when `ffmpeg` is installed, a short video made with it, then makes the
/// thumbnails. Returns whether the library has a video.
pub fn prepare(data: &Path) -> bool {
    let shoebox = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shoebox"));
        cmd.arg("--data").arg(data).args(args);
        cmd
    };
    run(
        shoebox(&["setup", "--owner", OWNER]),
        Some(&format!("{PASSPHRASE}\n")),
    );
    let incoming = tempfile::tempdir().unwrap();
    let video = make_video(incoming.path());
    let older = incoming.path().join("older");
    make_older_photos(&older);
    let mut import = shoebox(&["import"]);
    import.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media"));
    import.arg(&older);
    if let Some(v) = &video {
        import.arg(v);
    }
    run(import, None);
    run(shoebox(&["thumbnails"]), None);
    video.is_some()
}

/// Generated photos, enough for three timeline pages, all older than the fixtures (ten on a
/// day, a day every 30 days back from the last day of 2019; the file time is the capture
/// time), so the fixtures stay on the first page and days have full rows.
pub const OLDER_PHOTOS: u64 = 150;

fn make_older_photos(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let newest = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_577_793_600); // 2019-12-31 12:00 UTC
    for i in 0..OLDER_PHOTOS {
        let path = dir.join(format!("older-{i:03}.png"));
        // Alternating landscape and portrait, distinct colours.
        let (w, h) = if i % 3 == 0 { (24, 32) } else { (32, 24) };
        let shade = u8::try_from(i % 200).unwrap();
        image::RgbImage::from_pixel(w, h, image::Rgb([shade, 120, 255 - shade]))
            .save(&path)
            .unwrap();
        let taken =
            newest - std::time::Duration::from_secs((i / 10) * 30 * 86_400 + (i % 10) * 600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(taken)
            .unwrap();
    }
}

/// A two-second H.264 clip with sound, or `None` (with a note) without `ffmpeg`.
fn make_video(dir: &Path) -> Option<PathBuf> {
    if on_path("ffmpeg").is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: `ffmpeg` is not on the PATH: the gallery test skips its video steps"
        );
        return None;
    }
    let clip = dir.join("clip.mp4");
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=2:size=320x240:rate=25")
        .args(["-f", "lavfi", "-i", "sine=duration=2"])
        .args(["-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac"])
        .args(["-shortest", "-movflags", "+faststart"])
        .arg(&clip);
    run(ffmpeg, None);
    Some(clip)
}

/// Runs `cmd` to the end, feeding it `stdin`; panics with its output when it fails.
pub fn run(mut cmd: Command, stdin: Option<&str>) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A box that is set up sends visitors to the sign-in form.
pub async fn sign_in(b: &Browser) {
    b.goto("/").await;
    b.wait_path("/login").await;
    b.css("#f-name").await.send_keys(OWNER).await.unwrap();
    b.css("#f-password")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    b.shot("01-sign-in").await;
    b.button("Sign in").await.click().await.unwrap();
    b.wait_path("/").await;
    assert_eq!(b.h1().await, "Photos");
}

/// The photos page: a tile per asset, every thumbnail loaded.
pub async fn thumbnails(b: &Browser) {
    let tiles = b.all("li.tile img").await.len();
    // photo.jpg, pug.heic, L_exif_xmp_iptc.heic, RGB_8__128x128.heif, live.jpg + live.mov
    assert!(tiles >= 5, "the photos page shows {tiles} tiles");
    images_load(b, "li.tile img").await;
    println!("photos page: {tiles} thumbnails, all loaded");
    b.shot("02-photos").await;
}

/// Opens a photo from its tile, sees its preview, then steps to the next with the arrow key.
/// Returns the photo's id.
pub async fn photo_page(b: &Browser) -> u64 {
    // a photo (not a video) that has an older neighbour to step to
    let pick = b
        .js("const as = [...document.querySelectorAll('li.tile a')];
             return as.findIndex((a, k) => k < as.length - 1 &&
               !(a.querySelector('.badges')?.textContent ?? '').includes('Video'));")
        .await;
    let pick = usize::try_from(pick.as_i64().unwrap()).expect("a photo tile with a neighbour");
    let tile = b.all("li.tile a").await.swap_remove(pick);
    let href = tile.attr("href").await.unwrap().unwrap();
    let id = photo_id(&href);
    tile.click().await.unwrap();
    b.wait_path(&href).await;
    images_load(b, "figure.stage img").await;
    let name = b.h1().await;
    println!("photo page {href}: {name}");
    b.shot("03-photo").await;

    let next = b
        .css("a[data-key=ArrowRight]")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let right = char::from(Key::Right);
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: right })
        .then(KeyAction::Up { value: right });
    b.client.perform_actions(keys).await.unwrap();
    b.wait_path(&next).await;
    assert_ne!(next, href);
    println!("ArrowRight: {href} -> {next} ({})", b.h1().await);
    b.shot("04-arrow-right").await;
    id
}

/// A Live Photo's page plays its motion over the still while the pointer rests on it, and
/// stops when it leaves; the LIVE badge does the same while pressed.
pub async fn live_photo(b: &Browser) {
    open_first(b, "/search?kind=live").await;
    let still = b.css("figure.stage img").await;
    let badge = b.wait_css("figure.stage button.live-badge").await;
    let src = b
        .css("figure.stage video.motion")
        .await
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    let (status, kind, len) = fetch(b, &src).await;
    assert_eq!(status, 200, "{src}");
    assert!(kind.starts_with("video/"), "{src} is {kind}");
    assert!(len > 0, "{src} is empty");
    println!("live motion {src}: {kind}, {len} bytes");
    b.shot("05-live-photo").await;

    let hover = MouseActions::new("mouse".to_string()).then(PointerAction::MoveToElement {
        element: still.clone(),
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    b.client.perform_actions(hover).await.unwrap();
    motion_plays(b, true).await;
    b.shot("06-live-motion").await;
    let away = MouseActions::new("mouse".to_string()).then(PointerAction::MoveTo {
        duration: None,
        x: 1.0,
        y: 1.0,
    });
    b.client.perform_actions(away).await.unwrap();
    motion_plays(b, false).await;

    // Press and hold the badge, as on a phone.
    let press = MouseActions::new("mouse".to_string())
        .then(PointerAction::MoveToElement {
            element: badge,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(press).await.unwrap();
    motion_plays(b, true).await;
    let release = MouseActions::new("mouse".to_string()).then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    });
    b.client.perform_actions(release).await.unwrap();
    motion_plays(b, false).await;
    b.client.release_actions().await.unwrap();
}

/// Waits until the Live Photo motion is shown and its clock moves (`true`), or is hidden and
/// paused (`false`).
async fn motion_plays(b: &Browser, playing: bool) {
    let probe = "const s = document.querySelector('figure.stage'); const v = s.querySelector('video.motion');
                 return {shown: s.classList.contains('playing'), paused: v.paused, time: v.currentTime,
                         ready: v.readyState, error: v.error ? v.error.code : null};";
    let what = if playing {
        "the motion to play"
    } else {
        "the motion to stop"
    };
    let state = b
        .until(what, || async {
            let s = b.js(probe).await;
            assert!(s["error"].is_null(), "motion clip error: {s}");
            let ok = if playing {
                s["shown"] == json!(true)
                    && s["ready"].as_u64() >= Some(2)
                    && s["time"].as_f64() > Some(0.0)
            } else {
                s["shown"] == json!(false) && s["paused"] == json!(true)
            };
            ok.then_some(s)
        })
        .await;
    println!("live motion: {state}");
}

/// A video's page has a player that plays and seeks.
pub async fn video(b: &Browser) {
    open_first(b, "/search?kind=video").await;
    plays(b, "figure.stage video").await;
    b.shot("07-video").await;
}

/// Marking a favorite; the Favorites smart view lists it.
pub async fn favorite(b: &Browser, id: u64) {
    let page = format!("/photos/{id}");
    b.goto(&page).await;
    b.click_to(b.button("☆ Mark favorite").await, &page).await;
    let pressed = b.button("★ Favorite").await;
    assert_eq!(
        pressed.attr("aria-pressed").await.unwrap().as_deref(),
        Some("true")
    );
    b.shot("08-favorite").await;
    b.goto("/").await;
    b.client
        .find(Locator::LinkText("★ Favorites"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_path("/search").await;
    assert!(
        b.exists(&tile(id)).await,
        "the favorite is in the Favorites view"
    );
    b.shot("09-favorites").await;
}

/// Making an album, adding the photo from its page, seeing it on the album's page.
pub async fn album(b: &Browser, id: u64) {
    b.goto("/albums").await;
    b.css("#f-album").await.send_keys(ALBUM).await.unwrap();
    b.button("Create").await.click().await.unwrap();
    let created = b
        .until("the new album's page", || async {
            let url = b.client.current_url().await.ok()?;
            url.path()
                .starts_with("/albums/")
                .then(|| url.path().to_string())
        })
        .await;
    b.wait_path(&created).await;
    assert_eq!(b.h1().await, ALBUM);
    b.shot("10-album-created").await;

    let page = format!("/photos/{id}");
    b.goto(&page).await;
    b.click_to(b.button(&format!("+ {ALBUM}")).await, &page)
        .await;
    b.button(&format!("✓ {ALBUM}")).await;
    b.shot("11-added-to-album").await;

    b.goto("/albums").await;
    let link = b
        .client
        .find(Locator::XPath(&format!(
            "//ul[contains(@class,'folders')]//a[contains(., '{ALBUM}')]"
        )))
        .await;
    b.found(link, "the album in the list")
        .await
        .click()
        .await
        .unwrap();
    b.wait_path(&created).await;
    assert!(b.exists(&tile(id)).await, "the photo is in the album");
    images_load(b, "li.tile img").await;
    b.shot("12-album").await;
}

/// Moving the photo to the trash and restoring it.
pub async fn trash_and_restore(b: &Browser, id: u64) {
    let page = format!("/photos/{id}");
    b.goto(&page).await;
    b.button("Move to trash").await.click().await.unwrap();
    b.wait_path("/").await;
    assert!(!b.exists(&tile(id)).await, "a trashed photo is not listed");
    b.shot("13-trashed").await;

    b.css("nav.nav a[href='/trash']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_path("/trash").await;
    let restore = format!(
        "//li[contains(@class,'asset')][a[@href='{page}']]//button[normalize-space(.)='Restore']"
    );
    let restore = b.client.find(Locator::XPath(&restore)).await;
    let restore = b.found(restore, "the trashed photo with Restore").await;
    b.shot("14-trash").await;
    restore.click().await.unwrap();
    b.wait_path(&page).await;
    b.button("Move to trash").await;
    b.shot("15-restored").await;

    b.goto("/").await;
    b.wait_path("/").await;
    assert!(
        b.exists(&tile(id)).await,
        "the restored photo is listed again"
    );
    b.goto("/trash").await;
    let text = b.css("main").await.text().await.unwrap();
    assert!(text.contains("The trash is empty."), "{text}");
    b.shot("16-trash-empty").await;
}

fn tile(id: u64) -> String {
    format!("li.tile a[href='/photos/{id}']")
}

fn photo_id(href: &str) -> u64 {
    href.strip_prefix("/photos/").unwrap().parse().unwrap()
}

/// Goes to `list` and clicks its first tile.
async fn open_first(b: &Browser, list: &str) {
    b.goto(list).await;
    let first: Element = b.css("li.tile a").await;
    let href = first.attr("href").await.unwrap().unwrap();
    first.click().await.unwrap();
    b.wait_path(&href).await;
}

/// `fetch(url)` in the page: status, content type, length of the body.
async fn fetch(b: &Browser, url: &str) -> (u64, String, u64) {
    let script = format!(
        "return fetch('{url}').then(async r => [r.status, r.headers.get('content-type') ?? '',
                                               (await r.arrayBuffer()).byteLength]);"
    );
    let v = b.js(&script).await;
    (
        v[0].as_u64().unwrap(),
        v[1].as_str().unwrap().to_string(),
        v[2].as_u64().unwrap(),
    )
}

/// Waits until every image matching `selector` has loaded (lazy ones are made eager), failing
/// with the names of those that did not.
async fn images_load(b: &Browser, selector: &str) {
    let script = format!(
        "const imgs = [...document.querySelectorAll(\"{selector}\")];
         imgs.forEach(i => {{ i.loading = 'eager'; }});
         return [imgs.length, imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)];"
    );
    let deadline = Instant::now() + STEP;
    loop {
        let v = b.js(&script).await;
        assert!(
            v[0].as_u64().unwrap() > 0,
            "no {selector} on {}",
            b.here().await
        );
        if v[1] == json!([]) {
            return;
        }
        if Instant::now() > deadline {
            b.shot("failed").await;
            panic!("images not loaded on {}: {}", b.here().await, v[1]);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The `<video>` at `selector` plays (muted) and seeks: enough data for the current frame
/// (`readyState >= 2`), its clock moving, no error.
async fn plays(b: &Browser, selector: &str) {
    let probe = format!(
        "const v = document.querySelector(\"{selector}\");
         if (!v) return null;
         if (!v.dataset.started) {{ v.dataset.started = '1'; v.muted = true; v.play().catch(() => {{}}); }}
         return {{error: v.error ? v.error.code + ' ' + v.error.message : null, ready: v.readyState,
                 time: v.currentTime, duration: v.duration, w: v.videoWidth, h: v.videoHeight}};"
    );
    let state: Value = b
        .until(&format!("{selector} to play"), || async {
            let s = b.js(&probe).await;
            assert!(
                s.is_null() || s["error"].is_null(),
                "{selector} on {}: {s}",
                b.here().await
            );
            (s["ready"].as_u64() >= Some(2) && s["time"].as_f64() > Some(0.0)).then_some(s)
        })
        .await;
    // seek back to the start and pause: the frame there is shown
    let seek = format!(
        "const v = document.querySelector(\"{selector}\"); v.pause(); v.currentTime = 0.1;"
    );
    b.js(&seek).await;
    let probe_seek = format!(
        "const v = document.querySelector(\"{selector}\");
         return !v.seeking && v.readyState >= 2 && !v.error && Math.abs(v.currentTime - 0.1) < 0.05;"
    );
    b.until(&format!("{selector} to seek"), || async {
        (b.js(&probe_seek).await == json!(true)).then_some(())
    })
    .await;
    println!("{selector} on {} plays: {state}", b.here().await);
}

/// The timeline: rows fill the width, scrolling appends older pages until every photo is
/// there once, the scrubber jumps to a month, and the square grid is remembered.
pub async fn timeline(b: &Browser) {
    b.goto("/").await;
    let total = b
        .js("return parseInt(document.querySelector('main p.muted').textContent, 10);")
        .await
        .as_u64()
        .unwrap();
    assert!(total > OLDER_PHOTOS, "{total} photos and videos");
    assert_eq!(b.all("li.tile").await.len(), 60, "the first page");

    // Justified rows: the tiles of the first row of each full day fill its width.
    let rows = b
        .js("const out = [];
             document.querySelectorAll('ul.grid').forEach(ul => {
               const tiles = [...ul.children]; if (tiles.length < 8) return;
               const top = tiles[0].getBoundingClientRect().top;
               const row = tiles.filter(t => Math.abs(t.getBoundingClientRect().top - top) < 1);
               const right = Math.max(...row.map(t => t.getBoundingClientRect().right));
               out.push([ul.getBoundingClientRect().right - right, row.length]);
             });
             return out;")
        .await;
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty(), "a day with a full row");
    for r in rows {
        assert!(
            r[0].as_f64().unwrap().abs() < 1.5,
            "a full row ends at the edge: {r}"
        );
    }

    // Scroll to the end: pages arrive as they come into view.
    let seen = b
        .until("every photo on the page", || async {
            let v = b
                .js("window.scrollTo(0, document.body.scrollHeight);
                     return [document.querySelectorAll('li.tile').length, !!document.querySelector('a[data-more]')];")
                .await;
            (v[1] == json!(false) && v[0].as_u64() == Some(total)).then_some(v[0].clone())
        })
        .await;
    let distinct = b
        .js("return new Set([...document.querySelectorAll('li.tile a')].map(a => a.getAttribute('href'))).size;")
        .await;
    assert_eq!(distinct, seen, "no photo twice after infinite scroll");
    let months = b
        .js("return [...document.querySelectorAll('.timeline h2.month')].map(h => h.dataset.month);")
        .await;
    let months: Vec<&str> = months
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut unique = months.clone();
    unique.dedup();
    assert_eq!(
        unique, months,
        "a month continued across pages keeps one heading"
    );
    println!(
        "infinite scroll: {seen} tiles under {} month headings",
        months.len()
    );
    b.shot("17-timeline-end").await;

    // Jump with the scrubber to the oldest month.
    let oldest = b.all("nav.scrubber ol.months a").await.pop().unwrap();
    let href = oldest.attr("href").await.unwrap().unwrap();
    let month = href.rsplit('=').next().unwrap().to_string();
    oldest.click().await.unwrap();
    b.until("the jump", || async {
        let url = b.client.current_url().await.ok()?;
        (url.query() == Some(&format!("month={month}"))).then_some(())
    })
    .await;
    let first = b
        .css(".timeline h2.month")
        .await
        .attr("data-month")
        .await
        .unwrap();
    assert_eq!(first.as_deref(), Some(month.as_str()));
    let current = b
        .css("nav.scrubber a[aria-current]")
        .await
        .attr("data-month")
        .await
        .unwrap();
    assert_eq!(
        current.as_deref(),
        Some(month.as_str()),
        "the scrubber marks the month shown"
    );
    b.shot("18-jumped-to-month").await;

    // The square grid, remembered across pages.
    b.goto("/").await;
    b.button("Square grid").await.click().await.unwrap();
    // Every tile square (the library holds a square photo, so one tile says nothing).
    let square = "return Array.from(document.querySelectorAll('li.tile a')).every(a => {
                    const r = a.getBoundingClientRect(); return Math.abs(r.width - r.height) < 1.5; });";
    assert_eq!(b.js(square).await, json!(true));
    b.goto("/").await;
    assert_eq!(b.js(square).await, json!(true), "remembered");
    b.shot("19-square-grid").await;
    b.button("Justified rows").await.click().await.unwrap();
    assert_eq!(b.js(square).await, json!(false));
}

/// Selecting two photos on the timeline and adding them to the album at once.
pub async fn select_into_album(b: &Browser) {
    b.goto("/").await;
    b.css("[data-select-on]").await.click().await.unwrap();
    let url = b.client.current_url().await.unwrap();
    assert_eq!(
        (url.path(), url.query()),
        ("/", None),
        "selection mode needs no reload"
    );
    assert!(b.exists("form.selection.selecting").await);
    let tiles = b.all("li.tile a").await;
    let mut picked = Vec::new();
    for t in tiles.iter().skip(1).take(2) {
        picked.push(t.attr("href").await.unwrap().unwrap());
        t.click().await.unwrap();
    }
    let counter = b.css("[data-selected]").await.text().await.unwrap();
    assert_eq!(counter, "2 selected:");
    b.shot("20-selected").await;
    b.button("Add to album").await.click().await.unwrap();
    // The form posts and comes back to a fresh "/" (not in selection mode): wait for that
    // page, or the next navigation would race the post.
    b.until("the page after the post", || async {
        let fresh = b
            .js("return document.readyState === 'complete' && !document.querySelector('form.selection.selecting');")
            .await;
        (fresh == json!(true)).then_some(())
    })
    .await;
    b.wait_path("/").await;
    b.goto("/albums").await;
    let link = b
        .client
        .find(Locator::XPath(&format!(
            "//ul[contains(@class,'folders')]//a[contains(., '{ALBUM}')]"
        )))
        .await;
    b.found(link, "the album").await.click().await.unwrap();
    for href in &picked {
        let id = photo_id(href);
        b.wait_css(&tile(id)).await;
    }
    b.shot("21-album-after-selection").await;
}

/// Swiping left on a photo goes to the older one, right comes back.
pub async fn swipe(b: &Browser, id: u64) {
    let page = format!("/photos/{id}");
    b.goto(&page).await;
    let older = b
        .css("a[data-key=ArrowRight]")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    swipe_stage(b, -160.0).await;
    b.wait_path(&older).await;
    println!("swipe left: {page} -> {older}");
    swipe_stage(b, 160.0).await;
    b.wait_path(&page).await;
    b.client.release_actions().await.unwrap();
}

/// A one-finger horizontal swipe of `dx` pixels across the photo (real touch input).
async fn swipe_stage(b: &Browser, dx: f64) {
    // The page may still be arriving after a navigation: wait for the photo.
    let stage = b.wait_css("figure.stage img").await;
    let swipe = TouchActions::new("finger".to_string())
        .then(PointerAction::MoveToElement {
            element: stage,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(std::time::Duration::from_millis(150)),
            x: dx,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(swipe).await.unwrap();
}
