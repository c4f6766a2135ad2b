//! `media::make_thumbnails` over the committed fixtures and, when present, every file of the
//! shared corpus (`../shared/corpus`): whatever decodes yields two JPEGs that decode again, of
//! the size `Size::fit` gives for the file's own dimensions after EXIF orientation (±2 px);
//! whatever does not is `Unsupported` or `Decode`, never a panic. Prints a per-format table.
//!
//! HEIC/HEIF are also compared with libheif's `heif-convert` (Debian `libheif-examples`) when
//! it is on PATH: PSNR over RGB of `decode_full` against libheif's PNG.
//!
//! Run with `-- --nocapture` to see the tables.

// Helpers outside #[test] fns unwrap too, and a test that reports several files at once keeps
// its own panics in a list; clippy.toml allows unwrap only inside test fns.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::too_many_lines
)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use shoebox::media::{
    Facts, Format, Options, Size, ThumbError, decode_full, make_thumbnails, read_facts,
};

/// PSNR (dB over 8-bit RGB) that heifer must reach against libheif on every file both decode.
///
/// Why 30 dB: both decoders reconstruct the same HEVC samples bit-exactly (heifer matches
/// ffmpeg on the conformance streams), so what differs is only the YCbCr→RGB step: chroma
/// upsampling filters (libheif 1.15 replicates chroma samples, heifer interpolates like Apple)
/// and rounding. On photographs that costs a few dB from "identical" and lands in the 35–50 dB
/// range; a real decoding fault is far below: a wrong matrix (BT.601 vs 709) or range
/// (full vs limited) gives about 20–27 dB, a broken tile or block under 20 dB. Synthetic
/// test charts with one-pixel chroma detail are where the filters disagree most (≈ 29 dB on
/// the blue channel of an XOR pattern, measured when the crate was chosen).
const MIN_PSNR_DB: f64 = 30.0;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media")
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Every regular file under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The upright size of a file: `read_facts`' size after EXIF orientation. For HEIF that is
/// not enough: `read_facts` reports the primary item's `ispe`, before the `clap` crop and the
/// `irot`/`imir` transforms that are the format's real orientation (a Nokia 8.3 file is
/// rotated by `irot` alone with EXIF orientation 1), so libheif's `heif-info`, which applies
/// them, is the oracle for HEIF when it is on PATH.
fn upright_size(path: &Path, f: &Facts) -> Option<(u32, u32)> {
    if f.format == Some(Format::Heic)
        && let Some(size) = heif_info_size(path)
    {
        return Some(size);
    }
    let (w, h) = (f.width?, f.height?);
    Some(if matches!(f.orientation, Some(5..=8)) {
        (h, w)
    } else {
        (w, h)
    })
}

/// The primary image's size as `heif-info` prints it (`image: 3456x4608 (id=10063), primary`).
fn heif_info_size(path: &Path) -> Option<(u32, u32)> {
    let out = Command::new("heif-info").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("image: ") && l.ends_with(", primary"))?;
    let size = line.strip_prefix("image: ")?.split(' ').next()?;
    let (w, h) = size.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

fn near(got: (u32, u32), want: (u32, u32)) -> bool {
    got.0.abs_diff(want.0) <= 2 && got.1.abs_diff(want.1) <= 2
}

#[derive(Default)]
struct Row {
    made: usize,
    unsupported: usize,
    failed: usize,
    unchecked_aspect: usize,
}

/// What happened to one file.
enum Outcome {
    Made { aspect_checked: bool },
    Unsupported,
    Failed(String),
}

/// Makes thumbnails of `path` and checks them; `Err` is a broken promise (a panic, an I/O
/// error on a readable file, an undecodable or mis-sized output).
fn check(path: &Path) -> (Facts, Result<Outcome, String>) {
    let upright = |facts: &Facts| upright_size(path, facts);
    let facts = read_facts(path);
    let made = catch_unwind(AssertUnwindSafe(|| {
        make_thumbnails(path, &facts, &Options::default())
    }));
    let outcome = match made {
        Err(_) => Err("panicked".to_string()),
        Ok(Err(ThumbError::Unsupported(_))) => Ok(Outcome::Unsupported),
        Ok(Err(e @ (ThumbError::Decode(_) | ThumbError::TooManyPixels { .. }))) => {
            Ok(Outcome::Failed(e.to_string()))
        }
        Ok(Err(e @ ThumbError::Io(_))) => Err(format!("I/O error on a readable file: {e}")),
        Ok(Ok(t)) => check_outputs(&facts, upright(&facts), &t)
            .map(|aspect_checked| Outcome::Made { aspect_checked }),
    };
    (facts, outcome)
}

