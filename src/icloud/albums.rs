//! iCloud albums mirrored into shoebox albums: the album list (`CPLAlbumByPositionLive`,
//! folders walked through `parentId`), each album's members (`CPLContainerRelation` listing),
//! and the step that makes the shoebox albums of one Apple ID match. Photos never move
//! because of an album: a deleted iCloud album only removes the shoebox album.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::api::{Photos, Record, Zone, records_of};
use super::error::Result;
use crate::library::{AssetId, Library, Mirror, Origin};

/// The source name shown on mirrored albums.
pub const SOURCE: &str = "iCloud";
/// Apple's fixed folders, which are not albums.
const ROOTS: [&str; 2] = ["----Root-Folder----", "----Project-Root-Folder----"];
/// `albumType` of a plain album and of a folder (smart albums, 6, are not mirrored).
const ALBUM: i64 = 0;
const FOLDER: i64 = 3;
/// How deep folders are walked.
const MAX_DEPTH: usize = 4;
/// Members per listing page (masters; Apple sends assets, masters and relations).
const PAGE: u64 = 100;

/// An album at Apple, with its folder path in the name ("Trips / Italy").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppleAlbum {
    /// `CPLAlbum` record name.
    pub record: String,
    /// Name as shown.
    pub name: String,
}

/// What mirroring did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlbumReport {
    /// Albums made here.
    pub created: u64,
    /// Albums renamed or refilled.
    pub changed: u64,
    /// Albums removed here because iCloud deleted them.
    pub removed: u64,
}

impl Photos<'_> {
    /// One `CPLAlbumByPositionLive` listing (all pages), optionally inside a folder.
    async fn album_records(&self, zone: &Zone, parent: Option<&str>) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut query = json!({"recordType": "CPLAlbumByPositionLive"});
            if let Some(p) = parent {
                query["filterBy"] = json!([{"fieldName": "parentId", "comparator": "EQUALS",
                    "fieldValue": {"type": "STRING", "value": p}}]);
            }
            let mut body = json!({"query": query, "resultsLimit": 200, "zoneID": zone.id()});
            if let Some(m) = &marker {
                body["continuationMarker"] = json!(m);
            }
            let v = self.call(zone.db, "/records/query", &body).await?;
            out.extend(records_of(&v));
            marker = v
                .get("continuationMarker")
                .and_then(Value::as_str)
                .map(str::to_string);
            if marker.is_none() {
                return Ok(out);
            }
        }
    }

    /// Every live album of the zone, folders walked, each once.
    pub async fn albums(&self, zone: &Zone) -> Result<Vec<AppleAlbum>> {
        let mut folders: HashMap<String, (String, Option<String>)> = HashMap::new();
        let mut albums: Vec<(String, String, Option<String>)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut todo: Vec<(Option<String>, usize)> = vec![(None, 0)];
        while let Some((parent, depth)) = todo.pop() {
            for r in self.album_records(zone, parent.as_deref()).await? {
                if r.rtype != "CPLAlbum"
                    || ROOTS.contains(&r.name.as_str())
                    || r.int("isDeleted") == Some(1)
                    || !seen.insert(r.name.clone())
                {
                    continue;
                }
                let name = r.text("albumNameEnc").unwrap_or_default();
                let up = r.text("parentId").filter(|p| !ROOTS.contains(&p.as_str()));
                match r.int("albumType").unwrap_or(ALBUM) {
                    ALBUM => albums.push((r.name, name, up)),
                    FOLDER => {
                        if depth < MAX_DEPTH {
                            todo.push((Some(r.name.clone()), depth + 1));
                        }
                        folders.insert(r.name, (name, up));
                    }
                    _ => {}
                }
            }
        }
        Ok(albums
            .into_iter()
            .map(|(record, name, up)| AppleAlbum {
                name: path_name(&folders, &name, up),
                record,
            })
            .collect())
    }

    /// The asset record names in an album.
    pub async fn album_members(&self, zone: &Zone, album: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut rank = 0;
        loop {
            let body = json!({
                "query": {
                    "recordType": "CPLContainerRelationLiveByAssetDate",
                    "filterBy": [
                        {"fieldName": "startRank", "comparator": "EQUALS", "fieldValue": {"type": "INT64", "value": rank}},
                        {"fieldName": "direction", "comparator": "EQUALS", "fieldValue": {"type": "STRING", "value": "ASCENDING"}},
                        {"fieldName": "parentId", "comparator": "EQUALS", "fieldValue": {"type": "STRING", "value": album}}
                    ]
                },
                "resultsLimit": PAGE * 2,
                "zoneID": zone.id(),
            });
            let v = self.call(zone.db, "/records/query", &body).await?;
            let records = records_of(&v);
            let masters = records.iter().filter(|r| r.rtype == "CPLMaster").count() as u64;
            out.extend(
                records
                    .into_iter()
                    .filter(|r| r.rtype == "CPLAsset")
                    .map(|r| r.name),
            );
            if masters == 0 {
                return Ok(out);
            }
            rank += masters;
        }
    }
}

