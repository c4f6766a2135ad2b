//! `media::read_facts` against exiftool over the shared seed corpus (`../shared/corpus`).
//!
//! Skipped, with a note, when the corpus or exiftool is missing (e.g. on a fresh clone).
//! Every disagreement must be listed in [`ALLOWED`] with a reason.

// Helpers outside #[test] fns unwrap too; clippy.toml allows it only inside test fns.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shoebox::media::{Facts, Format, read_facts};

#[path = "media_oracle/allowed.rs"]
mod allowed;
use allowed::ALLOWED;

/// The fields compared, in table order.
const FIELDS: [&str; 9] = [
    "format",
    "make",
    "model",
    "orientation",
    "size",
    "gps",
    "taken_at",
    "duration",
    "content_id",
];

fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        eprintln!("skipping: no corpus at {}", root.display());
        return None;
    }
    if Command::new("exiftool").arg("-ver").output().is_err() {
        eprintln!("skipping: exiftool is not installed (Debian: libimage-exiftool-perl)");
        return None;
    }
    Some(root)
}

/// One exiftool run over the whole corpus; JSON records keyed by absolute path.
fn exiftool(root: &Path) -> BTreeMap<PathBuf, Value> {
    let tags = concat!(
        "-FileType -Make -Model -Orientation -ImageWidth ",
        "-ImageHeight -GPSLatitude -GPSLongitude -DateTimeOriginal -OffsetTimeOriginal ",
        "-CreateDate -OffsetTimeDigitized -ModifyDate -OffsetTime -CreationDate ",
        "-Duration -ContentIdentifier -MediaGroupUUID ",
    );
    let out = Command::new("exiftool")
        .args(["-json", "-n", "-r", "-G0", "-api", "largefilesupport=1"])
        .args(tags.split_whitespace())
        .arg(root)
        .output()
        .unwrap();
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    records
        .into_iter()
        .map(|r| (PathBuf::from(r["SourceFile"].as_str().unwrap()), r))
        .collect()
}

