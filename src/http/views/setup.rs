//! The first-boot wizard's pages.

use maud::{Markup, html};

use super::components::{bytes, card, csrf, field, new_password};

/// Steps in order, for the step indicator.
const STEPS: &[(&str, &str)] = &[
    ("welcome", "Welcome"),
    ("owner", "You"),
    ("storage", "Storage"),
    ("sources", "Photos"),
    ("backup", "Backup"),
    ("summary", "Done"),
];

/// The restore branch: the disk first (the restore writes to it), the owner after.
const RESTORE_STEPS: &[(&str, &str)] = &[
    ("welcome", "Welcome"),
    ("storage", "Storage"),
    ("restore", "Restore"),
    ("owner", "You"),
    ("sources", "Photos"),
    ("backup", "Backup"),
    ("summary", "Done"),
];

/// Partial: the step indicator of the fresh or the restore branch.
pub(super) fn steps_of(current: &str, restore: bool) -> Markup {
    let all = if restore { RESTORE_STEPS } else { STEPS };
    let at = all.iter().position(|(k, _)| *k == current).unwrap_or(0);
    html! {
        ol.steps aria-label="Setup steps" {
            @for (i, (_, label)) in all.iter().enumerate() {
                li.done[i < at] aria-current=[(i == at).then_some("step")] { (label) }
            }
        }
    }
}

/// Step 1: start fresh or restore.
pub fn welcome(token: &str) -> Markup {
    html! {
        (steps("welcome"))
        h1 { "Welcome to your shoebox" }
        p.lead { "This box keeps every photo and video of your family, once, on its own disk — and a copy somewhere else if you like. Setting it up takes a few minutes." }
        div.choices {
            form method="post" action="/setup/welcome" {
                (csrf(token))
                input type="hidden" name="choice" value="fresh";
                button.choice type="submit" { strong { "Start fresh" } span { "A new, empty library." } }
            }
            form method="post" action="/setup/welcome" {
                (csrf(token))
                input type="hidden" name="choice" value="restore";
                button.choice type="submit" { strong { "Restore from a backup" } span { "Bring back a library from an off-site backup." } }
            }
        }
    }
}

fn steps(current: &str) -> Markup {
    steps_of(current, false)
}

/// What the owner step shows.
pub struct OwnerForm<'a> {
    /// Name typed so far.
    pub name: &'a str,
    /// Device name typed so far.
    pub device: &'a str,
    /// Chosen zone.
    pub time_zone: &'a str,
    /// Zones to choose from.
    pub zones: &'a [String],
    /// What to fix, if the last try failed.
    pub problem: Option<&'a str>,
    /// The library was just restored (the restore branch).
    pub restored: bool,
}

/// Step 2: the owner account, device name, time zone.
pub fn owner(token: &str, f: &OwnerForm<'_>) -> Markup {
    html! {
        (steps_of("owner", f.restored))
        h1 { "Your account" }
        @if f.restored { p.lead { "Your library is back. Accounts are not part of a backup, so create the owner account of this box now." } }
        p.lead { "You will be this box's owner: the one who can add family members and change settings." }
        @if let Some(p) = f.problem { p.flash.problem role="alert" { (p) } }
        form.stack method="post" action="/setup/owner" {
            (csrf(token))
            (field("Your name", "name", "text", f.name, Some("Lower-case letters, digits, dots, dashes; used to sign in.")))
            (new_password("Password", "password", None))
            (field("Password again", "password2", "password", "", None))
            (field("Name of this box", "device", "text", f.device, Some("On your network it will be reachable as <name>.local.")))
            div.field {
                label for="f-tz" { "Time zone" }
                select #f-tz name="time_zone" {
                    @for z in f.zones { option value=(z) selected[z == f.time_zone] { (z) } }
                }
            }
            button.primary type="submit" { "Create account" }
        }
    }
}

/// What the storage step shows.
pub struct StorageView<'a> {
    /// The data directory.
    pub path: &'a str,
    /// Its disk, in words (`SanDisk Extreme (sda1, ext4)`).
    pub disk: Option<String>,
    /// Disk size.
    pub total: Option<u64>,
    /// Free space.
    pub free: u64,
    /// What stops us.
    pub problems: &'a [String],
    /// Other disks: (description, mount point, size, free, removable).
    pub others: Vec<(String, String, u64, u64, bool)>,
    /// The restore branch: the restore writes into this folder next.
    pub restore: bool,
}

