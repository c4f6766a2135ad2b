//! The photos page. Thumbnails and the full timeline come with the gallery feature; until
//! then it lists the newest assets and, for an empty library, says how to add photos.

use maud::{Markup, html};

use super::components::card;
use crate::library::{Asset, AssetKind};

/// The photos page.
pub fn home(assets: &[Asset], total: u64, admin: bool, next: Option<&str>) -> Markup {
    html! {
        h1 { "Photos" }
        @if assets.is_empty() {
            (empty(admin))
        } @else {
            nav.chips aria-label="Smart views" {
                a href="/search?fav=1" { "★ Favorites" }
                a href="/search?kind=video" { "Videos" }
                a href="/search?kind=live" { "Live Photos" }
                a href="/albums" { "Albums" }
                a href="/search" { "Search…" }
            }
            p.muted { (super::components::count(total, "photo or video", "photos and videos")) "." }
            (grid(assets))
            @if let Some(n) = next { a.button href=(n) { "Older" } }
        }
    }
}

/// Groups assets (newest first) by the local day they were taken.
fn by_day(assets: &[Asset]) -> Vec<(String, Vec<&Asset>)> {
    let mut out: Vec<(String, Vec<&Asset>)> = Vec::new();
    for a in assets {
        let day = a.taken.local_datetime().format("%A %e %B %Y").to_string();
        match out.last_mut() {
            Some((d, group)) if *d == day => group.push(a),
            _ => out.push((day, vec![a])),
        }
    }
    out
}

/// Partial: assets as a thumbnail grid, grouped by the local day they were taken.
pub fn grid(assets: &[Asset]) -> Markup {
    html! {
        @for (day, group) in by_day(assets) {
            section.day {
                h2 { (day) }
                ul.grid {
                    @for a in group {
                        li.tile {
                            a href=(format!("/photos/{}", a.id)) title=(a.original.name) {
                                img src=(format!("/photos/{}/thumb", a.id)) alt=(a.original.name) loading="lazy" decoding="async" width="360" height="360";
                                @if a.kind != AssetKind::Photo || a.favorite {
                                    span.badges { @if a.favorite { "★ " } @if a.kind != AssetKind::Photo { (kind(a.kind)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn kind(k: AssetKind) -> &'static str {
    match k {
        AssetKind::Photo => "Photo",
        AssetKind::Video => "Video",
        AssetKind::LivePhoto => "Live",
    }
}

fn empty(admin: bool) -> Markup {
    html! {
        p.lead { "No photos yet. Here is how to bring them in:" }
        div.cards {
            (card("Import a folder", Some("available"), &html! {
                p { "Copy photos from a USB stick or a disk attached to this box." }
                @if admin { a.button.primary href="/import" { "Import a folder" } } @else { p.muted { "Ask an administrator." } }
            }))
            (card("Connect iCloud", Some("coming soon"), &html! { p { "Keep a full copy of an iCloud Photo Library." } }))
            (card("Set up a phone", Some("coming soon"), &html! { p { "Upload from phones on this network." } }))
        }
    }
}
