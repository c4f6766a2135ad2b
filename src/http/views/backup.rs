//! The Backup page: where the encrypted off-site copy goes (a URL, its credentials and the
//! passphrase), "test connection", creating or adopting the repository (the recovery key is
//! shown once, with a download), the last runs, the snapshots, the schedule, "back up now".

use maud::{Markup, html};

use super::components::{bytes, card, csrf, field};
use super::import::urlencode;
use super::phone::ago;
use crate::backup::target::Status;

/// What the page shows.
pub struct BackupPage<'a> {
    /// The viewer's form token.
    pub token: &'a str,
    /// The configured target's URL.
    pub target: Option<&'a str>,
    /// The form's URL value (the draft, else the target).
    pub url: &'a str,
    /// Past runs and snapshots.
    pub status: &'a Status,
    /// Nightly runs on.
    pub nightly: bool,
    /// The upload limit in KiB/s, if one is set.
    pub upload_kib: Option<u32>,
    /// When the next unattended run starts, in words.
    pub next_run: Option<String>,
    /// A run is going.
    pub running: bool,
    /// A recovery key just made, shown this once.
    pub recovery: Option<&'a str>,
}

/// The page body.
pub fn page(p: &BackupPage<'_>) -> Markup {
    html! {
        h1 { "Backup" }
        p { "An encrypted copy of every photo goes to a place outside the house: an S3 bucket (AWS, Backblaze B2, Wasabi, Cloudflare R2, MinIO, Garage), a WebDAV folder (Nextcloud, Synology, rclone), or a second disk. It is encrypted on this box; the provider sees only noise." }
        @if let Some(key) = p.recovery { (recovery_card(key)) }
        div.cards {
            (card("Status", if p.running { Some("running") } else { None }, &status(p)))
            (card("Schedule", None, &schedule(p)))
        }
        (card("Where backups go", None, &target_form(p.token, "/backup/target", p.url)))
        (card("Snapshots", None, &snapshots(p.status)))
    }
}

/// Partial: a recovery key just made, shown this once, with a download.
pub fn recovery_card(key: &str) -> Markup {
    html! {
        div.flash.ok role="status" {
            p { strong { "Your recovery key." } " Write it down or download it now: it is not shown again. With it (or the passphrase) the photos can be restored on any machine, even if this box is lost." }
            p { code.secret { (key) } }
            p { a download="shoebox-recovery-key.txt" href=(format!("data:text/plain;charset=utf-8,{}", urlencode(&recovery_text(key)))) { "Download the recovery key" } }
        }
    }
}

fn status(p: &BackupPage<'_>) -> Markup {
    let s = p.status;
    html! {
        @match p.target {
            None => p.muted { "No backup target yet. Set one below." },
            Some(url) => p { "Target: " code { (url) } },
        }
        @if let Some(ok) = &s.last_success {
            p { "Last backup: " (ago(ok.at)) ", " (ok.files) " files, " (bytes(ok.bytes)) " (" (bytes(ok.uploaded)) " sent)." }
        } @else if p.target.is_some() {
            p.muted { "No backup has finished yet." }
        }
        @if let Some((at, why)) = &s.last_error {
            p.problem role="alert" { "The backup of " (ago(*at)) " failed: " (why) }
        }
        @if let Some(size) = s.remote_bytes {
            p { "Size on the remote: " (bytes(size)) }
        }
        @if let Some(w) = &s.other_writer { p.problem role="alert" { (w) } }
        @if let Some(scrub) = &s.scrub {
            @if scrub.problems.is_empty() {
                p { "Last verification: " (ago(scrub.at)) ", slice " (scrub.slice.0) " of " (scrub.slice.1) " (" (scrub.packs) " packs, " (bytes(scrub.bytes)) ") read back and intact. Every slice is read once a month." }
            } @else {
                div.problem role="alert" {
                    p { "The verification of " (ago(scrub.at)) " found damage on the remote:" }
                    ul { @for problem in &scrub.problems { li { (problem) } } }
                    p { "The photos on this box are fine; the next backup uploads what is missing again. If this repeats, the provider is losing data." }
                }
            }
        }
        @if let Some(u) = &s.upkeep {
            @match &u.error {
                None => p.muted { "Old snapshots thinned out " (ago(u.at)) ": " (u.forgotten) " forgotten, " (bytes(u.freed)) " given back, " (bytes(u.marked)) " to be given back after a day's grace." },
                Some(why) => p.problem { "Thinning out old snapshots " (ago(u.at)) " failed: " (why) },
            }
        }
        @if p.target.is_some() {
            form.stack method="post" action="/backup/now" {
                (csrf(p.token))
                button.primary type="submit" disabled[p.running] { "Back up now" }
            }
            @if p.running { p.muted { "A backup is running; its progress is on the " a href="/status" { "Status" } " page." } }
        }
    }
}

