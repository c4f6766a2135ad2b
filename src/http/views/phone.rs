//! The phone setup page: where to point PhotoSync, the Nextcloud app or any WebDAV client,
//! a QR code of the address, app passwords (a new one is shown once), the last uploads.

use std::fmt::Write;

use maud::{Markup, html};

use super::components::{bytes, card, csrf, field};

/// What the phone page shows.
pub struct PhonePage<'a> {
    /// The viewer's form token.
    pub token: &'a str,
    /// The viewer's name.
    pub user: &'a str,
    /// `http://host:port` as the browser reached the box.
    pub server: &'a str,
    /// App passwords: (id, label, created unix seconds).
    pub passwords: &'a [(String, String, i64)],
    /// A password just minted: (label, secret), shown this once.
    pub minted: Option<(&'a str, &'a str)>,
    /// The viewer's latest uploads: (path, bytes, unix seconds).
    pub uploads: &'a [(String, u64, i64)],
    /// Admins see and set whether deleting on the phone trashes the photo.
    pub delete_trashes: Option<bool>,
}

/// The page body.
pub fn page(p: &PhonePage<'_>) -> Markup {
    let dav_url = format!("{}/dav/{}/", p.server, p.user);
    html! {
        h1 { "Phone setup" }
        p { "Phones send their photos to this box over the home network. Use an app password rather than your own password: each phone gets its own, and you can revoke it here." }
        div.cards {
            (card("Address", None, &html! {
                p { "WebDAV address: " code { (dav_url) } }
                p { "User name: " code { (p.user) } }
                figure.qr { (qr_svg(&dav_url)) figcaption.muted { "Scan to copy the address" } }
            }))
            (card("App passwords", None, &passwords(p)))
        }
        (card("How to set up", None, &instructions(p.server, &dav_url, p.user)))
        (card("Your last uploads", None, &html! {
            @if p.uploads.is_empty() { p.muted { "Nothing uploaded yet." } }
            @else {
                ul.plain { @for (path, size, at) in p.uploads { li { code { (path) } " · " (bytes(*size)) " · " (ago(*at)) } } }
            }
        }))
        @if let Some(on) = p.delete_trashes {
            (card("When a phone deletes an uploaded file", None, &html! {
                form.stack method="post" action="/phone/delete-trashes" {
                    (csrf(p.token))
                    label { input type="checkbox" name="on" value="1" checked[on]; " Move the photo to the trash (otherwise the library keeps it)" }
                    button type="submit" { "Save" }
                }
            }))
        }
    }
}

fn passwords(p: &PhonePage<'_>) -> Markup {
    html! {
        @if let Some((label, secret)) = p.minted {
            div.flash.ok role="status" {
                p { "New app password for " strong { (label) } ". Copy it now; it is not shown again:" }
                p { code.secret { (secret) } }
                p.muted { "Nextcloud app: scan this to sign in with it." }
                figure.qr { (qr_svg(&format!("nc://login/user:{}&password:{}&server:{}", p.user, secret, p.server))) }
            }
        }
        @if p.passwords.is_empty() { p.muted { "No app passwords yet." } }
        @else {
            ul.plain {
                @for (id, label, created) in p.passwords {
                    li {
                        (label) " · made " (ago(*created)) " "
                        form.inline method="post" action=(format!("/phone/app-passwords/{id}/revoke")) {
                            (csrf(p.token))
                            button.danger type="submit" aria-label=(format!("Revoke {label}")) { "Revoke" }
                        }
                    }
                }
            }
        }
        form.stack method="post" action="/phone/app-passwords" {
            (csrf(p.token))
            (field("For which phone or app", "label", "text", "", Some("e.g. Anna's iPhone")))
            button.primary type="submit" { "Make an app password" }
        }
    }
}

