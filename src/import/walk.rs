//! Walks folders to import: follows symlinks, never loops, never enters the library itself,
//! and says why it passed anything over.

use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A file worth offering to ingest.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Its metadata (symlinks followed).
    pub meta: Metadata,
}

/// Everything a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files, in a stable order: per folder by name, sidecars after everything else.
    pub files: Vec<FoundFile>,
    /// Paths not offered, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Paths that could not be read, with the error.
    pub failed: Vec<(PathBuf, String)>,
}

/// Walks `roots`, leaving out `exclude` (the library's own data directory).
pub fn walk(roots: &[PathBuf], exclude: &Path) -> Walk {
    let mut out = Walk::default();
    let exclude = fs::canonicalize(exclude).unwrap_or_else(|_| exclude.to_path_buf());
    let mut visited: HashSet<(u64, u64)> = HashSet::new();
    for root in roots {
        let root = fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        visit(&root, &exclude, &mut visited, &mut out);
    }
    // Sidecars last, so the photo they describe is already in the library.
    out.files.sort_by_key(|f| is_sidecar_name(&f.path));
    out
}

fn is_sidecar_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
}

fn visit(path: &Path, exclude: &Path, visited: &mut HashSet<(u64, u64)>, out: &mut Walk) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let why = if fs::symlink_metadata(path).is_ok() {
                format!("broken symlink or unreadable: {e}")
            } else {
                e.to_string()
            };
            out.failed.push((path.to_path_buf(), why));
            return;
        }
    };
    if meta.is_file() {
        out.files.push(FoundFile {
            path: path.to_path_buf(),
            meta,
        });
        return;
    }
    if !meta.is_dir() {
        out.skipped
            .push((path.to_path_buf(), "not a regular file".into()));
        return;
    }
    if fs::canonicalize(path).is_ok_and(|p| p == exclude) {
        out.skipped.push((
            path.to_path_buf(),
            "this is the library's own data folder".into(),
        ));
        return;
    }
    if !visited.insert((meta.dev(), meta.ino())) {
        out.skipped.push((
            path.to_path_buf(),
            "folder already visited (symlink loop or second link)".into(),
        ));
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            out.failed.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        visit(&child, exclude, visited, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_symlinks_without_looping_and_skips_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("photos");
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/x.jpg"), b"x").unwrap();
        fs::write(root.join("a/x.xmp"), b"x").unwrap();
        fs::write(root.join("b.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(&root, root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("dangling")).unwrap();
        fs::create_dir_all(root.join("lib")).unwrap();
        fs::write(root.join("lib/catalog.redb"), b"x").unwrap();
        let w = walk(std::slice::from_ref(&root), &root.join("lib"));
        let names: Vec<_> = w
            .files
            .iter()
            .map(|f| f.path.strip_prefix(&root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("a/x.jpg"),
                PathBuf::from("b.jpg"),
                PathBuf::from("a/x.xmp")
            ]
        );
        assert_eq!(w.skipped.len(), 2, "{:?}", w.skipped);
        assert_eq!(w.failed.len(), 1, "{:?}", w.failed);
    }
}
