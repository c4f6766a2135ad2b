//! One photo or video: the picture, its facts, its sources, and what can be done with it.

use maud::{Markup, html};

use super::components::{bytes, csrf};
use crate::library::{Asset, AssetKind, Origin, State};

/// The asset page.
pub fn page(token: &str, a: &Asset, prev: Option<u64>, next: Option<u64>, admin: bool) -> Markup {
    let original = format!("/photos/{}/original", a.id);
    html! {
        nav.photo-nav aria-label="Photo" {
            a href="/" { "← All photos" }
            span.spacer {}
            @if let Some(p) = prev { a rel="prev" href=(format!("/photos/{p}")) data-key="ArrowLeft" { "‹ Newer" } }
            @if let Some(n) = next { a rel="next" href=(format!("/photos/{n}")) data-key="ArrowRight" { "Older ›" } }
        }
        div.photo {
            figure.stage data-live=[a.live_video.as_ref().map(|_| format!("/photos/{}/live", a.id))] {
                @if a.kind == AssetKind::Video {
                    video controls preload="metadata" src=(original) {}
                } @else {
                    img src=(format!("/photos/{}/preview", a.id)) alt=(a.original.name);
                }
                @if a.live_video.is_some() {
                    figcaption {
                        details.motion {
                            summary { "Play the Live Photo's motion" }
                            video controls playsinline loop preload="none" src=(format!("/photos/{}/live", a.id)) {}
                        }
                    }
                }
            }
            aside.info {
                h1 { (a.original.name) }
                @if let Some(c) = &a.notes.caption { p.caption { (c) } }
                (facts(a))
                div.actions {
                    a.button href=(format!("{original}?download=1")) download=(a.original.name) { "Download original" }
                    form.inline method="post" action=(format!("/photos/{}/favorite", a.id)) {
                        (csrf(token))
                        input type="hidden" name="on" value=(if a.favorite { "0" } else { "1" });
                        button type="submit" aria-pressed=(a.favorite) { @if a.favorite { "★ Favorite" } @else { "☆ Mark favorite" } }
                    }
                    @match a.state {
                        State::Active => {
                            form.inline method="post" action=(format!("/photos/{}/trash", a.id)) {
                                (csrf(token))
                                button.danger type="submit" { "Move to trash" }
                            }
                        }
                        State::Trashed { .. } => {
                            @if admin {
                                form.inline method="post" action=(format!("/photos/{}/restore", a.id)) {
                                    (csrf(token))
                                    button type="submit" { "Restore" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn facts(a: &Asset) -> Markup {
    let taken = a
        .taken
        .local_datetime()
        .format("%A %e %B %Y, %H:%M")
        .to_string();
    let offset = a.taken.offset.map(|o| {
        format!(
            " (UTC{}{:02}:{:02})",
            if o < 0 { '-' } else { '+' },
            o.abs() / 3600,
            (o.abs() % 3600) / 60
        )
    });
    html! {
        dl.facts {
            dt { "Taken" } dd { (taken) (offset.unwrap_or_default()) }
            @if let (Some(w), Some(h)) = (a.width, a.height) { dt { "Size" } dd { (w) " × " (h) } }
            dt { "File" } dd { (format_label(a)) ", " (bytes(a.size())) }
            @if let Some(d) = a.duration_ms { dt { "Length" } dd { (format!("{}:{:02}", d / 60_000, (d / 1000) % 60)) } }
            @if a.make.is_some() || a.model.is_some() {
                dt { "Camera" } dd { (a.make.as_deref().unwrap_or("")) " " (a.model.as_deref().unwrap_or("")) }
            }
            @if let Some((lat, lon, _)) = a.gps {
                dt { "Place" } dd { a href=(format!("https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=15/{lat:.6}/{lon:.6}")) rel="noreferrer" { (format!("{lat:.5}, {lon:.5}")) } }
            }
            @if !a.notes.keywords.is_empty() {
                dt { "Keywords" } dd { ul.keywords { @for k in &a.notes.keywords { li { (k) } } } }
            }
            dt { "From" } dd { ul.origins { @for o in &a.origins { li { (origin(o)) } } } }
            @if let State::Trashed { at, .. } = a.state {
                dt { "Trashed" } dd { (chrono::DateTime::from_timestamp(at, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()) }
            }
        }
    }
}

/// The format as people call it: a `.heif` file is the same container as HEIC but is named so.
fn format_label(a: &Asset) -> String {
    let ext = a
        .original
        .name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    match (a.format.as_str(), ext.as_deref()) {
        ("heic", Some("heif" | "hif")) => "HEIF".to_string(),
        ("jpg", _) => "JPEG".to_string(),
        (f, _) => f.to_uppercase(),
    }
}

fn origin(o: &Origin) -> String {
    match o {
        Origin::Import { path } => format!("imported from {path}"),
        Origin::Dav { user, path } => format!("uploaded by {user}: {path}"),
        Origin::Icloud { record, .. } => format!("iCloud ({record})"),
    }
}

/// The trash page.
pub fn trash(token: &str, assets: &[(Asset, Option<String>)], admin: bool) -> Markup {
    html! {
        h1 { "Trash" }
        @if assets.is_empty() { p.muted { "The trash is empty." } }
        @else {
            @if admin {
                form method="post" action="/trash/purge" {
                    (csrf(token))
                    button.danger type="submit" { "Empty the trash now" }
                }
            }
            ul.assets {
                @for (a, purge) in assets {
                    li.asset {
                        a href=(format!("/photos/{}", a.id)) { strong { (a.original.name) } }
                        span.muted { (bytes(a.size())) }
                        @if let Some(p) = purge { span { "Deleted for good on " span.nowrap { (p) } } } @else { span { "Kept until emptied" } }
                        @if admin {
                            form.inline method="post" action=(format!("/photos/{}/restore", a.id)) {
                                (csrf(token))
                                button type="submit" { "Restore" }
                            }
                        }
                    }
                }
            }
        }
    }
}
