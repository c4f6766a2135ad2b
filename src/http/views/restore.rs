//! The wizard's restore branch: the repository form, its snapshots to choose from, and the
//! restore's progress (reloading itself), failure with "try again", and end.

use maud::{Markup, html};

use super::backup::{target_form_with, when};
use super::components::{bytes, card, csrf, job};
use super::setup::steps_of;
use crate::backup::target::SnapshotRow;
use crate::jobs::Snapshot;

/// Partial: leave the restore branch for an empty library.
pub fn fresh_instead(token: &str) -> Markup {
    html! {
        form method="post" action="/setup/restore/fresh" {
            (csrf(token))
            button type="submit" { "Start fresh instead" }
        }
    }
}

/// The repository form and, once it opened, its snapshots (newest first).
pub fn target(token: &str, url: &str, snapshots: Option<&[SnapshotRow]>) -> Markup {
    let buttons = html! {
        button type="submit" name="action" value="test" { "Test connection" }
        button.primary type="submit" name="action" value="open" { "Open repository" }
    };
    html! {
        (steps_of("restore", true))
        h1 { "Restore from a backup" }
        p.lead { "Give the address of the backup, its credentials and the passphrase (or the recovery key). The library comes back as it was: every photo and video, albums and trash." }
        @if let Some(rows) = snapshots { (choose(token, rows)) }
        (card("Where the backup is", None, &target_form_with(token, "/setup/restore/target", url, &buttons)))
        p.muted { "Opening the repository only reads from it. \"Test connection\" also writes, reads back and deletes a small test file, as nightly backups will write there once the restore is done." }
        (fresh_instead(token))
    }
}

fn choose(token: &str, rows: &[SnapshotRow]) -> Markup {
    html! {
        (card("Choose a snapshot", None, &html! {
            form.stack method="post" action="/setup/restore/start" {
                (csrf(token))
                table.snapshots {
                    thead { tr { th {} th { "Taken" } th { "Box" } th { "Photos" } th { "Files" } th { "Size" } } }
                    tbody {
                        @for (i, s) in rows.iter().enumerate() {
                            tr {
                                td { input type="radio" name="snapshot" value=(s.name) id=(format!("s-{i}")) checked[i == 0] aria-label=(when(s.time)); }
                                td { label for=(format!("s-{i}")) { (when(s.time)) } }
                                td { (s.host) }
                                td { (s.assets) }
                                td { (s.files) }
                                td { (bytes(s.bytes)) }
                            }
                        }
                    }
                }
                button.primary type="submit" { "Restore this snapshot" }
            }
        }))
    }
}

/// Where the restore is.
pub enum Restore<'a> {
    /// Running.
    Running(&'a Snapshot),
    /// Ended badly (`None`: it stopped with the box, nothing is known of it).
    Failed(Option<&'a Snapshot>, &'a str),
    /// Finished: photos and videos back, their bytes.
    Done(u64, u64),
}

/// The restore's page.
pub fn progress(token: &str, r: &Restore<'_>) -> Markup {
    html! {
        (steps_of("restore", true))
        h1 { "Restoring your library" }
        @match r {
            Restore::Running(j) => {
                p.lead { "The photos come back one by one, each checked against its fingerprint. This page updates by itself; you may close it and come back." }
                (job(j))
            }
            Restore::Failed(j, why) => {
                p.flash.problem role="alert" { (why) }
                @if let Some(j) = j { (job(j)) }
                p { "Nothing restored so far is lost: trying again goes on from where it stopped." }
                div.row {
                    form method="post" action="/setup/restore/retry" { (csrf(token)) button.primary type="submit" { "Try again" } }
                    form method="post" action="/setup/restore/other" { (csrf(token)) button type="submit" { "Change the address or credentials" } }
                }
                (fresh_instead(token))
            }
            Restore::Done(assets, size) => {
                p.flash.ok role="status" { "Your library is back: " (assets) " photos and videos (" (bytes(*size)) "). Nightly backups go on into the same repository." }
                p { a.button.primary href="/setup/owner" { "Continue" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_offered_newest_first_with_the_first_chosen() {
        let rows = [
            SnapshotRow {
                name: "bbb".into(),
                time: 200,
                host: "attic".into(),
                ..SnapshotRow::default()
            },
            SnapshotRow {
                name: "aaa".into(),
                time: 100,
                host: "attic".into(),
                ..SnapshotRow::default()
            },
        ];
        let page = target("t", "s3://b/p", Some(&rows)).into_string();
        let first = page.find("value=\"bbb\"").unwrap();
        assert!(first < page.find("value=\"aaa\"").unwrap());
        assert_eq!(page.matches("checked").count(), 1);
        assert!(
            page[first..].starts_with("value=\"bbb\" id=\"s-0\" checked"),
            "{page}"
        );
        assert_eq!(
            page.matches("<form").count(),
            page.matches("name=\"csrf\"").count()
        );
        assert!(
            !page.contains("value=\"create\""),
            "the restore branch never creates"
        );
    }
}
