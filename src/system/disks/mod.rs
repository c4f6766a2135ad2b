//! Disks and folders: which file systems hold data, whether the data folder is usable, and
//! which folders the UI may browse for imports.
//!
//! What counts as a disk: every mount sysinfo lists (it already drops `proc`, `sysfs`,
//! `cgroup`, `devpts`, `squashfs`, network mounts and `tmpfs`), minus RAM file systems and
//! mounts reporting zero size. `tmpfs` is deliberately left out: photos written there vanish
//! at power-off, so it is never offered as storage; a data folder on it is reported as a
//! problem by [`check_data_dir`]. `overlay` is kept: it is the root of a container on a
//! development machine, where files persist as long as the container does (the appliance
//! never has one). Removable disks (on USB, or flagged removable) sort first, then by
//! mount point.

mod browse;
mod check;
mod mounts;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sysinfo::{DiskRefreshKind, Disks};

pub use browse::{APPLIANCE_MARKER, DirEntry, allowed_roots, list_dir};
pub use check::{DataDirCheck, MIN_FREE, check_data_dir, human_bytes};

/// A mounted file system that can hold files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// Kernel device name (`sda1`, `mmcblk0p2`); the mount source when it is not a block
    /// device (`overlay`).
    pub name: String,
    /// `vendor model` of the whole disk from sysfs, when it reports them.
    pub model: Option<String>,
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// File system type (`ext4`, `vfat`, `exfat`…).
    pub file_system: String,
    /// Size in bytes.
    pub total: u64,
    /// Bytes available to this process.
    pub available: u64,
    /// On USB or otherwise removable.
    pub removable: bool,
}

/// The disks, removable ones first, then by mount point. Empty when sysinfo cannot list
/// them on this platform.
pub fn list() -> Vec<Disk> {
    let Ok(found) =
        Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
    else {
        return Vec::new();
    };
    let mut disks: Vec<Disk> = Vec::new();
    for d in &found {
        let file_system = d.file_system().to_string_lossy().into_owned();
        if mounts::RAM_FILE_SYSTEMS.contains(&file_system.as_str()) || d.total_space() == 0 {
            continue;
        }
        let mount_point = d.mount_point().to_path_buf();
        let facts = mounts::block_facts(&mount_point);
        let source = d.name().to_string_lossy();
        let disk = Disk {
            name: facts
                .name
                .unwrap_or_else(|| source.strip_prefix("/dev/").unwrap_or(&source).to_owned()),
            model: facts.model,
            mount_point,
            file_system,
            total: d.total_space(),
            available: d.available_space(),
            removable: facts.removable || d.is_removable(),
        };
        // Stacked mounts on one point: the later one is the visible one.
        disks.retain(|other| other.mount_point != disk.mount_point);
        disks.push(disk);
    }
    disks.sort_by(|a, b| (!a.removable, &a.mount_point).cmp(&(!b.removable, &b.mount_point)));
    disks
}

/// The disk holding `path`: the one mounted at the longest mount-point prefix of the
/// canonicalised path (or, if it does not exist yet, of its nearest existing ancestor).
///
/// `None` when that mount is not a [`list`]ed disk, for example a `tmpfs`.
pub fn for_path(path: &Path) -> Option<Disk> {
    for_path_in(&list(), path)
}

fn for_path_in(disks: &[Disk], path: &Path) -> Option<Disk> {
    let path = mounts::canonical_or_ancestor(path)?;
    let table = mounts::mounts();
    let mount_point = match mounts::mount_of(&table, &path) {
        Some(mount) => mount.target.clone(),
        // No mount table (not Linux): the longest listed prefix.
        None => disks
            .iter()
            .filter(|d| path.starts_with(&d.mount_point))
            .max_by_key(|d| d.mount_point.as_os_str().len())?
            .mount_point
            .clone(),
    };
    disks.iter().find(|d| d.mount_point == mount_point).cloned()
}

/// The file system type of the mount holding `path` (canonical), from the mount table.
fn file_system_of(path: &Path) -> Option<String> {
    let table = mounts::mounts();
    mounts::mount_of(&table, path).map(|m| m.fs_type.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_not_empty_and_sorted() {
        let disks = list();
        println!("{disks:#?}");
        assert!(!disks.is_empty());
        let keys: Vec<_> = disks
            .iter()
            .map(|d| (!d.removable, d.mount_point.clone()))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            disks
                .iter()
                .all(|d| d.total > 0 && d.file_system != "tmpfs")
        );
    }

    #[test]
    fn root_has_a_disk() {
        let disk = for_path(Path::new("/")).unwrap();
        assert_eq!(disk.mount_point, Path::new("/"));
        assert!(disk.total >= disk.available);
    }

    #[test]
    fn missing_path_resolves_through_its_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        let here = for_path(dir.path());
        assert_eq!(for_path(&dir.path().join("not/yet")), here);
    }

    #[test]
    fn path_on_an_unlisted_mount_has_no_disk() {
        // /proc is mounted but is not a disk.
        if Path::new("/proc/self").exists() {
            assert_eq!(for_path(Path::new("/proc/self")), None);
        }
    }
}
