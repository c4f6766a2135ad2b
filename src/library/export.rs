//! Export: the library as plain files in `YYYY/MM/DD/name` folders, byte-identical to what
//! was ingested, so a family is never locked in. Re-running it skips files already there.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::Library;
use super::asset::{Asset, AssetId, Part, State};
use super::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::BlobId;

/// What an export did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Assets exported.
    pub assets: u64,
    /// Files written.
    pub written: u64,
    /// Files already present with the same bytes.
    pub unchanged: u64,
    /// Files that got a " (n)" suffix because another file had the name.
    pub renamed: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Assets that could not be exported, and why.
    pub failed: Vec<(AssetId, String)>,
}

impl Library {
    /// Writes every active asset under `dir`. A damaged asset is reported and skipped.
    pub fn export(&self, dir: &Path, progress: &Progress) -> Result<ExportReport> {
        let counts = self.counts()?;
        progress.add_total(counts.assets.saturating_sub(counts.trashed), counts.bytes);
        let mut report = ExportReport::default();
        self.for_each_asset(|asset| {
            if asset.state != State::Active || progress.is_cancelled() {
                return Ok(());
            }
            progress.set_current(asset.original.name.clone());
            match self.export_asset(dir, &asset, &mut report) {
                Ok(()) => report.assets += 1,
                Err(e) if e.is_disk_full() => return Err(e),
                Err(e) => {
                    progress.record_error(format!("{}: {e}", asset.original.name));
                    report.failed.push((asset.id, e.to_string()));
                }
            }
            progress.advance(1, asset.size());
            Ok(())
        })?;
        Ok(report)
    }

    fn export_asset(&self, root: &Path, asset: &Asset, report: &mut ExportReport) -> Result<()> {
        for (part, target) in targets(root, asset, &mut HashSet::new(), report)? {
            self.write_part(part, &target, asset)?;
            report.written += 1;
            report.bytes += part.size;
        }
        Ok(())
    }

    /// Where an export to `root` would write each file, from the catalog alone (the bytes
    /// may still be elsewhere: a restore fetches them). Files already there with the same
    /// bytes are counted unchanged and left out.
    pub fn plan_export(&self, root: &Path) -> Result<ExportPlan> {
        let mut plan = ExportPlan::default();
        let mut taken = HashSet::new();
        self.for_each_asset(|asset| {
            if asset.state != State::Active {
                return Ok(());
            }
            plan.report.assets += 1;
            let when = u64::try_from(asset.taken.utc()).unwrap_or(0);
            for (part, path) in targets(root, &asset, &mut taken, &mut plan.report)? {
                plan.bytes += part.size;
                plan.files.entry(part.blob).or_default().push((path, when));
            }
            Ok(())
        })?;
        Ok(plan)
    }

    /// Streams a part to a temporary name, fsyncs, then renames into place.
    fn write_part(&self, part: &Part, target: &Path, asset: &Asset) -> Result<()> {
        let tmp = target.with_extension("shoebox-partial");
        let mut reader = self.store.reader(part.blob)?;
        let mut out = File::create(&tmp).map_err(Error::io(&tmp))?;
        let copied = io::copy(&mut reader, &mut out);
        let finish = copied
            .and_then(|_| out.flush())
            .and_then(|()| out.sync_all());
        if let Err(e) = finish {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Io {
                path: target.to_path_buf(),
                source: e,
            });
        }
        let when = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(u64::try_from(asset.taken.utc()).unwrap_or(0));
        let _ = out.set_modified(when);
        fs::rename(&tmp, target).map_err(Error::io(target))
    }
}

/// Where an export writes what: see [`Library::plan_export`].
#[derive(Debug, Default)]
pub struct ExportPlan {
    /// Every file to write, by its id: paths and modification times (seconds since 1970).
    pub files: HashMap<BlobId, Vec<(PathBuf, u64)>>,
    /// Bytes to write (a file written twice counts twice).
    pub bytes: u64,
    /// Assets, files found unchanged and names given a suffix so far.
    pub report: ExportReport,
}

/// The files of `asset` still to write under `root`, each once, with their paths: a name in
/// `taken` or on disk with other bytes gets a " (n)" suffix; one on disk with these bytes
/// is unchanged and left out.
fn targets<'a>(
    root: &Path,
    asset: &'a Asset,
    taken: &mut HashSet<PathBuf>,
    report: &mut ExportReport,
) -> Result<Vec<(&'a Part, PathBuf)>> {
    let day = asset.taken.local_datetime().format("%Y/%m/%d").to_string();
    let dir = root.join(day);
    fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for part in asset.parts() {
        if seen.contains(&part.blob) {
            continue;
        }
        seen.push(part.blob);
        let name = safe_name(part, asset);
        match free_target(&dir, &name, part, taken, report)? {
            Some(target) => out.push((part, target)),
            None => report.unchanged += 1,
        }
    }
    Ok(out)
}

/// The path to write `name` to, or `None` when a file with these exact bytes is there.
fn free_target(
    dir: &Path,
    name: &str,
    part: &Part,
    taken: &mut HashSet<PathBuf>,
    report: &mut ExportReport,
) -> Result<Option<PathBuf>> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    for n in 1u32.. {
        let candidate = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        if taken.contains(&candidate) {
            continue;
        }
        if !candidate.exists() {
            if n > 1 {
                report.renamed += 1;
            }
            taken.insert(candidate.clone());
            return Ok(Some(candidate));
        }
        let same_size = fs::metadata(&candidate).is_ok_and(|m| m.len() == part.size);
        if same_size && hash_file(&candidate).map_err(Error::io(&candidate))? == part.blob {
            taken.insert(candidate);
            return Ok(None);
        }
    }
    Ok(None)
}

/// A file name that cannot escape its folder.
fn safe_name(part: &Part, asset: &Asset) -> String {
    let cleaned: String = part
        .name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        format!("{}.{}", asset.id, asset.format)
    } else {
        cleaned
    }
}

fn hash_file(path: &Path) -> io::Result<BlobId> {
    let mut hasher = blake3::Hasher::new();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(BlobId(*hasher.finalize().as_bytes()));
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
}
