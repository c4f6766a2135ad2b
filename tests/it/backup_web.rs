//! The Backup page through the real HTTP API (the app in-process) against the real S3 server
//! of `backup.rs`: the connection test names wrong credentials, "create repository" shows the
//! recovery key once, "back up now" makes a snapshot the page lists, the command line restores
//! it byte-identical on another machine with only the recovery key, and a second box adopts
//! the repository only with the right passphrase.

use std::time::{Duration, Instant};

use crate::backup::{PASS, Server, ok, run, s3};
use crate::harness::{hashes, photo_folder, shoebox};
use crate::web::{Client, set_up};

pub fn secret(server: &Server, key: &str) -> String {
    server
        .env
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

async fn submit(
    c: &mut Client,
    server: &Server,
    action: &str,
    secret_key: &str,
    pass: &str,
) -> String {
    submit_to(c, "/backup/target", server, action, secret_key, pass).await
}

/// The target form posted to `to` (the Backup page's or the wizard's).
pub async fn submit_to(
    c: &mut Client,
    to: &str,
    server: &Server,
    action: &str,
    secret_key: &str,
    pass: &str,
) -> String {
    let access = secret(server, "AWS_ACCESS_KEY_ID");
    let page = c
        .post(
            to,
            &[
                ("action", action),
                ("url", &server.url),
                ("access_key", &access),
                ("secret_key", secret_key),
                ("passphrase", pass),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
}

#[tokio::test]
async fn the_backup_page_sets_up_backs_up_and_restores_with_the_recovery_key() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let data = tmp.path().join("box");
    photo_folder(&tmp.path().join("photos"), 3);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    let mut c = Client::new(&data);
    set_up(&mut c).await;
    let page = c.get("/backup").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No backup target yet"), "{}", page.body);
    assert_eq!(
        page.body.matches("<form").count(),
        page.body.matches("name=\"csrf\"").count()
    );

    // The connection test: a wrong secret is named as such, the right one works.
    let body = submit(&mut c, &server, "test", "not-the-secret", "").await;
    assert!(body.contains("refused the credentials"), "{body}");
    let right = secret(&server, "AWS_SECRET_ACCESS_KEY");
    let body = submit(&mut c, &server, "test", &right, "").await;
    assert!(body.contains("The connection works"), "{body}");
    // Create: the secret typed for the test is remembered; the key is shown once.
    let body = submit(&mut c, &server, "create", "", PASS).await;
    assert!(body.contains("Repository created"), "{body}");
    let key = body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    assert!(key.len() > 40, "{key}");
    assert!(body.contains("shoebox-recovery-key.txt"));
    let page = c.get("/backup").await.body;
    assert!(!page.contains(&key), "the recovery key is shown again");
    assert!(
        page.contains(&server.url.replace('&', "&amp;")) && page.contains("Back up now"),
        "{page}"
    );
    let stored = std::fs::read(data.join("catalog.redb")).unwrap();
    assert!(
        !stored.windows(PASS.len()).any(|w| w == PASS.as_bytes()),
        "the passphrase is stored in clear"
    );

    // Back up now; the page then lists the snapshot.
    let body = c.post("/backup/now", &[]).await.body;
    assert!(body.contains("Backup started"), "{body}");
    backup_finishes(&c).await;
    let page = c.get("/backup").await.body;
    assert!(page.contains("Last backup:"), "{page}");
    // The run also verified today's slice of the remote and thinned out old snapshots.
    let upkept = [
        "read back and intact",
        "of 30",
        "thinned out",
        "0 forgotten",
    ];
    assert!(upkept.iter().all(|w| page.contains(w)), "{page}");
    assert_eq!(
        page.matches("<tr>").count(),
        2,
        "a header and one snapshot: {page}"
    );

    // Another machine with nothing but the binary, the credentials and the recovery key.
    let restored = tmp.path().join("restored");
    ok(&run(
        &server,
        &tmp.path().join("elsewhere"),
        &key,
        &[
            "restore",
            "--repo",
            &server.url,
            "--to",
            restored.to_str().unwrap(),
        ],
    ));
    let exported = tmp.path().join("exported");
    c.state()
        .library
        .export(&exported, &shoebox::jobs::Progress::new("export"))
        .unwrap();
    assert_eq!(hashes(&restored), hashes(&exported));
    assert!(!hashes(&restored).is_empty());

    // A second box adopts the repository only with its passphrase.
    let mut other = Client::new(&tmp.path().join("box2"));
    set_up(&mut other).await;
    other.get("/backup").await;
    let body = submit(&mut other, &server, "adopt", &right, "wrong passphrase").await;
    assert!(body.contains("does not open the repository"), "{body}");
    let body = submit(&mut other, &server, "adopt", &right, PASS).await;
    assert!(body.contains("1 snapshots found"), "{body}");
    // Create where a repository already is: refused, nothing overwritten.
    let body = submit(&mut other, &server, "create", &right, PASS).await;
    assert!(body.contains("already a shoebox repository"), "{body}");
}

#[tokio::test]
/// The wizard's backup step: skippable, and the same target form; "create" there shows the
/// recovery key once, and the box backs up there once the wizard is done.
async fn the_wizard_sets_up_the_backup_target() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let mut c = Client::new(&tmp.path().join("box"));
    c.get("/setup/welcome").await;
    c.post("/setup/welcome", &[("choice", "fresh")]).await;
    c.get("/setup/owner").await;
    let pw = crate::web::OWNER_PW;
    let p = c
        .post(
            "/setup/owner",
            &[
                ("name", "ada"),
                ("password", pw),
                ("password2", pw),
                ("device", "shoebox"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/setup/storage"), "{}", p.body);
    for step in ["/setup/storage", "/setup/sources"] {
        c.get(step).await;
        c.post(step, &[]).await;
    }
    let page = c.get("/setup/backup").await.body;
    assert!(
        page.contains("action=\"/setup/backup/target\"") && page.contains("Skip for now"),
        "{page}"
    );
    let right = secret(&server, "AWS_SECRET_ACCESS_KEY");
    let body = submit_to(
        &mut c,
        "/setup/backup/target",
        &server,
        "create",
        &right,
        PASS,
    )
    .await;
    assert!(body.contains("Repository created"), "{body}");
    assert!(
        body.contains("<code class=\"secret\">") && body.contains("Continue"),
        "{body}"
    );
    let again = c.get("/setup/backup").await.body;
    assert!(
        !again.contains("<code class=\"secret\">"),
        "the key is shown again"
    );
    assert_eq!(
        c.post("/setup/backup", &[]).await.location.as_deref(),
        Some("/setup/summary")
    );
    c.get("/setup/summary").await;
    assert_eq!(
        c.post("/setup/finish", &[]).await.location.as_deref(),
        Some("/")
    );
    let target = c.state().backup.store().target().unwrap().unwrap();
    assert_eq!(target.url, server.url);
    // The wizard's form is gone with the wizard.
    assert_eq!(
        c.post("/setup/backup/target", &[("action", "test")])
            .await
            .status,
        404
    );
}

/// Waits for the run "Back up now" started to succeed.
async fn backup_finishes(c: &Client) {
    let started = Instant::now();
    loop {
        let status = c.state().backup.store().status().unwrap();
        if status.last_success.is_some() {
            return;
        }
        assert!(status.last_error.is_none(), "{status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no backup finished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_upload_limit_is_kept_and_a_wrong_one_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Client::new(&tmp.path().join("box"));
    set_up(&mut c).await;
    let page = c.get("/backup").await.body;
    assert!(page.contains("Upload limit"), "{page}");
    let wrong = c
        .post(
            "/backup/schedule",
            &[("nightly", "1"), ("upload_kib", "fast")],
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("whole number of KiB"), "{}", wrong.body);
    c.post(
        "/backup/schedule",
        &[("nightly", "1"), ("upload_kib", "750")],
    )
    .await;
    let schedule = c.state().backup.store().schedule().unwrap();
    assert_eq!((schedule.nightly, schedule.upload_kib), (true, Some(750)));
    assert!(c.get("/backup").await.body.contains("value=\"750\""));
    c.post("/backup/schedule", &[("upload_kib", "")]).await;
    let schedule = c.state().backup.store().schedule().unwrap();
    assert_eq!((schedule.nightly, schedule.upload_kib), (false, None));
}

/// Starts "Back up now" and waits until that run has ended; returns whether it worked.
pub async fn back_up_now(c: &mut Client) -> bool {
    let body = c.post("/backup/now", &[]).await.body;
    assert!(body.contains("Backup started"), "{body}");
    let started = Instant::now();
    while c.state().backup.is_running() {
        assert!(started.elapsed() < Duration::from_secs(120), "no run ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A run that works clears the last error; one that fails sets it.
    c.state()
        .backup
        .store()
        .status()
        .unwrap()
        .last_error
        .is_none()
}

#[tokio::test]
async fn failing_backups_are_told_once_per_episode() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = s3(&tmp.path().join("s3")) else {
        return;
    };
    let data = tmp.path().join("box");
    photo_folder(&tmp.path().join("photos"), 2);
    ok(&shoebox(
        &data,
        &["import", tmp.path().join("photos").to_str().unwrap()],
    ));
    let mut c = Client::new(&data);
    set_up(&mut c).await;
    let right = secret(&server, "AWS_SECRET_ACCESS_KEY");
    let body = submit(&mut c, &server, "create", &right, PASS).await;
    assert!(body.contains("Repository created"), "{body}");
    let (hook, got) = crate::notify::receiver();
    let notifier = shoebox::notify::Notifier::open(c.state().library.database(), &data).unwrap();
    notifier
        .save_channels(shoebox::notify::Channels {
            push_url: Some(hook),
            box_url: Some("http://attic.local".into()),
            ..Default::default()
        })
        .unwrap();
    // The provider loses the repository's config: every run fails, one message says so.
    let config = server.objects.join("config");
    let kept = std::fs::read(&config).unwrap();
    std::fs::remove_file(&config).unwrap();
    assert!(!back_up_now(&mut c).await);
    assert!(!back_up_now(&mut c).await);
    let told = got.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "{told:?}");
    let (title, text) = &told[0];
    assert!(title.contains("backup is failing"), "{title}");
    assert!(text.contains("No backup has finished yet"), "{text}");
    assert!(text.contains("http://attic.local/backup"), "{text}");
    // It works again (the episode ends), then breaks again: the last good run is minutes
    // old, and one bad night is not worth a message.
    std::fs::write(&config, &kept).unwrap();
    assert!(back_up_now(&mut c).await);
    std::fs::remove_file(&config).unwrap();
    assert!(!back_up_now(&mut c).await);
    assert_eq!(got.lock().unwrap().len(), 1);
}
