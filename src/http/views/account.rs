//! Sign-in, the own account page, and the people page for admins.

use maud::{Markup, html};

use super::components::{card, csrf, field, new_password};

/// The sign-in form.
pub fn login(token: &str, name: &str, next: &str, problem: Option<&str>) -> Markup {
    html! {
        div.narrow {
            h1 { "Sign in" }
            @if let Some(p) = problem { p.flash.problem role="alert" { (p) } }
            form.stack method="post" action="/login" {
                (csrf(token))
                input type="hidden" name="next" value=(next);
                (field("Name", "name", "text", name, None))
                (field("Password", "password", "password", "", None))
                button.primary type="submit" { "Sign in" }
            }
        }
    }
}

/// The own account page: change password.
pub fn account(token: &str, user: &str, role: &str) -> Markup {
    html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (user) } " (" (role) ")." }
        (card("Change password", None, &html! {
            form.stack method="post" action="/account/password" {
                (csrf(token))
                (field("Current password", "password", "password", "", None))
                (new_password("New password", "new", None))
                (field("New password again", "new2", "password", "", None))
                button.primary type="submit" { "Change password" }
            }
            p.muted { "Changing it signs you out everywhere else." }
        }))
    }
}

/// A row of the people page.
pub struct Person<'a> {
    /// Name.
    pub name: &'a str,
    /// "admin" or "member".
    pub role: &'a str,
    /// The owner cannot be removed.
    pub owner: bool,
    /// A member who sees only their own uploads; `None` for administrators.
    pub own_uploads_only: Option<bool>,
}

/// The people page (admins): list, add, reset password, remove.
pub fn users(token: &str, people: &[Person<'_>], me: &str) -> Markup {
    html! {
        h1 { "People" }
        table.list {
            caption.visually-hidden { "Accounts on this box" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { span.visually-hidden { "Actions" } } } }
            tbody {
                @for p in people {
                    tr {
                        td { (p.name) @if p.owner { " " span.badge { "owner" } } @if p.name == me { " " span.badge { "you" } } }
                        td {
                            (p.role)
                            @if let Some(only) = p.own_uploads_only {
                                form.inline.scope method="post" action=(format!("/users/{}/scope", p.name)) {
                                    (csrf(token))
                                    input type="hidden" name="own_uploads_only" value=(if only { "0" } else { "1" });
                                    br;
                                    small { @if only { "Sees only their own uploads. " } @else { "Sees the whole library. " } }
                                    button.link type="submit" { @if only { "Show the whole library" } @else { "Only their own uploads" } }
                                }
                            }
                        }
                        td.actions {
                            @if !p.owner && p.name != me {
                                details.inline {
                                    summary { "Reset password" }
                                    form.stack method="post" action=(format!("/users/{}/password", p.name)) {
                                        (csrf(token))
                                        (new_password("New password", "password", None))
                                        button type="submit" { "Set password" }
                                    }
                                }
                                form.inline method="post" action=(format!("/users/{}/remove", p.name)) {
                                    (csrf(token))
                                    button.danger type="submit" aria-label=(format!("Remove {}", p.name)) { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        (card("Add a family member", None, &html! {
            form.stack method="post" action="/users" {
                (csrf(token))
                (field("Name", "name", "text", "", Some("Lower-case letters, digits, dots, dashes.")))
                (new_password("Password", "password", None))
                div.field.check {
                    input #f-admin type="checkbox" name="admin" value="1";
                    label for="f-admin" { "Administrator (can add people, import and change settings)" }
                }
                button.primary type="submit" { "Add" }
            }
        }))
    }
}
