//! Albums and search: lists, an album's grid, the filter form.

use maud::{Markup, html};

use super::components::{card, csrf};
use super::gallery::{Selection, grid, selectable};
use crate::library::{Album, Asset, SourceFolder};

/// The albums page.
pub fn list(token: &str, albums: &[(Album, u64)], folders: &[SourceFolder]) -> Markup {
    html! {
        h1 { "Albums" }
        @if albums.is_empty() { p.muted { "No albums yet." } }
        ul.folders {
            @for (a, n) in albums {
                li {
                    a href=(format!("/albums/{}", a.id)) { (a.name) " " span.muted { "(" (n) ")" } }
                    @if let Some(m) = &a.mirror { " " span.badge.mirror { "from " (m.source) " · " (m.account) } }
                }
            }
        }
        @if !folders.is_empty() {
            section.source-folders {
                h2 { "From your sources" }
                p.muted { "The folders photos were imported or uploaded from." }
                ul.folders {
                    @for f in folders {
                        li {
                            a href=(format!("/search?folder={}", super::import::urlencode(&f.key))) {
                                span.muted { (f.source) ": " } (f.path) " " span.muted { "(" (f.count) ")" }
                            }
                        }
                    }
                }
            }
        }
        (card("New album", None, &html! {
            form.inline-form method="post" action="/albums" {
                (csrf(token))
                label for="f-album" { "Name" }
                input #f-album name="name" type="text" required maxlength="100";
                button.primary type="submit" { "Create" }
            }
        }))
    }
}

/// One album.
pub fn album(token: &str, album: &Album, assets: &[Asset], selection: &Selection<'_>) -> Markup {
    html! {
        h1 { (album.name) }
        p.muted { (super::components::count(assets.len() as u64, "photo or video", "photos and videos")) "." }
        (selectable(selection, &grid(assets, true)))
        @if let Some(m) = &album.mirror {
            p.muted.mirror-note { "Kept in step with " (m.source) " (" (m.account) "): rename it, or add and remove photos, in Photos on a device; the next sync brings the change here." }
        } @else {
        (card("Edit album", None, &html! {
            form.inline-form method="post" action=(format!("/albums/{}/rename", album.id)) {
                (csrf(token))
                label for="f-rename" { "New name" }
                input #f-rename name="name" type="text" value=(album.name) required maxlength="100";
                button type="submit" { "Rename" }
            }
            form method="post" action=(format!("/albums/{}/delete", album.id)) {
                (csrf(token))
                button.danger type="submit" { "Delete album (the photos stay)" }
            }
        }))
        }
    }
}

/// The album section of a photo page: add to or remove from each album.
pub fn on_photo(token: &str, asset: u64, albums: &[(Album, u64)], member_of: &[u64]) -> Markup {
    html! {
        section.albums-of {
            h2 { "Albums" }
            @if albums.is_empty() { p.muted { a href="/albums" { "Make an album" } " to collect photos." } }
            ul.plain {
                @for (a, _) in albums.iter().filter(|(a, _)| a.mirror.is_none() || member_of.contains(&a.id)) {
                    @let member = member_of.contains(&a.id);
                    @if let Some(m) = &a.mirror {
                        li { a href=(format!("/albums/{}", a.id)) { (a.name) } " " span.muted { "(from " (m.source) ")" } }
                    } @else {
                    li {
                        form.inline method="post" action=(format!("/photos/{asset}/albums")) {
                            (csrf(token))
                            input type="hidden" name="album" value=(a.id);
                            input type="hidden" name="member" value=(if member { "0" } else { "1" });
                            button.link type="submit" aria-pressed=(member) { @if member { "✓ " } @else { "+ " } (a.name) }
                        }
                    }
                    }
                }
            }
        }
    }
}

/// What the search form shows.
pub struct SearchForm<'a> {
    /// Current values, by field name.
    pub values: &'a [(&'a str, String)],
    /// Camera choices.
    pub cameras: &'a [(String, u64)],
    /// Year choices.
    pub years: &'a [(i32, u64)],
}

fn value<'a>(f: &'a SearchForm<'_>, name: &str) -> &'a str {
    f.values
        .iter()
        .find(|(k, _)| *k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The search page: the form, then the results.
pub fn search(title: &str, f: &SearchForm<'_>, results: &Markup) -> Markup {
    let select = |name: &str, label: &str, options: &[(String, String)]| {
        let current = value(f, name);
        html! {
            div.field {
                label for=(format!("s-{name}")) { (label) }
                select id=(format!("s-{name}")) name=(name) {
                    option value="" { "Any" }
                    @for (v, text) in options { option value=(v) selected[v == current] { (text) } }
                }
            }
        }
    };
    let kinds = [
        ("photo", "Photos"),
        ("video", "Videos"),
        ("live", "Live Photos"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    let sources = [
        ("import", "Imported"),
        ("dav", "Phone uploads"),
        ("icloud", "iCloud"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    let located = [("yes", "With a location"), ("no", "Without")]
        .map(|(a, b)| (a.to_string(), b.to_string()));
    let cameras: Vec<(String, String)> = f
        .cameras
        .iter()
        .map(|(c, n)| (c.clone(), format!("{c} ({n})")))
        .collect();
    let years: Vec<(String, String)> = f
        .years
        .iter()
        .map(|(y, n)| (y.to_string(), format!("{y} ({n})")))
        .collect();
    html! {
        h1 { (title) }
        form.search method="get" action="/search" {
            div.field { label for="s-q" { "File name contains" } input #s-q name="q" type="search" value=(value(f, "q")); }
            (select("kind", "Kind", &kinds))
            (select("year", "Year", &years))
            div.field { label for="s-from" { "From" } input #s-from name="from" type="date" value=(value(f, "from")); }
            div.field { label for="s-to" { "To" } input #s-to name="to" type="date" value=(value(f, "to")); }
            (select("camera", "Camera", &cameras))
            (select("source", "Source", &sources))
            (select("located", "Location", &located))
            div.field.check { input #s-fav name="fav" type="checkbox" value="1" checked[value(f, "fav") == "1"]; label for="s-fav" { "Favorites only" } }
            div.field.check { input #s-shots name="screenshots" type="checkbox" value="1" checked[value(f, "screenshots") == "1"]; label for="s-shots" { "Screenshots only" } }
            button.primary type="submit" { "Search" }
        }
        (results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Mirror;

    #[test]
    fn mirrored_albums_say_where_they_come_from_and_offer_no_editing() {
        let own = Album {
            id: 1,
            name: "Mine".into(),
            created: 0,
            mirror: None,
        };
        let icloud = Album {
            id: 2,
            name: "Trips / Italy".into(),
            created: 0,
            mirror: Some(Mirror {
                source: "iCloud".into(),
                account: "anna@example.com".into(),
                key: "PrimarySync|A".into(),
            }),
        };
        let html = list("t", &[(own.clone(), 1), (icloud.clone(), 3)], &[]).into_string();
        assert!(html.contains("from iCloud · anna@example.com"), "{html}");
        assert_eq!(html.matches("from iCloud").count(), 1);
        let on = on_photo("t", 9, &[(own, 1), (icloud, 3)], &[2]).into_string();
        assert!(on.contains("(from iCloud)"));
        assert_eq!(
            on.matches("name=\"album\"").count(),
            1,
            "only the own album toggles"
        );
    }
}
