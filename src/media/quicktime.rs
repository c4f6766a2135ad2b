//! `QuickTime` / MP4 movie facts: `mvhd` time and duration, the video track's size, and the
//! Apple `moov/meta/keys`+`ilst` items (content identifier, creation date, place, camera).

use std::io::{self, Read, Seek};

use super::bmff::{self, BoxHeader, be_u16, be_u32, be_u64};
use super::time::{from_quicktime_secs, parse_iso};
use super::{Facts, Gps, TakenAt, apple};

/// Largest `keys` box we read; Apple writes a few hundred bytes.
const MAX_KEYS: usize = 64 * 1024;
/// Largest metadata value we read (cover art in `ilst` is skipped by this bound).
const MAX_VALUE: usize = 4 * 1024;

/// Movie-level metadata found in `keys`/`ilst` and `udta`.
#[derive(Debug, Default)]
struct MovieTags {
    content_id: Option<String>,
    creation: Option<TakenAt>,
    location: Option<Gps>,
    make: Option<String>,
    model: Option<String>,
}

/// Reads the facts of a movie whose top-level boxes are `top`.
pub(crate) fn read<R: Read + Seek>(
    r: &mut R,
    top: &[BoxHeader],
    facts: &mut Facts,
) -> io::Result<()> {
    let Some(moov) = top.iter().find(|b| &b.kind == b"moov") else {
        facts
            .warnings
            .push("no moov box: movie truncated or still downloading".into());
        return Ok(());
    };
    let mut creation = None;
    if let Some(mvhd) = bmff::child(r, moov, *b"mvhd")? {
        let body = bmff::read_body(r, &mvhd, 256)?;
        let (ctime, duration_ms) = parse_mvhd(&body);
        creation = ctime.and_then(from_quicktime_secs);
        facts.duration_ms = duration_ms;
    }
    if let Some((w, h)) = video_size(r, moov)? {
        (facts.width, facts.height) = (Some(w), Some(h));
    }
    let mut tags = MovieTags::default();
    if let Some(meta) = bmff::child(r, moov, *b"meta")? {
        read_keys_ilst(r, &meta, &mut tags)?;
    }
    if let Some(udta) = bmff::child(r, moov, *b"udta")? {
        read_udta(r, &udta, &mut tags)?;
    }
    facts.taken_at = tags.creation.or(creation);
    facts.gps = tags.location;
    facts.make = tags.make;
    facts.model = tags.model;
    facts.content_id = tags.content_id;
    Ok(())
}

/// Creation time (seconds since 1904) and duration in ms from an `mvhd` body.
fn parse_mvhd(body: &[u8]) -> (Option<u64>, Option<u64>) {
    let (ctime, scale, duration) = if body.first() == Some(&1) {
        (be_u64(body, 4), be_u32(body, 20), be_u64(body, 24))
    } else {
        let d = be_u32(body, 16).map(u64::from);
        (be_u32(body, 4).map(u64::from), be_u32(body, 12), d)
    };
    let ms = match (scale, duration) {
        (Some(scale), Some(d)) if scale > 0 && d != u64::MAX && d != u64::from(u32::MAX) => {
            u128::from(d)
                .checked_mul(1000)
                .and_then(|x| x.checked_div(u128::from(scale)))
                .and_then(|x| u64::try_from(x).ok())
        }
        _ => None,
    };
    (ctime, ms)
}

/// Width and height from the `tkhd` of the first video track.
fn video_size<R: Read + Seek>(r: &mut R, moov: &BoxHeader) -> io::Result<Option<(u32, u32)>> {
    for trak in bmff::children(r, moov.body, moov.end)? {
        if &trak.kind != b"trak" {
            continue;
        }
        let Some(hdlr) = bmff::descend(r, &trak, &[b"mdia", b"hdlr"])? else {
            continue;
        };
        if bmff::read_body(r, &hdlr, 1024)?.get(8..12) != Some(b"vide") {
            continue;
        }
        let Some(tkhd) = bmff::child(r, &trak, *b"tkhd")? else {
            continue;
        };
        let body = bmff::read_body(r, &tkhd, 256)?;
        let at = if body.first() == Some(&1) { 88 } else { 76 };
        // Fixed-point 16.16; the integer part is the size in pixels.
        let w = be_u32(&body, at).map(|v| v >> 16);
        let h = be_u32(&body, at.saturating_add(4)).map(|v| v >> 16);
        if let (Some(w), Some(h)) = (w, h)
            && w > 0
            && h > 0
        {
            return Ok(Some((w, h)));
        }
    }
    Ok(None)
}

