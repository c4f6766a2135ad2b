//! The timeline: photos grouped by month and day in justified rows (or a square grid), a month
//! scrubber, paging links that `app.js` turns into infinite scroll, and a selection mode that
//! acts on many photos at once. Everything works without JavaScript.

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};

use super::components::{card, csrf};
use crate::library::{Album, Asset, AssetKind, Month};

/// Short side of a grid thumbnail, as `thumbs` makes them.
const THUMB_SHORT: u32 = 360;

/// What the selection bar offers on a page.
pub struct Selection<'a> {
    /// The viewer's CSRF token.
    pub csrf: &'a str,
    /// Albums to add the selection to.
    pub albums: &'a [(Album, u64)],
    /// On an album's page: that album (offers "remove from album").
    pub album: Option<u64>,
    /// Where to come back to after acting.
    pub back: &'a str,
    /// Selection mode is on (no-JS `?select=1`).
    pub on: bool,
}

/// The photos page.
pub fn home(
    assets: &[Asset],
    next: Option<&str>,
    total: Option<u64>,
    months: &[Month],
    admin: bool,
    selection: &Selection<'_>,
) -> Markup {
    html! {
        h1 { "Photos" }
        @if assets.is_empty() && months.is_empty() && total.is_some() {
            (empty(admin))
        } @else {
            nav.chips aria-label="Smart views" {
                a href="/search?fav=1" { "★ Favorites" }
                a href="/search?kind=video" { "Videos" }
                a href="/search?kind=live" { "Live Photos" }
                a href="/search?screenshots=1" { "Screenshots" }
                a href="/cameras" { "By camera" }
                a href="/albums" { "Albums" }
                a href="/search" { "Search…" }
            }
            @if let Some(total) = total {
                p.muted { (super::components::count(total, "photo or video", "photos and videos")) "." }
            } @else {
                p.muted { "The photos you uploaded from your phone." }
            }
            div.timeline-wrap {
                (selectable(selection, &html! { (grid(assets, true)) (more(next, "Older")) }))
                @if !months.is_empty() { (scrubber(months)) }
            }
        }
    }
}

/// Partial: the "next page" link; `app.js` fetches it as a fragment when it scrolls into view.
pub fn more(next: Option<&str>, label: &str) -> Markup {
    html! {
        @if let Some(n) = next { a.button.more href=(n) data-more="1" rel="next" { (label) } }
    }
}

/// Partial: a grid inside the selection form with its action bar.
pub fn selectable(s: &Selection<'_>, grid: &Markup) -> Markup {
    let toggle = if s.on {
        html! { a.button href=(s.back) data-select-off="1" { "Done" } }
    } else {
        let join = if s.back.contains('?') { '&' } else { '?' };
        html! { a.button href=(format!("{}{join}select=1", s.back)) data-select-on="1" { "Select" } }
    };
    html! {
        form.selection.selecting[s.on] method="post" action="/photos/bulk" data-selection="1" {
            (csrf(s.csrf))
            input type="hidden" name="back" value=(s.back);
            div.select-tools { (toggle) }
            (grid)
            div.select-bar role="region" aria-label="Selected photos" {
                span data-selected="1" { "Select photos, then:" }
                select name="album" aria-label="Album" {
                    @for (a, _) in s.albums.iter().filter(|(a, _)| a.mirror.is_none()) { option value=(a.id) { (a.name) } }
                }
                button type="submit" name="action" value="album" disabled[s.albums.is_empty()] { "Add to album" }
                @if let Some(id) = s.album {
                    input type="hidden" name="from_album" value=(id);
                    button type="submit" name="action" value="unalbum" { "Remove from this album" }
                }
                button type="submit" name="action" value="favorite" { "★ Favorite" }
                button.danger type="submit" name="action" value="trash" { "Move to trash" }
            }
        }
    }
}

/// The size a tile reserves: the grid thumbnail's size, from the asset's own dimensions with
/// its EXIF rotation applied, so nothing moves when the image arrives. Extreme panoramas are
/// clamped (the tile crops them).
fn tile_size(a: &Asset) -> (u32, u32) {
    let (mut w, mut h) = match (a.width, a.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (f64::from(w), f64::from(h)),
        _ => (1.0, 1.0),
    };
    if matches!(a.orientation, Some(5..=8)) {
        std::mem::swap(&mut w, &mut h);
    }
    let ratio = (w / h).clamp(0.4, 2.5);
    let short = f64::from(THUMB_SHORT);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // bounded by the clamp
    if ratio >= 1.0 {
        ((short * ratio).round() as u32, THUMB_SHORT)
    } else {
        (THUMB_SHORT, (short / ratio).round() as u32)
    }
}

