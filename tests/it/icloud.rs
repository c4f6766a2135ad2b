//! iCloud pull end to end: the real `shoebox` binary against the fake iCloud of
//! `tests/fake_icloud` (real SRP, 2FA states, CloudKit records, change feed, downloads).

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use shoebox::library::{Library, Options, Origin, State};

use crate::fake_icloud::{Fake, Fault, Route};
use crate::harness::{command, stderr, stdout};

pub(crate) const ANNA: &str = "anna@example.com";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) fn run(
    fake: &Fake,
    data: &Path,
    args: &[&str],
    password: Option<&str>,
    input: &str,
) -> Output {
    let mut c = command(data, args);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    c.env_remove("SHOEBOX_ICLOUD_PASSWORD");
    if let Some(p) = password {
        c.env("SHOEBOX_ICLOUD_PASSWORD", p);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn login(fake: &Fake, data: &Path, apple_id: &str) {
    let out = run(
        fake,
        data,
        &["icloud", "login", "--apple-id", apple_id],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("trusted for 29 more days")
            || stdout(&out).contains("trusted for 30 more days"),
        "{}",
        stdout(&out)
    );
}

pub(crate) fn sync(fake: &Fake, data: &Path) -> Output {
    run(fake, data, &["icloud", "sync"], None, "")
}

pub(crate) fn sync_ok(fake: &Fake, data: &Path) -> String {
    let out = sync(fake, data);
    assert!(
        out.status.success(),
        "sync failed: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    stdout(&out)
}

pub(crate) fn library(data: &Path) -> Library {
    Library::open(data, Options::default()).unwrap()
}

pub(crate) fn icloud(zone: &str, record: &str) -> Origin {
    Origin::Icloud {
        zone: zone.to_string(),
        record: record.to_string(),
    }
}

fn read_part(lib: &Library, part: &shoebox::library::Part) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut lib.open_file(part).unwrap(), &mut out).unwrap();
    out
}

pub(crate) fn fake_with(n: u64) -> (Fake, tempfile::TempDir) {
    let fake = Fake::start();
    fake.add_account(ANNA, PASSWORD, "s2k_fo");
    fake.world().populate(ANNA, "PrimarySync", n, 0, 3000);
    (fake, tempfile::tempdir().unwrap())
}

#[test]
fn first_sync_pulls_every_variety_and_a_no_change_sync_costs_two_requests() {
    let (fake, dir) = fake_with(240);
    let shared = fake.world().account(ANNA).shared[0].name.clone();
    // The shared library holds 6 photos; the first has the very bytes of a private photo.
    fake.world().populate(ANNA, &shared, 6, 0, 3000);
    let data = dir.path();
    login(&fake, data, ANNA);
    assert_eq!(
        fake.world().pushes,
        1,
        "the 2026 push trigger was sent once"
    );
    let out = sync_ok(&fake, data);
    assert!(out.contains("240 new"), "{out}");

    let lib = library(data);
    let mut w = fake.world();
    let photos: Vec<_> = w
        .zone(ANNA, "PrimarySync")
        .photos
        .values()
        .cloned()
        .collect();
    let (mut edited, mut live, mut raw, mut hidden, mut unicode) = (0, 0, 0, 0, 0);
    for p in &photos {
        let id = lib
            .asset_of(&icloud("PrimarySync", &p.asset))
            .unwrap()
            .unwrap_or_else(|| panic!("{} not pulled", p.asset));
        let a = lib.asset(id).unwrap().unwrap();
        assert_eq!(a.state, State::Active);
        assert_eq!(a.hidden, p.hidden, "Apple's Hidden album is mirrored");
        // Original bytes are exactly Apple's (a RAW+JPEG keeps the JPEG as the original).
        let want = match p.alt {
            Some(_) => {
                raw += 1;
                assert_eq!(
                    read_part(&lib, a.raw.as_ref().unwrap()),
                    w.bytes(p.alt.unwrap())
                );
                w.bytes(p.original)
            }
            None => w.bytes(p.original),
        };
        assert_eq!(read_part(&lib, &a.original), want, "{}", p.name);
        if let Some(e) = p.edited {
            edited += 1;
            assert_eq!(read_part(&lib, a.edited.as_ref().unwrap()), w.bytes(e));
        }
        if let Some(l) = p.live {
            live += 1;
            assert_eq!(read_part(&lib, a.live_video.as_ref().unwrap()), w.bytes(l));
        }
        hidden += usize::from(p.hidden);
        if p.name_shape == crate::fake_icloud::NameShape::Missing {
            // No file name at Apple: derived from the record name and the item type.
            let stem: String = p
                .master
                .chars()
                .take(12)
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let ext = if p.item_type == Some("public.jpeg") {
                "JPG"
            } else {
                "bin"
            };
            assert_eq!(a.original.name, format!("{stem}.{ext}"));
        } else {
            assert_eq!(a.original.name, p.name);
            unicode += usize::from(p.name.contains('写'));
        }
    }
    assert!(edited > 10 && live > 10 && raw > 5 && hidden > 5 && unicode > 5);
    // The shared library's first photo is the same bytes as a private one: stored once.
    let shared_photos: Vec<_> = w.zone(ANNA, &shared).photos.values().cloned().collect();
    for p in &shared_photos {
        assert!(lib.asset_of(&icloud(&shared, &p.asset)).unwrap().is_some());
    }
    let counts = lib.counts().unwrap();
    assert_eq!(
        counts.assets, 240,
        "the 6 shared photos are the same bytes as private ones"
    );
    drop(lib);

    w.requests.clear();
    drop(w);
    let out = sync_ok(&fake, data);
    assert!(out.contains("0 new"), "{out}");
    // The session worked moments ago, so no `validate`: one `zones/list` per database.
    let requests = fake.world().requests.clone();
    assert_eq!(
        requests,
        ["POST ck/private/zones/list", "POST ck/shared/zones/list"],
        "no-change sync"
    );

    let status = run(&fake, data, &["icloud", "status"], None, "");
    let text = stdout(&status);
    assert!(text.contains("signed in"), "{text}");
    assert!(
        text.contains("trust expires in 29 days") || text.contains("trust expires in 30 days"),
        "{text}"
    );
    assert!(text.contains("PrimarySync: at Apple"), "{text}");
    assert!(text.contains(&format!("{hidden} hidden")), "{text}");
}

#[test]
fn new_photos_edits_deletions_and_restores_follow_the_change_feed() {
    let (fake, dir) = fake_with(30);
    let data = dir.path();
    login(&fake, data, ANNA);
    sync_ok(&fake, data);
    let names = fake.world().assets(ANNA, "PrimarySync");
    let (to_edit, to_delete, to_expunge) = {
        let mut w = fake.world();
        let plain: Vec<String> = names
            .iter()
            .filter(|n| {
                let p = &w.zone(ANNA, "PrimarySync").photos[*n];
                p.edited.is_none() && !p.hidden
            })
            .cloned()
            .collect();
        (plain[0].clone(), plain[1].clone(), plain[2].clone())
    };
    let before = {
        let lib = library(data);
        lib.asset_of(&icloud("PrimarySync", &to_edit))
            .unwrap()
            .unwrap()
    };
    {
        let mut w = fake.world();
        w.populate(ANNA, "PrimarySync", 5, 1003, 3000); // none of these has an edit
        w.edit(ANNA, "PrimarySync", &to_edit, 777_777);
        w.delete(ANNA, "PrimarySync", &to_delete);
        w.expunge(ANNA, "PrimarySync", &to_expunge);
    }
    let out = sync_ok(&fake, data);
    assert!(
        out.contains("5 new") && out.contains("1 edits") && out.contains("2 moved to trash"),
        "{out}"
    );
    {
        let lib = library(data);
        let w = fake.world();
        let edited = lib
            .asset_of(&icloud("PrimarySync", &to_edit))
            .unwrap()
            .unwrap();
        assert_eq!(edited, before, "an edit keeps the asset");
        let a = lib.asset(edited).unwrap().unwrap();
        let want = w.bytes(crate::fake_icloud::Blob {
            seed: 777_777,
            len: 3000 + 777_777 % 1000,
            kind: crate::fake_icloud::BlobKind::Jpeg,
        });
        assert_eq!(read_part(&lib, a.edited.as_ref().unwrap()), want);
        for gone in [&to_delete, &to_expunge] {
            let id = lib.asset_of(&icloud("PrimarySync", gone)).unwrap().unwrap();
            assert!(matches!(
                lib.asset(id).unwrap().unwrap().state,
                State::Trashed {
                    by_source: true,
                    ..
                }
            ));
        }
        assert_eq!(lib.counts().unwrap().trashed, 2);
    }
    // Restored in iCloud (out of Recently Deleted): back in the library.
    fake.world().undelete(ANNA, "PrimarySync", &to_delete);
    let out = sync_ok(&fake, data);
    assert!(out.contains("1 restored"), "{out}");
    let lib = library(data);
    let id = lib
        .asset_of(&icloud("PrimarySync", &to_delete))
        .unwrap()
        .unwrap();
    assert_eq!(lib.asset(id).unwrap().unwrap().state, State::Active);
    assert_eq!(lib.counts().unwrap().trashed, 1);
}

#[test]
fn resets_throttling_and_expired_links_are_survived() {
    let (fake, dir) = fake_with(20);
    let data = dir.path();
    login(&fake, data, ANNA);
    {
        let mut w = fake.world();
        w.stale_listing_urls = true;
        for n in [1000, 2000, 500] {
            w.faults.push_back((Route::Download, Fault::Reset(n)));
        }
        w.faults.push_back((Route::Query, Fault::Throttled(1)));
    }
    let out = sync_ok(&fake, data);
    assert!(out.contains("20 new"), "{out}");
    let w = fake.world();
    assert!(w.faults.is_empty(), "every fault fired");
    let ranged = w
        .requests
        .iter()
        .filter(|r| r.starts_with("GET content/"))
        .count();
    assert!(ranged > 20, "expired links were fetched again");
    drop(w);
    let check = crate::harness::shoebox(data, &["check", "--read-data"]);
    assert!(check.status.success(), "{}", stdout(&check));
}

#[test]
fn a_wrong_password_fails_once_and_is_never_retried() {
    let (fake, dir) = fake_with(3);
    let data = dir.path();
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some("wrong"),
        "",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refused the password"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.world().signin_attempts, 1);
    assert_eq!(fake.world().pushes, 0);

    login(&fake, data, ANNA);
    // The password changes at Apple and the web session ends.
    {
        let mut w = fake.world();
        let a = w.account(ANNA);
        a.verifier = crate::fake_icloud::srp::verifier(
            "new password",
            &a.salt.clone(),
            a.iterations,
            a.protocol,
        );
        w.web_tokens.clear();
        w.signin_attempts = 0;
    }
    let out = sync(&fake, data);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refused the password"),
        "{}",
        stderr(&out)
    );
    let out = sync(&fake, data);
    assert!(stderr(&out).contains("sign in again"), "{}", stderr(&out));
    assert_eq!(
        fake.world().signin_attempts,
        1,
        "a refused password is not tried again"
    );
    let status = stdout(&run(&fake, data, &["icloud", "status"], None, ""));
    assert!(status.contains("sign-in needed"), "{status}");
}