/// Reads `QuickTime` `keys` (names) and `ilst` (values keyed by 1-based key index).
fn read_keys_ilst<R: Read + Seek>(
    r: &mut R,
    meta: &BoxHeader,
    tags: &mut MovieTags,
) -> io::Result<()> {
    let start = bmff::meta_children_start(r, meta)?;
    let kids = bmff::children(r, start, meta.end)?;
    let (Some(keys), Some(ilst)) = (
        kids.iter().find(|b| &b.kind == b"keys"),
        kids.iter().find(|b| &b.kind == b"ilst"),
    ) else {
        return Ok(());
    };
    let names = parse_keys(&bmff::read_body(r, keys, MAX_KEYS)?);
    for item in bmff::children(r, ilst.body, ilst.end)? {
        let index = u32::from_be_bytes(item.kind) as usize;
        let Some(name) = index.checked_sub(1).and_then(|i| names.get(i)) else {
            continue;
        };
        let Some(value) = data_value(r, &item)? else {
            continue;
        };
        match name.as_str() {
            "com.apple.quicktime.content.identifier" => tags.content_id = Some(value),
            "com.apple.quicktime.creationdate" => tags.creation = parse_iso(&value),
            "com.apple.quicktime.location.ISO6709" => tags.location = parse_iso6709(&value),
            "com.apple.quicktime.make" => tags.make = Some(value),
            "com.apple.quicktime.model" => tags.model = Some(value),
            _ => {}
        }
    }
    Ok(())
}