/// Partial: assets (newest first) as thumbnails under month and day headings. A page that
/// continues a month or a day repeats its heading with the same `data-` key, which `app.js`
/// merges when it appends pages.
pub fn grid(assets: &[Asset], selectable: bool) -> Markup {
    let mut days: Vec<(NaiveDate, Vec<&Asset>)> = Vec::new();
    for a in assets {
        let day = a.taken.local_datetime().date();
        match days.last_mut() {
            Some((d, group)) if *d == day => group.push(a),
            _ => days.push((day, vec![a])),
        }
    }
    html! {
        div.timeline {
            @for (i, (day, group)) in days.iter().enumerate() {
                @let new_month = i == 0 || days.get(i - 1).is_none_or(|(prev, _)| (prev.year(), prev.month()) != (day.year(), day.month()));
                @if new_month {
                    h2.month data-month=(day.format("%Y-%m")) id=(day.format("m%Y-%m")) { (day.format("%B %Y")) }
                }
                section.day data-day=(day.format("%Y-%m-%d")) {
                    h3 { (day.format("%A %e %B")) }
                    ul.grid {
                        @for a in group { (tile(a, selectable)) }
                    }
                }
            }
        }
    }
}

fn tile(a: &Asset, selectable: bool) -> Markup {
    let (w, h) = tile_size(a);
    html! {
        li.tile {
            a href=(format!("/photos/{}", a.id)) title=(a.original.name) {
                img src=(format!("/photos/{}/thumb", a.id)) alt=(a.original.name) loading="lazy" decoding="async" width=(w) height=(h);
                @if a.kind != AssetKind::Photo || a.favorite {
                    span.badges { @if a.favorite { "★ " } @if a.kind != AssetKind::Photo { (kind(a.kind)) } }
                }
            }
            @if selectable {
                label.pick {
                    input type="checkbox" name="id" value=(a.id);
                    span.visually-hidden { "Select " (a.original.name) }
                }
            }
        }
    }
}

/// Partial: every month with photos, newest first, as jump links grouped by year.
pub fn scrubber(months: &[Month]) -> Markup {
    let mut years: Vec<(i32, Vec<&Month>)> = Vec::new();
    for m in months {
        match years.last_mut() {
            Some((y, list)) if *y == m.year => list.push(m),
            _ => years.push((m.year, vec![m])),
        }
    }
    html! {
        nav.scrubber aria-label="Jump to a month" {
            ol {
                @for (year, list) in &years {
                    li {
                        @if let Some(first) = list.first() {
                            a.year href=(jump(first)) { (year) }
                        }
                        ol.months {
                            @for m in list {
                                li { a href=(jump(m)) data-month=(format!("{:04}-{:02}", m.year, m.month)) title=(title(m)) { (short_month(m.month)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn jump(m: &Month) -> String {
    format!("/?month={:04}-{:02}", m.year, m.month)
}

fn title(m: &Month) -> String {
    let name = NaiveDate::from_ymd_opt(m.year, m.month, 1)
        .map_or_else(String::new, |d| d.format("%B %Y").to_string());
    format!(
        "{name}: {}",
        super::components::count(m.count, "item", "items")
    )
}

fn short_month(m: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("?")
}

/// The cameras page: every camera with its photos, linking to a search.
pub fn cameras(cameras: &[(String, u64)]) -> Markup {
    html! {
        h1 { "By camera" }
        @if cameras.is_empty() { p.muted { "No photo names its camera yet." } }
        ul.folders {
            @for (c, n) in cameras {
                li { a href=(format!("/search?camera={}", super::import::urlencode(c))) { (c) " " span.muted { "(" (n) ")" } } }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_months_are_named_and_out_of_range_is_safe() {
        assert_eq!(short_month(1), "Jan");
        assert_eq!(short_month(12), "Dec");
        assert_eq!(short_month(0), "Jan");
        assert_eq!(short_month(13), "?");
    }
}
