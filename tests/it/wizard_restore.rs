//! The wizard's restore branch through the real HTTP API against a real S3 server (`s3s-fs`):
//! a box backs up photos, an album and a trashed photo; a fresh box walks "Restore from a
//! backup" (the disk first, a wrong passphrase and wrong credentials named, the snapshots
//! newest first, the restore's self-reloading progress page, a missing pack named with "try
//! again" that goes on after a restart of the box) and ends with the same photos byte for
//! byte, the album, the trash, the repository as its backup target, and an owner to create.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use shoebox::http::app;
use shoebox::library::AssetId;
use tower::ServiceExt;

use crate::backup::{PASS, Server, ok, s3};
use crate::backup_web::{back_up_now, secret, submit_to};
use crate::harness::{photo_folder, shoebox};
use crate::web::{Client, OWNER_PW, set_up};

async fn original(c: &Client, id: u64) -> (StatusCode, Vec<u8>) {
    let req = Request::get(format!("/photos/{id}/original"))
        .header(header::COOKIE, c.cookie_header())
        .body(Body::empty())
        .unwrap();
    let res = app(c.state().clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// A set-up box with photos backed up, then an album of two and a trashed photo backed up
/// again: the second snapshot is the newest.
async fn old_box(tmp: &Path, server: &Server) -> Client {
    let data = tmp.join("old");
    photo_folder(&tmp.join("photos"), 3);
    ok(&shoebox(
        &data,
        &["import", tmp.join("photos").to_str().unwrap()],
    ));
    let mut c = Client::new(&data);
    set_up(&mut c).await;
    c.get("/backup").await;
    let right = secret(server, "AWS_SECRET_ACCESS_KEY");
    let body = submit_to(&mut c, "/backup/target", server, "create", &right, PASS).await;
    assert!(body.contains("Repository created"), "{body}");
    assert!(back_up_now(&mut c).await);
    let lib = &c.state().library;
    let album = lib.create_album("Summer 2019").unwrap();
    lib.set_in_album(album.id, AssetId(1), true).unwrap();
    lib.set_in_album(album.id, AssetId(2), true).unwrap();
    lib.trash_asset(AssetId(3), false).unwrap();
    c.get("/backup").await;
    assert!(back_up_now(&mut c).await);
    c
}

/// The snapshot listed last (newest by time, then name: two runs may share a second) and
/// the one the last run wrote (with the album and the trash).
fn snapshots(old: &Client) -> (String, String) {
    let status = old.state().backup.store().status().unwrap();
    assert_eq!(status.snapshots.len(), 2);
    let last = status.last_success.unwrap().snapshot;
    assert!(status.snapshots.iter().any(|s| s.name == last));
    (status.snapshots[1].name.clone(), last)
}

/// The repository form of the restore branch, posted.
async fn repository(
    c: &mut Client,
    server: &Server,
    action: &str,
    key: &str,
    pass: &str,
) -> String {
    submit_to(c, "/setup/restore/target", server, action, key, pass).await
}

/// Reloads the progress page until the restore ended; returns the last page.
async fn restore_ends(c: &mut Client) -> String {
    let started = Instant::now();
    loop {
        let page = c.get("/setup/restore/progress").await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{:?} {}",
            page.location,
            page.body
        );
        let running = page.body.contains("<progress");
        let ended = page.body.contains("Your library is back") || page.body.contains("Try again");
        if running && !ended {
            assert!(
                page.body.contains("http-equiv=\"refresh\"") && page.body.contains(" files"),
                "a running restore reloads itself and shows its figures: {}",
                page.body
            );
        }
        if ended {
            assert!(
                !page.body.contains("http-equiv=\"refresh\""),
                "{}",
                page.body
            );
            return page.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the restore never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The owner and the remaining steps of the restore branch, up to the gallery.
async fn finish_wizard(c: &mut Client, server: &Server) {
    let page = c.get("/setup/owner").await;
    assert!(page.body.contains("Your library is back"), "{}", page.body);
    let p = c
        .post(
            "/setup/owner",
            &[
                ("name", "ada"),
                ("password", OWNER_PW),
                ("password2", OWNER_PW),
                ("device", "attic"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/setup/sources"), "{}", p.body);
    c.get("/setup/sources").await;
    assert_eq!(
        c.post("/setup/sources", &[]).await.location.as_deref(),
        Some("/setup/backup")
    );
    let backup = c.get("/setup/backup").await.body;
    assert!(
        backup.contains("This box backs up to")
            && backup.contains(&server.url.replace('&', "&amp;")),
        "{backup}"
    );
    c.post("/setup/backup", &[]).await;
    c.get("/setup/summary").await;
    assert_eq!(
        c.post("/setup/finish", &[]).await.location.as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn a_new_box_restores_a_backup_from_the_wizard() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let mut old = old_box(tmp.path(), &server).await;
    let (offered_first, newest) = snapshots(&old);

    let data = tmp.path().join("new");
    let mut c = Client::new(&data);
    c.get("/setup/welcome").await;
    let choice = c.post("/setup/welcome", &[("choice", "restore")]).await;
    assert_eq!(choice.location.as_deref(), Some("/setup/storage"));
    // The disk comes first: the restore writes onto it.
    let storage = c.get("/setup/storage").await.body;
    assert!(
        storage.contains("The restore writes the library into this folder"),
        "{storage}"
    );
    assert_eq!(
        c.get("/setup/owner").await.location.as_deref(),
        Some("/setup/storage")
    );
    assert_eq!(
        c.post("/setup/storage", &[]).await.location.as_deref(),
        Some("/setup/restore")
    );
    let form = c.get("/setup/restore").await.body;
    assert!(form.contains("action=\"/setup/restore/target\""), "{form}");
    assert!(!form.contains("value=\"create\""), "{form}");
    assert_eq!(
        form.matches("<form").count(),
        form.matches("name=\"csrf\"").count()
    );

    let right = secret(&server, "AWS_SECRET_ACCESS_KEY");
    let body = repository(&mut c, &server, "test", "not-the-secret", "").await;
    assert!(body.contains("refused the credentials"), "{body}");
    let body = repository(&mut c, &server, "open", &right, "not the passphrase").await;
    assert!(body.contains("does not open the repository"), "{body}");
    assert!(!body.contains("Choose a snapshot"), "{body}");
    // The secret typed before is kept for the same address.
    let body = repository(&mut c, &server, "open", "", PASS).await;
    assert!(
        body.contains("Choose a snapshot") && body.contains("2 snapshot(s)"),
        "{body}"
    );
    let first = body.find("name=\"snapshot\" value=\"").unwrap();
    let offered = &body[first + 23..];
    assert!(
        offered.starts_with(&offered_first),
        "the newest first: {body}"
    );
    assert!(
        offered[..offered.find('>').unwrap()].contains("checked"),
        "{body}"
    );
    assert_eq!(
        c.state().backup.store().target().unwrap(),
        None,
        "nothing kept yet"
    );

    let start = c
        .post("/setup/restore/start", &[("snapshot", &newest)])
        .await;
    assert_eq!(
        start.location.as_deref(),
        Some("/setup/restore/progress"),
        "{}",
        start.body
    );
    let done = restore_ends(&mut c).await;
    assert!(done.contains("Your library is back"), "{done}");
    // A reload after the end goes on to the owner step, in this browser and another.
    assert_eq!(
        c.get("/setup/restore/progress").await.location.as_deref(),
        Some("/setup/owner")
    );
    assert_eq!(
        Client::new_shared(&c)
            .get("/setup")
            .await
            .location
            .as_deref(),
        Some("/setup/owner")
    );
    let target = c.state().backup.store().target().unwrap().unwrap();
    assert_eq!(target.url, server.url);
    assert_eq!(
        c.state().backup.store().status().unwrap().snapshots.len(),
        2
    );

    finish_wizard(&mut c, &server).await;
    same_library(&mut old, &mut c).await;
    // The wizard is closed for good, its restore pages with it.
    for path in [
        "/setup/restore",
        "/setup/restore/progress",
        "/setup/storage",
    ] {
        assert_eq!(c.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        c.post("/setup/restore/retry", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Photos (originals byte for byte), the album and the trash, as each box's pages show them.
async fn same_library(old: &mut Client, new: &mut Client) {
    let (mut was, mut now) = (
        old.state().library.counts().unwrap(),
        new.state().library.counts().unwrap(),
    );
    assert!(was.assets >= 6 && was.trashed == 1, "{was:?}");
    (was.stored_bytes, now.stored_bytes) = (0, 0);
    assert_eq!(was, now);
    let lib = &old.state().library;
    let mut ids: Vec<u64> = lib
        .timeline(None, 1000)
        .unwrap()
        .assets
        .iter()
        .map(|a| a.id.0)
        .collect();
    ids.extend(lib.trash(1000).unwrap().iter().map(|a| a.id.0));
    assert_eq!(ids.len() as u64, was.assets);
    for id in ids {
        let (a, b) = (original(old, id).await, original(new, id).await);
        assert_eq!(a.0, StatusCode::OK, "photo {id}");
        assert_eq!(b.0, StatusCode::OK, "photo {id}");
        assert!(a.1 == b.1, "photo {id} differs");
    }
    for page in ["/albums", "/trash", "/"] {
        let (a, b) = (old.get(page).await.body, new.get(page).await.body);
        assert_eq!(
            a.matches("/photos/").count(),
            b.matches("/photos/").count(),
            "{page}: {b}"
        );
    }
    assert!(new.get("/albums").await.body.contains("Summer 2019"));
    assert!(new.get("/trash").await.body.contains("/photos/3"));
    assert!(new.state().library.check(true).unwrap().is_clean());
}

#[tokio::test]
async fn a_failed_restore_says_why_and_goes_on_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let mut old = old_box(tmp.path(), &server).await;
    // The provider loses a pack: the restore fails naming it.
    let packs = server.objects.join("packs");
    let lost = walk(&packs)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let kept = tmp.path().join("kept-pack");
    std::fs::rename(&lost, &kept).unwrap();

    let data = tmp.path().join("new");
    let mut c = Client::new(&data);
    c.get("/setup/welcome").await;
    c.post("/setup/welcome", &[("choice", "restore")]).await;
    c.get("/setup/storage").await;
    c.post("/setup/storage", &[]).await;
    c.get("/setup/restore").await;
    let right = secret(&server, "AWS_SECRET_ACCESS_KEY");
    let body = repository(&mut c, &server, "open", &right, PASS).await;
    assert!(body.contains("Choose a snapshot"), "{body}");
    let (_, newest) = snapshots(&old);
    c.post("/setup/restore/start", &[("snapshot", &newest)])
        .await;
    let failed = restore_ends(&mut c).await;
    assert!(
        failed.contains("Try again") && failed.contains("role=\"alert\""),
        "{failed}"
    );
    assert!(
        failed.contains("pack"),
        "the missing pack is named: {failed}"
    );
    assert_eq!(c.state().backup.store().target().unwrap(), None);
    assert_eq!(c.state().library.counts().unwrap().assets, 0);

    // The box restarts; the page says the restore stopped, "try again" goes on and ends.
    std::fs::rename(&kept, &lost).unwrap();
    drop(c);
    let mut c = Client::new(&data);
    assert_eq!(
        c.get("/setup").await.location.as_deref(),
        Some("/setup/restore/progress")
    );
    let stopped = c.get("/setup/restore/progress").await.body;
    assert!(
        stopped.contains("the box restarted") && stopped.contains("Try again"),
        "{stopped}"
    );
    let retry = c.post("/setup/restore/retry", &[]).await;
    assert_eq!(
        retry.location.as_deref(),
        Some("/setup/restore/progress"),
        "{}",
        retry.body
    );
    let done = restore_ends(&mut c).await;
    assert!(done.contains("Your library is back"), "{done}");
    finish_wizard(&mut c, &server).await;
    same_library(&mut old, &mut c).await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
