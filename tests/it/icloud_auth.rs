//! Sign-in paths of the iCloud pull less common than the plain 2FA flow, against the fake.

use crate::harness::{stderr, stdout};
use crate::icloud::{ANNA, PASSWORD, fake_with, login, run, sync_ok};

#[test]
fn new_icloud_terms_get_a_precise_message_and_sign_in_works_once_accepted() {
    let (fake, dir) = fake_with(2);
    let data = dir.path();
    fake.world().account(ANNA).terms_update = true;
    let out = run(
        &fake,
        data,
        &["icloud", "login", "--apple-id", ANNA],
        Some(PASSWORD),
        "424242\n",
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("accept new iCloud terms"),
        "{}",
        stderr(&out)
    );
    fake.world().account(ANNA).terms_update = false;
    login(&fake, data, ANNA);
    assert!(sync_ok(&fake, data).contains("2 new"));
}

#[test]
fn a_right_code_answered_409_with_valid_signs_in() {
    let (fake, dir) = fake_with(1);
    let data = dir.path();
    fake.world().valid_code_as_409 = true;
    login(&fake, data, ANNA);
    assert!(sync_ok(&fake, data).contains("1 new"));
}

#[test]
fn a_412_after_the_password_is_repaired_and_the_sync_goes_on() {
    let (fake, dir) = fake_with(3);
    let data = dir.path();
    login(&fake, data, ANNA);
    // The session ends; signing in again with the trust token meets Apple's 412.
    fake.world().web_tokens.clear();
    fake.world().account(ANNA).needs_repair = true;
    let out = sync_ok(&fake, data);
    assert!(out.contains("3 new"), "{out}");
    assert_eq!(fake.world().repairs, 1, "repair/complete was called once");
    assert!(!fake.world().account(ANNA).needs_repair);
}
