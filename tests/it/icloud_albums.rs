//! iCloud albums and metadata mirrored: the real binary against the fake iCloud.

use std::collections::BTreeSet;

use shoebox::library::{Library, State};

use crate::fake_icloud::Fake;

use crate::icloud::{ANNA, PASSWORD, fake_with, icloud, library, login, sync_ok};

const BOB: &str = "bob@example.com";

/// Album name → (Apple ID it mirrors, or none, and its active assets' iCloud record names).
fn albums(lib: &Library) -> Vec<(String, Option<String>, BTreeSet<String>)> {
    let mut out = Vec::new();
    for (a, _) in lib.albums().unwrap() {
        let (_, assets) = lib.album(a.id).unwrap();
        let records = assets
            .iter()
            .flat_map(|x| x.origins.clone())
            .filter_map(|o| match o {
                shoebox::library::Origin::Icloud { record, .. } => Some(record),
                _ => None,
            })
            .collect();
        out.push((a.name, a.mirror.map(|m| m.account), records));
    }
    out
}

fn set(names: &[&String]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).clone()).collect()
}

/// Anna: a folder "Trips" with "Italy" (3 photos), "Famille 👪" (2), four empty albums;
/// Bob: his own "Famille 👪" (1). Returns Anna's visible assets, Italy, Famille, and Bob's
/// album with its photo.
fn albums_world(fake: &Fake) -> (Vec<String>, String, String, (String, String)) {
    fake.add_account(BOB, PASSWORD, "s2k");
    {
        let mut w = fake.world();
        w.populate(BOB, "PrimarySync", 3, 100, 3000);
        let assets: Vec<String> = w
            .assets(ANNA, "PrimarySync")
            .into_iter()
            .filter(|a| !w.zone(ANNA, "PrimarySync").photos[a].hidden)
            .collect();
        let trips = w.add_folder(ANNA, "PrimarySync", "Trips");
        let italy = w.add_album(ANNA, "PrimarySync", "Italy", Some(&trips));
        w.album_add(ANNA, "PrimarySync", &italy, &assets[0..3]);
        let family = w.add_album(ANNA, "PrimarySync", "Famille 👪", None);
        w.album_add(ANNA, "PrimarySync", &family, &assets[3..5]);
        // Enough albums that the album list comes in several pages.
        for i in 0..4 {
            w.add_album(ANNA, "PrimarySync", &format!("Empty {i}"), None);
        }
        let bob_assets = w.assets(BOB, "PrimarySync");
        let bob_family = w.add_album(BOB, "PrimarySync", "Famille 👪", None);
        w.album_add(BOB, "PrimarySync", &bob_family, &bob_assets[0..1]);
        (assets, italy, family, (bob_family, bob_assets[0].clone()))
    }
}

#[test]
fn icloud_albums_are_mirrored_per_apple_id_and_kept_in_step() {
    let (fake, dir) = fake_with(12);
    let data = dir.path();
    let (assets, italy, family, bob_family) = albums_world(&fake);
    login(&fake, data, ANNA);
    login(&fake, data, BOB);
    let out = sync_ok(&fake, data);
    assert!(out.contains("albums from iCloud: 6 made"), "{out}");
    assert!(out.contains("albums from iCloud: 1 made"), "{out}");

    let lib = library(data);
    let got = albums(&lib);
    let find = |got: &[(String, Option<String>, BTreeSet<String>)], name: &str, who: &str| {
        got.iter()
            .find(|(n, m, _)| n == name && m.as_deref() == Some(who))
            .unwrap_or_else(|| panic!("no album {name} of {who} in {got:?}"))
            .2
            .clone()
    };
    assert_eq!(
        find(&got, "Trips / Italy", ANNA),
        set(&[&assets[0], &assets[1], &assets[2]])
    );
    assert_eq!(
        find(&got, "Famille 👪", ANNA),
        set(&[&assets[3], &assets[4]])
    );
    assert_eq!(find(&got, "Famille 👪", BOB), set(&[&bob_family.1]));
    assert!(find(&got, "Empty 3", ANNA).is_empty());
    assert!(
        !got.iter()
            .any(|(n, _, _)| n.contains("Trips") && !n.contains("Italy")),
        "a folder is not an album"
    );
    // A person's own album here, with a photo that is also in an iCloud album.
    let mine = lib.create_album("Mine").unwrap();
    let first = lib
        .asset_of(&icloud("PrimarySync", &assets[0]))
        .unwrap()
        .unwrap();
    lib.set_in_album(mine.id, first, true).unwrap();
    drop(lib);

    {
        let mut w = fake.world();
        w.rename_album(ANNA, "PrimarySync", &italy, "Italia");
        w.album_remove(ANNA, "PrimarySync", &italy, &assets[0]);
        w.album_add(ANNA, "PrimarySync", &italy, &assets[6..7]);
        w.delete_album(ANNA, "PrimarySync", &family);
    }
    let out = sync_ok(&fake, data);
    assert!(
        out.contains(&format!(
            "{ANNA}: albums from iCloud: 0 made, 1 changed, 1 removed"
        )),
        "{out}"
    );
    let lib = library(data);
    let got = albums(&lib);
    assert_eq!(
        find(&got, "Trips / Italia", ANNA),
        set(&[&assets[1], &assets[2], &assets[6]])
    );
    assert!(
        !got.iter()
            .any(|(n, m, _)| n == "Famille 👪" && m.as_deref() == Some(ANNA)),
        "deleted in iCloud, gone here: {got:?}"
    );
    assert_eq!(find(&got, "Famille 👪", BOB), set(&[&bob_family.1]));
    for a in &assets[..7] {
        let id = lib.asset_of(&icloud("PrimarySync", a)).unwrap().unwrap();
        assert_eq!(
            lib.asset(id).unwrap().unwrap().state,
            State::Active,
            "photos stay"
        );
    }
    let own = got
        .iter()
        .find(|(n, m, _)| n == "Mine" && m.is_none())
        .unwrap();
    assert_eq!(
        own.2,
        set(&[&assets[0]]),
        "a person's own album is never touched"
    );
    drop(lib);

    // Nothing changed: albums cost no request.
    fake.world().requests.clear();
    let out = sync_ok(&fake, data);
    assert!(
        out.contains("albums from iCloud: 0 made, 0 changed, 0 removed"),
        "{out}"
    );
    let requests = fake.world().requests.clone();
    assert!(requests.len() <= 6, "two no-change syncs sent {requests:?}");
}

