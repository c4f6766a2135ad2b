//! Makes the grid and preview JPEGs of each file named on the command line, writes them next
//! to the working directory as `<name>.grid.jpg` / `<name>.preview.jpg`, and prints the time
//! taken (best of three runs). `cargo run --release --example thumbnail -- photo.jpg`.

use std::time::{Duration, Instant};

use shoebox::media::{Options, make_thumbnails, read_facts};

fn main() {
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let facts = read_facts(&path);
        let mut best = Duration::MAX;
        let mut made = None;
        for _ in 0..3 {
            let started = Instant::now();
            let result = make_thumbnails(&path, &facts, &Options::default());
            best = best.min(started.elapsed());
            made = Some(result);
        }
        match made {
            Some(Ok(t)) => {
                let stem = path.file_name().unwrap_or_default().to_string_lossy();
                let written = std::fs::write(format!("{stem}.grid.jpg"), &t.grid)
                    .and_then(|()| std::fs::write(format!("{stem}.preview.jpg"), &t.preview));
                println!(
                    "{}: {:?} {}x{} -> grid {}x{} ({} B), preview {}x{} ({} B) in {best:?}{}",
                    path.display(),
                    facts.format,
                    facts.width.unwrap_or(0),
                    facts.height.unwrap_or(0),
                    t.width,
                    t.height,
                    t.grid.len(),
                    t.preview_width,
                    t.preview_height,
                    t.preview.len(),
                    written
                        .err()
                        .map(|e| format!(" (not written: {e})"))
                        .unwrap_or_default(),
                );
            }
            Some(Err(e)) => println!("{}: {e}", path.display()),
            None => {}
        }
    }
}