fn instructions(server: &str, dav_url: &str, user: &str) -> Markup {
    html! {
        h3 { "PhotoSync (iPhone, Android)" }
        ol {
            li { "Settings → Configure → WebDAV → Add new configuration." }
            li { "Server: " code { (server.split("://").nth(1).unwrap_or(server)) } ", Path: " code { "/dav/" (user) "/" } ", Login: " code { (user) } ", Password: an app password." }
            li { "Turn on Autotransfer to send new photos by themselves." }
        }
        h3 { "Nextcloud app" }
        ol {
            li { "Server address: " code { (server) } ". The app opens a sign-in page on this box that makes an app password, or scan the code shown when you make one here." }
            li { "Then: Settings → Auto upload → turn on Camera." }
        }
        h3 { "Any WebDAV client (file managers, rclone)" }
        p { "Address " code { (dav_url) } ", your name and an app password. Everything in the library is also visible, read-only, under " code { (server) "/dav/library/" } "." }
    }
}

/// The page a Nextcloud app opens to sign in (login flow v2): who is asking, and a button
/// that grants it an app password. `done` is the answer after granting.
pub fn grant_page(token: &str, action: &str, user: &str, client: &str, done: bool) -> Markup {
    html! {
        h1 { "Connect an app" }
        @if done {
            div.flash.ok role="status" {
                p { strong { (client) } " is connected to " strong { (user) } "'s photos with its own app password." }
                p { "Go back to the app. You can revoke its access on the " a href="/phone" { "Phone" } " page." }
            }
        } @else {
            (card("Allow this app?", None, &html! {
                p { strong { (client) } " asks to upload photos to the box as " strong { (user) } " and to see your uploads." }
                p.muted { "It gets an app password of its own, which you can revoke on the Phone page; your password is not shared." }
                form.stack method="post" action=(action) {
                    (csrf(token))
                    button.primary type="submit" { "Allow" }
                }
                p { a href="/" { "Cancel" } }
            }))
        }
    }
}

/// A QR code of `text` as inline SVG (dark modules as one path).
pub fn qr_svg(text: &str) -> Markup {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else {
        return html! {};
    };
    let size = qr.size();
    let mut d = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                let _ = write!(d, "M{},{}h1v1h-1z", x + 4, y + 4);
            }
        }
    }
    let side = size + 8;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {side} {side}")) width="192" height="192" role="img" aria-label="QR code" shape-rendering="crispEdges" {
            rect width=(side) height=(side) fill="#fff" {}
            path d=(d) fill="#000" {}
        }
    }
}

/// "3 min ago", "2 h ago", or the date.
pub fn ago(at: i64) -> String {
    let secs = chrono::Utc::now().timestamp().saturating_sub(at);
    match secs {
        ..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => chrono::DateTime::from_timestamp(at, 0)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_an_svg_path_and_the_secret_shows_once() {
        let svg = qr_svg("http://shoebox.local:8080/dav/anna/").into_string();
        assert!(
            svg.starts_with("<svg") && svg.contains("<path d=\"M"),
            "{svg}"
        );
        let page = |minted| {
            page(&PhonePage {
                token: "t",
                user: "anna",
                server: "http://shoebox.local:8080",
                passwords: &[("abc".into(), "phone".into(), 0)],
                minted,
                uploads: &[],
                delete_trashes: None,
            })
            .into_string()
        };
        assert!(page(Some(("phone", "aaaaa-bbbbb"))).contains("aaaaa-bbbbb"));
        let plain = page(None);
        assert!(!plain.contains("aaaaa-bbbbb"));
        assert!(plain.contains("/phone/app-passwords/abc/revoke"));
        assert!(plain.contains("name=\"csrf\""));
    }

    #[test]
    fn the_grant_page_names_the_app_and_posts_with_a_token() {
        let ask = grant_page(
            "t",
            "/index.php/login/v2/flow/x",
            "anna",
            "<Nextcloud iOS>",
            false,
        )
        .into_string();
        assert!(ask.contains("&lt;Nextcloud iOS&gt;"), "{ask}");
        assert!(ask.contains("action=\"/index.php/login/v2/flow/x\""));
        assert!(ask.contains("name=\"csrf\""));
        let done = grant_page("t", "/x", "anna", "app", true).into_string();
        assert!(!done.contains("<form") && done.contains("Go back to the app"));
    }
}
