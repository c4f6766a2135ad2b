//! Captions and keywords from iCloud (binary property lists in `captionEnc`/`keywordsEnc`)
//! land on the asset and show on the photo page.

use crate::icloud::{icloud, library};
use crate::icloud_web::{ANNA, set_up, sign_in_with_code, start, sync_now};

#[test]
fn captions_and_keywords_from_icloud_show_on_the_photo_page() {
    let (fake, dir, server, mut b) = set_up();
    // Index 5 carries the caption and keywords plists written by Python's plistlib.
    fake.world().populate(ANNA, "PrimarySync", 1, 5, 3000);
    sign_in_with_code(&mut b);
    sync_now(&mut b);
    let asset = fake
        .world()
        .zone(ANNA, "PrimarySync")
        .photos
        .values()
        .find(|p| p.plist_notes)
        .unwrap()
        .asset
        .clone();
    drop(server);
    let data = dir.path().join("data");
    let id = {
        let lib = library(&data);
        let id = lib
            .asset_of(&icloud("PrimarySync", &asset))
            .unwrap()
            .unwrap();
        let a = lib.asset(id).unwrap().unwrap();
        assert_eq!(a.notes.caption.as_deref(), Some("Dîner à Nice, été 2017"));
        assert_eq!(
            a.notes.keywords,
            ["family", "Nice", "été", "a keyword longer than fifteen"]
        );
        id
    };
    let (_server, mut b) = start(&fake, &data);
    let page = b.get(&format!("/photos/{id}")).body;
    assert!(page.contains("Dîner à Nice, été 2017"), "{page}");
    assert!(page.contains("<li>été</li>"), "{page}");
}
