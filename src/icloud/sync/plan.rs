//! What a page of items needs: which files to download (originals of new assets, extras
//! whose rendering changed at Apple), which assets go to the trash or come back. Reads the
//! library only; the writes wait for [`Plan`]'s turn in the pipeline (`pipeline.rs`), so they
//! never queue behind the ingest of the page before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::super::api::{Item, Record, Res, Zone};
use super::super::error::{Error, Result};
use super::origin;
use crate::library::{AssetId, Library, Role, Stamp, State};

/// One file to download.
pub(super) struct Fetch {
    /// Index of its item in the page.
    pub item: usize,
    /// `None` for the original.
    pub role: Option<Role>,
    pub url: Option<String>,
    pub size: u64,
    pub stamp: Stamp,
    /// Where it is spooled; the same for the same rendering in every run (resume).
    pub part: PathBuf,
    pub name: String,
    pub done: bool,
    pub error: Option<Error>,
}

/// A page of items and what it needs.
pub(super) struct Plan {
    pub items: Vec<Item>,
    /// The asset holding each item, when the box has it already.
    pub owners: Vec<Option<AssetId>>,
    pub fetches: Vec<Fetch>,
    /// Record names whose assets go to the trash (deleted at Apple).
    pub trash: Vec<String>,
    /// Assets trashed by the source that are back at Apple.
    pub restore: Vec<AssetId>,
    /// Items Apple has no original for.
    pub failed: Vec<String>,
}

/// Plans `items` of `zone` for `apple_id`, spooling into `spool`. Fetches whose spool file
/// is `busy` (the page before holds the same rendering) are left to that page.
pub(super) fn plan(
    lib: &Library,
    apple_id: &str,
    spool: &Path,
    zone: &Zone,
    items: Vec<Item>,
    busy: &dyn Fn(&Path) -> bool,
) -> Result<Plan> {
    let mut plan = Plan {
        items: Vec::new(),
        owners: Vec::new(),
        fetches: Vec::new(),
        trash: Vec::new(),
        restore: Vec::new(),
        failed: Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        let owner = lib.asset_of(&origin(zone, &item.asset))?;
        plan.owners.push(owner);
        if item.deleted {
            plan.trash.push(item.asset.clone());
            continue;
        }
        if let Some(id) = owner
            && lib.asset(id)?.is_some_and(|a| {
                matches!(
                    a.state,
                    State::Trashed {
                        by_source: true,
                        ..
                    }
                )
            })
        {
            plan.restore.push(id);
        }
        let new = |role, res| fetch_for(apple_id, spool, zone, i, role, res, item);
        if owner.is_none() {
            match &item.original {
                Some(res) => plan.fetches.push(new(None, res)),
                None => plan
                    .failed
                    .push(format!("{}: no original at Apple", item.name)),
            }
        }
        for (role, res) in [
            (Role::LiveVideo, &item.live),
            (Role::Edited, &item.edited),
            (Role::Raw, &item.raw),
        ] {
            let Some(res) = res else { continue };
            let sub = origin(zone, &format!("{}/{}", item.asset, role_name(role)));
            if !lib.is_unchanged(&sub, stamp_of(res))? {
                plan.fetches.push(new(Some(role), res));
            }
        }
    }
    plan.fetches.retain(|f| !busy(&f.part));
    plan.items = items;
    Ok(plan)
}

fn fetch_for(
    apple_id: &str,
    spool: &Path,
    zone: &Zone,
    item: usize,
    role: Option<Role>,
    res: &Res,
    it: &Item,
) -> Fetch {
    let id = blake3::hash(
        format!(
            "{apple_id}|{}|{}|{}|{}",
            zone.name,
            it.asset,
            role.map_or("original", role_name),
            res.checksum
        )
        .as_bytes(),
    );
    Fetch {
        item,
        role,
        url: res.url.clone(),
        size: res.size,
        stamp: stamp_of(res),
        part: spool.join(format!("{}.part", &id.to_hex()[..32])),
        name: part_name(&it.name, role, res),
        done: false,
        error: None,
    }
}

pub(super) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Edited => "edited",
        Role::LiveVideo => "live",
        Role::Raw => "raw",
    }
}

/// Apple's identity of a rendering, as the stamp the library compares next time.
pub(super) fn stamp_of(res: &Res) -> Stamp {
    let h = blake3::hash(res.checksum.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    Stamp {
        size: res.size,
        mtime_ns: i64::from_le_bytes(first),
        inode: 0,
    }
}

fn part_name(name: &str, role: Option<Role>, res: &Res) -> String {
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    let ext = |default: &'static str| match res.file_type.as_deref() {
        Some("public.jpeg") => "JPG",
        Some("public.heic") => "HEIC",
        Some("com.apple.quicktime-movie") => "MOV",
        Some("public.mpeg-4") => "MP4",
        Some("com.adobe.raw-image") => "DNG",
        _ => default,
    };
    match role {
        None => name.to_string(),
        Some(Role::LiveVideo) => format!("{stem}.{}", ext("MOV")),
        Some(Role::Edited) => format!("{stem}-edited.{}", ext("JPG")),
        Some(Role::Raw) => format!("{stem}.{}", ext("RAW")),
    }
}

pub(super) fn master_of(asset: &Record) -> Option<String> {
    asset
        .value("masterRef")
        .and_then(|v| v.get("recordName"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Joins a listing page's assets with their masters; also returns how many masters it held
/// (Apple's rank counts masters).
pub(super) fn pair(records: &[Record]) -> (Vec<Item>, u64) {
    let masters: HashMap<&str, &Record> = records
        .iter()
        .filter(|r| r.rtype == "CPLMaster")
        .map(|r| (r.name.as_str(), r))
        .collect();
    let items = records
        .iter()
        .filter(|r| r.rtype == "CPLAsset")
        .filter_map(|a| Some(Item::join(a, masters.get(master_of(a)?.as_str())?)))
        .collect();
    (items, masters.len() as u64)
}