/// Both JPEGs decode at the sizes reported, and those match the file's own size.
fn check_outputs(
    facts: &Facts,
    upright: Option<(u32, u32)>,
    t: &shoebox::media::Thumbnails,
) -> Result<bool, String> {
    let decoded = |bytes: &[u8]| {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
            .map(|i| (i.width(), i.height()))
            .map_err(|e| format!("output does not decode: {e}"))
    };
    let grid = decoded(&t.grid)?;
    let preview = decoded(&t.preview)?;
    if grid != (t.width, t.height) || preview != (t.preview_width, t.preview_height) {
        return Err(format!(
            "reported sizes {t:?} differ from decoded {grid:?} {preview:?}"
        ));
    }
    let Some((w, h)) = upright else {
        return Ok(false);
    };
    let (want_grid, want_preview) = (Size::Grid.fit(w, h), Size::Preview.fit(w, h));
    if !near(grid, want_grid) || !near(preview, want_preview) {
        return Err(format!(
            "grid {grid:?} / preview {preview:?}, want {want_grid:?} / {want_preview:?} \
             for {w}x{h} upright (orientation {:?})",
            facts.orientation
        ));
    }
    Ok(true)
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.made, self.unsupported, self.failed)
    }
}

/// Runs [`check`] over `paths`, prints the table and the reasons, and returns the broken
/// promises and the per-format counts.
fn survey(name: &str, root: &Path, paths: &[PathBuf]) -> (Vec<String>, BTreeMap<String, Row>) {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut reasons = Vec::new();
    for path in paths {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let (facts, outcome) = check(path);
        let format = format!("{:?}", facts.format.unwrap_or(Format::Unknown));
        let row = rows.entry(format.clone()).or_default();
        match outcome {
            Ok(Outcome::Made { aspect_checked }) => {
                row.made += 1;
                if !aspect_checked {
                    row.unchecked_aspect += 1;
                    reasons.push(format!("  {format:<8} made, no size in metadata: {shown}"));
                }
            }
            Ok(Outcome::Unsupported) => row.unsupported += 1,
            Ok(Outcome::Failed(why)) => {
                row.failed += 1;
                reasons.push(format!("  {format:<8} failed: {shown}: {why}"));
            }
            Err(why) => broken.push(format!("{shown}: {why}")),
        }
    }
    println!("\n{name}: {} files", paths.len());
    println!(
        "  {:<8} {:>5} {:>12} {:>7}  (aspect unchecked)",
        "format", "made", "unsupported", "failed"
    );
    for (format, r) in &rows {
        println!(
            "  {format:<8} {:>5} {:>12} {:>7}  ({})",
            r.made, r.unsupported, r.failed, r.unchecked_aspect
        );
    }
    for r in &reasons {
        println!("{r}");
    }
    (broken, rows)
}

#[test]
fn fixtures_all_make_thumbnails() {
    let root = fixtures();
    let paths = files(&root);
    let (broken, rows) = survey("fixtures", &root, &paths);
    assert!(broken.is_empty(), "{broken:#?}");
    // Every fixture picture decodes: JPEG and HEIC/HEIF; the movie is left to the caller.
    for (format, row) in &rows {
        match format.as_str() {
            "Jpeg" | "Heic" => {
                assert_eq!((row.unsupported, row.failed), (0, 0), "{format}: {row:?}");
            }
            "Mov" => assert_eq!(row.made, 0),
            _ => {}
        }
    }
    assert!(rows.get("Heic").is_some_and(|r| r.made == 3), "{rows:?}");
}

