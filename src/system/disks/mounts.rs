//! The kernel's mount table and the sysfs facts behind a mount: device name, model, whether
//! it hangs off USB.

use std::fs;
use std::path::{Path, PathBuf};

/// One line of `/proc/self/mounts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Mount {
    /// What is mounted (`/dev/sda1`, `tmpfs`, `overlay`).
    pub source: String,
    /// Where (the mount point).
    pub target: PathBuf,
    /// File system type.
    pub fs_type: String,
}

/// File systems that live in RAM: whatever is written there is gone after a power cut.
pub(super) const RAM_FILE_SYSTEMS: &[&str] = &["tmpfs", "ramfs", "devtmpfs"];

/// The mount table, or empty where there is none (not Linux).
pub(super) fn mounts() -> Vec<Mount> {
    fs::read_to_string("/proc/self/mounts")
        .map(|text| parse(&text))
        .unwrap_or_default()
}

fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some(Mount {
                source: unescape(fields.next()?),
                target: PathBuf::from(unescape(fields.next()?)),
                fs_type: fields.next()?.to_owned(),
            })
        })
        .collect()
}

/// Undoes the mount table's octal escapes (`\040` is a space).
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        if let Some(byte) = code {
            out.push(char::from(byte));
            rest = &rest[i + 4..];
        } else {
            out.push('\\');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The mount holding `path` (already canonical): the longest mount-point prefix; of stacked
/// mounts on one point, the last (the visible one).
pub(super) fn mount_of<'a>(table: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    table
        .iter()
        .filter(|m| path.starts_with(&m.target))
        .fold(None, |best: Option<&Mount>, m| match best {
            Some(b) if b.target.as_os_str().len() > m.target.as_os_str().len() => Some(b),
            _ => Some(m),
        })
}

/// `path` canonicalised; when it does not exist yet, its nearest existing ancestor
/// canonicalised with the missing rest appended.
pub(super) fn canonical_or_ancestor(path: &Path) -> Option<PathBuf> {
    let mut missing = Vec::new();
    let mut current = path;
    loop {
        if let Ok(real) = fs::canonicalize(current) {
            return Some(missing.iter().rev().fold(real, |p: PathBuf, c| p.join(c)));
        }
        missing.push(current.file_name()?.to_owned());
        current = current.parent()?;
    }
}

/// Facts sysfs knows about the block device mounted at a mount point.
#[derive(Debug, Default)]
pub(super) struct BlockFacts {
    /// Kernel name of the device (`sda1`, `mmcblk0p2`).
    pub name: Option<String>,
    /// `vendor model` of the whole disk.
    pub model: Option<String>,
    /// On USB, or flagged removable by the kernel.
    pub removable: bool,
}

/// Looks the mount point's device number up under `/sys/dev/block`.
pub(super) fn block_facts(mount_point: &Path) -> BlockFacts {
    let Some(dev) = device_number(mount_point) else {
        return BlockFacts::default();
    };
    let Ok(sys) = fs::canonicalize(format!("/sys/dev/block/{}:{}", dev.0, dev.1)) else {
        return BlockFacts::default();
    };
    // A partition's directory sits inside its disk's directory.
    let disk = if sys.join("partition").exists() {
        sys.parent().map_or_else(|| sys.clone(), Path::to_path_buf)
    } else {
        sys.clone()
    };
    let read = |p: PathBuf| {
        fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_owned())
            // virtio and PCI devices report a numeric vendor id, not a name.
            .filter(|s| !s.is_empty() && !s.starts_with("0x"))
    };
    let parts: Vec<String> = [
        read(disk.join("device/vendor")),
        read(disk.join("device/model")),
    ]
    .into_iter()
    .flatten()
    .collect();
    BlockFacts {
        name: sys.file_name().map(|n| n.to_string_lossy().into_owned()),
        model: (!parts.is_empty()).then(|| parts.join(" ")),
        removable: sys.to_string_lossy().contains("/usb")
            || read(disk.join("removable")).as_deref() == Some("1"),
    }
}

#[cfg(unix)]
fn device_number(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let dev = fs::metadata(path).ok()?.dev();
    // glibc's gnu_dev_major/gnu_dev_minor.
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    Some((major, minor))
}

#[cfg(not(unix))]
fn device_number(_path: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
/dev/root / ext4 rw 0 0
tmpfs /tmp tmpfs rw 0 0
/dev/sda1 /media/My\\040Photos vfat rw 0 0
/dev/sdb1 /media/My\\040Photos/inner ext4 rw 0 0
/dev/sdc1 /media/My\\040Photos/inner ext4 rw 0 0
";

    #[test]
    fn parses_and_unescapes() {
        let table = parse(TABLE);
        assert_eq!(table.len(), 5);
        assert_eq!(table[2].target, Path::new("/media/My Photos"));
        assert_eq!(unescape(r"a\134b\x"), r"a\b\x");
        assert_eq!(unescape(r"end\04"), r"end\04");
    }

    #[test]
    fn longest_prefix_and_last_stacked_mount_win() {
        let table = parse(TABLE);
        let of = |p: &str| mount_of(&table, Path::new(p)).map(|m| m.source.as_str());
        assert_eq!(of("/home/x"), Some("/dev/root"));
        assert_eq!(of("/tmp/a"), Some("tmpfs"));
        assert_eq!(of("/tmpfoo"), Some("/dev/root"));
        assert_eq!(of("/media/My Photos/2019"), Some("/dev/sda1"));
        assert_eq!(of("/media/My Photos/inner/x"), Some("/dev/sdc1"));
        assert_eq!(mount_of(&table, Path::new("relative")), None);
    }

    #[test]
    fn missing_tail_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            canonical_or_ancestor(&dir.path().join("a/b")),
            Some(real.join("a/b"))
        );
    }

    #[test]
    fn root_device_is_found() {
        // Holds wherever `/` is a block device (not in every container).
        let facts = block_facts(Path::new("/"));
        println!("root device: {facts:?}");
    }
}
