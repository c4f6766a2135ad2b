//! The import page: a folder browser limited to the box's disks, and the start button.

use std::fmt::Write;

use maud::{Markup, html};

use super::components::{card, csrf};

/// One folder in the browser.
pub struct Entry {
    /// Name.
    pub name: String,
    /// Full path.
    pub path: String,
}

/// What the import page shows.
pub struct ImportView<'a> {
    /// Folder being browsed (None: the list of roots).
    pub current: Option<&'a str>,
    /// Its parent, when it is inside a root.
    pub parent: Option<String>,
    /// Subfolders (or the roots).
    pub folders: &'a [Entry],
    /// Files directly in it.
    pub files: usize,
    /// An import is running already.
    pub busy: bool,
}

/// The import page.
pub fn page(token: &str, v: &ImportView<'_>) -> Markup {
    let link = |p: &str| format!("/import?path={}", urlencode(p));
    html! {
        h1 { "Import photos" }
        p.lead { "Choose a folder on this box's disks. Everything in it and below is imported; photos already in the library are recognised and stored once." }
        (card("Folders", None, &html! {
            @if let Some(cur) = v.current {
                p { "In " code { (cur) } " (" (v.files) @if v.files == 1 { " file)" } @else { " files)" } }
                @if let Some(p) = &v.parent { a href=(link(p)) { "↑ Up" } } @else { a href="/import" { "↑ All disks" } }
            }
            ul.folders {
                @for e in v.folders { li { a href=(link(&e.path)) { (e.name) } } }
                @if v.folders.is_empty() { li.muted { "No folders here." } }
            }
            @if let Some(cur) = v.current {
                form method="post" action="/import" {
                    (csrf(token))
                    input type="hidden" name="path" value=(cur);
                    @if v.busy { p.flash.problem { "An import is running; wait for it to finish." } }
                    button.primary type="submit" disabled[v.busy] { "Import this folder" }
                }
            }
        }))
    }
}

/// Percent-encodes a path for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