#[test]
fn a_wrong_code_fails_and_the_sms_fallback_works() {
    let (fake, dir) = fake_with(2);
    let data = dir.path();
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "000000\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("code was not accepted"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("type sms"), "{}", stderr(&out));
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "sms\n135790\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("text message to (•••) •••-••58"),
        "{}",
        stderr(&out)
    );
    sync_ok(&fake, data);
}

#[test]
fn an_ended_session_signs_in_again_with_the_trust_token_without_a_code() {
    let (fake, dir) = fake_with(4);
    let data = dir.path();
    login(&fake, data, ANNA);
    sync_ok(&fake, data);
    // Apple ends the web session: CloudKit refuses it, the sync signs in again once (trust
    // token, no code) and goes on.
    fake.world().web_tokens.clear();
    fake.world().populate(ANNA, "PrimarySync", 2, 500, 3000);
    fake.world().requests.clear();
    let out = sync_ok(&fake, data);
    assert!(out.contains("2 new"), "{out}");
    assert_eq!(fake.world().pushes, 1, "no second code was needed");
    let requests = fake.world().requests.clone();
    assert_eq!(
        requests[..6],
        [
            "POST ck/private/zones/list",
            "POST setup/validate",
            "POST auth/signin/init",
            "POST auth/signin/complete",
            "POST setup/accountLogin",
            "POST ck/private/zones/list",
        ],
        "{requests:?}"
    );
    // The new session is used as is by the next sync.
    fake.world().requests.clear();
    sync_ok(&fake, data);
    assert_eq!(
        fake.world().requests.len(),
        2,
        "{:?}",
        fake.world().requests
    );
    // The session is sealed at rest: the trust token is not readable in the database.
    let db = std::fs::read(data.join("catalog.redb")).unwrap();
    let tokens: Vec<String> = fake
        .world()
        .account(ANNA)
        .trust_tokens
        .iter()
        .cloned()
        .collect();
    for t in tokens {
        assert!(!db.windows(t.len()).any(|w| w == t.as_bytes()));
    }
    assert!(!db.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()));
}