/// Step 3: where the library lives.
pub fn storage(token: &str, v: &StorageView<'_>) -> Markup {
    html! {
        (steps_of("storage", v.restore))
        h1 { "Storage" }
        p.lead { "Your photos live in one folder on this disk. Everything the box knows is in that folder, so moving the disk moves the library." }
        @if v.restore { p { "The restore writes the library into this folder, so it needs room for all of it." } }
        (card("Library folder", if v.problems.is_empty() { Some("ready") } else { Some("needs attention") }, &html! {
            dl.facts {
                dt { "Folder" } dd { code { (v.path) } }
                dt { "Disk" } dd { (v.disk.as_deref().unwrap_or("unknown")) }
                @if let Some(t) = v.total { dt { "Size" } dd { (bytes(t)) } }
                dt { "Free" } dd { (bytes(v.free)) }
            }
            @for p in v.problems { p.flash.problem role="alert" { (p) } }
        }))
        @if !v.others.is_empty() {
            (card("Other disks", None, &html! {
                ul.disks {
                    @for (desc, mount, total, free, removable) in &v.others {
                        li { strong { (desc) } @if *removable { " " span.badge { "removable" } } br; code { (mount) } " · " (bytes(*free)) " free of " (bytes(*total)) }
                    }
                }
                p.muted { "On the appliance, this step will also prepare a new USB disk for you." }
            }))
        }
        form method="post" action="/setup/storage" {
            (csrf(token))
            button.primary type="submit" disabled[!v.problems.is_empty()] { "Use this folder" }
        }
        @if v.restore { (super::restore::fresh_instead(token)) }
        @if !v.problems.is_empty() {
            p { a href="/setup/storage" { "Check again" } " after fixing the problem." }
        }
    }
}

/// Step 4: photo sources.
pub fn sources(token: &str, apple_ids: &[String]) -> Markup {
    html! {
        (steps("sources"))
        h1 { "Where photos come from" }
        div.cards {
            (card("iCloud Photos", if apple_ids.is_empty() { None } else { Some("signed in") }, &html! {
                p { "Sign in with an Apple ID and the box keeps a full copy of its iCloud Photo Library, new, edited and deleted photos included. Each family member can add theirs, now or later on the iCloud page." }
                @if !apple_ids.is_empty() {
                    ul.plain { @for id in apple_ids { li { "✓ " (id) } } }
                }
                (super::icloud::add_form(token, "", false, super::icloud::WIZARD))
            }))
            (card("Phones on this network", Some("available"), &html! {
                p { "Family phones upload over Wi-Fi with PhotoSync, the Nextcloud app or any WebDAV app, no cloud needed. After setup, the " strong { "Phone" } " page gives each phone its address and an app password." }
            }))
            (card("A folder or USB stick", Some("available"), &html! {
                p { "After setup, choose " strong { "Import" } " and pick a folder on this box's disks." }
            }))
        }
        form method="post" action="/setup/sources" { (csrf(token)) button.primary type="submit" { "Continue" } }
    }
}

/// Step 5: off-site backup.
pub fn backup(token: &str, url: &str, configured: bool, recovery: Option<&str>) -> Markup {
    html! {
        (steps("backup"))
        h1 { "Off-site backup" }
        p { "A second copy away from home: an S3 bucket, a WebDAV folder or a second disk. It is encrypted on this box before it leaves and can be restored with your passphrase (or the recovery key) alone. Test the connection, then create the repository; this box then backs up every night by itself. You can also do this later on the Backup page." }
        @if let Some(key) = recovery { (super::backup::recovery_card(key)) }
        @if configured {
            p { "This box backs up to " code { (url) } "." }
        } @else {
            (card("Where backups go", None, &super::backup::target_form(token, "/setup/backup/target", url)))
        }
        form method="post" action="/setup/backup" {
            (csrf(token))
            button.primary type="submit" { @if configured { "Continue" } @else { "Skip for now" } }
        }
    }
}

/// What the summary shows.
pub struct Summary<'a> {
    /// Owner name.
    pub owner: &'a str,
    /// Device name.
    pub device: &'a str,
    /// Time zone.
    pub time_zone: &'a str,
    /// Library folder.
    pub path: &'a str,
}

/// Step 6: summary and finish.
pub fn summary(token: &str, s: &Summary<'_>) -> Markup {
    html! {
        (steps("summary"))
        h1 { "All set" }
        dl.facts {
            dt { "Owner" } dd { (s.owner) }
            dt { "Box name" } dd { (s.device) ".local" }
            dt { "Time zone" } dd { (s.time_zone) }
            dt { "Library folder" } dd { code { (s.path) } }
        }
        form method="post" action="/setup/finish" { (csrf(token)) button.primary type="submit" { "Open my photos" } }
    }
}
