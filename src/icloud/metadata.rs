//! Asset metadata mirrored from iCloud onto the shoebox asset: Apple's Hidden album, the
//! favorite mark (`isFavorite`), the capture time with its time zone (`assetDate` +
//! `timeZoneOffset`), the place (`locationLatitude`/`locationLongitude`), the caption
//! (`captionEnc`) and keywords (`keywordsEnc`), both binary plists or plain text, and the
//! description (`extendedDescEnc`, remembered only). A field is applied when it changed at
//! Apple since it was last mirrored, so a change made here stays until Apple changes that
//! field again; the first sight only adds (a favorite, a missing place), never removes.

use super::api::{Item, Record, Zone};
use super::error::Result;
use super::records::Seen;
use super::session::SessionStore;
use crate::library::{Library, SourceFacts};

/// What an asset record says beyond its files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// `isFavorite`.
    pub favorite: bool,
    /// `captionEnc`: the title shown under the photo in Photos.
    pub caption: Option<String>,
    /// `extendedDescEnc`: the longer description.
    pub description: Option<String>,
    /// `keywordsEnc`: the keywords, in Apple's order.
    pub keywords: Vec<String>,
    /// Latitude and longitude.
    pub place: Option<(f64, f64)>,
    /// `assetDate`, unix seconds.
    pub taken: Option<i64>,
    /// `timeZoneOffset`, seconds east of UTC.
    pub offset: Option<i32>,
}

