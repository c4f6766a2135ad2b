//! CloudKit records as the sync needs them: fields, text and bytes values, the files of a
//! record (`Res`), an asset joined with its master (`Item`), and the file name in every shape
//! Apple sends (base64, string, missing).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value};

/// A CloudKit record, or a tombstone (`deleted`, no fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// `recordName`.
    pub name: String,
    /// `recordType` (empty for a tombstone).
    pub rtype: String,
    /// `recordChangeTag`.
    pub tag: String,
    /// A tombstone from the change feed.
    pub deleted: bool,
    /// Fields as sent.
    pub fields: Map<String, Value>,
}

impl Record {
    fn parse(v: &Value) -> Option<Self> {
        let name = v.get("recordName")?.as_str()?.to_string();
        Some(Self {
            name,
            rtype: str_of(v, "recordType"),
            tag: str_of(v, "recordChangeTag"),
            deleted: v.get("deleted").and_then(Value::as_bool).unwrap_or(false),
            fields: v
                .get("fields")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// A field's `value`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).and_then(|f| f.get("value"))
    }

    /// A text field: `ENCRYPTED_BYTES` as base64 of UTF-8 (names, captions), or a plain string.
    pub fn text(&self, key: &str) -> Option<String> {
        let f = self.fields.get(key)?;
        let v = f.get("value")?.as_str()?;
        match f.get("type").and_then(Value::as_str) {
            Some("STRING") => Some(v.to_string()),
            _ => B64
                .decode(v)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .or_else(|| Some(v.to_string())),
        }
    }

    /// A bytes field (`ENCRYPTED_BYTES`/`BYTES`, base64) as sent; a `STRING` as its UTF-8.
    pub fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        let f = self.fields.get(key)?;
        let v = f.get("value")?.as_str()?;
        match f.get("type").and_then(Value::as_str) {
            Some("STRING") => Some(v.as_bytes().to_vec()),
            _ => B64.decode(v).ok(),
        }
    }

    pub(in crate::icloud) fn int(&self, key: &str) -> Option<i64> {
        self.value(key).and_then(Value::as_i64)
    }

    fn res(&self, prefix: &str) -> Option<Res> {
        let v = self.value(&format!("{prefix}Res"))?;
        Some(Res {
            url: v
                .get("downloadURL")
                .and_then(Value::as_str)
                .map(str::to_string),
            size: v.get("size").and_then(Value::as_u64).unwrap_or(0),
            checksum: v
                .get("fileChecksum")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            file_type: self
                .value(&format!("{prefix}FileType"))
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// One downloadable file of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Res {
    /// Signed URL (expires after hours); missing on some records.
    pub url: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Apple's opaque checksum (not a plain hash): identity of these bytes.
    pub checksum: String,
    /// UTI of the file.
    pub file_type: Option<String>,
}

/// An asset joined with its master: what a sync needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `CPLAsset` record name: the identity of the photo in iCloud.
    pub asset: String,
    /// `CPLMaster` record name.
    pub master: String,
    /// File name to show.
    pub name: String,
    /// The original.
    pub original: Option<Res>,
    /// RAW alternative of a RAW+JPEG pair.
    pub raw: Option<Res>,
    /// Live Photo clip.
    pub live: Option<Res>,
    /// Edited rendering.
    pub edited: Option<Res>,
    /// A video.
    pub video: bool,
    /// In Recently Deleted.
    pub deleted: bool,
    /// In Apple's Hidden album.
    pub hidden: bool,
    /// Capture time at Apple (`assetDate`), unix seconds: the fallback when the file has none.
    pub taken: Option<i64>,
    /// Favorite, caption, place, time zone.
    pub meta: super::super::metadata::Meta,
}

impl Item {
    /// Joins an asset record with its master.
    pub fn join(asset: &Record, master: &Record) -> Self {
        let name = file_name(master);
        let mut original = master.res("resOriginal");
        let mut raw = master.res("resOriginalAlt");
        if original.as_ref().is_some_and(Res::is_raw) && raw.as_ref().is_some_and(|r| !r.is_raw()) {
            std::mem::swap(&mut original, &mut raw);
        }
        let video = master
            .value("itemType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.contains("movie") || t.contains("mpeg-4"))
            || original
                .as_ref()
                .and_then(|r| r.file_type.as_deref())
                .is_some_and(|t| t.contains("movie") || t.contains("mpeg-4"));
        Self {
            asset: asset.name.clone(),
            master: master.name.clone(),
            name,
            original,
            raw,
            live: master.res("resOriginalVidCompl"),
            edited: asset.res("resJPEGFull").or_else(|| asset.res("resVidFull")),
            video,
            deleted: asset.int("isDeleted") == Some(1) || asset.int("isExpunged") == Some(1),
            hidden: asset.int("isHidden") == Some(1),
            taken: asset.int("assetDate").map(|ms| ms.div_euclid(1000)),
            meta: super::super::metadata::Meta::of(asset),
        }
    }
}

impl Res {
    fn is_raw(&self) -> bool {
        self.file_type.as_deref().is_some_and(|t| t.contains("raw"))
    }
}

/// The master's file name: `filenameEnc` as base64 or plain string, else derived from the
/// record name and item type, the way Apple's web app does.
pub fn file_name(master: &Record) -> String {
    let decoded = master.fields.get("filenameEnc").and_then(|f| {
        let v = f.get("value")?.as_str()?;
        match f.get("type").and_then(Value::as_str) {
            Some("STRING") => Some(v.to_string()),
            _ => B64
                .decode(v)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .or_else(|| Some(v.to_string())),
        }
    });
    let cleaned = decoded.map(|n| n.replace(['/', '\\', '\0'], "_"));
    if let Some(n) = cleaned.filter(|n| !n.trim().is_empty()) {
        return n;
    }
    let stem: String = master
        .name
        .chars()
        .take(12)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let ext = master
        .value("itemType")
        .and_then(Value::as_str)
        .map_or("bin", extension_of);
    format!("{stem}.{ext}")
}

fn extension_of(uti: &str) -> &'static str {
    match uti {
        "public.jpeg" => "JPG",
        "public.heic" => "HEIC",
        "public.heif" => "HEIF",
        "public.png" => "PNG",
        "com.apple.quicktime-movie" => "MOV",
        "public.mpeg-4" => "MP4",
        "com.adobe.raw-image" => "DNG",
        t if t.contains("raw-image") => "RAW",
        _ => "bin",
    }
}

pub(in crate::icloud) fn records_of(v: &Value) -> Vec<Record> {
    v.get("records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Record::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn master(fields: &Value) -> Record {
        Record::parse(
            &json!({"recordName": "AaBb-Cc/Dd+Ee12345", "recordType": "CPLMaster",
            "recordChangeTag": "1", "fields": fields}),
        )
        .unwrap()
    }

    #[test]
    fn file_names_in_every_shape() {
        let b64 = master(
            &json!({"filenameEnc": {"value": "SU1HXzc0MDkuSlBH", "type": "ENCRYPTED_BYTES"}}),
        );
        assert_eq!(file_name(&b64), "IMG_7409.JPG");
        let plain = master(&json!({"filenameEnc": {"value": "写真 1.HEIC", "type": "STRING"}}));
        assert_eq!(file_name(&plain), "写真 1.HEIC");
        let missing = master(&json!({"itemType": {"value": "public.heic", "type": "STRING"}}));
        assert_eq!(file_name(&missing), "AaBb_Cc_Dd_E.HEIC");
        let nothing = master(&json!({}));
        assert_eq!(file_name(&nothing), "AaBb_Cc_Dd_E.bin");
    }

    #[test]
    fn raw_plus_jpeg_keeps_the_jpeg_as_original() {
        let m = master(&json!({
            "resOriginalRes": {"value": {"size": 10, "fileChecksum": "r"}},
            "resOriginalFileType": {"value": "com.canon.cr2-raw-image"},
            "resOriginalAltRes": {"value": {"size": 5, "fileChecksum": "j"}},
            "resOriginalAltFileType": {"value": "public.jpeg"},
        }));
        let a = Record::parse(&json!({"recordName": "A", "recordType": "CPLAsset", "fields": {}}))
            .unwrap();
        let item = Item::join(&a, &m);
        assert_eq!(item.original.unwrap().checksum, "j");
        assert_eq!(item.raw.unwrap().checksum, "r");
        assert!(item.edited.is_none());
    }
}
