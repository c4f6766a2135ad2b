//! Filters, smart views and albums over real files.

use super::*;

#[test]
fn filters_narrow_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    lib.ingest(&item(&fixture("photo.jpg"), "/a/photo.jpg"))
        .unwrap();
    lib.ingest(&item(&fixture("live.jpg"), "/a/live.jpg"))
        .unwrap();
    lib.ingest(&item(&fixture("live.mov"), "/a/live.mov"))
        .unwrap();
    let Ingested::New(pug) = lib
        .ingest(&item(&fixture("pug.heic"), "/b/pug.heic"))
        .unwrap()
    else {
        panic!()
    };
    let names = |f: &Filter| -> Vec<String> {
        lib.search(f, None, 10)
            .unwrap()
            .assets
            .into_iter()
            .map(|a| a.original.name)
            .collect()
    };
    assert_eq!(
        names(&Filter {
            kind: Some(AssetKind::LivePhoto),
            ..Filter::default()
        }),
        vec!["live.jpg"]
    );
    assert_eq!(
        names(&Filter {
            camera: Some("eos".into()),
            ..Filter::default()
        }),
        vec!["photo.jpg"]
    );
    assert_eq!(
        names(&Filter {
            located: Some(true),
            ..Filter::default()
        })
        .len(),
        2,
        "photo.jpg and pug.heic have GPS"
    );
    assert_eq!(
        names(&Filter {
            name: Some("PUG".into()),
            ..Filter::default()
        }),
        vec!["pug.heic"]
    );
    assert_eq!(
        names(&Filter {
            from: Some("2023-06-01".into()),
            to: Some("2023-06-01".into()),
            ..Filter::default()
        }),
        vec!["live.jpg"]
    );
    lib.set_favorite(pug, true).unwrap();
    assert_eq!(
        names(&Filter {
            favorites: true,
            ..Filter::default()
        }),
        vec!["pug.heic"]
    );
    let facets = lib.facets().unwrap();
    assert!(
        facets
            .cameras
            .iter()
            .any(|(c, n)| c == "Canon EOS R6" && *n == 1),
        "{facets:?}"
    );
    assert!(facets.years.iter().any(|(y, _)| *y == 2021));
}

#[test]
fn albums_collect_photos_and_forget_purged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let Ingested::New(photo) = lib
        .ingest(&item(&fixture("photo.jpg"), "/a/photo.jpg"))
        .unwrap()
    else {
        panic!()
    };
    let Ingested::New(live) = lib
        .ingest(&item(&fixture("live.jpg"), "/a/live.jpg"))
        .unwrap()
    else {
        panic!()
    };

    let trip = lib.create_album("Trip").unwrap();
    assert!(lib.create_album("   ").is_err());
    lib.set_in_album(trip.id, photo, true).unwrap();
    lib.set_in_album(trip.id, live, true).unwrap();
    assert_eq!(lib.album(trip.id).unwrap().1.len(), 2);
    lib.set_in_album(trip.id, live, false).unwrap();
    lib.rename_album(trip.id, "Summer trip").unwrap();
    assert_eq!(
        lib.albums().unwrap(),
        vec![(
            Album {
                name: "Summer trip".into(),
                ..trip.clone()
            },
            1
        )]
    );
    assert_eq!(lib.albums_of(photo).unwrap(), vec![trip.id]);
    lib.trash_asset(photo, false).unwrap();
    lib.purge_trash(None, true).unwrap();
    assert_eq!(
        lib.albums().unwrap()[0].1,
        0,
        "a purged photo leaves its albums"
    );
    lib.delete_album(trip.id).unwrap();
    assert!(lib.albums().unwrap().is_empty());
    assert!(lib.check(false).unwrap().is_clean());
}