/// The texts of a field that holds a binary plist (a string, or an array of strings) or
/// plain UTF-8, trimmed, empty ones and repeats dropped.
fn texts(r: &Record, key: &str) -> Vec<String> {
    let Some(bytes) = r.bytes(key) else {
        return Vec::new();
    };
    let all = match super::bplist::parse(&bytes) {
        Some(v) => v.strings(),
        None => String::from_utf8(bytes)
            .map(|s| vec![s])
            .unwrap_or_default(),
    };
    let mut out: Vec<String> = Vec::new();
    for t in all.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

fn float(r: &Record, key: &str) -> Option<f64> {
    r.value(key).and_then(serde_json::Value::as_f64)
}

impl Meta {
    /// Reads an asset record.
    pub fn of(asset: &Record) -> Self {
        let text = |k: &str| {
            asset
                .text(k)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let place = match (
            float(asset, "locationLatitude"),
            float(asset, "locationLongitude"),
        ) {
            (Some(lat), Some(lon))
                if (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lon)
                    && (lat, lon) != (0.0, 0.0) =>
            {
                Some((lat, lon))
            }
            _ => None,
        };
        Self {
            favorite: asset.int("isFavorite") == Some(1),
            caption: texts(asset, "captionEnc").into_iter().next(),
            description: text("extendedDescEnc"),
            keywords: texts(asset, "keywordsEnc"),
            place,
            taken: asset.int("assetDate").map(|ms| ms.div_euclid(1000)),
            offset: asset
                .int("timeZoneOffset")
                .and_then(|o| i32::try_from(o).ok())
                .filter(|o| o.abs() <= 18 * 3600),
        }
    }
}

/// What to change on the asset (which has a place of its own when `has_place`), given what
/// was last mirrored; and what to remember as mirrored now.
pub fn facts(item: &Item, seen: Option<&Seen>, has_place: bool) -> (SourceFacts, Seen) {
    let m = &item.meta;
    let last = seen.cloned().unwrap_or_default();
    let favorite = match last.favorite {
        None => m.favorite.then_some(true),
        Some(f) if f != m.favorite => Some(m.favorite),
        Some(_) => None,
    };
    let place = match (last.place, m.place) {
        (None, Some(p)) if !has_place => Some(Some((p.0, p.1, None))),
        (Some(old), Some(p)) if old != p => Some(Some((p.0, p.1, None))),
        (Some(_), None) => Some(None),
        _ => None,
    };
    // First sight (or a record remembered before captions were kept): only adds.
    let caption = match (seen, &m.caption) {
        (None, Some(c)) => Some(Some(c.clone())),
        (Some(s), c) if s.keywords.is_none() => c.clone().map(Some),
        (Some(s), c) if s.caption != *c => Some(c.clone()),
        _ => None,
    };
    let keywords = match last.keywords.as_ref() {
        None => (!m.keywords.is_empty()).then(|| m.keywords.clone()),
        Some(k) if *k != m.keywords => Some(m.keywords.clone()),
        Some(_) => None,
    };
    let facts = SourceFacts {
        time: m.taken.map(|t| (t, m.offset)),
        place,
        favorite,
        caption,
        keywords,
    };
    let now = Seen {
        listed: last.listed,
        favorite: Some(m.favorite),
        caption: m.caption.clone(),
        description: m.description.clone(),
        keywords: Some(m.keywords.clone()),
        place: m.place,
    };
    (facts, now)
}

/// Mirrors the metadata of a page of items onto their assets (those the box holds), and
/// remembers it; `listed` is the full listing that saw them, if one did.
pub fn mirror(
    lib: &Library,
    sessions: &SessionStore,
    zone_key: &str,
    zone: &Zone,
    items: &[Item],
    listed: Option<i64>,
) -> Result<()> {
    let live: Vec<&Item> = items.iter().filter(|i| !i.deleted).collect();
    let names: Vec<String> = live.iter().map(|i| i.asset.clone()).collect();
    let before = sessions.seen(zone_key, &names)?;
    let mut after = Vec::with_capacity(live.len());
    for (item, seen) in live.into_iter().zip(before) {
        let Some(id) = lib.asset_of(&super::sync::origin(zone, &item.asset))? else {
            continue;
        };
        let Some(asset) = lib.asset(id)? else {
            continue;
        };
        // Apple's Hidden album stays hidden here (stored and exported, not in the timeline).
        if asset.hidden != item.hidden {
            lib.set_hidden(id, item.hidden)?;
        }
        let (facts, mut now) = facts(item, seen.as_ref(), asset.gps.is_some());
        lib.apply_source_facts(id, &facts)?;
        if let Some(l) = listed {
            now.listed = l;
        }
        after.push((item.asset.clone(), now));
    }
    sessions.save_seen(zone_key, &after)
}

#[cfg(test)]
mod tests {
    use super::super::api::records_of;
    use super::*;
    use serde_json::json;

    fn item(fields: &serde_json::Value) -> Item {
        let one = |v: serde_json::Value| records_of(&json!({"records": [v]})).remove(0);
        let asset = one(json!({"recordName": "A", "recordType": "CPLAsset", "fields": fields}));
        let master = one(json!({"recordName": "M", "recordType": "CPLMaster", "fields": {}}));
        Item::join(&asset, &master)
    }

    #[test]
    fn captions_and_keywords_from_binary_plists() {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let cap = b64(include_bytes!("../../tests/fixtures/icloud/caption.bplist"));
        let kw = b64(include_bytes!(
            "../../tests/fixtures/icloud/keywords.bplist"
        ));
        let it = item(&json!({
            "captionEnc": {"value": cap, "type": "ENCRYPTED_BYTES"},
            "keywordsEnc": {"value": kw, "type": "ENCRYPTED_BYTES"},
        }));
        assert_eq!(it.meta.caption.as_deref(), Some("Dîner à Nice, été 2017"));
        let words = ["family", "Nice", "été", "a keyword longer than fifteen"];
        assert_eq!(it.meta.keywords, words);
        let (f, seen) = facts(&it, None, false);
        assert_eq!(f.caption, Some(Some("Dîner à Nice, été 2017".to_string())));
        assert_eq!(f.keywords.unwrap(), words);
        // Unchanged at Apple: an edit made here stays. Removed at Apple: removed here.
        let (f, _) = facts(&it, Some(&seen), false);
        assert_eq!((f.caption, f.keywords), (None, None));
        let bare = item(&json!({}));
        let (f, _) = facts(&bare, Some(&seen), false);
        assert_eq!((f.caption, f.keywords), (Some(None), Some(Vec::new())));
    }

    #[test]
    fn apple_changes_win_once_and_first_sight_only_adds() {
        let fav = item(&json!({
            "isFavorite": {"value": 1, "type": "INT64"},
            "captionEnc": {"value": "QXQgdGhlIGJlYWNo", "type": "ENCRYPTED_BYTES"},
            "locationLatitude": {"value": 43.7, "type": "DOUBLE"},
            "locationLongitude": {"value": 7.26, "type": "DOUBLE"},
            "assetDate": {"value": 1_700_000_000_123_i64, "type": "TIMESTAMP"},
            "timeZoneOffset": {"value": 3600, "type": "INT64"},
        }));
        assert_eq!(fav.meta.caption.as_deref(), Some("At the beach"));
        let (f, seen) = facts(&fav, None, false);
        assert_eq!(f.favorite, Some(true));
        assert_eq!(f.place, Some(Some((43.7, 7.26, None))));
        assert_eq!(f.time, Some((1_700_000_000, Some(3600))));
        // Nothing changed at Apple: nothing is forced (a change made here stays).
        let (f, _) = facts(&fav, Some(&seen), true);
        assert_eq!((f.favorite, f.place), (None, None));
        // Unmarked at Apple: unmarked here.
        let plain = item(&json!({"isFavorite": {"value": 0, "type": "INT64"}}));
        let (f, _) = facts(&plain, Some(&seen), true);
        assert_eq!(f.favorite, Some(false));
        assert_eq!(f.place, Some(None));
        // First sight of a plain one: a favorite made here is not removed.
        let (f, _) = facts(&plain, None, true);
        assert_eq!((f.favorite, f.place), (None, None));
        // A file's own place is kept at first sight.
        let (f, _) = facts(&fav, None, true);
        assert_eq!(f.place, None);
    }
}
