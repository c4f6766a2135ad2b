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