#[test]
fn favorites_time_zones_and_places_are_mirrored_and_changes_made_here_stay() {
    let (fake, dir) = fake_with(12);
    let data = dir.path();
    let names = fake.world().assets(ANNA, "PrimarySync");
    let by_index = |i: usize| {
        names
            .iter()
            .find(|n| n.contains(&format!("AS{i:06}")))
            .unwrap()
            .clone()
    };
    let (video, still) = (by_index(9), by_index(4));
    fake.world().change(ANNA, "PrimarySync", &video, |p| {
        p.tz = -5 * 3600;
        p.place = Some((10.5, 20.25));
    });
    login(&fake, data, ANNA);
    sync_ok(&fake, data);

    let lib = library(data);
    let asset = |lib: &Library, record: &str| {
        let id = lib
            .asset_of(&icloud("PrimarySync", record))
            .unwrap()
            .unwrap();
        lib.asset(id).unwrap().unwrap()
    };
    let photos: Vec<_> = fake
        .world()
        .zone(ANNA, "PrimarySync")
        .photos
        .values()
        .cloned()
        .collect();
    assert!(photos.iter().filter(|p| p.favorite).count() >= 1);
    for p in &photos {
        assert_eq!(asset(&lib, &p.asset).favorite, p.favorite, "{}", p.name);
    }
    // The video has no time or place of its own: Apple's, in its time zone.
    let v = asset(&lib, &video);
    let apple = fake.world().zone(ANNA, "PrimarySync").photos[&video].date_ms / 1000;
    assert_eq!(v.taken.utc(), apple);
    assert_eq!(v.taken.offset, Some(-5 * 3600));
    assert_eq!(v.taken.local, apple - 5 * 3600);
    assert_eq!(v.gps, Some((10.5, 20.25, None)));
    // The still's file says where and when (with its offset): the file wins.
    let s = asset(&lib, &still);
    assert_eq!(s.taken.offset, Some(-4 * 3600));
    let (lat, _, _) = s.gps.unwrap();
    assert!((lat - 40.748).abs() < 0.01, "{lat}");

    // Here someone marks a photo; at Apple one is unmarked and another marked.
    let (kept, unmarked, marked) = (by_index(6), by_index(3), by_index(5));
    assert!(!asset(&lib, &kept).favorite && asset(&lib, &unmarked).favorite);
    lib.set_favorite(asset(&lib, &kept).id, true).unwrap();
    drop(lib);
    {
        let mut w = fake.world();
        w.change(ANNA, "PrimarySync", &unmarked, |p| p.favorite = false);
        w.change(ANNA, "PrimarySync", &marked, |p| p.favorite = true);
        w.change(ANNA, "PrimarySync", &video, |p| {
            p.place = Some((-33.9, 151.2));
        });
    }
    sync_ok(&fake, data);
    let lib = library(data);
    assert!(!asset(&lib, &unmarked).favorite);
    assert!(asset(&lib, &marked).favorite);
    assert!(asset(&lib, &kept).favorite, "a mark made here stays");
    assert_eq!(asset(&lib, &video).gps, Some((-33.9, 151.2, None)));
}

#[test]
fn the_full_listing_trashes_what_the_change_feed_never_deleted() {
    let (fake, dir) = fake_with(8);
    let data = dir.path();
    login(&fake, data, ANNA);
    sync_ok(&fake, data);
    let names = fake.world().assets(ANNA, "PrimarySync");
    let (deleted, expunged) = (names[1].clone(), names[2].clone());
    {
        let mut w = fake.world();
        w.delete_unannounced(ANNA, "PrimarySync", &deleted);
        w.expunge_unannounced(ANNA, "PrimarySync", &expunged);
    }
    let out = sync_ok(&fake, data);
    assert!(
        out.contains("0 moved to trash"),
        "the feed alone cannot see it: {out}"
    );
    let mut c = crate::harness::command(data, &["icloud", "sync"]);
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    let out = c
        .env("SHOEBOX_ICLOUD_RECONCILE_SECS", "0")
        .output()
        .unwrap();
    let text = crate::harness::stdout(&out);
    assert!(out.status.success(), "{}", crate::harness::stderr(&out));
    assert!(text.contains("2 moved to trash"), "{text}");
    let lib = library(data);
    for n in &names {
        let id = lib.asset_of(&icloud("PrimarySync", n)).unwrap().unwrap();
        let state = lib.asset(id).unwrap().unwrap().state;
        if *n == deleted || *n == expunged {
            assert!(
                matches!(
                    state,
                    State::Trashed {
                        by_source: true,
                        ..
                    }
                ),
                "{n}: {state:?}"
            );
        } else {
            assert_eq!(state, State::Active, "{n}");
        }
    }
    drop(lib);
    // Back from Recently Deleted at Apple (announced this time): back here.
    fake.world().undelete(ANNA, "PrimarySync", &deleted);
    let out = sync_ok(&fake, data);
    assert!(out.contains("1 restored"), "{out}");
}