#[test]
fn web_access_off_and_access_denied_get_precise_messages_and_a_back_off() {
    let (fake, dir) = fake_with(2);
    let data = dir.path();
    fake.world().account(ANNA).web_access = false;
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Access iCloud Data on the Web"),
        "{}",
        stderr(&out)
    );

    fake.world().account(ANNA).web_access = true;
    login(&fake, data, ANNA);
    fake.world()
        .faults
        .push_back((Route::Zones, Fault::AccessDenied));
    let out = sync(&fake, data);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("private db access disabled"),
        "{}",
        stderr(&out)
    );
    // Backing off: the next sync sends nothing.
    fake.world().requests.clear();
    let out = sync(&fake, data);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("throttling"), "{}", stderr(&out));
    assert!(
        fake.world().requests.is_empty(),
        "{:?}",
        fake.world().requests
    );
    let status = stdout(&run(&fake, data, &["icloud", "status"], None, ""));
    assert!(status.contains("before contacting Apple again"), "{status}");
}

#[test]
fn throttled_sign_in_is_not_retried() {
    let (fake, dir) = fake_with(1);
    let data = dir.path();
    fake.world()
        .faults
        .push_back((Route::SigninInit, Fault::Status503));
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("throttling"), "{}", stderr(&out));
    let inits = fake
        .world()
        .requests
        .iter()
        .filter(|r| r.contains("signin/init"))
        .count();
    assert_eq!(inits, 1);
}

