//! The fake's user albums and folders: `CPLAlbum` records (name as base64 `albumNameEnc`,
//! `albumType` 0 album / 3 folder, `parentId`, `isDeleted`), `CPLContainerRelation` records
//! linking assets, the `CPLAlbumByPositionLive` listing (paged with `continuationMarker`,
//! folder children by `parentId`) and `CPLContainerRelationLiveByAssetDate`, and their
//! entries in the change feed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::{Photo, World, Zone};

/// Album records per listing page, small so the client must follow `continuationMarker`.
const LIST_PAGE: usize = 3;
const ROOT: &str = "----Root-Folder----";

#[derive(Debug, Clone)]
pub struct Album {
    pub record: String,
    pub name: String,
    /// 0 album, 3 folder.
    pub kind: i64,
    pub parent: Option<String>,
    /// Asset record names with the version their relation was made in.
    pub members: Vec<(String, u64)>,
    pub deleted: bool,
    pub version: u64,
    pub position: i64,
}

fn relation_name(asset: &str, album: &str) -> String {
    format!("{asset}-IN-{album}")
}

impl World {
    fn new_album(
        &mut self,
        apple_id: &str,
        zone: &str,
        name: &str,
        kind: i64,
        parent: Option<&str>,
    ) -> String {
        let record = format!(
            "{:08X}-ALBM-4C7E-9F00-{:012X}",
            self.accounts.len(),
            rand_ish(name)
        );
        let z = self.zone(apple_id, zone);
        let version = z.bump();
        let position = 1024 * (i64::try_from(z.albums.len()).unwrap() + 1);
        z.albums.insert(
            record.clone(),
            Album {
                record: record.clone(),
                name: name.to_string(),
                kind,
                parent: parent.map(str::to_string),
                members: Vec::new(),
                deleted: false,
                version,
                position,
            },
        );
        record
    }

    /// A user album (inside `folder` when given); its record name.
    pub fn add_album(
        &mut self,
        apple_id: &str,
        zone: &str,
        name: &str,
        folder: Option<&str>,
    ) -> String {
        self.new_album(apple_id, zone, name, 0, folder)
    }

    /// A folder of albums; its record name.
    pub fn add_folder(&mut self, apple_id: &str, zone: &str, name: &str) -> String {
        self.new_album(apple_id, zone, name, 3, None)
    }

    pub fn album_add(&mut self, apple_id: &str, zone: &str, album: &str, assets: &[String]) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let a = z.albums.get_mut(album).expect("no such album");
        for asset in assets {
            a.members.push((asset.clone(), v));
        }
    }

    pub fn album_remove(&mut self, apple_id: &str, zone: &str, album: &str, asset: &str) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let a = z.albums.get_mut(album).expect("no such album");
        a.members.retain(|(m, _)| m != asset);
        z.tombstones.push((v, relation_name(asset, album)));
    }

    pub fn rename_album(&mut self, apple_id: &str, zone: &str, album: &str, name: &str) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let a = z.albums.get_mut(album).expect("no such album");
        a.name = name.to_string();
        a.version = v;
    }

    /// Deleted on a device: the record stays with `isDeleted` 1.
    pub fn delete_album(&mut self, apple_id: &str, zone: &str, album: &str) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let a = z.albums.get_mut(album).expect("no such album");
        a.deleted = true;
        a.version = v;
    }
}

fn rand_ish(name: &str) -> u64 {
    let h = blake3::hash(name.as_bytes());
    u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap()) & 0xFFFF_FFFF_FFFF
}

