//! iCloud Photos over CloudKit: zones, counts, paged listings, the change feed, record
//! lookups (here), the record shapes of `icloud-protocol.md` §2 (`record`) and resumable
//! downloads (`download`).

mod download;
mod record;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::auth::{Account, Client};
use super::error::{Error, Result};

pub(super) use record::records_of;
pub use record::{Item, Record, Res, file_name};

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
