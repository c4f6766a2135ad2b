//! Derived images: a grid thumbnail and a preview of every asset, kept in `derived/` of the
//! data directory. Regenerable from the originals, so never backed up.
//!
//! A service like `import`: it reads originals through `library`, decodes with
//! `media::thumbnail`, and writes files named after the original's blob id, so a file that
//! changed gets new thumbnails and identical files share theirs. A file that cannot be decoded
//! gets a labelled placeholder and its reason next to it, never a crash or a stuck queue.

mod job;
mod poster;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::media::Size;
use crate::store::BlobId;

pub use job::{Summary, ThumbnailJob};

/// The `derived/` folder.
#[derive(Clone, Debug)]
pub struct Derived {
    dir: PathBuf,
}

impl Derived {
    /// The derived folder of the library in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("derived"),
        }
    }

    /// Where one size of a blob's thumbnail lives.
    pub fn path(&self, blob: BlobId, size: Size) -> PathBuf {
        let hex = blob.to_hex();
        let kind = match size {
            Size::Grid => "grid",
            Size::Preview => "preview",
        };
        self.dir
            .join(hex.get(..2).unwrap_or("00"))
            .join(format!("{hex}.{kind}.jpg"))
    }

    /// Why this blob got a placeholder, if it did.
    pub fn placeholder_reason(&self, blob: BlobId) -> Option<String> {
        fs::read_to_string(self.path(blob, Size::Grid).with_extension("why")).ok()
    }

    /// True when both sizes exist.
    pub fn has(&self, blob: BlobId) -> bool {
        self.path(blob, Size::Grid).exists() && self.path(blob, Size::Preview).exists()
    }

    /// Stores both sizes (and the reason, for a placeholder). Each file appears whole or not at
    /// all (written aside, then renamed); they are regenerable, so no fsync.
    pub fn store(
        &self,
        blob: BlobId,
        grid: &[u8],
        preview: &[u8],
        placeholder_reason: Option<&str>,
    ) -> std::io::Result<()> {
        let grid_path = self.path(blob, Size::Grid);
        if let Some(dir) = grid_path.parent() {
            fs::create_dir_all(dir)?;
        }
        let why = grid_path.with_extension("why");
        match placeholder_reason {
            Some(reason) => write_aside(&why, reason.as_bytes())?,
            None => {
                let _ = fs::remove_file(&why);
            }
        }
        write_aside(&self.path(blob, Size::Preview), preview)?;
        write_aside(&grid_path, grid)
    }
}

impl Derived {
    /// Deletes the derived files of blobs `keep` says no asset holds any more (purged from the
    /// trash), and leftovers of interrupted writes. Returns how many files went.
    pub fn sweep(&self, keep: impl Fn(BlobId) -> bool) -> std::io::Result<u64> {
        let Ok(shards) = fs::read_dir(&self.dir) else {
            return Ok(0); // nothing made yet
        };
        let mut removed = 0;
        for shard in shards {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            for file in fs::read_dir(&shard)? {
                let path = file?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let blob = name.split('.').next().and_then(BlobId::from_hex);
                let stale = match blob {
                    Some(blob) => path.extension().is_some_and(|e| e == "part") || !keep(blob),
                    None => false, // not ours: leave it alone
                };
                if stale {
                    fs::remove_file(&path)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("part");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_per_blob_and_size_and_writes_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        let d = Derived::new(dir.path());
        let blob = BlobId([0xab; 32]);
        assert!(!d.has(blob));
        d.store(blob, b"grid", b"preview", Some("no decoder for AVIF"))
            .unwrap();
        assert!(d.has(blob));
        assert!(
            d.path(blob, Size::Grid)
                .to_string_lossy()
                .contains("/derived/ab/abab")
        );
        assert_eq!(fs::read(d.path(blob, Size::Preview)).unwrap(), b"preview");
        assert_eq!(
            d.placeholder_reason(blob).as_deref(),
            Some("no decoder for AVIF")
        );
        d.store(blob, b"g2", b"p2", None).unwrap();
        assert_eq!(d.placeholder_reason(blob), None);
    }

    #[test]
    fn sweep_removes_only_what_no_asset_holds() {
        let dir = tempfile::tempdir().unwrap();
        let d = Derived::new(dir.path());
        let (kept, gone) = (BlobId([1; 32]), BlobId([2; 32]));
        d.store(kept, b"g", b"p", None).unwrap();
        d.store(gone, b"g", b"p", Some("why")).unwrap();
        let stray = d.path(kept, Size::Grid).with_extension("part");
        fs::write(&stray, b"half").unwrap();
        let foreign = dir.path().join("derived/01/notes.txt");
        fs::write(&foreign, b"mine").unwrap();
        assert_eq!(
            d.sweep(|b| b == kept).unwrap(),
            4,
            "grid, preview, why, part"
        );
        assert!(d.has(kept));
        assert!(!d.path(gone, Size::Grid).exists());
        assert!(foreign.exists(), "files that are not ours stay");
        assert_eq!(
            Derived::new(&dir.path().join("none"))
                .sweep(|_| true)
                .unwrap(),
            0
        );
    }
}
