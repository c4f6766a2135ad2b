//! The notifications page (administrators): a push URL (ntfy or any webhook) and an email
//! account, each with "send a test". The SMTP password is never rendered back.

use maud::{Markup, html};

use super::components::{card, csrf};
use crate::notify::{Channels, Security};

/// The notifications page.
pub fn page(token: &str, c: &Channels) -> Markup {
    html! {
        h1 { "Notifications" }
        p { "shoebox tells you when it needs you: an Apple ID must be signed in again, Apple's trust of this box ends within a week, or syncs keep failing. One message per problem, not one per failed run; a new one only after it was fine again." }
        @if let Some(u) = &c.box_url { p.muted { "Messages link to " code data-k="box-url" { (u) } " (the address you used to reach this page)." } }
        (card("Push (ntfy or webhook)", c.push_url.as_ref().map(|_| "on"), &push(token, c)))
        (card("Email", c.smtp.as_ref().map(|_| "on"), &email(token, c)))
    }
}

fn push(token: &str, c: &Channels) -> Markup {
    let url = c.push_url.as_deref().unwrap_or("");
    html! {
        p { "A plain-text POST with a " code { "Title" } " header: an ntfy topic shows it on your phone; any webhook receiver gets the message as the body." }
        form.stack method="post" action="/notifications/push" {
            (csrf(token))
            div.field {
                label for="f-push" { "Push URL" }
                input #f-push name="url" type="url" value=(url) placeholder="https://ntfy.sh/your-secret-topic" aria-describedby="f-push-hint";
                small #f-push-hint { "https:// (http:// only to this machine). Leave empty to turn push off." }
            }
            button.primary type="submit" { "Save" }
        }
        @if c.push_url.is_some() {
            form.inline method="post" action="/notifications/push/test" {
                (csrf(token))
                button type="submit" { "Send a test push" }
            }
        }
    }
}

fn email(token: &str, c: &Channels) -> Markup {
    let s = c.smtp.as_ref();
    let port = s.map_or_else(|| "587".to_string(), |s| s.port.to_string());
    let security = s.map_or(Security::StartTls, |s| s.security);
    let has_password = s.is_some_and(|s| s.password.is_some());
    html! {
        form.stack method="post" action="/notifications/email" {
            (csrf(token))
            (input("Mail server", "host", "text", s.map_or("", |s| &s.host), "smtp.example.com"))
            (input("Port", "port", "number", &port, ""))
            div.field {
                label for="f-security" { "Security" }
                select #f-security name="security" {
                    @for (v, label) in [(Security::StartTls, "STARTTLS (port 587)"), (Security::Tls, "TLS (port 465)"), (Security::None, "None (only to this machine)")] {
                        option value=(v.as_str()) selected[v == security] { (label) }
                    }
                }
            }
            (input("User name", "user", "text", s.map_or("", |s| &s.user), "Empty if the server needs no sign-in"))
            div.field {
                label for="f-password" { "Password" }
                input #f-password name="password" type="password" autocomplete="new-password" aria-describedby="f-password-hint";
                small #f-password-hint { @if has_password { "A password is stored; leave empty to keep it." } @else { "Stored sealed on this box." } }
            }
            (input("From", "from", "email", s.map_or("", |s| &s.from), "shoebox@example.com"))
            (input("To", "to", "email", s.map_or("", |s| &s.to), "you@example.com"))
            button.primary type="submit" { "Save" }
        }
        @if s.is_some() {
            form.inline method="post" action="/notifications/email/test" {
                (csrf(token))
                button type="submit" { "Send a test email" }
            }
            form.inline method="post" action="/notifications/email" {
                (csrf(token))
                input type="hidden" name="remove" value="1";
                button type="submit" { "Turn email off" }
            }
        }
    }
}

/// Partial: an optional labelled input with a placeholder.
fn input(label: &str, name: &str, kind: &str, value: &str, placeholder: &str) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value) placeholder=(placeholder) autocomplete="off";
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Smtp;

    #[test]
    fn the_smtp_password_is_never_rendered() {
        let c = Channels {
            push_url: None,
            smtp: Some(Smtp {
                host: "mail.example".into(),
                port: 465,
                security: Security::Tls,
                user: "me".into(),
                password: Some("s3cret-pw".into()),
                from: "a@example.com".into(),
                to: "b@example.com".into(),
            }),
            box_url: None,
        };
        let html = page("t", &c).into_string();
        assert!(!html.contains("s3cret-pw"));
        assert!(html.contains("A password is stored"));
        assert!(html.contains("value=\"tls\" selected"));
        assert!(html.contains("/notifications/email/test"));
        assert!(!html.contains("/notifications/push/test"));
    }
}
