//! The accounts over a real redb file: owner, users, password changes; login and sessions
//! in [`sessions`].

mod sessions;

use std::net::IpAddr;
use std::time::Duration;

use tempfile::TempDir;

use super::*;

const PW: &str = "kitten42 sunrise";
const PW2: &str = "Gravel-Orbit-77";
const LIFETIME: i64 = 30 * 24 * 3600;

fn setup() -> (TempDir, Accounts) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("catalog.redb")).unwrap();
    let accounts = Accounts::with_options(Arc::new(db), Options::for_tests()).unwrap();
    (dir, accounts)
}

fn with_owner() -> (TempDir, Accounts) {
    let (dir, a) = setup();
    a.create_owner("Owner", PW).unwrap();
    a.add_user("ann", PW, Role::Member).unwrap();
    (dir, a)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn after(now: Now, secs: i64) -> Now {
    Now {
        unix: now.unix + secs,
        mono: now.mono + Duration::from_secs(secs.unsigned_abs()),
    }
}

fn login(
    a: &Accounts,
    name: &str,
    pw: &str,
    client: &str,
    now: Now,
) -> Result<Session, LoginError> {
    a.login_at(name, pw, ip(client), now)
}

#[test]
fn owner_is_created_once() {
    let (_dir, a) = setup();
    assert!(!a.has_users().unwrap());
    assert!(matches!(
        a.add_user("ann", PW, Role::Member),
        Err(Error::NoOwnerYet)
    ));
    let owner = a.create_owner("Owner", PW).unwrap();
    assert_eq!(
        (owner.name.as_str(), owner.role, owner.owner),
        ("owner", Role::Admin, true)
    );
    assert!(a.has_users().unwrap());
    assert!(matches!(
        a.create_owner("other", PW),
        Err(Error::OwnerExists)
    ));
    assert!(matches!(
        a.create_owner("owner", PW),
        Err(Error::OwnerExists)
    ));
    let ann = a.add_user("ann", PW, Role::Admin).unwrap();
    assert!(!ann.owner);
}

#[test]
fn names_are_normalised_and_checked() {
    let (_dir, a) = with_owner();
    assert_eq!(
        a.add_user(" Bob.Smith ", PW, Role::Member).unwrap().name,
        "bob.smith"
    );
    assert!(matches!(
        a.add_user("BOB.smith", PW, Role::Member),
        Err(Error::NameTaken { name }) if name == "bob.smith"
    ));
    assert_eq!(a.user("Bob.SMITH").unwrap().unwrap().name, "bob.smith");
    for bad in ["", "a b", "ünï", ".hidden", &"x".repeat(33), "a/b"] {
        assert!(
            matches!(
                a.add_user(bad, PW, Role::Member),
                Err(Error::InvalidName { .. })
            ),
            "{bad:?}"
        );
        assert_eq!(a.user(bad).unwrap(), None);
    }
    a.add_user(&"x".repeat(32), PW, Role::Member).unwrap();
    let names: Vec<_> = a.users().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(
        names,
        ["ann", "bob.smith", "owner", "x".repeat(32).as_str()]
    );
    assert!(login(&a, "BOB.Smith", PW, "10.0.0.1", Now::real()).is_ok());
}

#[test]
fn weak_passwords_are_refused_with_a_hint() {
    let (_dir, a) = with_owner();
    for pw in ["short", "password123", "12345678", "aaaaaaaaaa"] {
        match a.add_user("bob", pw, Role::Member) {
            Err(Error::WeakPassword { hint }) => assert!(!hint.is_empty()),
            other => panic!("{pw}: {other:?}"),
        }
    }
    assert!(matches!(
        a.set_password("ann", "qwerty123"),
        Err(Error::WeakPassword { .. })
    ));
    assert_eq!(Accounts::password_strength("shoebox").score, 0);
}

#[test]
fn removing_a_user_ends_their_sessions_but_never_the_owner() {
    let (_dir, a) = with_owner();
    let now = Now::real();
    let ann = login(&a, "ann", PW, "10.0.0.1", now).unwrap();
    let owner = login(&a, "owner", PW, "10.0.0.1", now).unwrap();
    a.remove_user("ANN").unwrap();
    assert_eq!(a.session_at(&ann.token, now).unwrap(), None);
    assert!(a.session_at(&owner.token, now).unwrap().is_some());
    assert_eq!(a.user("ann").unwrap(), None);
    assert!(matches!(
        a.remove_user("ann"),
        Err(Error::NoSuchUser { .. })
    ));
    assert!(matches!(
        a.remove_user("owner"),
        Err(Error::CannotRemoveOwner)
    ));
    assert!(matches!(
        login(&a, "ann", PW, "10.0.0.2", now),
        Err(LoginError::BadCredentials)
    ));
}

#[test]
fn changing_a_password_ends_other_sessions_but_keeps_the_given_one() {
    let (_dir, a) = with_owner();
    let now = Now::real();
    let here = login(&a, "ann", PW, "10.0.0.1", now).unwrap();
    let phone = login(&a, "ann", PW, "10.0.0.2", now).unwrap();
    let owner = login(&a, "owner", PW, "10.0.0.3", now).unwrap();
    assert!(matches!(
        a.change_password_at("ann", PW2, PW2, Some(&here.token), now),
        Err(Error::BadPassword)
    ));
    assert!(a.session_at(&phone.token, now).unwrap().is_some());
    a.change_password_at("ann", PW, PW2, Some(&here.token), now)
        .unwrap();
    assert!(a.session_at(&here.token, now).unwrap().is_some());
    assert_eq!(a.session_at(&phone.token, now).unwrap(), None);
    assert!(a.session_at(&owner.token, now).unwrap().is_some());
    assert!(matches!(
        login(&a, "ann", PW, "10.0.0.1", now),
        Err(LoginError::BadCredentials)
    ));
    login(&a, "ann", PW2, "10.0.0.1", now).unwrap();
}

#[test]
fn wrong_current_passwords_are_throttled_too() {
    let (_dir, a) = with_owner();
    let now = Now::real();
    for _ in 0..5 {
        assert!(matches!(
            a.change_password_at("ann", PW2, PW2, None, now),
            Err(Error::BadPassword)
        ));
    }
    assert!(matches!(
        a.change_password_at("ann", PW, PW2, None, now),
        Err(Error::Throttled { .. })
    ));
}

#[test]
fn an_admin_reset_ends_all_sessions() {
    let (_dir, a) = with_owner();
    let now = Now::real();
    let s = login(&a, "ann", PW, "10.0.0.1", now).unwrap();
    a.set_password("ann", PW2).unwrap();
    assert_eq!(a.session_at(&s.token, now).unwrap(), None);
    login(&a, "ann", PW2, "10.0.0.1", now).unwrap();
    assert!(matches!(
        a.set_password("nobody", PW2),
        Err(Error::NoSuchUser { .. })
    ));
}

#[test]
fn a_role_change_shows_in_the_next_lookup() {
    let (_dir, a) = with_owner();
    a.set_role("ann", Role::Admin).unwrap();
    let now = Now::real();
    let s = login(&a, "ann", PW, "10.0.0.1", now).unwrap();
    assert_eq!(s.role, Role::Admin);
    a.set_role("ann", Role::Member).unwrap();
    assert_eq!(
        a.session_at(&s.token, now).unwrap().unwrap().role,
        Role::Member
    );
    assert!(matches!(
        a.set_role("owner", Role::Member),
        Err(Error::CannotChangeOwnerRole)
    ));
}

#[test]
fn reopening_keeps_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.redb");
    {
        let db = Arc::new(Database::create(&path).unwrap());
        let a = Accounts::with_options(db, Options::for_tests()).unwrap();
        a.create_owner("owner", PW).unwrap();
    }
    let db = Arc::new(Database::create(&path).unwrap());
    let a = Accounts::with_options(db, Options::for_tests()).unwrap();
    assert_eq!(a.users().unwrap().len(), 1);
    assert!(matches!(
        Accounts::with_options(
            a.db.clone(),
            Options {
                argon2_t_cost: 0,
                ..Options::for_tests()
            }
        ),
        Err(Error::BadParams(_))
    ));
}

