//! Read-ahead: a thread reads the next files into the page cache while ingest hashes and
//! writes the current one, so the disk and the CPU work at the same time. It stays a bounded
//! number of bytes ahead, so on a 1 GiB board it never pushes out what ingest still needs.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How far ahead of ingest the reader may run.
const WINDOW: u64 = 64 * 1024 * 1024;

/// Reads `files` ahead of their ingest; stops when dropped.
pub struct ReadAhead {
    consumed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts reading `files` (path, size) in order.
    pub fn start(files: Vec<(PathBuf, u64)>) -> Self {
        let consumed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&consumed), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("readahead".into())
            .spawn(move || warm(&files, &c, &s))
            .ok();
        Self {
            consumed,
            stop,
            thread,
        }
    }

    /// Tells the reader that ingest finished with `bytes` more.
    pub fn consumed(&self, bytes: u64) {
        self.consumed.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn warm(files: &[(PathBuf, u64)], consumed: &AtomicU64, stop: &AtomicBool) {
    let mut buf = vec![0u8; 1 << 20];
    let mut ahead = 0u64; // bytes of files already read, counted from the first
    for (path, size) in files {
        while ahead.saturating_sub(consumed.load(Ordering::Relaxed)) > WINDOW {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // A file that cannot be read here is reported by ingest, not by the read-ahead.
        if let Ok(mut f) = File::open(path) {
            while matches!(f.read(&mut buf), Ok(n) if n > 0) {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
        }
        ahead = ahead.saturating_add(*size);
    }
}