/// A distinct small PNG (no capture date inside) taken at `utc` by its file time.
fn dated(lib: &Library, dir: &Path, i: u32, utc: i64) -> AssetId {
    let p = dir.join(format!("d{i}.png"));
    image::RgbImage::from_pixel(4, 3, image::Rgb([i as u8, 7, 9]))
        .save(&p)
        .unwrap();
    let mut it = item(&p, &format!("/d/d{i}.png"));
    it.file_time = Some(utc);
    match lib.ingest(&it).unwrap() {
        Ingested::New(id) => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn months_count_the_timeline_and_jump_to_their_first_photo() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let at = |y, m, d, h| {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    };
    dated(&lib, dir.path(), 0, at(2019, 12, 31, 23));
    for (i, d) in [3, 15, 31].into_iter().enumerate() {
        dated(&lib, dir.path(), 1 + i as u32, at(2020, 1, d, 12));
    }
    // 05:00 on 1 March sits below the +14 h boundary of a jump to February: it must be skipped.
    let early_march = dated(&lib, dir.path(), 10, at(2020, 3, 1, 5));
    dated(&lib, dir.path(), 11, at(2020, 3, 20, 9));

    let months: Vec<_> = lib
        .months()
        .unwrap()
        .into_iter()
        .map(|m| (m.year, m.month, m.count))
        .collect();
    assert_eq!(months, vec![(2020, 3, 2), (2020, 1, 3), (2019, 12, 1)]);

    let names = |p: &crate::library::Page| -> Vec<String> {
        p.assets.iter().map(|a| a.original.name.clone()).collect()
    };
    let feb = lib.timeline_from_month(2020, 2, 10).unwrap();
    assert_eq!(
        names(&feb),
        ["d3.png", "d2.png", "d1.png", "d0.png"],
        "empty February shows January"
    );
    let jan = lib.timeline_from_month(2020, 1, 2).unwrap();
    assert_eq!(names(&jan), ["d3.png", "d2.png"]);
    let rest = lib.timeline(jan.next, 10).unwrap();
    assert_eq!(names(&rest), ["d1.png", "d0.png"], "paging on from a jump");
    assert!(
        lib.timeline_from_month(2019, 11, 10)
            .unwrap()
            .assets
            .is_empty()
    );
    assert_eq!(
        lib.timeline_from_month(2030, 1, 1).unwrap().assets.len(),
        1,
        "the future starts at the newest"
    );

    lib.trash_asset(early_march, false).unwrap();
    assert_eq!(lib.months().unwrap()[0].count, 1, "trash leaves the month");
    lib.restore_asset(early_march).unwrap();
    assert_eq!(lib.months().unwrap()[0].count, 2, "restore comes back");

    assert!(lib.cameras().unwrap().is_empty(), "the PNGs name no camera");
    let Ingested::New(canon) = lib
        .ingest(&item(&fixture("photo.jpg"), "/c/photo.jpg"))
        .unwrap()
    else {
        panic!()
    };
    let cameras = lib.cameras().unwrap();
    assert_eq!(cameras.len(), 1);
    assert_eq!(cameras[0].1, 1);
    assert!(cameras[0].0.contains("EOS"), "{cameras:?}");
    let facets = lib.facets().unwrap();
    assert_eq!(facets.years, vec![(2021, 1), (2020, 5), (2019, 1)]);
    lib.trash_asset(canon, false).unwrap();
    assert!(lib.cameras().unwrap().is_empty(), "trash leaves the camera");
    assert!(lib.check(false).unwrap().is_clean());
}

#[test]
fn a_library_from_before_the_tallies_gets_them_counted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let lib = open(dir.path());
        dated(&lib, dir.path(), 1, 1_600_000_000);
        lib.ingest(&item(&fixture("photo.jpg"), "/c/photo.jpg"))
            .unwrap();
        // Make it look like schema 2: no tally tables.
        let txn = lib.db.begin_write().unwrap();
        txn.delete_table(super::tally::MONTHS).unwrap();
        txn.delete_table(super::tally::CAMERAS).unwrap();
        txn.open_table(super::db::META)
            .unwrap()
            .insert("schema", 2)
            .unwrap();
        txn.commit().unwrap();
    }
    let lib = open(dir.path());
    assert_eq!(lib.months().unwrap().len(), 2);
    assert_eq!(lib.cameras().unwrap().len(), 1);
    assert!(lib.check(false).unwrap().is_clean());
}