#[test]
fn corpus_never_panics_and_keeps_aspect() {
    let root = corpus();
    if !root.is_dir() {
        println!("no corpus at {}: skipped", root.display());
        return;
    }
    let paths = files(&root);
    let (broken, rows) = survey("corpus", &root, &paths);
    assert!(
        broken.is_empty(),
        "{} broken promises:\n{broken:#?}",
        broken.len()
    );
    // Formats with a decoder make most of their files (the corpus holds deliberately broken
    // files, so not all).
    for format in ["Jpeg", "Png", "Heic"] {
        if let Some(r) = rows.get(format) {
            assert!(r.made * 10 >= (r.made + r.failed) * 9, "{format}: {r:?}");
        }
    }
}

/// libheif's decode of `path` as PNGs in `out` (one per top-level image), or why not.
fn libheif(path: &Path, out: &Path) -> Result<Vec<image::RgbImage>, String> {
    let png = out.join("ref.png");
    let run = Command::new("heif-convert")
        .arg(path)
        .arg(&png)
        .output()
        .map_err(|e| e.to_string())?;
    if !run.status.success() {
        return Err(String::from_utf8_lossy(&run.stderr).trim().to_string());
    }
    // Several top-level images become ref-1.png, ref-2.png...; auxiliary images (depth,
    // alpha, HDR gain map) are written next to them with a suffix and are not candidates.
    let mut images = Vec::new();
    for p in files(out) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let primary_like = name == "ref.png"
            || name
                .strip_prefix("ref-")
                .and_then(|n| n.strip_suffix(".png"))
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if primary_like {
            let img = image::open(&p).map_err(|e| format!("{name}: {e}"))?;
            images.push(on_white(img));
        }
    }
    if images.is_empty() {
        return Err("heif-convert wrote no image".into());
    }
    Ok(images)
}

/// 8-bit RGB with transparency laid on white, as `decode_full` does.
fn on_white(img: image::DynamicImage) -> image::RgbImage {
    let rgba = img.into_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let c = |v: u8| ((u32::from(v) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([c(p[0]), c(p[1]), c(p[2])])
    })
}

fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

