//! The timeline over HTTP: month and day headings, pages as fragments for infinite scroll that
//! together show every photo once, jump to a month, tiles that reserve their real shape, the
//! cameras page, screenshots, and acting on a selection.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;

use crate::web::{Client, set_up};

/// Photos in the test library: more than two pages of 60.
const PHOTOS: u64 = 130;

/// A set-up box with `PHOTOS` small PNGs, one every five days going back from 2024-06-30
/// (their file times are their capture times), plus the Canon JPEG fixture and a screenshot.
async fn box_with_a_timeline(dir: &std::path::Path) -> Client {
    let mut c = Client::new(dir);
    set_up(&mut c).await;
    let src = dir.join("in");
    std::fs::create_dir_all(&src).unwrap();
    let newest = SystemTime::UNIX_EPOCH + Duration::from_secs(1_719_748_800); // 2024-06-30 12:00 UTC
    for i in 0..PHOTOS {
        let path = src.join(format!("p{i:03}.png"));
        // 4×3 landscape; distinct pixels so every file is its own photo.
        image::RgbImage::from_pixel(4, 3, image::Rgb([(i % 256) as u8, (i / 256) as u8, 1]))
            .save(&path)
            .unwrap();
        let taken = newest - Duration::from_secs(i * 5 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(taken)
            .unwrap();
    }
    std::fs::copy(crate::harness::fixture("photo.jpg"), src.join("canon.jpg")).unwrap();
    let shot = src.join("Screenshot 2024-01-02 at 10.00.00.png");
    image::RgbImage::from_pixel(3, 6, image::Rgb([9, 9, 9]))
        .save(&shot)
        .unwrap();
    let mut job = shoebox::import::ImportJob::new(c.state().library.clone(), vec![src], 1000);
    shoebox::jobs::Job::run(&mut job, &shoebox::jobs::Progress::new("import")).unwrap();
    c
}

/// Asset ids of the tiles on a page, in order.
fn tiles(body: &str) -> Vec<u64> {
    body.match_indices("<li class=\"tile\"><a href=\"/photos/")
        .map(|(i, m)| {
            let rest = &body[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The `href` of the "next page" link, if any.
fn more_link(body: &str) -> Option<String> {
    let i = body.find("data-more=\"1\"")?;
    let start = body[..i].rfind("href=\"").unwrap() + 6;
    Some(body[start..start + body[start..].find('"').unwrap()].replace("&amp;", "&"))
}

#[tokio::test]
async fn pages_as_fragments_show_every_photo_once_under_month_and_day_headings() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = box_with_a_timeline(dir.path()).await;
    let first = c.get("/").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first
            .body
            .contains("<h2 class=\"month\" data-month=\"2024-06\""),
        "newest month first"
    );
    assert!(first.body.contains("June 2024"));
    assert!(first.body.contains("aria-label=\"Jump to a month\""));
    assert!(
        first.body.contains("href=\"/?month=2022-11\""),
        "the scrubber reaches the oldest month"
    );
    // PNGs are 4×3: the tile reserves a landscape 480×360 box.
    assert!(
        first.body.contains("width=\"480\" height=\"360\""),
        "{}",
        &first.body[..2000]
    );

    let mut seen = tiles(&first.body);
    assert_eq!(seen.len(), 60);
    let mut next = more_link(&first.body);
    let mut fragments = 0;
    while let Some(link) = next {
        let page = c.get(&format!("{link}&fragment=1")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<html"), "a fragment is only the grid");
        assert!(page.body.starts_with("<div class=\"timeline\">"));
        seen.extend(tiles(&page.body));
        next = more_link(&page.body);
        fragments += 1;
    }
    assert_eq!(fragments, 2);
    let distinct: BTreeSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), distinct.len(), "no photo twice");
    assert_eq!(
        seen.len() as u64,
        PHOTOS + 2,
        "every photo, the JPEG and the screenshot"
    );
}

#[tokio::test]
async fn jumping_to_a_month_starts_with_its_newest_photo() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = box_with_a_timeline(dir.path()).await;
    let jump = c.get("/?month=2023-12").await;
    let first_heading = jump.body.find("<h2 class=\"month\"").unwrap();
    assert!(
        jump.body[first_heading..].starts_with("<h2 class=\"month\" data-month=\"2023-12\""),
        "{}",
        &jump.body[first_heading..first_heading + 200]
    );
    assert!(
        jump.body.contains("data-day=\"2023-12-"),
        "days of December"
    );
    assert!(
        !jump.body.contains("data-month=\"2024-01\" id="),
        "nothing newer than December on the page"
    );
    let older = more_link(&jump.body).expect("older pages go on from the jump");
    let rest = c.get(&older).await;
    assert!(tiles(&rest.body).len() > 10);
    let empty = c.get("/?month=1999-01").await;
    assert_eq!(tiles(&empty.body).len(), 0);
    assert_eq!(
        c.get("/?month=2024-13").await.status,
        StatusCode::OK,
        "a bad month shows the newest"
    );
}

#[tokio::test]
async fn a_selection_goes_into_an_album_becomes_favorite_or_goes_to_the_trash() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = box_with_a_timeline(dir.path()).await;
    c.get("/albums").await;
    c.post("/albums", &[("name", "Picks")]).await;
    let home = c.get("/?select=1").await;
    assert!(
        home.body.contains("class=\"selection selecting\""),
        "selection mode without JavaScript"
    );
    let ids = tiles(&home.body);
    let picked: Vec<String> = ids[..3].iter().map(u64::to_string).collect();
    let mut fields: Vec<(&str, &str)> = picked.iter().map(|id| ("id", id.as_str())).collect();
    fields.extend([("action", "album"), ("album", "1"), ("back", "/")]);
    let done = c.post("/photos/bulk", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/"));
    let album = c.get("/albums/1").await;
    assert_eq!(
        tiles(&album.body),
        ids[..3],
        "the three picked photos, newest first"
    );

    // Remove one from the album page's own selection.
    let mut fields = vec![
        ("id", picked[0].as_str()),
        ("action", "unalbum"),
        ("from_album", "1"),
        ("back", "/albums/1"),
    ];
    let back = c.post("/photos/bulk", &fields).await;
    assert_eq!(back.location.as_deref(), Some("/albums/1"));
    assert_eq!(tiles(&c.get("/albums/1").await.body), ids[1..3]);

    fields = vec![
        ("id", picked[1].as_str()),
        ("id", picked[2].as_str()),
        ("action", "favorite"),
    ];
    c.get("/").await;
    c.post("/photos/bulk", &fields).await;
    assert_eq!(tiles(&c.get("/search?fav=1").await.body), ids[1..3]);

    c.get("/").await;
    c.post(
        "/photos/bulk",
        &[("id", picked[0].as_str()), ("action", "trash")],
    )
    .await;
    assert!(
        !tiles(&c.get("/").await.body).contains(&ids[0]),
        "trashed photos leave the timeline"
    );
    assert!(
        c.get("/trash")
            .await
            .body
            .contains(&format!("/photos/{}", ids[0]))
    );

    c.get("/").await;
    let bad = c
        .post("/photos/bulk", &[("id", "x"), ("action", "trash")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    c.get("/").await;
    let foreign = c
        .post(
            "/photos/bulk",
            &[
                ("id", picked[1].as_str()),
                ("action", "favorite"),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
    assert_eq!(
        foreign.location.as_deref(),
        Some("/"),
        "never sent off-site"
    );
}

#[tokio::test]
async fn cameras_and_screenshots_are_smart_views() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = box_with_a_timeline(dir.path()).await;
    let cameras = c.get("/cameras").await;
    assert!(cameras.body.contains("Canon EOS"), "{}", cameras.body);
    assert!(cameras.body.contains("(1)"));
    let camera_link = cameras.body.find("/search?camera=").unwrap();
    let href =
        &cameras.body[camera_link..camera_link + cameras.body[camera_link..].find('"').unwrap()];
    assert_eq!(
        tiles(&c.get(&href.replace("&amp;", "&")).await.body).len(),
        1
    );
    let shots = c.get("/search?screenshots=1").await;
    assert!(shots.body.contains("<h1>Screenshots</h1>"));
    // The named screenshot and the location-less PNGs are screen-like; the Canon JPEG is not.
    assert!(
        shots.body.contains("Screenshot 2024-01-02"),
        "the named screenshot"
    );
    assert!(!shots.body.contains("canon.jpg"));
}

/// A photo as the WebDAV source hands it to ingest: uploaded by `user` from their phone.
fn phone_upload(
    lib: &shoebox::library::Library,
    dir: &std::path::Path,
    user: &str,
) -> shoebox::library::AssetId {
    let upload = dir.join("IMG_0001.png");
    image::RgbImage::from_pixel(5, 5, image::Rgb([1, 2, 3]))
        .save(&upload)
        .unwrap();
    let ingested = lib
        .ingest(&shoebox::library::Incoming {
            file: &upload,
            origin: shoebox::library::Origin::Dav {
                user: user.into(),
                path: "/Camera/IMG_0001.png".into(),
            },
            name: "IMG_0001.png".into(),
            stamp: None,
            file_time: Some(1_500_000_000),
        })
        .unwrap();
    let shoebox::library::Ingested::New(id) = ingested else {
        unreachable!("a new asset, got {ingested:?}")
    };
    id
}

#[tokio::test]
async fn a_member_restricted_to_their_uploads_sees_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut owner = box_with_a_timeline(dir.path()).await;
    let bobs = phone_upload(&owner.state().library, dir.path(), "bob");
    let others = tiles(&owner.get("/").await.body);
    let other = others[0];
    owner.get("/users").await;
    owner
        .post(
            "/users",
            &[("name", "bob"), ("password", "another long passphrase")],
        )
        .await;
    let people = owner.get("/users").await;
    assert!(
        people.body.contains("Sees the whole library."),
        "members see everything by default"
    );
    let set = owner
        .post("/users/bob/scope", &[("own_uploads_only", "1")])
        .await;
    assert!(
        set.body
            .contains("bob now sees only the photos they uploaded."),
        "{}",
        set.body
    );

    let mut bob = Client::new_shared(&owner);
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
    let home = bob.get("/").await;
    assert_eq!(tiles(&home.body), vec![bobs.0], "only Bob's upload");
    assert!(
        !home.body.contains("Jump to a month"),
        "no library-wide scrubber"
    );
    for path in [
        format!("/photos/{other}"),
        format!("/photos/{other}/thumb"),
        format!("/photos/{other}/preview"),
        format!("/photos/{other}/original"),
    ] {
        assert_eq!(bob.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        bob.get(&format!("/photos/{bobs}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        tiles(&bob.get("/search?kind=photo").await.body),
        vec![bobs.0]
    );
    bob.get("/").await;
    let other_s = other.to_string();
    bob.post(
        "/photos/bulk",
        &[("id", other_s.as_str()), ("action", "trash")],
    )
    .await;
    assert!(
        tiles(&owner.get("/").await.body).contains(&other),
        "a selection cannot reach others' photos"
    );
    bob.get(&format!("/photos/{bobs}")).await;
    assert_eq!(
        bob.post(&format!("/photos/{other}/trash"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    owner.get("/users").await;
    owner
        .post("/users/bob/scope", &[("own_uploads_only", "0")])
        .await;
    assert_eq!(tiles(&bob.get("/").await.body).len(), 60, "lifted at once");
    // Administrators always see everything.
    owner
        .state()
        .accounts
        .set_own_uploads_only("ada", true)
        .unwrap();
    assert_eq!(tiles(&owner.get("/").await.body).len(), 60);
}

#[tokio::test]
async fn source_folders_are_albums() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = box_with_a_timeline(dir.path()).await;
    let bobs = phone_upload(&c.state().library, dir.path(), "bob");
    let albums = c.get("/albums").await;
    assert!(albums.body.contains("From your sources"), "{}", albums.body);
    let imported = dir.path().join("in").to_string_lossy().into_owned();
    assert!(
        albums.body.contains(&format!(
            "{imported} <span class=\"muted\">({})</span>",
            PHOTOS + 2
        )),
        "{}",
        albums.body
    );
    assert!(
        albums.body.contains("Uploaded by bob: </span>/Camera"),
        "{}",
        albums.body
    );
    let upload = c.get("/search?folder=dav%3Abob%3A%2FCamera").await;
    assert_eq!(tiles(&upload.body), vec![bobs.0]);
    assert!(
        upload.body.contains("<h1>Uploaded by bob: /Camera</h1>"),
        "{}",
        upload.body
    );
    // Trashing the upload empties its folder.
    c.state().library.trash_asset(bobs, false).unwrap();
    assert!(!c.get("/albums").await.body.contains("Uploaded by bob"));
    assert!(c.state().library.check(false).unwrap().is_clean());
}
