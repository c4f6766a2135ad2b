//! The settings page (administrators): the box's name, time zone, mDNS, trash retention.

use maud::{Markup, html};

use super::components::{card, csrf, field};

/// What the settings page shows.
pub struct SettingsView<'a> {
    /// Box name.
    pub device: &'a str,
    /// Zone.
    pub time_zone: &'a str,
    /// Zones to choose from.
    pub zones: &'a [String],
    /// Announce on the LAN.
    pub mdns: bool,
    /// Days in the trash; None = keep forever.
    pub retention: Option<u32>,
}

/// The settings page.
pub fn page(token: &str, v: &SettingsView<'_>) -> Markup {
    let retention = v.retention.map(|d| d.to_string()).unwrap_or_default();
    html! {
        h1 { "Settings" }
        p { a href="/notifications" { "Notifications" } ": where shoebox tells you when it needs you (push and email)." }
        (card("This box", None, &html! {
            form.stack method="post" action="/settings" {
                (csrf(token))
                (field("Name of this box", "device", "text", v.device, Some("Reachable as <name>.local on your network.")))
                div.field {
                    label for="f-tz" { "Time zone" }
                    select #f-tz name="time_zone" {
                        @for z in v.zones { option value=(z) selected[z == v.time_zone] { (z) } }
                    }
                }
                div.field.check {
                    input #f-mdns type="checkbox" name="mdns" value="1" checked[v.mdns];
                    label for="f-mdns" { "Announce this box on the network (mDNS) so phones and computers find it by name" }
                }
                div.field {
                    label for="f-retention" { "Days photos stay in the trash" }
                    input #f-retention name="retention" type="number" min="1" max="3650" value=(retention) aria-describedby="f-retention-hint";
                    small #f-retention-hint { "Leave empty to keep trashed photos until someone empties the trash." }
                }
                button.primary type="submit" { "Save" }
            }
        }))
    }
}
