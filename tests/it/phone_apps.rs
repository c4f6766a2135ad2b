//! What phone apps do beyond plain PUTs, through the real HTTP API (the app in-process):
//! the Nextcloud app's login flow v2, an upload sent under a temporary name and renamed, a
//! sidecar sent before its photo, and a burst of parallel first requests signed in with the
//! account password.

use axum::body::Body;
use axum::http::Request;
use shoebox::library::Origin;

use crate::web::{Client, OWNER_PW, set_up};

fn basic(auth: &str) -> String {
    format!("Basic {}", crate::dav::base64_basic(auth))
}

/// A WebDAV request signed in with Basic; returns the status.
async fn dav(c: &mut Client, method: &str, path: &str, auth: &str, body: Vec<u8>) -> u16 {
    dav_with(c, method, path, auth, body, &[]).await
}

async fn dav_with(
    c: &mut Client,
    method: &str,
    path: &str,
    auth: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> u16 {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "shoebox.local")
        .header("authorization", basic(auth));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    c.send(req.body(Body::from(body)).unwrap())
        .await
        .status
        .as_u16()
}

/// The app's two calls, which carry no session.
async fn app_call(c: &mut Client, path: &str, body: String) -> (u16, serde_json::Value) {
    let req = Request::post(path)
        .header("host", "shoebox.local:8080")
        .header(
            "user-agent",
            "Mozilla/5.0 (Android) Nextcloud-android/3.30.0",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let page = c.send(req).await;
    let json = serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null);
    (page.status.as_u16(), json)
}

#[tokio::test]
/// The app starts a flow; the page it opens needs a signed-in person, names the app and
/// grants it an app password; the app's poll gets it once; it works for WebDAV and is listed
/// (and revocable) on the Phone page.
async fn nextcloud_login_flow_v2_mints_an_app_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut person = Client::new(dir.path());
    set_up(&mut person).await;
    let mut app = Client::new_shared(&person);
    app.forget_cookies();

    let (status, flow) = app_call(&mut app, "/index.php/login/v2", String::new()).await;
    assert_eq!(status, 200, "{flow}");
    let login = flow["login"].as_str().unwrap();
    let path = login.strip_prefix("http://shoebox.local:8080").unwrap();
    assert!(path.starts_with("/index.php/login/v2/flow/"), "{login}");
    assert_eq!(
        flow["poll"]["endpoint"],
        "http://shoebox.local:8080/index.php/login/v2/poll"
    );
    let token = flow["poll"]["token"].as_str().unwrap().to_owned();
    assert_ne!(
        token,
        path.rsplit('/').next().unwrap(),
        "two distinct secrets"
    );
    let poll = format!("token={token}");
    assert_eq!(
        app_call(&mut app, "/index.php/login/v2/poll", poll.clone())
            .await
            .0,
        404
    );

    // Without a session the page sends the browser to sign in, and back here after.
    let mut stranger = Client::new_shared(&person);
    stranger.forget_cookies();
    let page = stranger.get(path).await;
    let to = page.location.unwrap_or_default();
    assert!(
        to.starts_with("/login?next=") && to.contains("flow"),
        "{to}"
    );
    assert_eq!(
        app_call(&mut app, "/index.php/login/v2/poll", poll.clone())
            .await
            .0,
        404
    );

    let page = person.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Nextcloud-android"), "{}", page.body);
    assert!(page.body.contains("name=\"csrf\""));
    // A forged grant (no token from the page) is refused.
    let forged = person
        .post_raw(path, "csrf=nope".into(), Some("http://shoebox.local"))
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        app_call(&mut app, "/index.php/login/v2/poll", poll.clone())
            .await
            .0,
        404
    );
    let granted = person.post(path, &[]).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert!(
        granted.body.contains("Go back to the app"),
        "{}",
        granted.body
    );
    // The page cannot be used twice.
    assert_eq!(person.get(path).await.status, 404);

    let (status, creds) = app_call(&mut app, "/index.php/login/v2/poll", poll.clone()).await;
    assert_eq!(status, 200, "{creds}");
    assert_eq!(creds["loginName"], "ada");
    assert_eq!(creds["server"], "http://shoebox.local:8080");
    let password = creds["appPassword"].as_str().unwrap().to_owned();
    assert_eq!(
        app_call(&mut app, "/index.php/login/v2/poll", poll).await.0,
        404,
        "handed out once"
    );
    let auth = format!("ada:{password}");
    let files = "/remote.php/dav/files/ada/";
    assert_eq!(
        dav(&mut app, "PROPFIND", files, &auth, Vec::new()).await,
        207
    );

    // Listed under the app's name; revoking it locks the app out.
    let phone = person.get("/phone").await;
    assert!(phone.body.contains("Nextcloud-android"), "{}", phone.body);
    let id = person.state().accounts.app_passwords("ada").unwrap()[0]
        .id
        .clone();
    person
        .post(&format!("/phone/app-passwords/{id}/revoke"), &[])
        .await;
    assert_eq!(
        dav(&mut app, "PROPFIND", files, &auth, Vec::new()).await,
        401
    );
    // An unknown flow page is a plain 404.
    assert_eq!(
        person.get("/index.php/login/v2/flow/nothing").await.status,
        404
    );
}

