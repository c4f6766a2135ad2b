//! iCloud Photos over CloudKit: zones, counts, paged listings, the change feed, record
//! lookups and resumable downloads. Knows the record shapes of `icloud-protocol.md` §2,
//! including the odd ones (filename as base64, as string or missing; missing item type or
//! download URL).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use super::auth::{Account, Client};
use super::error::{Error, Result};

/// The longest `retryAfter` waited out inside a run; longer ones end the run with a back-off.
const MAX_INLINE_WAIT: i64 = 30;

/// Private or shared CloudKit database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Db {
    /// The owner's own library.
    Private,
    /// iCloud Shared Photo Library zones.
    Shared,
}

impl Db {
    /// Path segment.
    pub fn name(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Shared => "shared",
        }
    }
}

/// One photo library (zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Database.
    pub db: Db,
    /// `PrimarySync` or `SharedSync-…`.
    pub name: String,
    /// Owner record, echoed back in requests.
    pub owner: Option<String>,
    /// Current change-feed token.
    pub sync_token: Option<String>,
}

impl Zone {
    pub(super) fn id(&self) -> Value {
        let mut id = json!({"zoneName": self.name, "zoneType": "REGULAR_CUSTOM_ZONE"});
        if let Some(owner) = &self.owner {
            id["ownerRecordName"] = json!(owner);
        }
        id
    }
}

/// A listing of Apple's photo views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Everything not hidden and not deleted.
    Library,
    /// Hidden items.
    Hidden,
}

impl View {
    fn list_type(self) -> &'static str {
        match self {
            Self::Library => "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
            Self::Hidden => "CPLAssetAndMasterHiddenByAssetDate",
        }
    }
}

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

    pub(super) fn int(&self, key: &str) -> Option<i64> {
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
    pub meta: super::metadata::Meta,
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
            meta: super::metadata::Meta::of(asset),
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

/// A page of the change feed.
#[derive(Debug, Clone)]
pub struct Changes {
    /// Records changed and tombstones.
    pub records: Vec<Record>,
    /// Token to resume from after this page.
    pub sync_token: Option<String>,
    /// More pages follow.
    pub more: bool,
}

/// Counts at Apple for one zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppleCounts {
    /// Library items (photos and videos, not hidden or deleted).
    pub all: u64,
    /// Videos among them.
    pub videos: u64,
    /// Hidden.
    pub hidden: u64,
    /// In Recently Deleted.
    pub deleted: u64,
}

/// The Photos service of one signed-in account.
pub struct Photos<'c> {
    client: &'c Client,
    base: String,
    params: String,
}

impl<'c> Photos<'c> {
    /// The service at the account's CloudKit host.
    pub fn new(client: &'c Client, account: &Account) -> Self {
        Self {
            client,
            base: format!(
                "{}/database/1/com.apple.photos.cloud/production",
                account.ckdatabase
            ),
            params: format!(
                "remapEnums=True&getCurrentSyncToken=True&clientBuildNumber=2534Project66&clientMasteringNumber=2534B22&clientId={}&dsid={}",
                client.session.client_id, account.dsid
            ),
        }
    }

