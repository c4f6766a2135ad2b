//! The library's redb tables and their versioned value encodings.
//!
//! Values are one version byte followed by postcard. Decoding the current version is direct;
//! an older version goes through [`Versioned::migrate`], so a schema change migrates values
//! in place as they are read and rewritten, never by a big-bang conversion.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::asset::{Asset, AssetId};
use super::error::{Error, Result};
use crate::store::BlobId;

/// Asset id → asset.
pub(crate) const ASSETS: TableDefinition<u64, &[u8]> = TableDefinition::new("library.assets");
/// Blob id → the asset holding it (dedup across sources).
pub(crate) const BLOB_OWNERS: TableDefinition<&[u8; 32], u64> =
    TableDefinition::new("library.blob_owners");
/// Origin key → what it delivered (skip unchanged files without reading them).
pub(crate) const ORIGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("library.origins");
/// (capture instant, asset id) → () for active, visible assets: the timeline order.
pub(crate) const TIMELINE: TableDefinition<&[u8; 16], ()> =
    TableDefinition::new("library.timeline");
/// (trashed-at, asset id) → () for trashed assets.
pub(crate) const TRASH: TableDefinition<&[u8; 16], ()> = TableDefinition::new("library.trash");
/// Live Photo content identifier → asset.
pub(crate) const CONTENT_IDS: TableDefinition<&str, u64> =
    TableDefinition::new("library.content_ids");
/// Named counters and settings of the library.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("library.meta");

/// Schema generation of the library tables as a whole. 2: album tables. 3: month and camera
/// tallies. 4: source folder tallies.
pub(crate) const SCHEMA: u64 = 4;

/// A value stored with a version byte.
pub(crate) trait Versioned: Serialize + DeserializeOwned {
    /// Table name, for errors.
    const TABLE: &'static str;
    /// Version written by this binary.
    const VERSION: u8;
    /// Decodes an older version. No older versions exist yet.
    fn migrate(version: u8, _bytes: &[u8]) -> Result<Self> {
        Err(Error::BadValue {
            table: Self::TABLE,
            what: format!("unknown value version {version}"),
        })
    }
}

pub(crate) fn encode<T: Versioned>(value: &T) -> Result<Vec<u8>> {
    let mut out = vec![T::VERSION];
    postcard::to_io(value, &mut out).map_err(|e| Error::BadValue {
        table: T::TABLE,
        what: e.to_string(),
    })?;
    Ok(out)
}

pub(crate) fn decode<T: Versioned>(bytes: &[u8]) -> Result<T> {
    let (&version, rest) = bytes.split_first().ok_or(Error::BadValue {
        table: T::TABLE,
        what: "empty value".into(),
    })?;
    if version == T::VERSION {
        postcard::from_bytes(rest).map_err(|e| Error::BadValue {
            table: T::TABLE,
            what: e.to_string(),
        })
    } else {
        T::migrate(version, rest)
    }
}

impl Versioned for Asset {
    const TABLE: &'static str = "library.assets";
    /// 2: `notes` (caption, keywords) appended.
    const VERSION: u8 = 2;

    /// Version 1 is version 2 without the trailing `notes`: postcard writes fields in order
    /// with no framing, so appending empty notes (no caption: 0, no keywords: 0) reads it.
    fn migrate(version: u8, bytes: &[u8]) -> Result<Self> {
        if version != 1 {
            return Err(Error::BadValue {
                table: Self::TABLE,
                what: format!("unknown value version {version}"),
            });
        }
        let mut v2 = bytes.to_vec();
        v2.extend_from_slice(&[0, 0]);
        postcard::from_bytes(&v2).map_err(|e| Error::BadValue {
            table: Self::TABLE,
            what: e.to_string(),
        })
    }
}

/// File identity as the file system sees it, to skip unchanged files cheaply.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Stamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Inode number.
    pub inode: u64,
}

/// What an origin delivered last time.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct OriginEntry {
    pub asset: AssetId,
    pub blob: BlobId,
    pub stamp: Option<Stamp>,
}

impl Versioned for OriginEntry {
    const TABLE: &'static str = "library.origins";
    const VERSION: u8 = 1;
}

/// A key that sorts by (signed instant, id) byte-wise.
pub(crate) fn order_key(instant: i64, id: AssetId) -> [u8; 16] {
    let mut k = [0u8; 16];
    let flipped = instant.cast_unsigned() ^ (1 << 63);
    k[..8].copy_from_slice(&flipped.to_be_bytes());
    k[8..].copy_from_slice(&id.0.to_be_bytes());
    k
}

/// The inverse of [`order_key`].
pub(crate) fn split_order_key(k: &[u8; 16]) -> (i64, AssetId) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&k[..8]);
    b.copy_from_slice(&k[8..]);
    (
        (u64::from_be_bytes(a) ^ (1 << 63)).cast_signed(),
        AssetId(u64::from_be_bytes(b)),
    )
}

