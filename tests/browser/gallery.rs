//! The second test's steps: a library made on the command line, then the gallery in the browser.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
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
    let mut import = shoebox(&["import"]);
    import.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media"));
    if let Some(v) = &video {
        import.arg(v);
    }
    run(import, None);
    run(shoebox(&["thumbnails"]), None);
    video.is_some()
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
fn run(mut cmd: Command, stdin: Option<&str>) {
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

/// A Live Photo's page plays its motion clip in place.
pub async fn live_photo(b: &Browser) {
    open_first(b, "/search?kind=live").await;
    let summary = b.client.find(Locator::Css("details.motion summary")).await;
    let summary = b.found(summary, "the Live Photo's motion control").await;
    summary.click().await.unwrap();
    let video = b.client.find(Locator::Css("details.motion video")).await;
    let video = b.found(video, "the motion clip's player").await;
    let src = video.attr("src").await.unwrap().unwrap();
    let (status, kind, len) = fetch(b, &src).await;
    assert_eq!(status, 200, "{src}");
    assert!(kind.starts_with("video/"), "{src} is {kind}");
    assert!(len > 0, "{src} is empty");
    println!("live motion {src}: {kind}, {len} bytes");
    b.shot("05-live-photo").await;
    plays(b, "details.motion video").await;
    b.shot("06-live-motion").await;
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
