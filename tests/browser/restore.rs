//! The wizard's restore branch in a real browser: a box made on the command line backs up to
//! a folder repository; a new box walks "Restore from a backup" (storage, the repository form
//! with a wrong then the right passphrase, the snapshot list, the progress page), then the
//! owner account and the last steps, and ends on a gallery with the same photos.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::PASSPHRASE;
use super::gallery::run;
use super::new_box::owner_form;
use super::rig::Browser;

/// A box holding the committed fixtures, backed up once to a folder repository under `dir`;
/// returns the repository's address and how many photos it holds.
pub fn backed_up(dir: &Path) -> (String, u64) {
    let data = dir.join("old");
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let url = format!("file://{}", repo.display());
    let shoebox = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shoebox"));
        cmd.arg("--data")
            .arg(&data)
            .args(args)
            .env("SHOEBOX_PASSPHRASE", PASSPHRASE);
        cmd
    };
    let mut import = shoebox(&["import"]);
    import.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media"));
    run(import, None);
    run(
        shoebox(&["backup", "init", "--repo", &url, "--kdf-memory-mib", "8"]),
        None,
    );
    run(shoebox(&["backup", "--repo", &url]), None);
    let lib = shoebox::library::Library::open(&data, shoebox::library::Options::default()).unwrap();
    (url, lib.counts().unwrap().assets)
}

/// The restore branch from the first screen to the photos page.
pub async fn restore(b: &Browser, url: &str, assets: u64) {
    b.goto("/").await;
    b.wait_path("/setup/welcome").await;
    b.button("Restore from a backup")
        .await
        .click()
        .await
        .unwrap();
    b.wait_path("/setup/storage").await;
    assert_eq!(b.h1().await, "Storage");
    b.shot("01-storage").await;
    b.button("Use this folder").await.click().await.unwrap();

    b.wait_path("/setup/restore").await;
    assert_eq!(b.h1().await, "Restore from a backup");
    b.css("#f-url").await.send_keys(url).await.unwrap();
    b.css("#f-passphrase")
        .await
        .send_keys("not the passphrase")
        .await
        .unwrap();
    b.button("Open repository").await.click().await.unwrap();
    let problem = b.wait_css("p.flash.problem").await.text().await.unwrap();
    assert!(
        problem.contains("does not open the repository"),
        "{problem}"
    );
    b.shot("02-wrong-passphrase").await;
    // The address stays filled in; the passphrase is typed again.
    b.css("#f-passphrase")
        .await
        .send_keys(PASSPHRASE)
        .await
        .unwrap();
    b.button("Open repository").await.click().await.unwrap();
    b.wait_css("table.snapshots").await;
    b.shot("03-snapshots").await;
    b.button("Restore this snapshot")
        .await
        .click()
        .await
        .unwrap();

    b.wait_path("/setup/restore/progress").await;
    assert_eq!(b.h1().await, "Restoring your library");
    b.shot("04-progress").await;
    // The page reloads itself until the restore has ended.
    b.until("the restore to finish", || async {
        let v = b
            .js("const a = [...document.querySelectorAll('a.button')].find(x => x.textContent.trim() === 'Continue'); return a ? a.href : null;")
            .await;
        matches!(v, Value::String(_)).then_some(())
    })
    .await;
    let done = b.css("p.flash.ok").await.text().await.unwrap();
    assert!(
        done.contains(&format!("{assets} photos and videos")),
        "{done}"
    );
    b.shot("05-restored").await;
    b.goto("/setup/owner").await;
    b.wait_path("/setup/owner").await;
    owner_form(b).await;
    b.button("Create account").await.click().await.unwrap();
    b.wait_path("/setup/sources").await;
    b.button("Continue").await.click().await.unwrap();
    b.wait_path("/setup/backup").await;
    let page = b.css("main").await.text().await.unwrap();
    assert!(
        page.contains(url),
        "the box backs up where it restored from: {page}"
    );
    b.button("Continue").await.click().await.unwrap();
    b.wait_path("/setup/summary").await;
    b.button("Open my photos").await.click().await.unwrap();
    b.wait_path("/").await;
    let shown = b
        .until("the restored photos on the timeline", || async {
            let n = b
                .js("return new Set([...document.querySelectorAll('a[href^=\"/photos/\"]')].map(a => a.getAttribute('href'))).size;")
                .await
                .as_u64()
                .unwrap_or(0);
            (n > 0).then_some(n)
        })
        .await;
    assert_eq!(shown, assets, "every restored photo is on the timeline");
    b.shot("06-photos").await;
}