#[test]
fn the_facade_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Accounts>();
    shareable::<Error>();
    shareable::<LoginError>();
}

#[test]
fn a_member_can_be_limited_to_their_uploads_and_it_ends_with_the_account() {
    let (_dir, a) = with_owner();
    assert!(
        !a.own_uploads_only("ann").unwrap(),
        "the whole library by default"
    );
    a.set_own_uploads_only("ANN", true).unwrap();
    assert!(a.own_uploads_only("ann").unwrap());
    let s = a.login("ann", PW, IpAddr::from([10, 0, 0, 1])).unwrap();
    assert!(a.session(&s.token).unwrap().unwrap().own_uploads_only);
    a.set_own_uploads_only("ann", false).unwrap();
    assert!(
        !a.session(&s.token).unwrap().unwrap().own_uploads_only,
        "at once"
    );
    a.set_own_uploads_only("owner", true).unwrap();
    assert!(
        !a.own_uploads_only("owner").unwrap(),
        "administrators see everything"
    );
    a.set_own_uploads_only("ann", true).unwrap();
    a.remove_user("ann").unwrap();
    a.add_user("ann", PW, Role::Member).unwrap();
    assert!(
        !a.own_uploads_only("ann").unwrap(),
        "a new account starts unrestricted"
    );
    assert!(matches!(
        a.set_own_uploads_only("nobody", true),
        Err(Error::NoSuchUser { .. })
    ));
}

#[test]
fn the_box_own_names_cannot_be_user_names() {
    let (_dir, a) = with_owner();
    assert!(matches!(
        a.add_user("Library", PW, Role::Member),
        Err(Error::InvalidName { .. })
    ));
    a.add_user("librarian", PW, Role::Member).unwrap();
}