fn schedule(p: &BackupPage<'_>) -> Markup {
    html! {
        @if let Some(next) = &p.next_run { p { "Next backup: " (next) } }
        form.stack method="post" action="/backup/schedule" {
            (csrf(p.token))
            label { input type="checkbox" name="nightly" value="1" checked[p.nightly]; " Back up every night (between 01:00 and 05:00)" }
            div.field {
                label for="f-upload-kib" { "Upload limit, KiB per second (empty: none)" }
                input id="f-upload-kib" name="upload_kib" type="number" min="1" inputmode="numeric" value=[p.upload_kib];
            }
            p.muted { "Kept: a snapshot of each of the last 7 days, 5 weeks, 12 months and 10 years; older ones are forgotten about weekly and their space given back." }
            button type="submit" { "Save" }
        }
    }
}

/// Partial: the target form, posting to `action` (the Backup page's, or the wizard's).
pub fn target_form(token: &str, action: &str, url: &str) -> Markup {
    let buttons = html! {
        button type="submit" name="action" value="test" { "Test connection" }
        button.primary type="submit" name="action" value="create" { "Create repository" }
        button type="submit" name="action" value="adopt" { "Use existing repository" }
    };
    target_form_with(token, action, url, &buttons)
}

/// Partial: [`target_form`] with other buttons (the wizard's restore branch opens, never creates).
pub fn target_form_with(token: &str, action: &str, url: &str, buttons: &Markup) -> Markup {
    html! {
        form.stack method="post" action=(action) {
            (csrf(token))
            (field("Repository address", "url", "text", url, Some("s3://BUCKET/PREFIX?endpoint=https://…&region=…  ·  webdav+https://HOST/PATH  ·  file:///media/second-disk/shoebox")))
            (optional("S3 access key id", "access_key", "text"))
            (optional("S3 secret access key", "secret_key", "password"))
            (optional("WebDAV user name", "user", "text"))
            (optional("WebDAV password", "password", "password"))
            (optional("Passphrase (for creating or using a repository)", "passphrase", "password"))
            p.muted { "The passphrase encrypts the backup: without it (or the recovery key) nobody can restore. Secrets are stored encrypted on this box so nightly backups need nobody; they are never shown again. Leave a field empty to keep what the last test of the same address used." }
            div.row { (buttons) }
        }
    }
}

/// Partial: a field that may stay empty (only S3 or only WebDAV needs each one).
fn optional(label: &str, name: &str, kind: &str) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) autocomplete=(if kind == "password" { "new-password" } else { "off" });
        }
    }
}

fn snapshots(s: &Status) -> Markup {
    html! {
        @if s.snapshots.is_empty() { p.muted { "No snapshots yet." } }
        @else {
            table.snapshots {
                thead { tr { th { "Taken" } th { "Box" } th { "Photos" } th { "Files" } th { "Size" } th {} } }
                tbody {
                    @for snap in s.snapshots.iter().rev() {
                        tr {
                            td { (when(snap.time)) }
                            td { (snap.host) }
                            td { (snap.assets) }
                            td { (snap.files) }
                            td { (bytes(snap.bytes)) }
                            td { a href=(format!("/backup/snapshots/{}", snap.name)) { "Browse" } }
                        }
                    }
                }
            }
        }
    }
}

/// `YYYY-MM-DD HH:MM` UTC.
pub fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn recovery_text(key: &str) -> String {
    format!(
        "shoebox recovery key\n\n{key}\n\nWith this key (or the passphrase), `shoebox restore --repo URL --to DIR` restores every photo on any machine.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(recovery: Option<&str>, target: Option<&str>) -> String {
        page(&BackupPage {
            token: "t",
            target,
            url: target.unwrap_or_default(),
            status: &Status::default(),
            nightly: true,
            upload_kib: None,
            next_run: None,
            running: false,
            recovery,
        })
        .into_string()
    }

    #[test]
    fn the_recovery_key_shows_only_when_just_made_and_every_form_has_a_token() {
        let with = render(Some("abcd-efgh"), Some("file:///x"));
        assert!(
            with.contains("abcd-efgh") && with.contains("download=\"shoebox-recovery-key.txt\"")
        );
        let without = render(None, Some("file:///x"));
        assert!(!without.contains("abcd-efgh"));
        assert!(without.contains("Back up now"));
        assert_eq!(
            without.matches("<form").count(),
            without.matches("name=\"csrf\"").count()
        );
        assert!(!render(None, None).contains("Back up now"));
    }
}
