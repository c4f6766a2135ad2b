//! The status page: the box, the disk, the library, the jobs.

use maud::{Markup, html};

use super::components::{bytes, card, duration, job, percent};
use crate::jobs::Snapshot;

/// Everything the status page shows; also what `/api/status` returns as JSON.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusView {
    /// The box.
    pub device: String,
    /// Load averages (1, 5, 15 min).
    pub load: [f64; 3],
    /// CPU use in percent.
    pub cpu_percent: f32,
    /// Hottest sensor.
    pub temperature_c: Option<f32>,
    /// RAM.
    pub mem_total: u64,
    /// RAM in use.
    pub mem_used: u64,
    /// Since boot.
    pub uptime_secs: u64,
    /// shoebox's own memory.
    pub process_rss: u64,
    /// Library folder.
    pub data_dir: String,
    /// Its disk's size.
    pub disk_total: u64,
    /// Its disk's free space.
    pub disk_free: u64,
    /// Library figures.
    pub library: LibraryFigures,
    /// Jobs, newest first.
    pub jobs: Vec<JobView>,
    /// Phone uploads (WebDAV).
    pub uploads: UploadsView,
    /// Each Apple ID's syncs.
    pub icloud: Vec<IcloudLine>,
}

/// One Apple ID on the status page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IcloudLine {
    /// The Apple ID.
    pub apple_id: String,
    /// What needs doing, if anything.
    pub attention: Option<String>,
    /// Last sync: unix second and outcome.
    pub last_sync: Option<(i64, String)>,
    /// Seconds until the schedule syncs it next (None: after sign-in, or no schedule).
    pub next_sync_in: Option<u64>,
}

/// Phone uploads now and lately.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UploadsView {
    /// Uploads in progress.
    pub active: u64,
    /// Bytes they received so far.
    pub receiving: u64,
    /// Latest finished uploads, newest first: (user, path, bytes, unix seconds, outcome).
    pub recent: Vec<(String, String, u64, i64, String)>,
}

/// Library counts and sizes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LibraryFigures {
    /// Assets.
    pub assets: u64,
    /// Photos.
    pub photos: u64,
    /// Videos.
    pub videos: u64,
    /// Live Photos.
    pub live_photos: u64,
    /// In the trash.
    pub trashed: u64,
    /// Distinct bytes.
    pub bytes: u64,
    /// Bytes on disk.
    pub stored_bytes: u64,
    /// Saved by dedup and compression.
    pub savings: u64,
}

/// A job, for JSON and the live page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobView {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Done yet.
    pub finished: bool,
    /// Files done.
    pub items_done: u64,
    /// Files expected.
    pub items_total: u64,
    /// Bytes done.
    pub bytes_done: u64,
    /// Bytes expected.
    pub bytes_total: u64,
    /// 0..=100.
    pub percent: u64,
    /// Bytes per second.
    pub rate: u64,
    /// Seconds left.
    pub eta_secs: Option<u64>,
    /// Working on.
    pub current: String,
    /// Last problems.
    pub errors: Vec<String>,
}

impl JobView {
    /// From a progress snapshot.
    #[allow(clippy::cast_sign_loss)] // a rate is never negative
    pub fn from_snapshot(s: &Snapshot) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            finished: s.finished,
            items_done: s.items_done,
            items_total: s.items_total,
            bytes_done: s.bytes_done,
            bytes_total: s.bytes_total,
            percent: percent(s.items_done, s.items_total),
            rate: s.rate() as u64,
            eta_secs: s.eta().map(|d| d.as_secs()),
            current: s.current.clone(),
            errors: s.recent_errors.clone(),
        }
    }
}

/// The status page body. `jobs` are the live snapshots the bars start from.
pub fn page(v: &StatusView, jobs: &[Snapshot]) -> Markup {
    let used = v.disk_total.saturating_sub(v.disk_free);
    html! {
        h1 { "Status" }
        div.cards data-status="1" {
            (card("This box", None, &html! {
                dl.facts {
                    dt { "CPU load" } dd data-k="load" { (format!("{:.2} {:.2} {:.2}", v.load[0], v.load[1], v.load[2])) }
                    dt { "Temperature" } dd data-k="temperature" { @if let Some(t) = v.temperature_c { (format!("{t:.0} °C")) } @else { "not reported" } }
                    dt { "Memory" } dd data-k="memory" { (bytes(v.mem_used)) " of " (bytes(v.mem_total)) }
                    dt { "shoebox uses" } dd data-k="rss" { (bytes(v.process_rss)) }
                    dt { "Up for" } dd data-k="uptime" { (duration(v.uptime_secs)) }
                }
            }))
            (card("Disk", None, &html! {
                meter min="0" max=(v.disk_total.max(1)) value=(used) high=(v.disk_total / 10 * 9) aria-label="Disk used" {}
                dl.facts {
                    dt { "Folder" } dd { code { (v.data_dir) } }
                    dt { "Free" } dd data-k="disk_free" { (bytes(v.disk_free)) " of " (bytes(v.disk_total)) }
                }
                @if v.disk_free < 2 << 30 { p.flash.problem { "Less than 2 GiB free: new photos will stop arriving when the disk is full. Add a bigger disk or remove photos from the trash." } }
            }))
            (card("Phone uploads", None, &html! {
                dl.facts {
                    dt { "Uploading now" } dd data-k="dav_active" { (v.uploads.active) @if v.uploads.active > 0 { " (" (bytes(v.uploads.receiving)) " received)" } }
                }
                @if v.uploads.recent.is_empty() {
                    p.muted { "No uploads since the box started." }
                } @else {
                    ul.plain {
                        @for (user, path, size, at, outcome) in v.uploads.recent.iter().take(8) {
                            li { (user) ": " code { (path) } " · " (bytes(*size)) " · " (outcome) " · " (super::phone::ago(*at)) }
                        }
                    }
                }
            }))
            @if !v.icloud.is_empty() {
                (card("iCloud", None, &html! {
                    ul.plain {
                        @for a in &v.icloud {
                            li data-icloud=(a.apple_id) {
                                strong { (a.apple_id) } ": "
                                @if let Some(why) = &a.attention { (why) " " }
                                "last sync "
                                @if let Some((at, outcome)) = &a.last_sync { (super::phone::ago(*at)) " (" (outcome) ")" } @else { "never" }
                                " · next sync "
                                span data-k="next-sync" { @if let Some(secs) = a.next_sync_in { "in about " (duration(secs)) } @else { "after sign-in" } }
                            }
                        }
                    }
                }))
            }
            (card("Library", None, &html! {
                dl.facts {
                    dt { "Photos" } dd data-k="photos" { (v.library.photos) }
                    dt { "Videos" } dd data-k="videos" { (v.library.videos) }
                    dt { "Live Photos" } dd data-k="live" { (v.library.live_photos) }
                    dt { "In the trash" } dd data-k="trashed" { (v.library.trashed) }
                    dt { "Size" } dd data-k="lib_bytes" { (bytes(v.library.bytes)) }
                    dt { "On disk" } dd data-k="stored" { (bytes(v.library.stored_bytes)) }
                    dt { "Saved by dedup" } dd data-k="savings" { (bytes(v.library.savings)) }
                }
            }))
        }
        section #jobs aria-live="polite" {
            h2 { "Jobs" }
            @if jobs.is_empty() { p.muted.no-jobs { "Nothing running." } }
            div.jobs { @for j in jobs { (job(j)) } }
        }
    }
}
