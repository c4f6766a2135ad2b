//! The thumbnail job: finds assets without derived images and makes them with a bounded
//! number of workers (one on boards with 1 GiB or less: decoding is the memory hog).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{Derived, poster};
use crate::jobs::{Job, JobError, Outcome, Progress};
use crate::library::{Asset, AssetId, AssetKind, Library, Part};
use crate::media::{self, Kind, Options, ThumbError};

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Thumbnails made from the picture.
    pub made: u64,
    /// Assets that already had them.
    pub present: u64,
    /// Placeholders, by reason, with file names.
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// Assets whose original could not even be read (damaged store), with the error.
    pub failed: Vec<(String, String)>,
}

/// Makes missing thumbnails (all of them with `rebuild`).
pub struct ThumbnailJob {
    library: Arc<Library>,
    derived: Derived,
    rebuild: bool,
    workers: usize,
    summary: Arc<Mutex<Summary>>,
}

impl ThumbnailJob {
    /// A job over the whole library.
    pub fn new(library: Arc<Library>, rebuild: bool) -> Self {
        let derived = Derived::new(library.data_dir());
        Self {
            library,
            derived,
            rebuild,
            workers: worker_count(),
            summary: Arc::default(),
        }
    }

    /// The result, once the job ran.
    pub fn into_summary(self) -> Summary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// One asset: decode its original (or a poster frame) and store both sizes.
    fn make(&self, asset: &Asset, spool: &Path) -> Result<Option<String>, String> {
        let source = asset.original.clone();
        let path = spool_part(&self.library, &source, spool).map_err(|e| e.to_string())?;
        let result = self.render(asset, &path);
        let _ = fs::remove_file(&path);
        let (grid, preview, why) = match result {
            Ok(t) => (t.grid, t.preview, None),
            Err(reason) => {
                let label = label(asset);
                let (w, h) = placeholder_size(asset);
                let pic = media::placeholder(&label, w, h);
                (pic.clone(), pic, Some(reason))
            }
        };
        self.derived
            .store(source.blob, &grid, &preview, why.as_deref())
            .map_err(|e| e.to_string())?;
        Ok(why)
    }

    fn render(&self, asset: &Asset, path: &Path) -> Result<media::Thumbnails, String> {
        let facts = media::read_facts(path);
        let options = Options::default();
        let is_video = facts.format.is_some_and(|f| f.kind() == Kind::Video);
        if !is_video {
            return media::make_thumbnails(path, &facts, &options).map_err(|e| reason(&e));
        }
        let frame = poster::frame(path).ok_or_else(|| {
            "video without a poster (ffmpeg is not installed or could not read it)".to_string()
        })?;
        let facts = media::read_facts(&frame);
        let made = media::make_thumbnails(&frame, &facts, &options).map_err(|e| reason(&e));
        let _ = fs::remove_file(&frame);
        let _ = asset;
        made
    }
}

fn reason(e: &ThumbError) -> String {
    match e {
        ThumbError::Unsupported(f) => {
            format!("no decoder for {} files", f.extension().to_uppercase())
        }
        other => other.to_string(),
    }
}

fn label(asset: &Asset) -> String {
    match (asset.kind, asset.duration_ms) {
        (AssetKind::Video, Some(ms)) => format!("VIDEO {}", poster::clock(ms)),
        (AssetKind::Video, None) => "VIDEO".into(),
        _ => asset.format.to_uppercase(),
    }
}

fn placeholder_size(asset: &Asset) -> (u32, u32) {
    match (asset.width, asset.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => media::Size::Grid.fit(w, h),
        _ => (480, 360),
    }
}

/// Copies a stored file to the spool, because decoders and ffmpeg read files.
fn spool_part(library: &Library, part: &Part, spool: &Path) -> std::io::Result<PathBuf> {
    fs::create_dir_all(spool)?;
    let path = spool.join(format!(
        "thumb-{}.{}",
        part.blob.to_hex(),
        extension(&part.name)
    ));
    let mut reader = library.open_file(part).map_err(std::io::Error::other)?;
    let mut out = fs::File::create(&path)?;
    std::io::copy(&mut reader, &mut out)?;
    Ok(path)
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".into())
}

/// One worker on a 1 GiB board, else one per core up to two.
fn worker_count() -> usize {
    let total_kib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    if total_kib <= 1024 * 1024 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    }
}

impl Job for ThumbnailJob {
    fn name(&self) -> String {
        "thumbnails".into()
    }

    fn run(&mut self, progress: &Progress) -> Result<Outcome, JobError> {
        progress.set_current("looking for photos without thumbnails");
        // Only ids are kept (8 bytes each): a 100 000-photo library must not sit in memory.
        let mut todo: Vec<AssetId> = Vec::new();
        let (mut present, mut bytes) = (0, 0);
        self.library
            .for_each_asset(|a| {
                if self.rebuild || !self.derived.has(a.original.blob) {
                    todo.push(a.id);
                    bytes += a.original.size;
                } else {
                    present += 1;
                }
                Ok(())
            })
            .map_err(|e| JobError(Box::new(e)))?;
        progress.add_total(todo.len() as u64, bytes);
        self.summary.lock().map(|mut s| s.present = present).ok();
        let next = AtomicUsize::new(0);
        let spool = self.library.data_dir().join("spool");
        std::thread::scope(|s| {
            for w in 0..self.workers {
                let (todo, next, spool) = (&todo, &next, spool.join(format!("w{w}")));
                let this = &*self;
                s.spawn(move || {
                    while let Some(id) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if progress.is_cancelled() {
                            return;
                        }
                        // Deleted since the scan: nothing to do.
                        let Ok(Some(asset)) = this.library.asset(*id) else {
                            continue;
                        };
                        let asset = &asset;
                        progress.set_current(asset.original.name.clone());
                        let outcome = this.make(asset, &spool);
                        this.record(asset, outcome, progress);
                        progress.advance(1, asset.original.size);
                    }
                });
            }
        });
        if progress.is_cancelled() {
            return Ok(Outcome::Cancelled);
        }
        let s = self.summary.lock().map(|s| s.clone()).unwrap_or_default();
        Ok(Outcome::Done(format!(
            "{} made, {} placeholders",
            s.made,
            s.placeholders.values().map(Vec::len).sum::<usize>()
        )))
    }
}

impl ThumbnailJob {
    fn record(&self, asset: &Asset, outcome: Result<Option<String>, String>, progress: &Progress) {
        let Ok(mut s) = self.summary.lock() else {
            return;
        };
        match outcome {
            Ok(None) => s.made += 1,
            Ok(Some(why)) => {
                tracing::info!(file = %asset.original.name, "placeholder thumbnail: {why}");
                s.placeholders
                    .entry(why)
                    .or_default()
                    .push(asset.original.name.clone());
            }
            Err(e) => {
                progress.record_error(format!("{}: {e}", asset.original.name));
                s.failed.push((asset.original.name.clone(), e));
            }
        }
    }
}