pub(crate) fn get_asset(
    t: &impl ReadableTable<u64, &'static [u8]>,
    id: AssetId,
) -> Result<Option<Asset>> {
    t.get(id.0)?.map(|v| decode(v.value())).transpose()
}

pub(crate) fn meta_get(t: &impl ReadableTable<&'static str, u64>, key: &str) -> Result<u64> {
    Ok(t.get(key)?.map_or(0, |v| v.value()))
}

pub(crate) fn meta_add(
    t: &mut redb::Table<&'static str, u64>,
    key: &str,
    delta: i64,
) -> Result<()> {
    let next = meta_get(t, key)?.saturating_add_signed(delta);
    t.insert(key, next)?;
    Ok(())
}

/// Writes an asset and moves its timeline/trash keys when its time or state changed.
pub(crate) fn put_asset(
    txn: &redb::WriteTransaction,
    before: Option<&Asset>,
    after: &Asset,
) -> Result<()> {
    let key_of = |a: &Asset| match a.state {
        super::asset::State::Active if !a.hidden => (Some(order_key(a.taken.utc(), a.id)), None),
        super::asset::State::Active => (None, None),
        super::asset::State::Trashed { at, .. } => (None, Some(order_key(at, a.id))),
    };
    let (old_tl, old_tr) = before.map_or((None, None), key_of);
    let (new_tl, new_tr) = key_of(after);
    super::tally::shift(
        txn,
        before.filter(|_| old_tl.is_some()),
        Some(after).filter(|_| new_tl.is_some()),
    )?;
    let mut timeline = txn.open_table(TIMELINE)?;
    if old_tl != new_tl {
        if let Some(k) = old_tl {
            timeline.remove(&k)?;
        }
        if let Some(k) = new_tl {
            timeline.insert(&k, ())?;
        }
    }
    let mut trash = txn.open_table(TRASH)?;
    if old_tr != new_tr {
        if let Some(k) = old_tr {
            trash.remove(&k)?;
        }
        if let Some(k) = new_tr {
            trash.insert(&k, ())?;
        }
    }
    txn.open_table(ASSETS)?
        .insert(after.id.0, encode(after)?.as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_asset_reads_with_empty_notes() {
        let json = serde_json::json!({"id": 7, "kind": "Photo",
            "original": {"blob": vec![1u8; 32], "size": 3, "name": "a.jpg"},
            "taken": {"local": 5, "offset": null, "source": "FileTime"}, "added": 9,
            "width": null, "height": null, "orientation": null, "duration_ms": null,
            "make": null, "model": null, "gps": null, "content_id": null, "format": "jpg",
            "favorite": true, "hidden": false, "origins": [], "state": "Active",
            "warnings": ["w"], "live_video": null, "edited": null, "raw": null, "sidecars": []});
        let asset: Asset = serde_json::from_value(json).unwrap();
        let v2 = encode(&asset).unwrap();
        assert_eq!(v2[0], 2);
        // Empty notes are the last two bytes; without them and with version 1, the old value.
        assert_eq!(&v2[v2.len() - 2..], &[0, 0]);
        let mut v1 = v2[..v2.len() - 2].to_vec();
        v1[0] = 1;
        assert_eq!(decode::<Asset>(&v1).unwrap(), asset);
        let mut noted = asset.clone();
        noted.notes.caption = Some("At the beach".into());
        noted.notes.keywords = vec!["sea".into()];
        assert_eq!(decode::<Asset>(&encode(&noted).unwrap()).unwrap(), noted);
    }

    #[test]
    fn order_keys_sort_by_time_then_id() {
        let mut keys = [
            order_key(5, AssetId(1)),
            order_key(-3, AssetId(9)),
            order_key(5, AssetId(0)),
            order_key(i64::MIN, AssetId(2)),
        ];
        keys.sort_unstable();
        let decoded: Vec<_> = keys.iter().map(split_order_key).collect();
        assert_eq!(
            decoded,
            vec![
                (i64::MIN, AssetId(2)),
                (-3, AssetId(9)),
                (5, AssetId(0)),
                (5, AssetId(1))
            ]
        );
    }

    #[test]
    fn unknown_version_is_refused() {
        let e = OriginEntry {
            asset: AssetId(3),
            blob: BlobId([1; 32]),
            stamp: None,
        };
        let mut bytes = encode(&e).unwrap();
        assert_eq!(decode::<OriginEntry>(&bytes).unwrap(), e);
        bytes[0] = 9;
        assert!(matches!(
            decode::<OriginEntry>(&bytes),
            Err(Error::BadValue { .. })
        ));
    }
}
