//! The iCloud page in a real browser, against the fake iCloud: add an Apple ID (password,
//! then the code pushed to the devices), see it signed in, sync now, see the counts.

use fantoccini::Locator;

use crate::rig::Browser;

pub const APPLE_ID: &str = "anna@example.com";
pub const APPLE_PASSWORD: &str = "anna's long icloud password";
/// Photos in the fake library.
pub const PHOTOS: u64 = 3;

/// Adds the Apple ID with its code, syncs, and checks what the page says.
pub async fn add_an_apple_id(b: &Browser) {
    b.client.set_window_size(1280, 900).await.unwrap();
    b.goto("/icloud").await;
    b.wait_path("/icloud").await;
    assert!(
        b.css("main")
            .await
            .text()
            .await
            .unwrap()
            .contains("No Apple ID on this box yet.")
    );
    b.css("#f-apple-id")
        .await
        .send_keys(APPLE_ID)
        .await
        .unwrap();
    b.css("[id='f-pw-']")
        .await
        .send_keys(APPLE_PASSWORD)
        .await
        .unwrap();
    b.shot("17-icloud-add").await;
    b.click_to(b.button("Sign in to iCloud").await, "/icloud/add")
        .await;
    assert_eq!(b.h1().await, "Verification code");
    b.shot("18-icloud-code").await;
    b.css("#f-code").await.send_keys("424242").await.unwrap();
    b.click_to(b.button("Verify").await, "/icloud/code").await;
    let text = b.css("main").await.text().await.unwrap();
    assert!(
        text.contains(&format!("Signed in to iCloud as {APPLE_ID}")),
        "{text}"
    );
    b.shot("19-icloud-signed-in").await;

    b.click_to(b.button("Sync now").await, "/status").await;
    b.goto("/icloud").await;
    let here = b
        .until("the sync to bring the photos", || async {
            b.goto("/icloud").await;
            let el = b.client.find(Locator::Css("[data-k='here']")).await.ok()?;
            let n: u64 = el.text().await.ok()?.trim().parse().ok()?;
            (n == PHOTOS).then_some(n)
        })
        .await;
    assert_eq!(here, PHOTOS);
    let text = b.css("main").await.text().await.unwrap();
    assert!(text.contains("ago: ok"), "{text}");
    b.shot("20-icloud-synced").await;
}