/// Key names of a `keys` body: version/flags, count, then (size, namespace, name) entries.
fn parse_keys(body: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let count = be_u32(body, 4).unwrap_or(0);
    let mut at: usize = 8;
    for _ in 0..count {
        let Some(size) = be_u32(body, at).map(|s| s as usize) else {
            break;
        };
        let name = at
            .checked_add(8)
            .zip(at.checked_add(size))
            .and_then(|(from, to)| body.get(from..to));
        let (Some(name), Some(next)) = (name, at.checked_add(size)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        if size < 8 {
            break;
        }
        at = next;
    }
    names
}

/// The text of the `data` box inside an `ilst` item: type (4 bytes), locale (4), value.
fn data_value<R: Read + Seek>(r: &mut R, item: &BoxHeader) -> io::Result<Option<String>> {
    let Some(data) = bmff::child(r, item, *b"data")? else {
        return Ok(None);
    };
    if data.body_len() > MAX_VALUE as u64 {
        return Ok(None);
    }
    let body = bmff::read_body(r, &data, MAX_VALUE)?;
    Ok(body.get(8..).and_then(apple::clean_text))
}

/// Reads `udta/meta` keys and the `udta` text atoms `©xyz`, `©mak`, `©mod`
/// (`QuickTime`: u16 size, u16 language, text;
/// MP4/iTunes: a `data` box).
fn read_udta<R: Read + Seek>(r: &mut R, udta: &BoxHeader, tags: &mut MovieTags) -> io::Result<()> {
    for atom in bmff::children(r, udta.body, udta.end)? {
        let slot = match &atom.kind {
            // ffmpeg puts the keys/ilst pair in `udta/meta` rather than `moov/meta`.
            b"meta" => {
                read_keys_ilst(r, &atom, tags)?;
                continue;
            }
            b"\xA9xyz" if tags.location.is_none() => None,
            b"\xA9mak" if tags.make.is_none() => Some(&mut tags.make),
            b"\xA9mod" if tags.model.is_none() => Some(&mut tags.model),
            _ => continue,
        };
        if atom.body_len() > MAX_VALUE as u64 {
            continue;
        }
        let body = bmff::read_body(r, &atom, MAX_VALUE)?;
        let text = if body.get(4..8) == Some(b"data") {
            data_value(r, &atom)?
        } else {
            let len = usize::from(be_u16(&body, 0).unwrap_or(0));
            body.get(4..len.saturating_add(4))
                .and_then(apple::clean_text)
        };
        match slot {
            Some(s) => *s = text,
            None => tags.location = text.as_deref().and_then(parse_iso6709),
        }
    }
    Ok(())
}

/// Parses an ISO 6709 point in decimal degrees: `+48.8584+002.2945+035.000/`.
pub(crate) fn parse_iso6709(s: &str) -> Option<Gps> {
    let s = s.trim().trim_end_matches('/');
    let mut parts = Vec::new();
    let mut from = 0;
    for (i, c) in s.char_indices().skip(1) {
        if c == '+' || c == '-' {
            parts.push(s.get(from..i)?);
            from = i;
        }
    }
    parts.push(s.get(from..)?);
    let num = |p: &str| p.parse::<f64>().ok().filter(|v| v.is_finite());
    let lat = num(parts.first()?)?;
    let lon = num(parts.get(1)?)?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let alt = parts.get(2).and_then(|p| num(p));
    Some(Gps { lat, lon, alt })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::media::bmff::tests::bx;
    use std::io::Cursor;

    fn key(name: &str) -> Vec<u8> {
        let mut k = ((name.len() + 8) as u32).to_be_bytes().to_vec();
        k.extend_from_slice(b"mdta");
        k.extend_from_slice(name.as_bytes());
        k
    }

    fn item(index: u32, text: &str) -> Vec<u8> {
        let data = bx(
            *b"data",
            &[&[0, 0, 0, 1, 0, 0, 0, 0][..], text.as_bytes()].concat(),
        );
        bx(index.to_be_bytes(), &data)
    }

    /// A Live-Photo-like movie: mdat first, then moov with mvhd, a video track and keys/ilst.
    fn movie() -> Vec<u8> {
        let mut mvhd = vec![0u8; 100];
        mvhd[4..8].copy_from_slice(&3_206_613_834u32.to_be_bytes());
        mvhd[12..16].copy_from_slice(&600u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&1_500u32.to_be_bytes());
        let mut tkhd = vec![0u8; 84];
        tkhd[76..80].copy_from_slice(&(1920u32 << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&(1080u32 << 16).to_be_bytes());
        let hdlr = bx(*b"hdlr", &[&[0u8; 8][..], b"vide", &[0; 12]].concat());
        let trak = bx(
            *b"trak",
            &[bx(*b"tkhd", &tkhd), bx(*b"mdia", &hdlr)].concat(),
        );
        let names = [
            "com.apple.quicktime.content.identifier",
            "com.apple.quicktime.creationdate",
        ];
        let keys_body = [
            &[0, 0, 0, 0, 0, 0, 0, 2][..],
            &key(names[0]),
            &key(names[1]),
        ]
        .concat();
        let ilst = [
            item(1, "ABC-123"),
            item(2, "2023-06-01T12:34:56-0700"),
            item(9, "x"),
        ]
        .concat();
        let meta = bx(
            *b"meta",
            &[bx(*b"keys", &keys_body), bx(*b"ilst", &ilst)].concat(),
        );
        let moov = bx(*b"moov", &[bx(*b"mvhd", &mvhd), trak, meta].concat());
        [
            bx(*b"ftyp", b"qt  \0\0\0\0qt  "),
            bx(*b"mdat", &[0xEE; 64]),
            moov,
        ]
        .concat()
    }

    #[test]
    fn reads_handcrafted_live_photo_movie() {
        let file = movie();
        let mut r = Cursor::new(&file);
        let top = bmff::top_level(&mut r).unwrap();
        let mut facts = Facts::default();
        read(&mut r, &top, &mut facts).unwrap();
        assert_eq!(facts.content_id.as_deref(), Some("ABC-123"));
        let t = facts.taken_at.unwrap();
        assert_eq!(
            (t.local.to_string().as_str(), t.offset_secs),
            ("2023-06-01 12:34:56", Some(-25200))
        );
        assert_eq!((facts.width, facts.height), (Some(1920), Some(1080)));
        assert_eq!(facts.duration_ms, Some(2500));
    }

    #[test]
    fn truncated_movies_never_panic() {
        let file = movie();
        for n in 0..file.len() {
            let mut r = Cursor::new(&file[..n]);
            if let Ok(top) = bmff::top_level(&mut r) {
                let _ = read(&mut r, &top, &mut Facts::default());
            }
        }
    }

    #[test]
    fn parses_iso6709() {
        let g = parse_iso6709("+48.8584+002.2945+035.000/").unwrap();
        assert_eq!((g.lat, g.lon, g.alt), (48.8584, 2.2945, Some(35.0)));
        let g = parse_iso6709("-33.8688+151.2093/").unwrap();
        assert_eq!((g.lat, g.lon, g.alt), (-33.8688, 151.2093, None));
        assert!(parse_iso6709("+95.0+000.0/").is_none());
        assert!(parse_iso6709("garbage").is_none());
        assert!(parse_iso6709("").is_none());
    }
}