#[tokio::test]
/// Sent as `.IMG_7.jpg.part`, then renamed: the library knows the photo by its final name and
/// path (timeline, source album, export), not the temporary one; a folder moved later takes
/// its photos' origins with it.
async fn an_upload_renamed_after_sending_keeps_its_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    set_up(&mut c).await;
    let auth = format!("ada:{OWNER_PW}");
    let photo = std::fs::read(crate::harness::fixture("photo.jpg")).unwrap();
    assert_eq!(
        dav(&mut c, "MKCOL", "/dav/ada/Camera", &auth, Vec::new()).await,
        201
    );
    let temp = "/dav/ada/Camera/.IMG_7.jpg.part";
    assert_eq!(dav(&mut c, "PUT", temp, &auth, photo.clone()).await, 201);
    let moved = dav_with(
        &mut c,
        "MOVE",
        temp,
        &auth,
        Vec::new(),
        &[(
            "destination",
            "http://shoebox.local/dav/ada/Camera/IMG_7.jpg",
        )],
    )
    .await;
    assert_eq!(moved, 201);

    let lib = &c.state().library;
    let at = |path: &str| Origin::Dav {
        user: "ada".into(),
        path: path.into(),
    };
    assert!(
        lib.origin(&at("/Camera/.IMG_7.jpg.part"))
            .unwrap()
            .is_none()
    );
    let (id, _) = lib.origin(&at("/Camera/IMG_7.jpg")).unwrap().unwrap();
    let asset = lib.asset(id).unwrap().unwrap();
    assert_eq!(asset.original.name, "IMG_7.jpg");
    assert_eq!(asset.origins, [at("/Camera/IMG_7.jpg")]);
    assert_eq!(lib.counts().unwrap().assets, 1);
    // The photo page shows where it came from under its final name.
    let page = c.get(&format!("/photos/{}", id.0)).await;
    assert!(page.body.contains("IMG_7.jpg"), "{}", page.body);
    assert!(!page.body.contains(".part"), "{}", page.body);

    // A whole folder renamed: its photos follow.
    let moved = dav_with(
        &mut c,
        "MOVE",
        "/dav/ada/Camera/",
        &auth,
        Vec::new(),
        &[("destination", "http://shoebox.local/dav/ada/2026/")],
    )
    .await;
    assert_eq!(moved, 201);
    let lib = &c.state().library;
    assert_eq!(
        lib.origin(&at("/2026/IMG_7.jpg")).unwrap().map(|o| o.0),
        Some(id)
    );
    assert!(lib.origin(&at("/Camera/IMG_7.jpg")).unwrap().is_none());
    // Re-sending the same bytes to the new place is a no-op.
    assert_eq!(
        dav(&mut c, "PUT", "/dav/ada/2026/IMG_7.jpg", &auth, photo).await,
        204
    );
    assert_eq!(c.state().library.counts().unwrap().assets, 1);
    let exported = dir.path().join("export");
    let progress = shoebox::jobs::Progress::new("export");
    c.state().library.export(&exported, &progress).unwrap();
    let names: Vec<String> = walk(&exported);
    assert!(
        names.len() == 1 && names[0].ends_with("/IMG_7.jpg"),
        "{names:?}"
    );
}

fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

const XMP: &[u8] = b"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:Rating=\"5\"/></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>";

#[tokio::test]
/// `IMG_3.xmp` arrives before `IMG_3.jpg`: kept as a plain file at first (readable back),
/// then attached to the photo when it comes, and still readable byte-identical.
async fn a_sidecar_sent_before_its_photo_joins_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    set_up(&mut c).await;
    let auth = format!("ada:{OWNER_PW}");
    assert_eq!(
        dav(&mut c, "PUT", "/dav/ada/IMG_3.xmp", &auth, XMP.to_vec()).await,
        201
    );
    assert_eq!(c.state().library.counts().unwrap().assets, 0);
    let photo = std::fs::read(crate::harness::fixture("photo.jpg")).unwrap();
    assert_eq!(
        dav(&mut c, "PUT", "/dav/ada/IMG_3.jpg", &auth, photo).await,
        201
    );

    let lib = &c.state().library;
    let (id, _) = lib
        .origin(&Origin::Dav {
            user: "ada".into(),
            path: "/IMG_3.jpg".into(),
        })
        .unwrap()
        .unwrap();
    let asset = lib.asset(id).unwrap().unwrap();
    assert_eq!(asset.sidecars.len(), 1, "{asset:?}");
    assert_eq!(asset.sidecars[0].name, "IMG_3.xmp");
    assert_eq!(asset.sidecars[0].size, XMP.len() as u64);
    // The tree still serves it, now from the library.
    let kept = dir.path().join("dav").join("kept");
    let left = std::fs::read_dir(&kept).map_or(0, Iterator::count);
    assert_eq!(left, 0, "the plain copy is gone");
    let req = Request::get("/dav/ada/IMG_3.xmp")
        .header("authorization", basic(&auth))
        .body(Body::empty())
        .unwrap();
    let back = c.send(req).await;
    assert_eq!(back.status, 200);
    assert_eq!(back.body.as_bytes(), XMP);
}

#[tokio::test]
/// A phone opening a dozen connections at once with the account password is not locked out
/// by its own burst; a burst of wrong passwords still is.
async fn a_burst_of_first_requests_is_not_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    set_up(&mut c).await;
    let mut burst = Vec::new();
    for _ in 0..12 {
        let mut client = Client::new_shared(&c);
        burst.push(tokio::spawn(async move {
            let auth = format!("ada:{OWNER_PW}");
            dav(&mut client, "PROPFIND", "/dav/ada/", &auth, Vec::new()).await
        }));
    }
    for task in burst {
        assert_eq!(task.await.unwrap(), 207);
    }
    let mut wrong = Vec::new();
    for i in 0..12 {
        let mut client = Client::new_shared(&c);
        wrong.push(tokio::spawn(async move {
            let auth = format!("ada:wrong password {i}");
            dav(&mut client, "PROPFIND", "/dav/ada/", &auth, Vec::new()).await
        }));
    }
    let mut codes = Vec::new();
    for task in wrong {
        codes.push(task.await.unwrap());
    }
    assert!(codes.iter().all(|c| *c == 401 || *c == 429), "{codes:?}");
    assert!(
        codes.contains(&429),
        "guesses were not throttled: {codes:?}"
    );
}
