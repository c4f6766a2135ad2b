//! The folders an import may browse, and listing them without escaping.
//!
//! Roots: the mount point of the data folder's disk and of every removable disk. On a
//! development machine (no [`APPLIANCE_MARKER`] file) the user's `$HOME` is added, so photos
//! in `~/Pictures` can be imported without mounting anything. On the appliance `/` is never a
//! root, even when the data folder sits on the root file system (the USB disk is missing):
//! the system's own files are not for browsing.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::{for_path, list};
use crate::system::error::{Error, Result};

/// A file whose presence means "this is the appliance image", installed by the board overlay.
pub const APPLIANCE_MARKER: &str = "/etc/shoebox-appliance";

/// One entry of a listed folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    /// File name.
    pub name: String,
    /// Full path, inside an allowed root (pass it back to [`list_dir`] to open a folder).
    pub path: PathBuf,
    /// A folder (or a link to a folder inside the allowed roots).
    pub is_dir: bool,
}

/// The folders the UI may browse for imports, canonical, sorted, without duplicates.
pub fn allowed_roots(data_dir: &Path) -> Vec<PathBuf> {
    let appliance = Path::new(APPLIANCE_MARKER).exists();
    let home = if appliance {
        None
    } else {
        std::env::var_os("HOME").map(PathBuf::from)
    };
    roots(data_dir, appliance, home.as_deref())
}

fn roots(data_dir: &Path, appliance: bool, home: Option<&Path>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = for_path(data_dir)
        .map(|d| d.mount_point)
        .into_iter()
        .chain(
            list()
                .into_iter()
                .filter(|d| d.removable)
                .map(|d| d.mount_point),
        )
        .chain(home.filter(|h| h.is_absolute()).map(Path::to_path_buf))
        .filter_map(|p| fs::canonicalize(p).ok())
        .filter(|p| p.is_dir())
        .filter(|p| !(appliance && p.parent().is_none()))
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Lists the folder `path` if it lies inside one of `roots` once links and `..` are resolved.
///
/// Hidden entries (names starting with `.`, like `.Trashes` on camera cards) and links leading
/// outside the roots or nowhere are left out. Folders come first, then files, each by name
/// ignoring case. Fails with [`Error::OutsideAllowedRoots`] for anything outside, also when it
/// does not exist (so the answer does not reveal what exists outside).
pub fn list_dir(roots: &[PathBuf], path: &Path) -> Result<Vec<DirEntry>> {
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| fs::canonicalize(r).ok())
        .collect();
    // Inside a root, and on a real disk: `/proc`, `/sys` and RAM disks under `/` are not.
    let inside = |p: &Path| roots.iter().any(|r| p.starts_with(r)) && super::for_path(p).is_some();
    let outside = || Error::OutsideAllowedRoots {
        path: path.to_path_buf(),
    };
    let dir = match fs::canonicalize(path) {
        Ok(dir) if inside(&dir) => dir,
        Err(e) if plainly_inside(path, &roots) => return Err(Error::io(path)(e)),
        _ => return Err(outside()),
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(&dir).map_err(Error::io(&dir))? {
        let entry = entry.map_err(Error::io(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_dir = if kind.is_symlink() {
            match fs::canonicalize(entry.path()) {
                Ok(target) if inside(&target) => target.is_dir(),
                _ => continue,
            }
        } else {
            kind.is_dir()
        };
        entries.push(DirEntry {
            path: dir.join(&name),
            name,
            is_dir,
        });
    }
    entries.sort_by_cached_key(|e| (!e.is_dir, e.name.to_lowercase(), e.name.clone()));
    Ok(entries)
}

/// True when `path` is inside a root without resolving anything (no `..`, no relative start),
/// so an error about it can be shown without leaking facts about the outside.
fn plainly_inside(path: &Path, roots: &[PathBuf]) -> bool {
    path.is_absolute()
        && !path.components().any(|c| c == Component::ParentDir)
        && roots.iter().any(|r| path.starts_with(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Tree {
        _dir: tempfile::TempDir,
        root: PathBuf,
        outside: PathBuf,
    }

    /// root/{Album/, b.jpg, .hidden, link-in -> Album, link-out -> outside, dangling}; outside/secret
    fn tree() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(root.join("Album")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), b"s").unwrap();
        fs::write(root.join("b.jpg"), b"j").unwrap();
        fs::write(root.join(".hidden"), b"h").unwrap();
        symlink(root.join("Album"), root.join("link-in")).unwrap();
        symlink(&outside, root.join("link-out")).unwrap();
        symlink(base.join("nowhere"), root.join("dangling")).unwrap();
        Tree {
            _dir: dir,
            root,
            outside,
        }
    }

    #[test]
    fn lists_inside_a_root() {
        let t = tree();
        let entries = list_dir(std::slice::from_ref(&t.root), &t.root).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.is_dir))
            .collect();
        assert_eq!(
            names,
            [("Album", true), ("link-in", true), ("b.jpg", false)]
        );
        assert_eq!(entries[0].path, t.root.join("Album"));
        assert!(
            list_dir(std::slice::from_ref(&t.root), &entries[1].path)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn dot_dot_cannot_escape() {
        let t = tree();
        let roots = [t.root.clone()];
        for path in [
            t.root.join(".."),
            t.root.join("Album/../../outside"),
            t.outside.clone(),
            PathBuf::from("/"),
            t.root.join("../missing"),
            PathBuf::from("relative"),
        ] {
            let err = list_dir(&roots, &path).unwrap_err();
            assert!(
                matches!(err, Error::OutsideAllowedRoots { .. }),
                "{path:?}: {err}"
            );
        }
    }

    #[test]
    fn symlink_cannot_escape() {
        let t = tree();
        let err = list_dir(std::slice::from_ref(&t.root), &t.root.join("link-out")).unwrap_err();
        assert!(matches!(err, Error::OutsideAllowedRoots { .. }), "{err}");
        // Through a linked root the real location is judged: a link as root is resolved first.
        let linked = t.root.join("link-out");
        assert!(list_dir(std::slice::from_ref(&linked), &linked).is_ok());
    }

    #[test]
    fn missing_folder_inside_is_an_io_error() {
        let t = tree();
        let err = list_dir(std::slice::from_ref(&t.root), &t.root.join("gone")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }

    #[test]
    fn roots_cover_data_disk_and_home_off_the_appliance() {
        let t = tree();
        let dev = roots(&t.root, false, Some(&t.outside));
        assert!(dev.contains(&t.outside), "{dev:?}");
        assert!(dev.iter().any(|r| t.root.starts_with(r)), "{dev:?}");
        assert!(dev.windows(2).all(|w| w[0] < w[1]));
        let appliance = roots(&t.root, true, None);
        assert!(
            appliance.iter().all(|r| r != Path::new("/")),
            "{appliance:?}"
        );
        assert!(!appliance.contains(&t.outside));
    }
}
