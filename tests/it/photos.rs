//! One photo over HTTP: its page, exact byte ranges of the original, the Live Photo clip,
//! favorite, and the trash round trip.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use shoebox::http::app;
use tower::ServiceExt;

use crate::web::{Client, set_up};

/// A set-up box with a 3 MB JPEG (asset 1) and a Live Photo (asset 2); returns the JPEG's bytes.
async fn box_with_photos(dir: &std::path::Path) -> (Client, Vec<u8>) {
    let mut c = Client::new(dir);
    set_up(&mut c).await;
    let src = dir.join("in");
    std::fs::create_dir_all(&src).unwrap();
    let bytes = crate::harness::jpeg(3_000_000, 11);
    std::fs::write(src.join("big.jpg"), &bytes).unwrap();
    std::fs::copy(crate::harness::fixture("live.jpg"), src.join("live.jpg")).unwrap();
    std::fs::copy(crate::harness::fixture("live.mov"), src.join("live.mov")).unwrap();
    let mut job = shoebox::import::ImportJob::new(c.state().library.clone(), vec![src], 100);
    shoebox::jobs::Job::run(&mut job, &shoebox::jobs::Progress::new("import")).unwrap();
    (c, bytes)
}

async fn ranged(c: &Client, range: &str) -> axum::http::Response<Body> {
    let req = Request::get("/photos/1/original")
        .header(header::COOKIE, c.cookie_header())
        .header(header::RANGE, range)
        .body(Body::empty())
        .unwrap();
    app(c.state().clone()).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn originals_stream_whole_or_by_exact_byte_range() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, bytes) = box_with_photos(dir.path()).await;
    let page = c.get("/").await;
    assert!(
        page.body.contains("/photos/1") && page.body.contains("/photos/2"),
        "{}",
        page.body
    );
    let photo = c.get("/photos/1").await;
    assert_eq!(photo.status, StatusCode::OK);
    assert!(
        photo.body.contains("Download original") && photo.body.contains("Canon"),
        "{}",
        photo.body
    );
    let full = c.get("/photos/1/original").await;
    assert_eq!(
        full.headers.get(header::CONTENT_LENGTH).unwrap(),
        &bytes.len().to_string()
    );
    assert_eq!(full.headers.get(header::ACCEPT_RANGES).unwrap(), "bytes");
    let n = bytes.len();
    for (range, start, end) in [
        ("bytes=0-9", 0, 9),
        ("bytes=2999000-", 2_999_000, n - 1),
        ("bytes=-16", n - 16, n - 1),
        ("bytes=1048570-1048600", 1_048_570, 1_048_600),
    ] {
        let res = ranged(&c, range).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            res.headers()
                .get(header::CONTENT_RANGE)
                .unwrap()
                .to_str()
                .unwrap(),
            format!("bytes {start}-{end}/{n}")
        );
        let got = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        assert_eq!(&got[..], &bytes[start..=end], "{range}");
    }
    assert_eq!(
        ranged(&c, "bytes=9999999-").await.status(),
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    let live = c.get("/photos/2/live").await;
    assert_eq!(
        live.headers.get(header::CONTENT_TYPE).unwrap(),
        "video/quicktime"
    );
    let clip = std::fs::read(crate::harness::fixture("live.mov")).unwrap();
    let length = live.headers.get(header::CONTENT_LENGTH).unwrap();
    assert_eq!(length, &clip.len().to_string());
}

