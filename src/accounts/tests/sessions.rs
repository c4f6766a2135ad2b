//! Login, throttling, session lookup and storage of tokens.

use std::time::Duration;

use redb::{ReadableDatabase, ReadableTable};

use super::*;

#[test]
fn login_accepts_the_right_password_only() {
    let (_dir, a) = with_owner();
    let now = Now::real();
    let s = login(&a, "ann", PW, "10.0.0.1", now).unwrap();
    assert_eq!((s.user.as_str(), s.role), ("ann", Role::Member));
    assert_eq!(s.expires, now.unix + LIFETIME);
    assert_eq!((s.token.len(), s.csrf.len()), (64, 64));
    assert_ne!(s.token, s.csrf);
    assert!(matches!(
        login(&a, "ann", PW2, "10.0.0.1", now),
        Err(LoginError::BadCredentials)
    ));
    assert!(matches!(
        login(&a, "nobody", PW, "10.0.0.1", now),
        Err(LoginError::BadCredentials)
    ));
    assert!(matches!(
        login(&a, "not valid!", PW, "10.0.0.1", now),
        Err(LoginError::BadCredentials)
    ));
}

#[test]
fn throttling_by_name_grows_and_resets_on_success() {
    let (_dir, a) = with_owner();
    let t0 = Now::real();
    for i in 0..5 {
        let client = format!("10.0.0.{i}");
        assert!(matches!(
            login(&a, "ann", PW2, &client, t0),
            Err(LoginError::BadCredentials)
        ));
    }
    // Even the right password is not checked while locked, from any address.
    let throttled = |now, client| match login(&a, "ann", PW, client, now) {
        Err(LoginError::Throttled { retry_after }) => retry_after,
        other => panic!("{other:?}"),
    };
    assert_eq!(throttled(t0, "10.9.9.9"), Duration::from_secs(1));
    let t1 = after(t0, 1);
    assert!(matches!(
        login(&a, "ann", PW2, "10.0.0.7", t1),
        Err(LoginError::BadCredentials)
    ));
    assert_eq!(throttled(t1, "10.9.9.9"), Duration::from_secs(2));
    let t3 = after(t1, 2);
    assert!(matches!(
        login(&a, "ann", PW2, "10.0.0.8", t3),
        Err(LoginError::BadCredentials)
    ));
    assert_eq!(throttled(t3, "10.9.9.9"), Duration::from_secs(4));
    // Other users are not affected.
    login(&a, "owner", PW, "10.9.9.9", t3).unwrap();
    let t7 = after(t3, 4);
    login(&a, "ann", PW, "10.9.9.9", t7).unwrap();
    for _ in 0..4 {
        assert!(matches!(
            login(&a, "ann", PW2, "10.0.1.1", t7),
            Err(LoginError::BadCredentials)
        ));
    }
    login(&a, "ann", PW, "10.0.1.2", t7).unwrap();
}

#[test]
fn throttling_by_address_covers_every_name() {
    let (_dir, a) = with_owner();
    let t0 = Now::real();
    for name in ["ann", "bob", "carol", "dave", "eve"] {
        assert!(matches!(
            login(&a, name, PW2, "192.168.1.9", t0),
            Err(LoginError::BadCredentials)
        ));
    }
    assert!(matches!(
        login(&a, "owner", PW, "192.168.1.9", t0),
        Err(LoginError::Throttled { retry_after }) if retry_after == Duration::from_secs(1)
    ));
    login(&a, "owner", PW, "192.168.1.10", t0).unwrap();
    let t1 = after(t0, 1);
    assert!(matches!(
        login(&a, "eve", PW2, "192.168.1.9", t1),
        Err(LoginError::BadCredentials)
    ));
    assert!(matches!(
        login(&a, "owner", PW, "192.168.1.9", t1),
        Err(LoginError::Throttled { retry_after }) if retry_after == Duration::from_secs(2)
    ));
    login(&a, "owner", PW, "192.168.1.9", after(t1, 2)).unwrap();
    // The success reset the address.
    for name in ["bob", "carol", "dave", "eve"] {
        assert!(matches!(
            login(&a, name, PW2, "192.168.1.9", after(t1, 2)),
            Err(LoginError::BadCredentials)
        ));
    }
}

