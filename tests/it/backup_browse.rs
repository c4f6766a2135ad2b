//! Restoring one photo or one album from the Backup page, through the real HTTP API against
//! the real S3 server of `backup.rs`: a photo deleted for good and a deleted album come back
//! (the photo's original byte-identical, the album with the same photos), a photo's original
//! downloads straight from the backup, a member is refused, unknown ids are 404.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use shoebox::http::app;
use shoebox::library::AssetId;
use tower::ServiceExt;

use crate::backup::{PASS, s3};
use crate::web::{Client, set_up};

/// Status and raw bytes of a GET (the client's pages are text).
async fn raw(c: &Client, path: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::get(path)
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

fn id_named(c: &Client, name: &str) -> AssetId {
    let mut found = None;
    c.state()
        .library
        .for_each_asset(|a| {
            if a.original.name == name {
                found = Some(a.id);
            }
            Ok(())
        })
        .unwrap();
    found.unwrap()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).map(|i| i + start.len()).unwrap();
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap()]
}

/// A box with photos, an album of two of them, and one snapshot on S3.
async fn backed_up_box(tmp: &std::path::Path, server: &crate::backup::Server) -> Client {
    let data = tmp.join("box");
    let mut c = Client::new(&data);
    set_up(&mut c).await;
    let photos = tmp.join("photos");
    crate::harness::photo_folder(&photos, 2);
    let mut job = shoebox::import::ImportJob::new(c.state().library.clone(), vec![photos], 100);
    shoebox::jobs::Job::run(&mut job, &shoebox::jobs::Progress::new("import")).unwrap();
    let lib = &c.state().library;
    let album = lib.create_album("Trip").unwrap();
    for name in ["IMG_0000.JPG", "live.jpg"] {
        lib.set_in_album(album.id, id_named(&c, name), true)
            .unwrap();
    }
    c.get("/backup").await;
    let page = c
        .post(
            "/backup/target",
            &[
                ("action", "create"),
                ("url", &server.url),
                ("access_key", "AKIDTEST"),
                ("secret_key", "SECRETTEST"),
                ("passphrase", PASS),
            ],
        )
        .await;
    assert!(page.body.contains("Repository created"), "{}", page.body);
    assert!(
        c.post("/backup/now", &[])
            .await
            .body
            .contains("Backup started")
    );
    let started = Instant::now();
    while c
        .state()
        .backup
        .store()
        .status()
        .unwrap()
        .last_success
        .is_none()
    {
        assert!(started.elapsed() < Duration::from_secs(120), "no backup");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c
}

#[tokio::test]
async fn a_photo_and_an_album_deleted_here_come_back_from_the_backup_page() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let mut c = backed_up_box(tmp.path(), &server).await;
    let lib = c.state().library.clone();
    let (album, _) = lib.albums().unwrap().remove(0);
    let (_, members) = lib.album(album.id).unwrap();
    let img = id_named(&c, "IMG_0000.JPG");
    let (_, original) = raw(&c, &format!("/photos/{img}/original")).await;
    // Deleted for good (trash, then empty the trash), and the album deleted.
    c.get(&format!("/photos/{img}")).await;
    c.post(&format!("/photos/{img}/trash"), &[]).await;
    c.get("/trash").await;
    c.post("/trash/purge", &[]).await;
    c.post(&format!("/albums/{}/delete", album.id), &[]).await;
    assert_eq!(c.get(&format!("/photos/{img}")).await.status, 404);
    assert!(lib.albums().unwrap().is_empty());

    let page = c.get("/backup").await.body;
    let snap = between(&page, "href=\"/backup/snapshots/", "\"").to_string();
    let browse = c.get(&format!("/backup/snapshots/{snap}")).await;
    assert_eq!(browse.status, 200, "{}", browse.body);
    assert!(
        browse.body.contains("IMG_0000.JPG") && browse.body.contains("Trip"),
        "{}",
        browse.body
    );
    assert_eq!(
        browse.body.matches("<form").count(),
        browse.body.matches("name=\"csrf\"").count()
    );

    // The photo, inline: its original comes back byte for byte.
    let done = c
        .post(
            &format!("/backup/snapshots/{snap}/photos/{img}/restore"),
            &[],
        )
        .await;
    assert!(
        done.body.contains("is back in the library"),
        "{}",
        done.body
    );
    let here = between(&done.body, "<a href=\"/photos/", "\"");
    let (status, back) = raw(&c, &format!("/photos/{here}/original")).await;
    assert_eq!((status, back == original), (StatusCode::OK, true));

    // The album, as a background job: the same photos come back in it.
    let done = c
        .post(
            &format!("/backup/snapshots/{snap}/albums/{}/restore", album.id),
            &[],
        )
        .await;
    assert!(
        done.body.contains("Restoring the album “Trip”"),
        "{}",
        done.body
    );
    let started = Instant::now();
    while c.state().jobs.is_running("restore album") {
        assert!(started.elapsed() < Duration::from_secs(120), "no end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let albums = lib.albums().unwrap();
    assert_eq!(albums.len(), 1, "{albums:?}");
    assert_eq!((albums[0].0.name.as_str(), albums[0].1), ("Trip", 2));
    let (_, now) = lib.album(albums[0].0.id).unwrap();
    let names = |v: &[shoebox::library::Asset]| {
        v.iter()
            .map(|a| a.original.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&now), names(&members), "same photos, same order");
    let browse = c.get(&format!("/backup/snapshots/{snap}")).await.body;
    assert!(
        browse.contains(&format!("href=\"/albums/{}\"", albums[0].0.id)),
        "{browse}"
    );
    assert!(lib.check(true).unwrap().is_clean());
}

#[tokio::test]
async fn downloads_refusals_and_unknown_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let mut c = backed_up_box(tmp.path(), &server).await;
    let page = c.get("/backup").await.body;
    let snap = between(&page, "href=\"/backup/snapshots/", "\"").to_string();
    let live = id_named(&c, "live.jpg");
    let (_, here) = raw(&c, &format!("/photos/{live}/original")).await;
    let (status, from_backup) = raw(
        &c,
        &format!("/backup/snapshots/{snap}/photos/{live}/original"),
    )
    .await;
    assert_eq!((status, from_backup == here), (StatusCode::OK, true));

    let base = format!("/backup/snapshots/{snap}");
    assert_eq!(c.get("/backup/snapshots/0123abcd").await.status, 404);
    assert_eq!(raw(&c, &format!("{base}/photos/999/original")).await.0, 404);
    c.get(&base).await;
    for path in [
        format!("{base}/photos/999/restore"),
        format!("{base}/albums/999/restore"),
        "/backup/snapshots/0123abcd/photos/1/restore".to_string(),
    ] {
        let p = c.post(&path, &[]).await;
        assert_eq!(p.status, 404, "{path}: {}", p.body);
        assert!(p.body.contains("Not found"), "{}", p.body);
    }

    // A member may not look or restore.
    c.state()
        .accounts
        .add_user(
            "bob",
            "another long passphrase",
            shoebox::accounts::Role::Member,
        )
        .unwrap();
    let mut bob = Client::new_shared(&c);
    bob.get("/login").await;
    bob.post(
        "/login",
        &[
            ("name", "bob"),
            ("password", "another long passphrase"),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(bob.get("/").await.status, 200);
    let p = bob.get(&base).await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("Only administrators"), "{}", p.body);
    bob.get("/").await; // a fresh form token, so only the role can refuse
    let p = bob
        .post(&format!("{base}/photos/{live}/restore"), &[])
        .await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("Only administrators"), "{}", p.body);
    assert_eq!(
        raw(&bob, &format!("{base}/photos/{live}/original")).await.0,
        403
    );
}