#[tokio::test]
async fn favorite_trash_restore_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = box_with_photos(dir.path()).await;
    c.get("/photos/1").await;
    c.post("/photos/1/favorite", &[("on", "1")]).await;
    assert!(
        c.state()
            .library
            .asset(shoebox::library::AssetId(1))
            .unwrap()
            .unwrap()
            .favorite
    );
    c.get("/photos/1").await;
    c.post("/photos/1/trash", &[]).await;
    assert!(
        !c.get("/").await.body.contains("/photos/1\""),
        "trashed photos leave the timeline"
    );
    let trash = c.get("/trash").await;
    assert!(
        trash.body.contains("big.jpg") && trash.body.contains("Deleted for good on"),
        "{}",
        trash.body
    );
    c.post("/photos/1/restore", &[]).await;
    assert!(c.get("/").await.body.contains("/photos/1\""));
    c.get("/photos/1").await;
    c.post("/photos/1/trash", &[]).await;
    c.get("/trash").await;
    let purged = c.post("/trash/purge", &[]).await;
    assert!(
        purged.body.contains("1 item(s) deleted for good"),
        "{}",
        purged.body
    );
    assert_eq!(c.get("/photos/1").await.status, StatusCode::NOT_FOUND);
    assert!(c.state().library.check(true).unwrap().is_clean());
}

#[tokio::test]
async fn thumbnails_are_served_once_made_and_a_placeholder_before() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = box_with_photos(dir.path()).await;
    let before = c.get("/photos/1/thumb").await;
    assert_eq!(
        before.headers.get(header::CONTENT_TYPE).unwrap(),
        "image/jpeg"
    );
    assert_eq!(
        before.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let mut job = shoebox::thumbs::ThumbnailJob::new(c.state().library.clone(), false);
    shoebox::jobs::Job::run(&mut job, &shoebox::jobs::Progress::new("thumbnails")).unwrap();
    let req = Request::get("/photos/1/thumb")
        .header(header::COOKIE, c.cookie_header())
        .body(Body::empty())
        .unwrap();
    let res = app(c.state().clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get(header::ETAG).unwrap().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    // the test JPEG's frame is 64x48: a thumbnail never upscales
    assert_eq!(
        (img.width().max(img.height()), img.width().min(img.height())),
        (64, 48)
    );
    let again = Request::get("/photos/1/thumb")
        .header(header::COOKIE, c.cookie_header())
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app(c.state().clone())
            .oneshot(again)
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_MODIFIED
    );
    let page = c.get("/").await;
    assert!(
        page.body.contains("/photos/1/thumb"),
        "the timeline shows thumbnails"
    );
    let preview = c.get("/photos/2/preview").await;
    assert_eq!(preview.status, StatusCode::OK);
}

#[tokio::test]
async fn albums_from_the_photo_page_and_search_by_kind_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = box_with_photos(dir.path()).await;
    c.get("/albums").await;
    let made = c.post("/albums", &[("name", "Summer")]).await;
    assert_eq!(made.location.as_deref(), Some("/albums/1"));
    let photo = c.get("/photos/2").await;
    assert!(photo.body.contains("+ Summer"), "{}", photo.body);
    c.post("/photos/2/albums", &[("album", "1"), ("member", "1")])
        .await;
    assert!(c.get("/photos/2").await.body.contains("✓ Summer"));
    let album = c.get("/albums/1").await;
    assert!(
        album.body.contains("/photos/2/thumb") && !album.body.contains("/photos/1/thumb"),
        "{}",
        album.body
    );
    c.post("/albums/1/rename", &[("name", "Summer 2023")]).await;
    assert!(c.get("/albums").await.body.contains("Summer 2023"));
    assert_eq!(c.get("/albums/9").await.status, StatusCode::NOT_FOUND);
    let live = c.get("/search?kind=live").await;
    assert!(
        live.body.contains("/photos/2/thumb") && !live.body.contains("/photos/1/thumb"),
        "{}",
        live.body
    );
    let by_name = c.get("/search?q=BIG").await;
    assert!(by_name.body.contains("/photos/1/thumb") && !by_name.body.contains("/photos/2/thumb"));
    let none = c.get("/search?fav=1").await;
    assert!(none.body.contains("Nothing matches"));
    c.get("/albums/1").await;
    c.post("/albums/1/delete", &[]).await;
    assert!(c.get("/albums").await.body.contains("No albums yet"));
}
