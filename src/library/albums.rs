//! Albums people make: a name and a set of assets. (Albums mirrored from sources arrive with
//! those sources and live in the same tables.)

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::asset::{Asset, AssetId};
use super::db::{self, ASSETS, META, Versioned};
use super::error::{Error, Result};
use super::{Library, unix_now};

/// Album id → album.
pub(crate) const ALBUMS: TableDefinition<u64, &[u8]> = TableDefinition::new("library.albums");
/// (album id, asset id) → () : album membership.
pub(crate) const ALBUM_ITEMS: TableDefinition<&[u8; 16], ()> =
    TableDefinition::new("library.album_items");

/// An album.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Unix seconds when made.
    pub created: i64,
    /// Set when a source keeps this album in step (an iCloud album); `None` for albums
    /// people make here, which no sync ever touches.
    pub mirror: Option<Mirror>,
}

/// Which source album an album mirrors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mirror {
    /// The source, as shown ("iCloud").
    pub source: String,
    /// The account there (the Apple ID): albums are per account.
    pub account: String,
    /// The album's identity at the source (zone and record name for iCloud).
    pub key: String,
}

/// Version 1 had no mirror.
#[derive(Deserialize)]
struct AlbumV1 {
    id: u64,
    name: String,
    created: i64,
}

impl Versioned for Album {
    const TABLE: &'static str = "library.albums";
    const VERSION: u8 = 2;

    fn migrate(version: u8, bytes: &[u8]) -> Result<Self> {
        if version != 1 {
            return Err(Error::BadValue {
                table: Self::TABLE,
                what: format!("unknown value version {version}"),
            });
        }
        let old: AlbumV1 = postcard::from_bytes(bytes).map_err(|e| Error::BadValue {
            table: Self::TABLE,
            what: e.to_string(),
        })?;
        Ok(Self {
            id: old.id,
            name: old.name,
            created: old.created,
            mirror: None,
        })
    }
}

pub(crate) fn item_key(album: u64, asset: AssetId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&album.to_be_bytes());
    k[8..].copy_from_slice(&asset.0.to_be_bytes());
    k
}

pub(crate) fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::BadValue {
            table: "library.albums",
            what: "an album name has 1 to 100 characters".into(),
        });
    }
    Ok(name.to_string())
}

impl Library {
    /// Makes an album.
    pub fn create_album(&self, name: &str) -> Result<Album> {
        let name = clean_name(name)?;
        let txn = self.db.begin_write()?;
        let album = {
            let mut meta = txn.open_table(META)?;
            let id = db::meta_get(&meta, "next_album")? + 1;
            meta.insert("next_album", id)?;
            let album = Album {
                id,
                name,
                created: unix_now(),
                mirror: None,
            };
            txn.open_table(ALBUMS)?
                .insert(id, db::encode(&album)?.as_slice())?;
            album
        };
        txn.commit()?;
        Ok(album)
    }

    /// Renames an album.
    pub fn rename_album(&self, id: u64, name: &str) -> Result<()> {
        let name = clean_name(name)?;
        let txn = self.db.begin_write()?;
        {
            let mut albums = txn.open_table(ALBUMS)?;
            let mut album: Album = albums
                .get(id)?
                .map(|v| db::decode(v.value()))
                .transpose()?
                .ok_or(Error::NoSuchAlbum(id))?;
            album.name = name;
            albums.insert(id, db::encode(&album)?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Deletes an album (its photos stay in the library).
    pub fn delete_album(&self, id: u64) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(ALBUMS)?
                .remove(id)?
                .ok_or(Error::NoSuchAlbum(id))?;
            let mut items = txn.open_table(ALBUM_ITEMS)?;
            let keys: Vec<[u8; 16]> = items
                .range::<&[u8; 16]>(&item_key(id, AssetId(0))..=&item_key(id, AssetId(u64::MAX)))?
                .filter_map(|r| r.ok().map(|(k, _)| *k.value()))
                .collect();
            for k in keys {
                items.remove(&k)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Puts an asset in an album (or takes it out).
    pub fn set_in_album(&self, album: u64, asset: AssetId, member: bool) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(ALBUMS)?.get(album)?.is_none() {
                return Err(Error::NoSuchAlbum(album));
            }
            if db::get_asset(&txn.open_table(ASSETS)?, asset)?.is_none() {
                return Err(Error::NoSuchAsset(asset));
            }
            let mut items = txn.open_table(ALBUM_ITEMS)?;
            if member {
                items.insert(&item_key(album, asset), ())?;
            } else {
                items.remove(&item_key(album, asset))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Every album with its number of assets, by name.
    pub fn albums(&self) -> Result<Vec<(Album, u64)>> {
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ALBUM_ITEMS)?;
        let mut out = Vec::new();
        for row in txn.open_table(ALBUMS)?.iter()? {
            let (_, v) = row?;
            let album: Album = db::decode(v.value())?;
            let n = items
                .range::<&[u8; 16]>(
                    &item_key(album.id, AssetId(0))..=&item_key(album.id, AssetId(u64::MAX)),
                )?
                .count() as u64;
            out.push((album, n));
        }
        out.sort_by_key(|(a, _)| a.name.to_lowercase());
        Ok(out)
    }

    /// One album and its active assets, newest first.
    pub fn album(&self, id: u64) -> Result<(Album, Vec<Asset>)> {
        let txn = self.db.begin_read()?;
        let album: Album = txn
            .open_table(ALBUMS)?
            .get(id)?
            .map(|v| db::decode(v.value()))
            .transpose()?
            .ok_or(Error::NoSuchAlbum(id))?;
        let assets = txn.open_table(ASSETS)?;
        let mut out = Vec::new();
        for row in txn
            .open_table(ALBUM_ITEMS)?
            .range::<&[u8; 16]>(&item_key(id, AssetId(0))..=&item_key(id, AssetId(u64::MAX)))?
        {
            let (k, _) = row?;
            let asset = AssetId(u64::from_be_bytes(
                k.value()[8..].try_into().unwrap_or_default(),
            ));
            if let Some(a) =
                db::get_asset(&assets, asset)?.filter(|a| a.state == super::State::Active)
            {
                out.push(a);
            }
        }
        out.sort_by_key(|a| std::cmp::Reverse((a.taken.utc(), a.id)));
        Ok((album, out))
    }

    /// Takes a deleted asset out of every album (inside the deleting transaction).
    pub(crate) fn forget_in_albums(txn: &redb::WriteTransaction, asset: AssetId) -> Result<()> {
        let ids: Vec<u64> = txn
            .open_table(ALBUMS)?
            .iter()?
            .filter_map(|r| r.ok().map(|(k, _)| k.value()))
            .collect();
        let mut items = txn.open_table(ALBUM_ITEMS)?;
        for id in ids {
            items.remove(&item_key(id, asset))?;
        }
        Ok(())
    }

    /// The albums an asset is in.
    pub fn albums_of(&self, asset: AssetId) -> Result<Vec<u64>> {
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ALBUM_ITEMS)?;
        let mut out = Vec::new();
        for row in txn.open_table(ALBUMS)?.iter()? {
            let (k, _) = row?;
            if items.get(&item_key(k.value(), asset))?.is_some() {
                out.push(k.value());
            }
        }
        Ok(out)
    }
}
