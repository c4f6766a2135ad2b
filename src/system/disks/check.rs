//! Is a folder fit to hold the library?

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Disk, file_system_of, for_path, mounts};

/// Free space below which a data folder is reported as a problem: 1 GiB.
pub const MIN_FREE: u64 = 1 << 30;

/// The outcome of [`check_data_dir`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataDirCheck {
    /// The folder as resolved (canonical when it could be created).
    pub path: PathBuf,
    /// The disk it is on, when it is on a listed one.
    pub disk: Option<Disk>,
    /// Whether a file could be written, synced and deleted there; the reason when not.
    pub writable: Result<(), String>,
    /// Bytes available on its disk; 0 when the disk is unknown.
    pub free: u64,
    /// Everything wrong, in plain words for the owner; empty when the folder is fine.
    pub problems: Vec<String>,
}

impl DataDirCheck {
    /// True when there are no problems.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.writable.is_ok()
    }
}

/// Checks that `path` can hold the library: creates it if missing, proves it writable by
/// writing, fsyncing and deleting a probe file, and wants `min_free` bytes available.
pub fn check_data_dir(path: &Path, min_free: u64) -> DataDirCheck {
    let mut problems = Vec::new();
    let created = if path.exists() && !path.is_dir() {
        Err("it is a file, not a folder".to_owned())
    } else {
        fs::create_dir_all(path).map_err(|e| plain(&e))
    };
    let resolved = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let writable = created.and_then(|()| probe_write(&resolved).map_err(|e| plain(&e)));
    if let Err(why) = &writable {
        problems.push(format!("not writable: {why}"));
    }
    let disk = for_path(&resolved);
    let free = disk.as_ref().map_or(0, |d| d.available);
    let file_system = file_system_of(&resolved);
    if file_system
        .as_deref()
        .is_some_and(|fs| mounts::RAM_FILE_SYSTEMS.contains(&fs))
    {
        problems.push("on a RAM disk: everything stored there is lost at power-off".to_owned());
    } else if disk.is_none() && writable.is_ok() {
        problems.push("not on a disk this system recognises".to_owned());
    }
    if disk.is_some() && free < min_free {
        problems.push(format!(
            "less than {} free ({})",
            human_bytes(min_free),
            human_bytes(free)
        ));
    }
    if let Some(d) = &disk
        && (d.file_system == "vfat" || d.file_system == "msdos")
    {
        problems.push(
            "the disk is formatted FAT32, which cannot hold files over 4 GiB (videos); \
             use exFAT or ext4"
                .to_owned(),
        );
    }
    DataDirCheck {
        path: resolved,
        disk,
        writable,
        free,
        problems,
    }
}

/// Writes, fsyncs and deletes a probe file in `dir`.
fn probe_write(dir: &Path) -> io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(io::Error::other)?;
    let probe = dir.join(format!(".shoebox-probe-{:016x}", u64::from_le_bytes(nonce)));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut file| {
            file.write_all(b"shoebox write probe\n")?;
            file.sync_all()
        });
    let removed = fs::remove_file(&probe);
    written?;
    removed
}

/// An io error as a person would say it: "Permission denied", without "(os error 13)".
fn plain(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Bytes in binary units, rounded down: `312 MiB`, `1.5 GiB`, `1 GiB`, `512 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    let mut scale = 1u64;
    while unit + 1 < UNITS.len() && bytes / scale >= 1024 {
        scale *= 1024;
        unit += 1;
    }
    let whole = bytes / scale;
    let tenths = (bytes % scale) * 10 / scale;
    if whole >= 100 || tenths == 0 {
        format!("{whole} {}", UNITS[unit])
    } else {
        format!("{whole}.{tenths} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("library");
        let check = check_data_dir(&target, 1);
        if check
            .problems
            .iter()
            .any(|p| p.starts_with("on a RAM disk"))
        {
            println!("skipped: the temp dir is on tmpfs here");
            return;
        }
        assert!(check.ok(), "{check:?}");
        assert!(target.is_dir(), "created");
        assert!(check.disk.is_some());
        assert!(check.free > 0);
        assert_eq!(fs::read_dir(&target).unwrap().count(), 0, "probe removed");
    }

    #[test]
    fn too_little_free_space_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let check = check_data_dir(dir.path(), u64::MAX);
        assert!(!check.ok());
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.starts_with("less than 16383 PiB free (")),
            "{check:?}"
        );
    }

    #[test]
    fn file_in_the_way_is_not_writable() {
        // Permissions do not stop root, so use a case the kernel refuses to anyone.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        for path in [file.clone(), file.join("library")] {
            let check = check_data_dir(&path, 0);
            assert!(!check.ok());
            assert!(check.writable.is_err(), "{check:?}");
            assert!(check.problems[0].starts_with("not writable: "), "{check:?}");
        }
    }

    #[test]
    fn pseudo_file_system_is_not_writable() {
        if !Path::new("/proc/self").exists() {
            println!("skipped: no /proc");
            return;
        }
        let check = check_data_dir(Path::new("/proc/shoebox-data"), 0);
        println!("{check:?}");
        assert!(!check.ok());
        assert!(check.writable.is_err());
    }

    #[test]
    fn io_errors_read_plainly() {
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(plain(&e), "Permission denied");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(MIN_FREE), "1 GiB");
        assert_eq!(human_bytes(312 << 20), "312 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(u64::MAX), "16383 PiB");
    }
}