/// "Folder / Sub / Album" from the folder chain (cycles and missing folders end it).
fn path_name(
    folders: &HashMap<String, (String, Option<String>)>,
    name: &str,
    mut up: Option<String>,
) -> String {
    let mut parts = vec![name.to_string()];
    let mut hops = 0;
    while let Some(p) = up.take() {
        let Some((folder, next)) = folders.get(&p) else {
            break;
        };
        parts.push(folder.clone());
        hops += 1;
        if hops > MAX_DEPTH {
            break;
        }
        up.clone_from(next);
    }
    parts.reverse();
    parts.join(" / ")
}

/// Makes the shoebox albums of `apple_id` from `zone` match Apple's: new ones made, renamed
/// and refilled ones updated, deleted ones removed (their photos stay).
pub async fn mirror(
    lib: &Library,
    photos: &Photos<'_>,
    apple_id: &str,
    zone: &Zone,
) -> Result<AlbumReport> {
    let mut report = AlbumReport::default();
    let at_apple = photos.albums(zone).await?;
    let mut live: HashSet<String> = HashSet::new();
    for album in &at_apple {
        let members = photos.album_members(zone, &album.record).await?;
        let mut ids: Vec<AssetId> = Vec::new();
        for m in members {
            let origin = Origin::Icloud {
                zone: zone.name.clone(),
                record: m,
            };
            if let Some(id) = lib.asset_of(&origin)? {
                ids.push(id);
            }
        }
        let mirror = key(apple_id, zone, &album.record);
        live.insert(mirror.key.clone());
        let (_, change) = lib.mirror_album(&mirror, &album.name, &ids)?;
        if change.created {
            report.created += 1;
        } else if change.renamed || change.added + change.removed > 0 {
            report.changed += 1;
        }
    }
    let prefix = format!("{}|", zone.name);
    for album in lib.mirrored_albums(SOURCE, apple_id)? {
        let Some(m) = &album.mirror else { continue };
        if m.key.starts_with(&prefix) && !live.contains(&m.key) {
            lib.delete_album(album.id)?;
            report.removed += 1;
        }
    }
    Ok(report)
}

fn key(apple_id: &str, zone: &Zone, record: &str) -> Mirror {
    Mirror {
        source: SOURCE.to_string(),
        account: apple_id.to_string(),
        key: format!("{}|{record}", zone.name),
    }
}

/// Whether a change-feed record touches albums (then they are mirrored again).
pub fn touches_albums(record: &Record) -> bool {
    record.deleted || matches!(record.rtype.as_str(), "CPLAlbum" | "CPLContainerRelation")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_paths_name_nested_albums() {
        let mut f = HashMap::new();
        f.insert("F1".to_string(), ("Trips".to_string(), None));
        f.insert(
            "F2".to_string(),
            ("2024".to_string(), Some("F1".to_string())),
        );
        assert_eq!(
            path_name(&f, "Italy", Some("F2".into())),
            "Trips / 2024 / Italy"
        );
        assert_eq!(path_name(&f, "Loose", None), "Loose");
        assert_eq!(path_name(&f, "Lost", Some("gone".into())), "Lost");
        // A cycle ends.
        f.insert(
            "F1".to_string(),
            ("Trips".to_string(), Some("F2".to_string())),
        );
        assert!(path_name(&f, "X", Some("F2".into())).len() < 80);
    }
}