fn zone_id(zone: &str) -> Value {
    json!({"zoneName": zone, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"})
}

pub fn album_record(a: &Album, zone: &str) -> Value {
    let mut f = serde_json::Map::new();
    f.insert(
        "albumNameEnc".into(),
        json!({"value": B64.encode(a.name.as_bytes()), "type": "ENCRYPTED_BYTES"}),
    );
    f.insert(
        "albumType".into(),
        json!({"value": a.kind, "type": "INT64"}),
    );
    f.insert(
        "isDeleted".into(),
        json!({"value": i64::from(a.deleted), "type": "INT64"}),
    );
    f.insert(
        "position".into(),
        json!({"value": a.position, "type": "INT64"}),
    );
    f.insert("sortAscending".into(), json!({"value": 1, "type": "INT64"}));
    f.insert("sortType".into(), json!({"value": 0, "type": "INT64"}));
    f.insert(
        "parentId".into(),
        json!({"value": a.parent.as_deref().unwrap_or(ROOT), "type": "STRING"}),
    );
    json!({"recordName": a.record, "recordType": "CPLAlbum", "recordChangeTag": format!("b{}", a.version),
        "fields": f, "deleted": false, "zoneID": zone_id(zone)})
}

fn relation_record(asset: &str, album: &str, position: usize, zone: &str) -> Value {
    json!({"recordName": relation_name(asset, album), "recordType": "CPLContainerRelation",
    "recordChangeTag": "r1", "deleted": false, "zoneID": zone_id(zone),
    "fields": {
        "itemId": {"value": asset, "type": "STRING"},
        "containerId": {"value": album, "type": "STRING"},
        "position": {"value": i64::try_from(position).unwrap() * 1024, "type": "INT64"},
        "isKeyAsset": {"value": i64::from(position == 0), "type": "INT64"},
    }})
}

fn filter<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["query"]["filterBy"]
        .as_array()?
        .iter()
        .find(|f| f["fieldName"] == name)
        .map(|f| &f["fieldValue"]["value"])
}

/// `records/query` for the album types; `None` when the record type is not about albums.
pub fn query(w: &mut World, apple_id: &str, zone: &str, body: &Value) -> Option<Value> {
    match body["query"]["recordType"].as_str()? {
        "CPLAlbumByPositionLive" => {
            let parent = filter(body, "parentId").and_then(Value::as_str);
            let z = w.zone(apple_id, zone);
            let mut all: Vec<Value> = Vec::new();
            if parent.is_none() {
                let root = Album {
                    record: ROOT.into(),
                    name: String::new(),
                    kind: 3,
                    parent: None,
                    members: Vec::new(),
                    deleted: false,
                    version: 1,
                    position: 0,
                };
                all.push(album_record(&root, zone));
            }
            let mut albums: Vec<&Album> = z
                .albums
                .values()
                .filter(|a| a.parent.as_deref() == parent)
                .collect();
            albums.sort_by_key(|a| a.position);
            all.extend(albums.into_iter().map(|a| album_record(a, zone)));
            let from: usize = body["continuationMarker"]
                .as_str()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = all.iter().skip(from).take(LIST_PAGE).cloned().collect();
            let mut out = json!({"records": page});
            if from + LIST_PAGE < all.len() {
                out["continuationMarker"] = json!((from + LIST_PAGE).to_string());
            }
            Some(out)
        }
        "CPLContainerRelationLiveByAssetDate" => {
            let album = filter(body, "parentId")?.as_str()?.to_string();
            let rank = filter(body, "startRank")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let limit = (body["resultsLimit"].as_u64().unwrap_or(200) / 2) as usize;
            let members: Vec<Photo> = {
                let z = w.zone(apple_id, zone);
                live_members(z, &album)
            };
            let mut records = Vec::new();
            for (i, p) in members.iter().enumerate().skip(rank).take(limit) {
                records.push(relation_record(&p.asset, &album, i, zone));
                records.push(w.master_record(p, zone, false));
                records.push(w.asset_record(p, zone, false));
            }
            Some(json!({"records": records}))
        }
        _ => None,
    }
}

/// An album's photos that are neither deleted nor hidden, newest first.
fn live_members(z: &Zone, album: &str) -> Vec<Photo> {
    let Some(a) = z.albums.get(album).filter(|a| !a.deleted) else {
        return Vec::new();
    };
    let mut v: Vec<Photo> = a
        .members
        .iter()
        .filter_map(|(m, _)| z.photos.get(m))
        .filter(|p| !p.deleted && !p.hidden)
        .cloned()
        .collect();
    v.sort_by(|a, b| b.date_ms.cmp(&a.date_ms).then(a.asset.cmp(&b.asset)));
    v
}

/// Album and relation records changed after `since`, with their versions, for the feed.
pub fn feed(z: &Zone, zone: &str, since: u64) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    for a in z.albums.values() {
        if a.version > since {
            out.push((a.version, album_record(a, zone)));
        }
        for (i, (m, v)) in a.members.iter().enumerate() {
            if *v > since {
                out.push((*v, relation_record(m, &a.record, i, zone)));
            }
        }
    }
    out
}