#[test]
fn a_sync_killed_mid_way_resumes_without_duplicates() {
    let (fake, dir) = fake_with(400);
    let data = dir.path();
    login(&fake, data, ANNA);
    fake.world().bandwidth = Some(400_000);
    let mut c = command(data, &["icloud", "sync"]);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    let mut child = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let downloads = fake
            .world()
            .requests
            .iter()
            .filter(|r| r.starts_with("GET content/"))
            .count();
        // About 126 files a page; the third page's downloads start only once the first
        // page's ingest has committed, so past 300 the first run has stored some photos
        // (however slow the machine), with more than a page still to fetch.
        if downloads > 300 || start.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    fake.world().bandwidth = None;
    let out = sync_ok(&fake, data);
    assert!(
        !out.contains(" 400 new"),
        "the first run had committed some: {out}"
    );
    let lib = library(data);
    assert_eq!(lib.counts().unwrap().assets, 400);
    for name in fake.world().assets(ANNA, "PrimarySync") {
        assert!(
            lib.asset_of(&icloud("PrimarySync", &name))
                .unwrap()
                .is_some()
        );
    }
    drop(lib);
    let check = crate::harness::shoebox(data, &["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
}

#[test]
fn two_apple_ids_on_one_box_store_a_shared_photo_once() {
    let (fake, dir) = fake_with(10);
    let data = dir.path();
    fake.add_account("ben@example.com", "bens password", "s2k");
    fake.world()
        .populate("ben@example.com", "PrimarySync", 12, 5, 3000);
    login(&fake, data, ANNA);
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", "ben@example.com"],
        Some("bens password"),
        "424242\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sync_ok(&fake, data);
    assert!(out.contains("anna@example.com: 10 new"), "{out}");
    assert!(
        out.contains("ben@example.com: 7 new, 5 already here"),
        "{out}"
    );
    assert_eq!(library(data).counts().unwrap().assets, 17);
}

#[test]
fn the_end_of_apples_trust_is_announced_ahead() {
    let (fake, dir) = fake_with(1);
    let data = dir.path();
    fake.world().trust_secs = 5 * 86_400 + 3600;
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(
        stdout(&out).contains("trusted for 5 more days"),
        "{}",
        stdout(&out)
    );
    let out = sync_ok(&fake, data);
    assert!(out.contains("trust of this box ends in 5 days"), "{out}");
    let status = stdout(&run(&fake, data, &["icloud", "status"], None, ""));
    assert!(
        status.contains("trust expires in 5 days (sign in again soon)"),
        "{status}"
    );
}

#[test]
fn serve_syncs_on_its_own_schedule() {
    let (fake, dir) = fake_with(12);
    let data = dir.path();
    login(&fake, data, ANNA);
    let mut c = command(data, &["serve", "--listen", "127.0.0.1:0", "--no-mdns"]);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    c.env("SHOEBOX_ICLOUD_EVERY_SECS", "1");
    let mut server = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let counted = |fake: &Fake| {
        fake.world()
            .requests
            .iter()
            .filter(|r| r.starts_with("POST ck/private/internal/records/query/batch"))
            .count()
    };
    let wait_for = |n: usize| {
        let start = std::time::Instant::now();
        while counted(&fake) < n {
            assert!(start.elapsed().as_secs() < 60, "no scheduled sync happened");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    wait_for(1);
    fake.world().populate(ANNA, "PrimarySync", 3, 700, 3000);
    wait_for(2);
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.kill().unwrap();
    server.wait().unwrap();
    let lib = library(data);
    assert_eq!(lib.counts().unwrap().assets, 15);
}

#[test]
fn an_account_of_the_other_icloud_is_named_precisely() {
    let (fake, dir) = fake_with(1);
    fake.world().account(ANNA).domain_to_use = Some("iCloud.com.cn".into());
    let out = run(
        &fake,
        dir.path(),
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("lives on iCloud.com.cn"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--china"), "{}", stderr(&out));
}

#[test]
fn the_periodic_full_listing_catches_what_the_change_feed_missed() {
    let (fake, dir) = fake_with(5);
    let data = dir.path();
    login(&fake, data, ANNA);
    sync_ok(&fake, data);
    // A photo appears without a change-feed entry (and without moving the zone's token).
    let missed = {
        let mut w = fake.world();
        let mut p = w.make_photo(900, 3000);
        p.asset = format!("MISSED{}", p.asset);
        p.version = 0;
        let name = p.asset.clone();
        w.zone(ANNA, "PrimarySync").photos.insert(name.clone(), p);
        name
    };
    let out = sync_ok(&fake, data);
    assert!(out.contains("0 new"), "the feed alone cannot see it: {out}");
    let out = run(&fake, data, &["icloud", "sync"], None, "");
    assert!(stdout(&out).contains("0 new"));
    let mut c = command(data, &["icloud", "sync"]);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    let out = c
        .env("SHOEBOX_ICLOUD_RECONCILE_SECS", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 new"), "{}", stdout(&out));
    let lib = library(data);
    assert!(
        lib.asset_of(&icloud("PrimarySync", &missed))
            .unwrap()
            .is_some()
    );
    assert_eq!(lib.counts().unwrap().assets, 6);
}

#[test]
fn no_signed_link_or_cookie_reaches_the_output_the_log_or_the_status() {
    let (fake, dir) = fake_with(1);
    let data = dir.path();
    login(&fake, data, ANNA);
    // The download host refuses connections: reqwest's error names the signed link, whose
    // query holds its keys; what shoebox prints, logs and records must not.
    fake.world().content_base = "http://127.0.0.1:9".into();
    let mut c = command(data, &["icloud", "sync"]);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    let out = c.env("SHOEBOX_LOG", "info").output().unwrap();
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("not fetched: IMG_0000.JPG: network"),
        "{text}"
    );
    assert!(
        text.contains("download interrupted"),
        "the log was read: {text}"
    );
    let status = stdout(&run(&fake, data, &["icloud", "status"], None, ""));
    let cookie = fake.world().web_tokens.keys().next().cloned().unwrap();
    for shown in [&text, &status] {
        for secret in ["k=wrap", "s=sig", "/B/", "127.0.0.1:9", cookie.as_str()] {
            assert!(!shown.contains(secret), "{secret} shown in: {shown}");
        }
    }
}
