//! One snapshot of the off-site backup: its albums and a page of its photos (names, dates,
//! sizes; no thumbnails, the box may not have the files), each with "Restore", and a
//! photo's original downloadable straight from the backup.

use maud::{Markup, html};

use super::components::{bytes, card, csrf};
use crate::library::{Album, Asset, Presence};

/// What happened, with a link to go and look.
pub struct Notice {
    /// In words.
    pub text: String,
    /// Where to look, and the link's words.
    pub link: Option<(String, String)>,
    /// True when it went wrong.
    pub problem: bool,
}

/// What the page shows.
pub struct SnapshotPage<'a> {
    /// The viewer's form token.
    pub token: &'a str,
    /// The snapshot's object name.
    pub name: &'a str,
    /// When it was taken, in words.
    pub taken: &'a str,
    /// Its albums with their photo counts, and the library's album that is each, if any.
    pub albums: &'a [(Album, u64, Option<u64>)],
    /// This page of its photos and what the library holds of each.
    pub photos: &'a [(Asset, Presence)],
    /// Photos in the snapshot.
    pub total: u64,
    /// The page's `after` cursor.
    pub after: Option<u64>,
    /// The next page's cursor.
    pub next: Option<u64>,
    /// The outcome of a restore just asked for.
    pub notice: Option<&'a Notice>,
}

/// The page body.
pub fn page(p: &SnapshotPage<'_>) -> Markup {
    html! {
        p { a href="/backup" { "← Backup" } }
        h1 { "Snapshot of " (p.taken) }
        p.muted { "What this backup holds. “Restore” brings a photo or an album back into the library, byte for byte; what the library still has is left as it is (or taken out of the trash)." }
        @if let Some(n) = p.notice { (notice(n)) }
        (card("Albums", None, &albums(p)))
        (card(&format!("Photos ({})", p.total), None, &photos(p)))
    }
}

fn notice(n: &Notice) -> Markup {
    html! {
        @if n.problem {
            div.flash.problem role="alert" { p { (n.text) } }
        } @else {
            div.flash.ok role="status" {
                p {
                    (n.text)
                    @if let Some((href, words)) = &n.link { " " a href=(href) { (words) } }
                }
            }
        }
    }
}

fn base(p: &SnapshotPage<'_>) -> String {
    format!("/backup/snapshots/{}", p.name)
}

fn restore_button(p: &SnapshotPage<'_>, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(p.token))
            @if let Some(a) = p.after { input type="hidden" name="after" value=(a); }
            button type="submit" { (label) }
        }
    }
}

fn albums(p: &SnapshotPage<'_>) -> Markup {
    html! {
        @if p.albums.is_empty() { p.muted { "No albums in this snapshot." } }
        @else {
            table.snapshot-albums {
                thead { tr { th { "Album" } th { "Photos" } th { "In the library" } th {} } }
                tbody {
                    @for (album, n, here) in p.albums {
                        tr {
                            td { (album.name) }
                            td { (n) }
                            td { @match here {
                                Some(id) => a href=(format!("/albums/{id}")) { "Open" },
                                None => span.muted { "no" },
                            } }
                            td { (restore_button(p, &format!("{}/albums/{}/restore", base(p), album.id), "Restore")) }
                        }
                    }
                }
            }
        }
    }
}

fn photos(p: &SnapshotPage<'_>) -> Markup {
    html! {
        @if p.photos.is_empty() { p.muted { "No photos on this page." } }
        @else {
            table.snapshot-photos {
                thead { tr { th { "Name" } th { "Taken" } th { "Size" } th { "In the library" } th {} } }
                tbody {
                    @for (a, here) in p.photos {
                        tr {
                            td { a href=(format!("{}/photos/{}/original", base(p), a.id)) title="Download from the backup" { (a.original.name) } }
                            td { (a.taken.local_datetime().format("%Y-%m-%d %H:%M")) }
                            td { (bytes(a.size())) }
                            td { @match here {
                                Presence::Active(id) => a href=(format!("/photos/{id}")) { "Open" },
                                Presence::Trashed(id) => a href=(format!("/photos/{id}")) { "in the trash" },
                                Presence::Missing => span.muted { "no" },
                            } }
                            td { @if !matches!(here, Presence::Active(_)) {
                                (restore_button(p, &format!("{}/photos/{}/restore", base(p), a.id), "Restore"))
                            } }
                        }
                    }
                }
            }
        }
        p.row {
            @if p.after.is_some() { a.button href=(base(p)) { "First page" } }
            @if let Some(next) = p.next { a.button href=(format!("{}?after={next}", base(p))) { "Next page" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::{AssetId, AssetKind, Notes, Part, State, Taken, TimeSource};
    use crate::store::BlobId;

    fn asset(id: u64, name: &str) -> Asset {
        let part = Part {
            blob: BlobId([u8::try_from(id).unwrap(); 32]),
            size: 2048,
            name: name.into(),
        };
        Asset {
            id: AssetId(id),
            kind: AssetKind::Photo,
            original: part,
            live_video: None,
            edited: None,
            raw: None,
            sidecars: Vec::new(),
            taken: Taken {
                local: 1_600_000_000,
                offset: None,
                source: TimeSource::Metadata,
            },
            added: 0,
            width: None,
            height: None,
            orientation: None,
            duration_ms: None,
            make: None,
            model: None,
            gps: None,
            content_id: None,
            format: "jpg".into(),
            favorite: false,
            hidden: false,
            notes: Notes::default(),
            origins: Vec::new(),
            state: State::Active,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn only_what_the_library_lacks_gets_a_restore_button_and_every_form_a_token() {
        let album = Album {
            id: 4,
            name: "Trip".into(),
            created: 0,
            mirror: None,
        };
        let photos = [
            (asset(1, "here.jpg"), Presence::Active(AssetId(7))),
            (asset(2, "gone.jpg"), Presence::Missing),
            (asset(3, "binned.jpg"), Presence::Trashed(AssetId(3))),
        ];
        let html = page(&SnapshotPage {
            token: "tok",
            name: "abc",
            taken: "2026-12-01 03:00 UTC",
            albums: &[(album, 2, None)],
            photos: &photos,
            total: 250,
            after: Some(0),
            next: Some(3),
            notice: None,
        })
        .into_string();
        assert!(!html.contains("/backup/snapshots/abc/photos/1/restore"));
        assert!(html.contains("/backup/snapshots/abc/photos/2/restore"));
        assert!(html.contains("/backup/snapshots/abc/photos/3/restore"));
        assert!(html.contains("/backup/snapshots/abc/albums/4/restore"));
        assert!(html.contains("href=\"/photos/7\"") && html.contains("2020-09-13 12:26"));
        assert!(
            html.contains("href=\"/backup/snapshots/abc?after=3\""),
            "{html}"
        );
        assert_eq!(html.matches("<form").count(), 3);
        assert_eq!(html.matches("name=\"csrf\" value=\"tok\"").count(), 3);
    }
}
