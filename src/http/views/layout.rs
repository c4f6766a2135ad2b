//! The page shell: head, top bar with navigation, flash message, footer.

use maud::{DOCTYPE, Markup, html};

use crate::http::assets;

/// Who is looking, for the navigation.
pub struct Nav<'a> {
    /// Signed-in user.
    pub user: &'a str,
    /// May see admin pages.
    pub admin: bool,
    /// Which top-level section is open ("photos", "status", "import", "users", "account").
    pub active: &'a str,
}

/// A message shown once at the top of a page.
pub enum Flash {
    /// Something worked.
    Ok(String),
    /// Something went wrong; says what to do.
    Problem(String),
}

/// Everything around a page's own content.
pub struct Chrome<'a> {
    /// Title (also the `<h1>` unless the body brings its own).
    pub title: &'a str,
    /// The box's name, shown in the top bar.
    pub device: &'a str,
    /// Navigation when signed in.
    pub nav: Option<Nav<'a>>,
    /// Token every form on the page carries.
    pub csrf: &'a str,
    /// One-time message.
    pub flash: Option<Flash>,
    /// Reload the page this often (seconds) when JavaScript is off (live pages).
    pub refresh_without_js: Option<u32>,
    /// Reload the page this often (seconds) in any case (live pages without an event stream).
    pub reload: Option<u32>,
    /// Standing problems an administrator must act on (iCloud sign-in), on every page.
    pub alerts: &'a [String],
}

/// A whole HTML page.
pub fn page(chrome: &Chrome<'_>, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (chrome.title) " · " (chrome.device) }
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("style.css"));
                script src=(assets::url("app.js")) defer {}
                @if let Some(secs) = chrome.reload {
                    meta http-equiv="refresh" content=(secs);
                } @else if let Some(secs) = chrome.refresh_without_js {
                    noscript { meta http-equiv="refresh" content=(secs); }
                }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" { img src=(assets::url("icon.svg")) alt="" width="28" height="28"; span { (chrome.device) } }
                    @if let Some(nav) = &chrome.nav { (navigation(nav, chrome.csrf)) }
                }
                main #main {
                    @for alert in chrome.alerts {
                        p.flash.problem.banner role="alert" data-k="alert" {
                            (alert) " " a href="/icloud" { "Open iCloud" }
                        }
                    }
                    @match &chrome.flash {
                        Some(Flash::Ok(m)) => p.flash.ok role="status" { (m) },
                        Some(Flash::Problem(m)) => p.flash.problem role="alert" { (m) },
                        None => {}
                    }
                    (body)
                }
                footer.footer { "shoebox " (env!("CARGO_PKG_VERSION")) }
            }
        }
    }
}

fn navigation(nav: &Nav<'_>, csrf: &str) -> Markup {
    let item = |href: &str, key: &str, label: &str| {
        html! { a href=(href) aria-current=[(nav.active == key).then_some("page")] { (label) } }
    };
    html! {
        nav.nav aria-label="Main" {
            (item("/", "photos", "Photos"))
            (item("/albums", "albums", "Albums"))
            (item("/trash", "trash", "Trash"))
            (item("/status", "status", "Status"))
            (item("/phone", "phone", "Phone"))
            @if nav.admin {
                (item("/import", "import", "Import"))
                (item("/icloud", "icloud", "iCloud"))
                (item("/users", "users", "People"))
                (item("/backup", "backup", "Backup"))
                (item("/settings", "settings", "Settings"))
            }
            (item("/account", "account", nav.user))
            form.inline method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button.link type="submit" { "Sign out" }
            }
        }
    }
}
