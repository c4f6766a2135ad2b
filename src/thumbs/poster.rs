//! Video posters: a frame taken by `ffmpeg` when the system has it. Apple's own JPEG
//! derivatives (iCloud) and the paired still (Live Photos) need no decoding at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Extracts one frame of `video` as a JPEG next to it; `None` when ffmpeg is missing or fails.
pub fn frame(video: &Path) -> Option<PathBuf> {
    let out = video.with_extension("poster.jpg");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-ss", "0.5", "-i"])
        .arg(video)
        .args(["-frames:v", "1", "-q:v", "3", "-f", "image2"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    (status.success() && out.exists()).then_some(out)
}

/// "m:ss" for a placeholder label.
pub fn clock(ms: u64) -> String {
    format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)
}
