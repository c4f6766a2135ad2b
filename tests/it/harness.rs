//! Running the binary and making test photo folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

/// `shoebox --data DATA args…`, waited for.
pub fn shoebox(data: &Path, args: &[&str]) -> Output {
    command(data, args).output().expect("run shoebox")
}

pub fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shoebox"));
    c.arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SHOEBOX_DATA");
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Deterministic incompressible bytes.
pub fn noise(len: usize, mut state: u64) -> Vec<u8> {
    state = state.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A JPEG: the real header of `photo.jpg` (EXIF included) and `len` bytes of scan data.
pub fn jpeg(len: usize, seed: u64) -> Vec<u8> {
    let src = std::fs::read(fixture("photo.jpg")).unwrap();
    let sos = src.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut out = src[..sos].to_vec();
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    out.extend(
        noise(len, seed)
            .into_iter()
            .map(|b| if b == 0xFF { 0xFE } else { b }),
    );
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A folder of photos: `n` distinct JPEGs of 0.5–2.5 MB, a duplicate of each fifth, the
/// committed fixtures (a Live Photo pair, HEICs), a text file.
pub fn photo_folder(root: &Path, n: u64) -> u64 {
    let mut files = 0;
    for i in 0..n {
        let dir = root.join(format!("{}", 2015 + i % 5));
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = jpeg(500_000 + (i as usize * 397_000) % 2_000_000, 1000 + i);
        std::fs::write(dir.join(format!("IMG_{i:04}.JPG")), &bytes).unwrap();
        files += 1;
        if i % 5 == 0 {
            std::fs::create_dir_all(root.join("copies")).unwrap();
            std::fs::write(root.join("copies").join(format!("copy_{i}.jpg")), &bytes).unwrap();
            files += 1;
        }
    }
    for f in ["live.jpg", "live.mov", "pug.heic", "photo.jpg"] {
        std::fs::copy(fixture(f), root.join(f)).unwrap();
        files += 1;
    }
    std::fs::write(root.join("readme.txt"), "not a photo").unwrap();
    files
}

/// blake3 of every regular file under `root`.
pub fn hashes(root: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.insert(
                    blake3::hash(&std::fs::read(e.path()).unwrap())
                        .to_hex()
                        .to_string(),
                );
            }
        }
    }
    out
}