    /// POSTs a CloudKit call, waiting out short `retryAfter`s and mapping Apple's refusals.
    pub(super) async fn call(&self, db: Db, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}/{}{path}?{}", self.base, db.name(), self.params);
        for _ in 0..4 {
            let req = self
                .client
                .http
                .request(Method::POST, &url)?
                .header("Content-Type", "text/plain")
                .header("Origin", super::http::value(&self.client.roots.home))
                .body(body.to_string());
            let resp = self.client.http.send(req).await?;
            let status = resp.status().as_u16();
            let text = resp.text().await.map_err(Error::network)?;
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match cloud_error(status, &v) {
                None if (200..300).contains(&status) => return Ok(v),
                None if status == 401 || status == 421 => return Err(Error::SessionExpired),
                None => {
                    return Err(Error::Protocol(format!("{path} answered {status}")));
                }
                Some(CloudError::Throttled(Some(wait))) if wait <= MAX_INLINE_WAIT => {
                    tracing::info!(wait, "iCloud asked to wait");
                    tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
                }
                Some(CloudError::Throttled(wait)) => {
                    return Err(Error::Throttled {
                        until: chrono::Utc::now().timestamp() + wait.unwrap_or(3600),
                    });
                }
                Some(CloudError::Denied(reason)) => return Err(Error::AccessDenied(reason)),
                Some(CloudError::Auth) => return Err(Error::SessionExpired),
                Some(CloudError::Other(code)) => {
                    return Err(Error::Protocol(format!("{path}: {code}")));
                }
            }
        }
        Err(Error::Throttled {
            until: chrono::Utc::now().timestamp() + 3600,
        })
    }

    /// The zones of a database (skipping deleted ones).
    pub async fn zones(&self, db: Db) -> Result<Vec<Zone>> {
        let v = self.call(db, "/zones/list", &json!({})).await?;
        Ok(v.get("zones")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|z| !z.get("deleted").and_then(Value::as_bool).unwrap_or(false))
            .filter(|z| z.get("serverErrorCode").is_none())
            .filter_map(|z| {
                let id = z.get("zoneID")?;
                Some(Zone {
                    db,
                    name: id.get("zoneName")?.as_str()?.to_string(),
                    owner: id
                        .get("ownerRecordName")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    sync_token: z
                        .get("syncToken")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
            })
            .collect())
    }

    /// Fails unless Apple finished indexing the library.
    pub async fn check_indexing(&self, zone: &Zone) -> Result<()> {
        let body = json!({"query": {"recordType": "CheckIndexingState"}, "zoneID": zone.id()});
        let v = self.call(zone.db, "/records/query", &body).await?;
        let state = v
            .pointer("/records/0/fields/state/value")
            .and_then(Value::as_str);
        if state.is_some_and(|s| s != "FINISHED") {
            return Err(Error::NotIndexed);
        }
        Ok(())
    }

    /// One page of a view, from `rank`: records of both types.
    pub async fn page(&self, zone: &Zone, view: View, rank: u64, size: u64) -> Result<Vec<Record>> {
        let body = json!({
            "query": {
                "recordType": view.list_type(),
                "filterBy": [
                    {"fieldName": "startRank", "comparator": "EQUALS", "fieldValue": {"type": "INT64", "value": rank}},
                    {"fieldName": "direction", "comparator": "EQUALS", "fieldValue": {"type": "STRING", "value": "ASCENDING"}}
                ]
            },
            "resultsLimit": size * 2,
            "zoneID": zone.id(),
        });
        let v = self.call(zone.db, "/records/query", &body).await?;
        Ok(records_of(&v))
    }

    /// Counts per category, in one request.
    pub async fn counts(&self, zone: &Zone) -> Result<AppleCounts> {
        let ids = [
            "CPLAssetByAssetDateWithoutHiddenOrDeleted",
            "CPLAssetInSmartAlbumByAssetDate:Video",
            "CPLAssetHiddenByAssetDate",
            "CPLAssetDeletedByExpungedDate",
        ];
        let batch: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({"resultsLimit": 1, "query": {"recordType": "HyperionIndexCountLookup",
                    "filterBy": {"fieldName": "indexCountID", "comparator": "IN",
                        "fieldValue": {"type": "STRING_LIST", "value": [id]}}},
                    "zoneWide": true, "zoneID": zone.id()})
            })
            .collect();
        let v = self
            .call(
                zone.db,
                "/internal/records/query/batch",
                &json!({"batch": batch}),
            )
            .await?;
        let n = |i: usize| {
            v.pointer(&format!("/batch/{i}/records/0/fields/itemCount/value"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        Ok(AppleCounts {
            all: n(0),
            videos: n(1),
            hidden: n(2),
            deleted: n(3),
        })
    }

    /// One page of the change feed after `token` (all of it when `None`).
    pub async fn changes(&self, zone: &Zone, token: Option<&str>) -> Result<Changes> {
        let mut z = json!({"zoneID": zone.id(), "reverse": false});
        if let Some(t) = token {
            z["syncToken"] = json!(t);
        }
        let v = self
            .call(
                zone.db,
                "/changes/zone",
                &json!({"zones": [z], "resultsLimit": 200}),
            )
            .await?;
        let first = v
            .pointer("/zones/0")
            .ok_or_else(|| Error::Protocol("changes/zone without zones".into()))?;
        if let Some(code) = first.get("serverErrorCode").and_then(Value::as_str) {
            return Err(match cloud_error(200, first) {
                Some(CloudError::Throttled(w)) => Error::Throttled {
                    until: chrono::Utc::now().timestamp() + w.unwrap_or(3600),
                },
                Some(CloudError::Denied(r)) => Error::AccessDenied(r),
                _ => Error::Protocol(format!("changes/zone: {code}")),
            });
        }
        Ok(Changes {
            records: records_of(first),
            sync_token: first
                .get("syncToken")
                .and_then(Value::as_str)
                .map(str::to_string),
            more: first
                .get("moreComing")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// Fetches records by name (fresh download URLs, masters missing from a feed page).
    pub async fn lookup(&self, zone: &Zone, names: &[String]) -> Result<HashMap<String, Record>> {
        let mut out = HashMap::new();
        for chunk in names.chunks(200) {
            let records: Vec<Value> = chunk.iter().map(|n| json!({"recordName": n})).collect();
            let v = self
                .call(
                    zone.db,
                    "/records/lookup",
                    &json!({"records": records, "zoneID": zone.id()}),
                )
                .await?;
            out.extend(records_of(&v).into_iter().map(|r| (r.name.clone(), r)));
        }
        Ok(out)
    }

    /// Downloads `res` into `part`, resuming from what is already there. Resets are resumed
    /// with `Range`; an expired link is [`Error::LinkExpired`] (the caller fetches the record
    /// again). Not fsynced: the store fsyncs what it keeps before the commit that points at
    /// it, and the sync drops spool files older than the last boot (see `sync::clean_spool`),
    /// so a power cut never resumes onto a torn file.
    pub async fn download(&self, url: &str, size: u64, part: &Path) -> Result<()> {
        let mut failures = 0;
        loop {
            let have = tokio::fs::metadata(part).await.map_or(0, |m| m.len());
            if have == size && size > 0 {
                break;
            }
            if have > size && size > 0 {
                tokio::fs::remove_file(part)
                    .await
                    .map_err(Error::io(part))?;
                continue;
            }
            match self.fetch(url, have, part).await {
                Ok(()) if size == 0 => break,
                Ok(()) => {}
                Err(e @ (Error::LinkExpired | Error::Throttled { .. } | Error::BadUrl(_))) => {
                    return Err(e);
                }
                Err(e) => {
                    failures += 1;
                    if failures >= 5 {
                        return Err(e);
                    }
                    tracing::info!(error = %e, "download interrupted; resuming");
                    tokio::time::sleep(Duration::from_millis(200 * failures)).await;
                }
            }
        }
        Ok(())
    }

    async fn fetch(&self, url: &str, from: u64, part: &Path) -> Result<()> {
        let mut req = self.client.http.request(Method::GET, url)?;
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let resp = self.client.http.send(req).await?;
        let status = resp.status().as_u16();
        let append = match status {
            206 => true,
            200 => false,
            403 | 404 | 410 => return Err(Error::LinkExpired),
            416 => {
                tokio::fs::remove_file(part)
                    .await
                    .map_err(Error::io(part))?;
                return Err(Error::Protocol("range not satisfiable; restarting".into()));
            }
            503 | 429 => {
                let wait = resp
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                if let Some(w) = wait.filter(|w| *w <= MAX_INLINE_WAIT) {
                    tokio::time::sleep(Duration::from_secs(w.unsigned_abs())).await;
                    return Err(Error::Protocol("download throttled; retrying".into()));
                }
                return Err(Error::Throttled {
                    until: chrono::Utc::now().timestamp() + wait.unwrap_or(3600),
                });
            }
            s => return Err(Error::Protocol(format!("download answered {s}"))),
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .await
            .map_err(Error::io(part))?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Error::network)?;
            file.write_all(&chunk).await.map_err(Error::io(part))?;
        }
        file.flush().await.map_err(Error::io(part))?;
        Ok(())
    }
}

enum CloudError {
    Throttled(Option<i64>),
    Denied(String),
    Auth,
    Other(String),
}

/// Apple's error shapes: HTTP 503, or a `serverErrorCode` in the body.
fn cloud_error(status: u16, v: &Value) -> Option<CloudError> {
    let code = v.get("serverErrorCode").and_then(Value::as_str);
    let retry = v.get("retryAfter").and_then(Value::as_i64);
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_string();
    match code {
        Some("THROTTLED" | "TRY_AGAIN_LATER" | "SERVICE_UNAVAILABLE") => {
            Some(CloudError::Throttled(retry))
        }
        Some("ACCESS_DENIED") => Some(CloudError::Denied(reason)),
        Some("AUTHENTICATION_FAILED" | "AUTHENTICATION_REQUIRED") => Some(CloudError::Auth),
        Some(other) => Some(CloudError::Other(format!("{other}: {reason}"))),
        None if status == 503 || status == 429 => Some(CloudError::Throttled(retry)),
        None => None,
    }
}

pub(super) fn records_of(v: &Value) -> Vec<Record> {
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