#[test]
fn heic_matches_libheif() {
    if Command::new("heif-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("heif-convert not on PATH (Debian libheif-examples): skipped");
        return;
    }
    let mut paths: Vec<PathBuf> = files(&fixtures());
    if corpus().is_dir() {
        paths.extend(files(&corpus()));
    }
    paths.retain(|p| read_facts(p).format == Some(Format::Heic));
    let mut size_disagreements = Vec::new();
    let (mut compared, mut low, mut heifer_fails, mut libheif_fails) =
        (0, Vec::new(), Vec::new(), Vec::new());
    println!(
        "\nHEIC/HEIF vs libheif ({} files, threshold {MIN_PSNR_DB} dB)",
        paths.len()
    );
    for path in &paths {
        let shown = path
            .strip_prefix(corpus())
            .or_else(|_| path.strip_prefix(fixtures()))
            .unwrap_or(path)
            .display()
            .to_string();
        let facts = read_facts(path);
        let dir = tempfile::tempdir().unwrap();
        let reference = libheif(path, dir.path());
        let ours = catch_unwind(AssertUnwindSafe(|| {
            decode_full(path, &facts, &Options::default())
        }));
        let Ok(ours) = ours else {
            heifer_fails.push(format!("{shown}: panicked"));
            continue;
        };
        match (ours, reference) {
            (Ok(ours), Ok(refs)) => {
                let same_size: Vec<_> = refs
                    .iter()
                    .filter(|r| r.dimensions() == ours.dimensions())
                    .collect();
                let Some(best) = same_size.iter().map(|r| psnr(&ours, r)).reduce(f64::max) else {
                    let sizes: Vec<_> = refs.iter().map(image::RgbImage::dimensions).collect();
                    let why = format!("{shown}: size {:?}, libheif {sizes:?}", ours.dimensions());
                    match KNOWN_SIZE_DISAGREEMENTS
                        .iter()
                        .find(|(n, _)| shown.ends_with(n))
                    {
                        Some((_, reason)) => size_disagreements.push(format!("{why}: {reason}")),
                        None => low.push(why),
                    }
                    continue;
                };
                compared += 1;
                println!(
                    "  {best:6.2} dB  {}x{}  {shown}",
                    ours.width(),
                    ours.height()
                );
                if best < MIN_PSNR_DB {
                    low.push(format!("{shown}: {best:.2} dB"));
                }
            }
            (Err(e), Ok(_)) => heifer_fails.push(format!("{shown}: {e}")),
            (Ok(_), Err(e)) => {
                libheif_fails.push(format!("{shown}: heifer decodes, libheif fails: {e}"));
            }
            (Err(ours), Err(theirs)) => libheif_fails.push(format!(
                "{shown}: both fail: heifer: {ours}; libheif: {theirs}"
            )),
        }
    }
    println!(
        "  compared: {compared}; heifer cannot decode ({}):",
        heifer_fails.len()
    );
    for f in &heifer_fails {
        println!("    {f}");
    }
    println!(
        "  different image than libheif, explained ({}):",
        size_disagreements.len()
    );
    for f in &size_disagreements {
        println!("    {f}");
    }
    println!("  libheif cannot decode ({}):", libheif_fails.len());
    for f in &libheif_fails {
        println!("    {f}");
    }
    assert!(
        low.is_empty(),
        "below {MIN_PSNR_DB} dB or wrong size: {low:#?}"
    );
    // Known heifer failures are listed (and counted) here, each with its reason; a new one
    // fails the test until it is understood.
    let unexplained: Vec<_> = heifer_fails
        .iter()
        .filter(|f| {
            !KNOWN_HEIFER_FAILURES
                .iter()
                .any(|(name, _)| f.starts_with(name))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "heifer fails where libheif decodes: {unexplained:#?}"
    );
}

/// Files libheif decodes and heifer does not, with the reason found. None so far: on every
/// file of the corpus that libheif decodes, heifer decodes too.
const KNOWN_HEIFER_FAILURES: &[(&str, &str)] = &[];

/// Files where heifer and libheif 1.15 decode different images, with the reason found.
const KNOWN_SIZE_DISAGREEMENTS: &[(&str, &str)] = &[(
    "heif_other/invalid_id.heic",
    "`pitm` names item 2, a 1197x1227 grid, which a `thmb` reference also marks as the \
     thumbnail of item 3 (564x870); heifer decodes the declared primary item (the size \
     exiftool's ImageSize and read_facts report), libheif 1.15 hides thumbnails and decodes item 3",
)];

/// The corpus' EXIF orientation set (`exif-samples/jpg/orientation`: one picture stored in
/// the eight orientations, each with its number and edge labels drawn on it). Made upright,
/// each must look more like number 1 than any other of the eight transforms of its stored
/// pixels does (applied with `image`'s own `apply_orientation`), by a clear margin.
#[test]
fn corpus_orientation_set_comes_out_upright() {
    let dir = corpus().join("exif-samples/jpg/orientation");
    if !dir.is_dir() {
        println!("no orientation set at {}: skipped", dir.display());
        return;
    }
    for shape in ["landscape", "portrait"] {
        let path = dir.join(format!("{shape}_1.jpg"));
        let reference = decode_full(&path, &read_facts(&path), &Options::default()).unwrap();
        for n in 2..=8 {
            let path = dir.join(format!("{shape}_{n}.jpg"));
            let facts = read_facts(&path);
            assert_eq!(facts.orientation, Some(n));
            let ours = decode_full(&path, &facts, &Options::default()).unwrap();
            let ours_db = psnr_if_same_size(&ours, &reference).unwrap();
            let stored = Facts {
                orientation: None,
                ..facts.clone()
            };
            let stored = decode_full(&path, &stored, &Options::default()).unwrap();
            let best_other = (1..=8u8)
                .filter(|&o| u16::from(o) != n)
                .filter_map(|o| {
                    let mut img = image::DynamicImage::ImageRgb8(stored.clone());
                    img.apply_orientation(image::metadata::Orientation::from_exif(o).unwrap());
                    psnr_if_same_size(&img.into_rgb8(), &reference)
                })
                .fold(0.0, f64::max);
            println!(
                "  {shape}_{n}: {ours_db:.1} dB upright, best other transform {best_other:.1} dB"
            );
            assert!(
                ours_db > best_other + 3.0,
                "{shape}_{n}: {ours_db:.1} vs {best_other:.1} dB"
            );
        }
    }
}

fn psnr_if_same_size(a: &image::RgbImage, b: &image::RgbImage) -> Option<f64> {
    (a.dimensions() == b.dimensions()).then(|| psnr(a, b))
}
