//! The iCloud page (administrators): each Apple ID's state and counts, adding one, the code
//! Apple asks for, "sync now", "sign in again" and "remove".

use maud::{Markup, html};

use super::components::{card, csrf, duration};

/// One library (zone) of an Apple ID, with its counts.
pub struct ZoneView {
    /// "Photo library" or "Shared library".
    pub label: &'static str,
    /// The counts.
    pub counts: crate::icloud::session::Counts,
}

/// One Apple ID as the page shows it.
pub struct AccountView {
    /// The Apple ID.
    pub apple_id: String,
    /// Why a person must sign in, when they must.
    pub needs_login: Option<String>,
    /// Days left of Apple's trust of this box.
    pub trust_days: Option<i64>,
    /// Seconds since the last sync and how it went.
    pub last_sync: Option<(u64, String)>,
    /// Seconds until the next unattended sync (None: none is due, sign-in needed).
    pub next_sync: Option<u64>,
    /// Seconds of back-off left.
    pub waiting: Option<u64>,
    /// A sync runs now.
    pub running: bool,
    /// Per-library counts.
    pub zones: Vec<ZoneView>,
}

/// Where a sign-in form sends the person afterwards.
pub const WIZARD: &str = "wizard";

/// The iCloud page; `waiting` are the sign-ins waiting for their code.
pub fn page(token: &str, accounts: &[AccountView], waiting: &[String]) -> Markup {
    html! {
        h1 { "iCloud" }
        p { "shoebox pulls each Apple ID's iCloud Photo Library by itself, with edits and deletions." }
        @for id in waiting { (pending(token, id)) }
        @if accounts.is_empty() { p { "No Apple ID on this box yet." } }
        @for a in accounts { (account(token, a)) }
        (card("Add an Apple ID", None, &add_form(token, "", false, "")))
        p { "When an Apple ID needs you, shoebox shows a banner and can send a push or an email: " a href="/notifications" { "set up notifications" } "." }
    }
}

fn account(token: &str, a: &AccountView) -> Markup {
    let badge = if a.needs_login.is_some() {
        "needs sign-in"
    } else {
        "signed in"
    };
    html! {
        (card(&a.apple_id, Some(badge), &html! {
            dl.facts {
                dt { "State" }
                dd data-k="state" {
                    @match &a.needs_login {
                        Some(why) => { "Needs sign-in: " (why) },
                        None => "Signed in",
                    }
                }
                @if let Some(days) = a.trust_days {
                    dt { "Trust" }
                    dd { "Apple trusts this box for " (days.max(0)) " more days"
                        @if days <= crate::icloud::session::WARN_DAYS { " (sign in again soon)" } }
                }
                dt { "Last sync" }
                dd data-k="last-sync" {
                    @match &a.last_sync {
                        Some((ago, outcome)) => { (duration(*ago)) " ago: " (outcome) },
                        None => "never",
                    }
                }
                dt { "Next sync" }
                dd {
                    @if a.running { "running now (see Status)" }
                    @else if let Some(secs) = a.waiting { "waiting " (duration(secs)) " before asking Apple again" }
                    @else if let Some(secs) = a.next_sync { "in about " (duration(secs)) }
                    @else { "after you sign in" }
                }
            }
            @if !a.zones.is_empty() {
                table.counts {
                    thead { tr { th { "Library" } th { "Photos" } th { "Videos" } th { "Hidden" } th { "Recently deleted" } th { "Here" } th { "Moved to trash" } } }
                    tbody {
                        @for z in &a.zones {
                            tr {
                                td { (z.label) }
                                td { (z.counts.photos) } td { (z.counts.videos) } td { (z.counts.hidden) }
                                td { (z.counts.recently_deleted) } td data-k="here" { (z.counts.downloaded) } td { (z.counts.trashed) }
                            }
                        }
                    }
                }
            }
            div.actions {
                form.inline method="post" action="/icloud/sync" {
                    (csrf(token))
                    input type="hidden" name="apple_id" value=(a.apple_id);
                    button.primary type="submit" disabled[a.needs_login.is_some() || a.running] { "Sync now" }
                }
                form.inline method="post" action="/icloud/remove" {
                    (csrf(token))
                    input type="hidden" name="apple_id" value=(a.apple_id);
                    button type="submit" { "Remove" }
                }
            }
            details open[a.needs_login.is_some()] {
                summary { "Sign in again" }
                (add_form(token, &a.apple_id, true, ""))
            }
        }))
    }
}