/// The first of `keys` exiftool has, as text.
fn first(rec: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match rec.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The value of a tag in any group, preferring the groups listed first.
fn any_group(rec: &Value, tag: &str, groups: &[&str]) -> Option<String> {
    let keys: Vec<String> = groups.iter().map(|g| format!("{g}:{tag}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    first(rec, &keys).or_else(|| {
        let obj = rec.as_object()?;
        let others: Vec<&str> = obj
            .keys()
            .filter(|k| k.ends_with(&format!(":{tag}")))
            .map(String::as_str)
            .collect();
        first(rec, &others)
    })
}

fn format_of(file_type: &str) -> Format {
    match file_type {
        "JPEG" => Format::Jpeg,
        "HEIC" | "HEIF" => Format::Heic,
        "AVIF" => Format::Avif,
        "PNG" => Format::Png,
        "TIFF" => Format::Tiff,
        "DNG" | "CR2" | "CR3" | "NEF" | "ARW" | "ORF" | "RW2" | "RAF" => Format::Raw,
        "WEBP" | "Extended WEBP" => Format::Webp,
        "JXL" | "JXL Codestream" => Format::Jxl,
        "GIF" => Format::Gif,
        "MOV" => Format::Mov,
        "MP4" | "M4V" | "3GP" => Format::Mp4,
        "XMP" => Format::Xmp,
        _ => Format::Unknown,
    }
}

/// exiftool's capture time with the same fallbacks as ours, as `YYYY:MM:DD HH:MM:SS±HH:MM`.
fn want_taken_at(rec: &Value) -> Option<String> {
    let pairs = [
        ("EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal"),
        ("EXIF:CreateDate", "EXIF:OffsetTimeDigitized"),
        ("EXIF:ModifyDate", "EXIF:OffsetTime"),
    ];
    for (date, offset) in pairs {
        if let Some(d) = first(rec, &[date]).filter(|d| !d.starts_with("0000")) {
            let local = exif_form(d.get(..19)?);
            return Some(local + &first(rec, &[offset]).unwrap_or_default());
        }
    }
    if let Some(d) = first(rec, &["QuickTime:CreationDate"]) {
        return Some(exif_form(&d));
    }
    if let Some(d) = first(rec, &["QuickTime:CreateDate"]).filter(|d| !d.starts_with("0000")) {
        return Some(format!("{}+00:00", d.get(..19)?));
    }
    any_group(rec, "DateTimeOriginal", &[]).map(|d| d.chars().take(19).collect())
}

/// Some groups (XMP, HEIF `QuickTime` items) keep ISO form: `2024-04-22T14:38:09` becomes
/// `2024:04:22 14:38:09`.
fn exif_form(d: &str) -> String {
    d.char_indices()
        .map(|(i, c)| match (i, c) {
            (4 | 7, '-') => ':',
            (10, 'T') => ' ',
            _ => c,
        })
        .collect()
}

fn got_taken_at(f: &Facts) -> Option<String> {
    let t = f.taken_at?;
    let mut s = t.local.format("%Y:%m:%d %H:%M:%S").to_string();
    if let Some(o) = t.offset_secs {
        let sign = if o < 0 { '-' } else { '+' };
        let a = o.unsigned_abs();
        s = format!("{s}{sign}{:02}:{:02}", a / 3600, a % 3600 / 60);
    }
    Some(s)
}

/// (field, what exiftool says, what we say, agree?) for one file.
fn compare(rec: &Value, f: &Facts) -> Vec<(&'static str, Option<String>, Option<String>, bool)> {
    let text = |want: Option<String>, got: Option<String>| {
        let ok = want.is_none() || want == got;
        (want, got, ok)
    };
    let mut rows = Vec::new();
    let ft = first(rec, &["File:FileType"]).unwrap_or_default();
    let fmt = f.format.unwrap_or(Format::Unknown);
    let want_fmt = (!ft.is_empty()).then(|| format!("{:?}", format_of(&ft)));
    rows.push(("format", text(want_fmt, Some(format!("{fmt:?}")))));
    rows.push((
        "make",
        text(
            any_group(rec, "Make", &["EXIF", "QuickTime"]),
            f.make.clone(),
        ),
    ));
    rows.push((
        "model",
        text(
            any_group(rec, "Model", &["EXIF", "QuickTime"]),
            f.model.clone(),
        ),
    ));
    let orient = any_group(rec, "Orientation", &["EXIF"]);
    rows.push((
        "orientation",
        text(orient, f.orientation.map(|o| o.to_string())),
    ));
    let groups = ["File", "QuickTime", "PNG", "RIFF", "EXIF"];
    let size = any_group(rec, "ImageWidth", &groups)
        .zip(any_group(rec, "ImageHeight", &groups))
        .map(|(w, h)| format!("{w}x{h}"));
    let got_size = f.width.zip(f.height).map(|(w, h)| format!("{w}x{h}"));
    rows.push(("size", text(size, got_size)));
    let lat = first(rec, &["Composite:GPSLatitude"]).and_then(|v| v.parse::<f64>().ok());
    let lon = first(rec, &["Composite:GPSLongitude"]).and_then(|v| v.parse::<f64>().ok());
    let gps_ok = match (lat.zip(lon), f.gps) {
        (None, _) => true,
        (Some((a, o)), Some(g)) => (a - g.lat).abs() < 1e-5 && (o - g.lon).abs() < 1e-5,
        (Some(_), None) => false,
    };
    let got_gps = f.gps.map(|g| format!("{:.6},{:.6}", g.lat, g.lon));
    rows.push((
        "gps",
        (
            lat.zip(lon).map(|(a, o)| format!("{a:.6},{o:.6}")),
            got_gps,
            gps_ok,
        ),
    ));
    rows.push(("taken_at", text(want_taken_at(rec), got_taken_at(f))));
    let dur = first(rec, &["QuickTime:Duration"]).and_then(|v| v.parse::<f64>().ok());
    let dur_ok = match (dur, f.duration_ms) {
        (None, _) => true,
        (Some(s), Some(ms)) => (s * 1000.0 - ms as f64).abs() <= 50.0,
        (Some(_), None) => false,
    };
    rows.push((
        "duration",
        (
            dur.map(|s| s.to_string()),
            f.duration_ms.map(|m| m.to_string()),
            dur_ok,
        ),
    ));
    let cid = any_group(rec, "ContentIdentifier", &["QuickTime", "MakerNotes"])
        .or_else(|| any_group(rec, "MediaGroupUUID", &["MakerNotes"]));
    rows.push(("content_id", text(cid, f.content_id.clone())));
    rows.into_iter()
        .map(|(n, (w, g, ok))| (n, w, g, ok))
        .collect()
}

fn allowed(path: &Path, field: &str) -> bool {
    let p = path.to_string_lossy();
    ALLOWED
        .iter()
        .any(|(suffix, f, _)| *f == field && p.ends_with(suffix))
}

#[test]
fn facts_agree_with_exiftool_on_corpus() {
    let Some(root) = corpus() else { return };
    let root = root.canonicalize().unwrap();
    let oracle = exiftool(&root);
    assert!(!oracle.is_empty(), "exiftool returned nothing");
    let mut agree: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    for (path, rec) in &oracle {
        let facts = read_facts(path);
        for (field, want, got, ok) in compare(rec, &facts) {
            if want.is_none() {
                continue;
            }
            let e = agree.entry(field).or_default();
            e.1 += 1;
            if ok {
                e.0 += 1;
                continue;
            }
            let p = path.to_string_lossy();
            for (i, (suffix, f, _)) in ALLOWED.iter().enumerate() {
                if *f == field && p.ends_with(suffix) {
                    used[i] = true;
                }
            }
            if !allowed(path, field) {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap_or(path)
                    .display()
                    .to_string();
                unexpected.push(format!("{rel} {field}: exiftool {want:?}, ours {got:?}"));
            }
        }
    }
    eprintln!("{:<12} {:>8} {:>8}", "field", "agree", "of");
    for field in FIELDS {
        let (a, n) = agree.get(field).copied().unwrap_or_default();
        eprintln!("{field:<12} {a:>8} {n:>8}");
    }
    let stale: Vec<_> = ALLOWED
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| a)
        .collect();
    assert!(
        unexpected.is_empty(),
        "mismatches not in ALLOWED:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "ALLOWED entries that now agree: {stale:?}"
    );
}

#[test]
fn read_facts_never_panics_on_corpus_or_truncations() {
    let Some(root) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    for file in &files {
        let whole = catch_unwind(AssertUnwindSafe(|| read_facts(file)));
        assert!(whole.is_ok(), "panic on {}", file.display());
        let bytes = std::fs::read(file).unwrap();
        let n = bytes.len();
        for cut in [
            0,
            1,
            7,
            12,
            33,
            100,
            1000,
            4096,
            n / 3,
            n / 2,
            n.saturating_sub(1),
        ] {
            let Some(part) = bytes.get(..cut) else {
                continue;
            };
            let cut_path = dir.path().join("cut");
            std::fs::write(&cut_path, part).unwrap();
            let r = catch_unwind(AssertUnwindSafe(|| read_facts(&cut_path)));
            assert!(r.is_ok(), "panic on {} cut at {cut}", file.display());
        }
    }
}
