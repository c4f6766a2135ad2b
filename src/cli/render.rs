//! Human-readable output of the CLI: progress bars and summaries.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::import::Summary;
use crate::jobs::Progress;
use crate::library::{Counts, ExportReport, LibraryCheck};
use crate::store::{GcReport, RebuildReport};

/// Shows a progress bar for `progress` until `finished` says so.
#[allow(clippy::cast_sign_loss)] // a rate is never negative
pub fn watch(progress: &Progress, finished: impl Fn() -> bool) {
    let bar = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template("{spinner} {msg:>8} [{bar:30}] {pos}/{len} files {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    while !finished() {
        let s = progress.snapshot();
        bar.set_length(s.items_total);
        bar.set_position(s.items_done);
        let current = s.current.rsplit('/').next().unwrap_or_default().to_string();
        bar.set_message(format!("{}/s {current}", HumanBytes(s.rate() as u64)));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

/// The import summary.
pub fn import(s: &Summary) -> String {
    let mut out = format!(
        "import: {} new, {} duplicates, {} paired (Live Photo halves, sidecars), {} unchanged since last import (not read), {} skipped, {} failed; {} read",
        s.new,
        s.duplicates,
        s.paired,
        s.unchanged,
        s.skipped_count(),
        s.failed.len(),
        HumanBytes(s.bytes_read)
    );
    for (reason, paths) in &s.skipped {
        let _ = write!(out, "\n  skipped {}: {reason}", paths.len());
        for p in paths.iter().take(3) {
            let _ = write!(out, "\n    {}", p.display());
        }
        if paths.len() > 3 {
            let _ = write!(out, "\n    … and {} more", paths.len() - 3);
        }
    }
    for (path, why) in &s.failed {
        let _ = write!(out, "\n  failed: {}: {why}", path.display());
    }
    out
}

/// The export summary.
pub fn export(r: &ExportReport, dir: &Path) -> String {
    let mut out = format!(
        "export to {}: {} assets, {} files written ({}), {} already there, {} renamed to avoid a clash, {} failed",
        dir.display(),
        r.assets,
        r.written,
        HumanBytes(r.bytes),
        r.unchanged,
        r.renamed,
        r.failed.len()
    );
    for (id, why) in &r.failed {
        let _ = write!(out, "\n  asset {id}: {why}");
    }
    out
}

/// The check report.
pub fn check(r: &LibraryCheck, read_data: bool) -> String {
    let what = if read_data {
        "structure and every byte"
    } else {
        "structure"
    };
    let mut out = format!(
        "check ({what}): {} assets, {} files, {} chunks in {} packs{}",
        r.assets,
        r.store.blobs,
        r.store.chunks,
        r.store.packs,
        if read_data {
            format!(", {} re-hashed", HumanBytes(r.store.bytes_verified))
        } else {
            String::new()
        }
    );
    if r.is_clean() {
        out.push_str("\nclean: no problems found");
    }
    for d in &r.store.damage {
        let _ = write!(out, "\nDAMAGE: {d}");
    }
    for (id, name, what) in &r.damaged_assets {
        let _ = write!(out, "\nAFFECTED: asset {id} ({name}): {what}");
    }
    for p in &r.problems {
        let _ = write!(out, "\nPROBLEM: {p}");
    }
    for l in &r.store.leftovers {
        let _ = write!(out, "\nnote: {l} (harmless; `shoebox gc` reclaims it)");
    }
    out
}

/// The index rebuild report.
pub fn rebuild(r: &RebuildReport) -> String {
    let mut out = format!(
        "rebuilt the index from {} packs: {} chunks, {} files",
        r.packs, r.chunks, r.blobs
    );
    for (pack, offset, why) in &r.damaged_packs {
        let _ = write!(
            out,
            "\n  pack {pack} unreadable from offset {offset}: {why}"
        );
    }
    if !r.incomplete_blobs.is_empty() {
        let _ = write!(
            out,
            "\n  {} file(s) lost chunks; run `shoebox check` to name them",
            r.incomplete_blobs.len()
        );
    }
    out
}

/// The GC report.
pub fn gc(purged: u64, thumbnails: u64, r: &GcReport) -> String {
    format!(
        "gc: {purged} expired trash item(s) purged, {thumbnails} thumbnail file(s) deleted, {} files and {} chunks freed, {} packs rewritten, {} pack files deleted, {} reclaimed; {} file(s) wait out the grace period",
        r.blobs_freed,
        r.chunks_freed,
        r.packs_rewritten,
        r.pack_files_deleted,
        HumanBytes(r.bytes_reclaimed),
        r.blobs_in_grace
    )
}

/// The thumbnail job's summary.
pub fn thumbnails(s: &crate::thumbs::Summary) -> String {
    let placeholders: usize = s.placeholders.values().map(Vec::len).sum();
    let mut out = format!(
        "thumbnails: {} made, {} already there, {placeholders} placeholders, {} failed",
        s.made,
        s.present,
        s.failed.len()
    );
    for (why, names) in &s.placeholders {
        let _ = write!(out, "\n  placeholder for {}: {why}", names.len());
        for n in names.iter().take(3) {
            let _ = write!(out, "\n    {n}");
        }
        if names.len() > 3 {
            let _ = write!(out, "\n    … and {} more", names.len() - 3);
        }
    }
    for (name, why) in &s.failed {
        let _ = write!(out, "\n  failed: {name}: {why}");
    }
    out
}

/// Library statistics.
pub fn stats(c: &Counts) -> String {
    let ratio = if c.ingested_bytes > 0 {
        c.stored_bytes as f64 / c.ingested_bytes as f64
    } else {
        0.0
    };
    format!(
        "assets: {} ({} photos, {} videos, {} Live Photos), {} in the trash\n\
         files received: {} ({})\n\
         library size: {} of distinct files\n\
         stored on disk: {} ({:.1}% of what was received; dedup and compression saved {})",
        c.assets,
        c.photos,
        c.videos,
        c.live_photos,
        c.trashed,
        c.ingested_files,
        HumanBytes(c.ingested_bytes),
        HumanBytes(c.bytes),
        HumanBytes(c.stored_bytes),
        ratio * 100.0,
        HumanBytes(c.savings())
    )
}