#[test]
fn session_lookup_slides_and_expires() {
    let (_dir, a) = with_owner();
    let t0 = Now::real();
    let s = login(&a, "ann", PW, "10.0.0.1", t0).unwrap();
    assert_eq!(a.session_at(&s.token, t0).unwrap(), Some(s.clone()));
    // More than half left: no renewal.
    let early = a
        .session_at(&s.token, after(t0, LIFETIME / 2 - 10))
        .unwrap()
        .unwrap();
    assert_eq!(early.expires, s.expires);
    // Less than half left: renewed to a full lifetime from now.
    let t_late = after(t0, LIFETIME / 2 + 10);
    let late = a.session_at(&s.token, t_late).unwrap().unwrap();
    assert_eq!(late.expires, t_late.unix + LIFETIME);
    assert_eq!(late.csrf, s.csrf);
    let t_dead = after(t_late, LIFETIME);
    assert_eq!(a.session_at(&s.token, t_dead).unwrap(), None);
    assert_eq!(
        a.session_at(&s.token, t_late).unwrap(),
        None,
        "expired sessions are deleted"
    );
    assert_eq!(a.session("nonsense").unwrap(), None);
    assert_eq!(a.session(&"0".repeat(64)).unwrap(), None);
}

#[test]
fn logout_and_purge_end_sessions() {
    let (_dir, a) = with_owner();
    let t0 = Now::real();
    let s1 = login(&a, "ann", PW, "10.0.0.1", t0).unwrap();
    let s2 = login(&a, "ann", PW, "10.0.0.1", t0).unwrap();
    let s3 = login(&a, "owner", PW, "10.0.0.1", after(t0, 100)).unwrap();
    a.logout(&s1.token).unwrap();
    a.logout("unknown").unwrap();
    assert_eq!(a.session_at(&s1.token, t0).unwrap(), None);
    assert!(a.session_at(&s2.token, t0).unwrap().is_some());
    assert_eq!(a.purge_expired_at(after(t0, LIFETIME)).unwrap(), 1);
    assert_eq!(a.purge_expired_at(after(t0, LIFETIME)).unwrap(), 0);
    assert!(
        a.session_at(&s3.token, after(t0, LIFETIME))
            .unwrap()
            .is_some()
    );
}

#[test]
fn tokens_are_not_stored_in_clear() {
    let (dir, a) = with_owner();
    let s = login(&a, "ann", PW, "10.0.0.1", Now::real()).unwrap();
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&s.token[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    {
        let txn = a.db.begin_read().unwrap();
        let table = txn.open_table(db::SESSIONS).unwrap();
        let mut rows = 0;
        for entry in table.iter().unwrap() {
            let (k, v) = entry.unwrap();
            let bytes = [k.value().as_slice(), v.value()].concat();
            assert!(!contains(&bytes, s.token.as_bytes()));
            assert!(!contains(&bytes, &raw));
            rows += 1;
        }
        assert_eq!(rows, 1);
    }
    drop(a);
    let file = std::fs::read(dir.path().join("catalog.redb")).unwrap();
    assert!(!contains(&file, s.token.as_bytes()));
    assert!(!contains(&file, &raw));
    assert!(!contains(&file, PW.as_bytes()));
}

#[test]
fn concurrent_guesses_are_counted_before_hashing() {
    // Five admitted attempts lock the name even if none has finished hashing yet.
    let (_dir, a) = with_owner();
    let now = Now::real();
    for _ in 0..5 {
        assert_eq!(
            a.throttle().attempt("ann", Some(ip("10.1.1.1")), now.mono),
            None
        );
    }
    assert!(matches!(
        login(&a, "ann", PW, "10.2.2.2", now),
        Err(LoginError::Throttled { .. })
    ));
}

#[test]
fn unknown_names_cost_an_argon2_run_like_wrong_passwords() {
    // Without the decoy hash an unknown name answers in microseconds and can be probed.
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("catalog.redb")).unwrap();
    let options = Options {
        argon2_m_cost_kib: 4096,
        ..Options::for_tests()
    };
    let a = Accounts::with_options(Arc::new(db), options).unwrap();
    a.create_owner("owner", PW).unwrap();
    let fastest = |name: &str| {
        (0..3u8)
            .map(|i| {
                let start = std::time::Instant::now();
                let client = IpAddr::from([10, 3, i, name.len() as u8]);
                assert!(a.login(name, PW2, client).is_err());
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let wrong = fastest("owner");
    let unknown = fastest("nobody");
    assert!(
        unknown * 3 > wrong,
        "unknown {unknown:?} vs wrong {wrong:?}"
    );
}
