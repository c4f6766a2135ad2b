//! A sign-in waiting for its code survives a restart of `shoebox serve`: the page still asks
//! for the code, the code typed after the restart finishes the sign-in, and "send a new code"
//! starts a new conversation with Apple; one that chose a text message gets a new text message.

use crate::icloud_web::{ANNA, last_sync, set_up, start, sync_now};

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn a_code_typed_after_a_restart_still_signs_in() {
    let (fake, dir, server, mut b) = set_up();
    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", PASSWORD)]);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    assert_eq!(fake.world().pushes, 1);

    drop(server);
    let (server, mut b) = start(&fake, &dir.path().join("data"));
    let page = b.get("/icloud").body;
    assert!(
        page.contains("waiting for the code") && page.contains("Send a new code"),
        "{page}"
    );
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "424242")]);
    assert!(
        r.body.contains(&format!("Signed in to iCloud as {ANNA}")),
        "{}",
        r.body
    );
    assert_eq!(
        fake.world().pushes,
        1,
        "the first code was used, no new one sent"
    );
    assert!(!r.body.contains("waiting for the code"), "{}", r.body);
    let page = sync_now(&mut b);
    assert!(last_sync(&page).ends_with("ago: ok"), "{page}");

    // Apple forgets the trust; sign in again, restart, ask for a new code: Apple pushes
    // again and that code works.
    fake.world().account(ANNA).trust_tokens.clear();
    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", PASSWORD)]);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    assert_eq!(fake.world().pushes, 2);
    drop(server);
    let (_server, mut b) = start(&fake, &dir.path().join("data"));
    b.get("/icloud");
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "new")]);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    assert_eq!(fake.world().pushes, 3, "a new code was asked for");
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "424242")]);
    assert!(
        r.body.contains(&format!("Signed in to iCloud as {ANNA}")),
        "{}",
        r.body
    );
}

#[test]
fn a_text_message_sign_in_sends_a_text_again_after_a_restart() {
    let (fake, dir, server, mut b) = set_up();
    let texts = |f: &crate::fake_icloud::Fake| {
        f.world()
            .requests
            .iter()
            .filter(|r| *r == "PUT auth/verify/phone")
            .count()
    };
    let r = b.post("/icloud/add", &[("apple_id", ANNA), ("password", PASSWORD)]);
    assert!(r.body.contains("Verification code"), "{}", r.body);
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "sms")]);
    assert!(
        r.body.contains("text message to (•••) •••-••58"),
        "{}",
        r.body
    );
    assert_eq!((texts(&fake), fake.world().pushes), (1, 1));

    drop(server);
    let (_server, mut b) = start(&fake, &dir.path().join("data"));
    b.get("/icloud");
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "new")]);
    assert!(
        r.body.contains("text message to (•••) •••-••58"),
        "{}",
        r.body
    );
    assert_eq!(texts(&fake), 2, "a new text message was sent");
    assert_eq!(fake.world().pushes, 1, "and no device code");
    let r = b.post("/icloud/code", &[("apple_id", ANNA), ("code", "135790")]);
    assert!(
        r.body.contains(&format!("Signed in to iCloud as {ANNA}")),
        "{}",
        r.body
    );
}
