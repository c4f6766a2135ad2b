//! Albums a source keeps in step (iCloud albums): made, renamed, refilled and removed by the
//! sync, never by hand, and never touching an album a person made here.

use std::collections::HashSet;

use redb::{ReadableDatabase, ReadableTable};

use super::albums::{ALBUM_ITEMS, ALBUMS, Album, Mirror, clean_name, item_key};
use super::asset::AssetId;
use super::db::{self, ASSETS, META};
use super::error::Result;
use super::{Library, unix_now};

/// What keeping one album in step changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MirrorChange {
    /// The album was made now.
    pub created: bool,
    /// Its name changed.
    pub renamed: bool,
    /// Photos put in.
    pub added: u64,
    /// Photos taken out.
    pub removed: u64,
}

/// A source's album name as an album name here: trimmed, at most 100 characters, never empty.
fn fit_name(name: &str) -> String {
    let short: String = name.trim().chars().take(100).collect();
    clean_name(&short).unwrap_or_else(|_| "Untitled album".to_string())
}

impl Library {
    /// The albums mirrored from `source` for `account`.
    pub fn mirrored_albums(&self, source: &str, account: &str) -> Result<Vec<Album>> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(ALBUMS)?.iter()? {
            let (_, v) = row?;
            let album: Album = db::decode(v.value())?;
            if album
                .mirror
                .as_ref()
                .is_some_and(|m| m.source == source && m.account == account)
            {
                out.push(album);
            }
        }
        Ok(out)
    }

    /// Makes the album mirroring `mirror` hold exactly `assets` under `name` (in one
    /// transaction). Unknown asset ids are skipped.
    pub fn mirror_album(
        &self,
        mirror: &Mirror,
        name: &str,
        assets: &[AssetId],
    ) -> Result<(u64, MirrorChange)> {
        let name = fit_name(name);
        let mut change = MirrorChange::default();
        let txn = self.db.begin_write()?;
        let id = {
            let mut albums = txn.open_table(ALBUMS)?;
            let mut found: Option<Album> = None;
            for row in albums.iter()? {
                let (_, v) = row?;
                let album: Album = db::decode(v.value())?;
                if album.mirror.as_ref() == Some(mirror) {
                    found = Some(album);
                    break;
                }
            }
            let album = match found {
                Some(mut a) if a.name != name => {
                    a.name.clone_from(&name);
                    change.renamed = true;
                    albums.insert(a.id, db::encode(&a)?.as_slice())?;
                    a
                }
                Some(a) => a,
                None => {
                    let mut meta = txn.open_table(META)?;
                    let id = db::meta_get(&meta, "next_album")? + 1;
                    meta.insert("next_album", id)?;
                    let a = Album {
                        id,
                        name,
                        created: unix_now(),
                        mirror: Some(mirror.clone()),
                    };
                    albums.insert(id, db::encode(&a)?.as_slice())?;
                    change.created = true;
                    a
                }
            };
            let known = txn.open_table(ASSETS)?;
            let mut want: HashSet<AssetId> = HashSet::new();
            for &a in assets {
                if known.get(a.0)?.is_some() {
                    want.insert(a);
                }
            }
            let mut items = txn.open_table(ALBUM_ITEMS)?;
            let have: Vec<AssetId> = items
                .range::<&[u8; 16]>(
                    &item_key(album.id, AssetId(0))..=&item_key(album.id, AssetId(u64::MAX)),
                )?
                .filter_map(std::result::Result::ok)
                .map(|(k, _)| {
                    AssetId(u64::from_be_bytes(
                        k.value()[8..].try_into().unwrap_or_default(),
                    ))
                })
                .collect();
            for a in &have {
                if !want.remove(a) {
                    items.remove(&item_key(album.id, *a))?;
                    change.removed += 1;
                }
            }
            for a in want {
                items.insert(&item_key(album.id, a), ())?;
                change.added += 1;
            }
            album.id
        };
        txn.commit()?;
        Ok((id, change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Options;

    #[test]
    fn a_mirrored_album_follows_its_source_and_leaves_own_albums_alone() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path(), Options::default()).unwrap();
        let own = lib.create_album("Mine").unwrap();
        let m = Mirror {
            source: "iCloud".into(),
            account: "anna@example.com".into(),
            key: "PrimarySync|A1".into(),
        };
        let (id, c) = lib.mirror_album(&m, "  Trip ", &[AssetId(77)]).unwrap();
        assert!(
            c.created && !c.renamed && c.added == 0,
            "unknown assets are skipped"
        );
        let (again, c) = lib.mirror_album(&m, "Trip 2", &[]).unwrap();
        assert_eq!(again, id);
        assert!(!c.created && c.renamed);
        let albums = lib.albums().unwrap();
        assert_eq!(albums.len(), 2);
        assert!(
            albums
                .iter()
                .any(|(a, _)| a.id == own.id && a.mirror.is_none())
        );
        assert_eq!(
            lib.mirrored_albums("iCloud", "anna@example.com")
                .unwrap()
                .len(),
            1
        );
        assert!(
            lib.mirrored_albums("iCloud", "bob@example.com")
                .unwrap()
                .is_empty()
        );
        let (_, c) = lib.mirror_album(&m, "", &[]).unwrap();
        assert!(c.renamed);
        assert_eq!(lib.album(id).unwrap().0.name, "Untitled album");
    }
}
