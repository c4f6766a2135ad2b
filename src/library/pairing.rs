//! Joining files into one asset: the two halves of a Live Photo (by Apple's content
//! identifier, whichever half arrives first) and XMP sidecars (by file stem).

use redb::{ReadableTable, WriteTransaction};

use super::asset::{AssetId, AssetKind, Origin, Part};
use super::db::{self, CONTENT_IDS, META, ORIGINS, OriginEntry};
use super::error::{Error, Result};
use super::ingest::{apply_facts, kind_counter, update_asset};
use crate::media::{Facts, Format, Kind};

/// The asset a sidecar belongs to: a file from the same source folder with the same stem
/// (`IMG_1.xmp` or `IMG_1.JPG.xmp` → `IMG_1.JPG`).
pub(crate) fn sidecar_owner(txn: &WriteTransaction, origin: &Origin) -> Result<Option<AssetId>> {
    let key = origin.key();
    let Some(stem) = key.rsplit_once('.').map(|(s, _)| s) else {
        return Ok(None);
    };
    let origins = txn.open_table(ORIGINS)?;
    for candidate in [
        stem.to_string(),
        stem.rsplit_once('.')
            .map_or_else(String::new, |(s, _)| s.to_string()),
    ] {
        if candidate.is_empty() {
            continue;
        }
        let exact = origins
            .get(candidate.as_str())?
            .map(|v| db::decode::<OriginEntry>(v.value()))
            .transpose()?;
        if let Some(e) = exact {
            return Ok(Some(e.asset));
        }
        let prefix = format!("{candidate}.");
        for row in origins.range(prefix.as_str()..)? {
            let (k, v) = row?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            if k.value() != key && !k.value().to_ascii_lowercase().ends_with(".xmp") {
                return Ok(Some(db::decode::<OriginEntry>(v.value())?.asset));
            }
        }
    }
    Ok(None)
}

/// An asset waiting for the other half of this Live Photo.
pub(crate) fn live_partner(
    txn: &WriteTransaction,
    facts: &Facts,
    format: Format,
) -> Result<Option<AssetId>> {
    let Some(cid) = &facts.content_id else {
        return Ok(None);
    };
    let Some(owner) = txn
        .open_table(CONTENT_IDS)?
        .get(cid.as_str())?
        .map(|v| AssetId(v.value()))
    else {
        return Ok(None);
    };
    let asset =
        db::get_asset(&txn.open_table(db::ASSETS)?, owner)?.ok_or(Error::NoSuchAsset(owner))?;
    let fits = match format.kind() {
        Kind::Video => asset.kind == AssetKind::Photo,
        Kind::Image => asset.kind == AssetKind::Video,
        _ => false,
    };
    Ok(fits.then_some(owner))
}

/// Makes a Live Photo from a still and its clip, whichever arrived first.
pub(crate) fn join_live_photo(
    txn: &WriteTransaction,
    owner: AssetId,
    part: Part,
    facts: &Facts,
    format: Format,
) -> Result<()> {
    let before =
        db::get_asset(&txn.open_table(db::ASSETS)?, owner)?.ok_or(Error::NoSuchAsset(owner))?;
    let mut meta = txn.open_table(META)?;
    db::meta_add(&mut meta, kind_counter(before.kind), -1)?;
    db::meta_add(&mut meta, kind_counter(AssetKind::LivePhoto), 1)?;
    drop(meta);
    update_asset(txn, owner, |a| {
        if format.kind() == Kind::Video {
            a.duration_ms = facts.duration_ms;
            a.live_video = Some(part);
        } else {
            let clip = std::mem::replace(&mut a.original, part);
            a.live_video = Some(clip);
            a.format = format.extension().to_string();
            apply_facts(a, facts);
        }
        a.kind = AssetKind::LivePhoto;
    })
}