/// Partial: a sign-in waiting for its code (also one begun before a restart).
fn pending(token: &str, apple_id: &str) -> Markup {
    html! {
        (card(apple_id, Some("waiting for the code"), &html! {
            p { "Apple sent a verification code to the devices of " (apple_id) ". Type it here to finish signing in, or ask for a new one." }
            form.stack method="post" action="/icloud/code" {
                (csrf(token))
                input type="hidden" name="apple_id" value=(apple_id);
                div.field {
                    label for=(format!("f-code-{apple_id}")) { "Code" }
                    input id=(format!("f-code-{apple_id}")) name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required;
                }
                button.primary type="submit" { "Verify" }
            }
            form.inline method="post" action="/icloud/code" {
                (csrf(token))
                input type="hidden" name="apple_id" value=(apple_id);
                input type="hidden" name="code" value="new";
                button type="submit" { "Send a new code" }
            }
        }))
    }
}

/// The Apple ID + password form; `then` is [`WIZARD`] inside the setup wizard.
pub fn add_form(token: &str, apple_id: &str, fixed: bool, then: &str) -> Markup {
    let action = if then == WIZARD {
        "/setup/icloud"
    } else {
        "/icloud/add"
    };
    html! {
        form.stack method="post" action=(action) {
            (csrf(token))
            @if fixed {
                input type="hidden" name="apple_id" value=(apple_id);
            } @else {
                div.field {
                    label for="f-apple-id" { "Apple ID" }
                    input #f-apple-id name="apple_id" type="email" autocomplete="username" required value=(apple_id);
                }
            }
            div.field {
                label for=(format!("f-pw-{apple_id}")) { "Password" }
                input id=(format!("f-pw-{apple_id}")) name="password" type="password" autocomplete="current-password" required;
                small { "Kept sealed on this box so syncs can sign in again by themselves." }
            }
            @if !fixed {
                div.field.check {
                    input #f-china type="checkbox" name="china" value="1";
                    label for="f-china" { "This Apple ID uses iCloud in China mainland" }
                }
            }
            button.primary type="submit" { "Sign in to iCloud" }
        }
    }
}

/// What the code page shows.
pub struct CodeView<'a> {
    /// The Apple ID signing in.
    pub apple_id: &'a str,
    /// Apple's question.
    pub question: &'a str,
    /// A text message can be asked for.
    pub sms: bool,
    /// Inside the wizard.
    pub wizard: bool,
}

/// The page asking for the code Apple sent.
pub fn code_page(token: &str, v: &CodeView<'_>) -> Markup {
    let base = if v.wizard { "/setup/icloud" } else { "/icloud" };
    html! {
        h1 { "Verification code" }
        (card(v.apple_id, None, &html! {
            p { (v.question) "." }
            form.stack method="post" action=(format!("{base}/code")) {
                (csrf(token))
                input type="hidden" name="apple_id" value=(v.apple_id);
                div.field {
                    label for="f-code" { "Code" }
                    input #f-code name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required autofocus;
                }
                button.primary type="submit" { "Verify" }
            }
            @if v.sms {
                form.inline method="post" action=(format!("{base}/code")) {
                    (csrf(token))
                    input type="hidden" name="apple_id" value=(v.apple_id);
                    input type="hidden" name="code" value="sms";
                    button type="submit" { "Text me a code instead" }
                }
            }
        }))
    }
}
