//! The one ingest pipeline: a file on disk plus its origin → stored bytes, media facts and an
//! asset upsert, all in one redb transaction (a [`Batch`] may hold many files).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use redb::{ReadableTable, WriteTransaction};

use super::asset::{Asset, AssetId, AssetKind, Origin, Part, State, Taken, TimeSource};
use super::db::{self, BLOB_OWNERS, CONTENT_IDS, META, ORIGINS, OriginEntry, Stamp};
use super::error::{Error, Result};
use super::pairing::{join_live_photo, live_partner, sidecar_owner};
use super::{Library, unix_now};
use crate::media::{self, Facts, Format, Kind};
use crate::store::{self, Put};

/// A file a source hands to the library.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// Where the bytes are now (a spool file, or the file being imported).
    pub file: &'a Path,
    /// Where they came from.
    pub origin: Origin,
    /// File name to show and to export under.
    pub name: String,
    /// File-system identity, for skipping unchanged files next time.
    pub stamp: Option<Stamp>,
    /// Modification time (unix seconds), the last-resort capture time.
    pub file_time: Option<i64>,
}

/// What ingest did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// A new asset.
    New(AssetId),
    /// The same bytes were already in the library; this origin was added to that asset.
    Duplicate(AssetId),
    /// This origin had already delivered these bytes.
    Unchanged(AssetId),
    /// Joined an existing asset: the other half of a Live Photo, or a sidecar.
    Paired(AssetId),
    /// Not stored, and why.
    Skipped(String),
}

/// An open ingest transaction. Nothing is visible to readers until [`Batch::commit`];
/// dropping it abandons everything in it.
pub struct Batch<'l> {
    pub(crate) lib: &'l Library,
    txn: Option<WriteTransaction>,
    /// Files handed to this batch.
    pub files: u64,
    /// Bytes handed to this batch.
    pub bytes: u64,
}

impl Library {
    /// Starts a batch (one write transaction).
    pub fn begin(&self) -> Result<Batch<'_>> {
        Ok(Batch {
            lib: self,
            txn: Some(self.db.begin_write()?),
            files: 0,
            bytes: 0,
        })
    }

    /// Ingests one file in its own transaction.
    pub fn ingest(&self, item: &Incoming<'_>) -> Result<Ingested> {
        let mut batch = self.begin()?;
        let outcome = batch.ingest(item)?;
        batch.commit()?;
        Ok(outcome)
    }
}

impl Batch<'_> {
    /// Stores `item` and records it. A failure reading the file (it vanished, an I/O error)
    /// skips that file and keeps the batch; a storage failure (disk full) abandons the batch.
    pub fn ingest(&mut self, item: &Incoming<'_>) -> Result<Ingested> {
        let txn = self.txn.as_ref().ok_or(Error::BatchAbandoned)?;
        let result = ingest_one(self.lib, txn, item);
        match &result {
            Err(Error::Store(store::Error::SourceRead(_)) | Error::Io { .. }) | Ok(_) => {}
            Err(_) => self.abandon(),
        }
        if let Ok(outcome) = &result {
            self.files += 1;
            if !matches!(outcome, Ingested::Skipped(_)) {
                self.bytes += item.stamp.map_or(0, |s| s.size);
            }
        }
        result
    }

    /// Makes the batch durable: pack data is fsynced, then the transaction commits.
    pub fn commit(mut self) -> Result<()> {
        let txn = self.txn.take().ok_or(Error::BatchAbandoned)?;
        let result = self
            .lib
            .store
            .prepare_commit(&txn)
            .map_err(Error::from)
            .and_then(|()| txn.commit().map_err(Error::from));
        if result.is_err() {
            self.lib.store.discard_uncommitted();
        }
        result
    }

    /// The open transaction, for the other ways of adding files (see `attach`).
    pub(crate) fn txn(&self) -> Result<&WriteTransaction> {
        self.txn.as_ref().ok_or(Error::BatchAbandoned)
    }

    fn abandon(&mut self) {
        self.txn = None;
        self.lib.store.discard_uncommitted();
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.txn.is_some() {
            self.abandon();
        }
    }
}

fn ingest_one(lib: &Library, txn: &WriteTransaction, item: &Incoming<'_>) -> Result<Ingested> {
    let facts = media::read_facts(item.file);
    let format = facts.format.unwrap_or(Format::Unknown);
    let sidecar_of = match format.kind() {
        Kind::Other => return Ok(Ingested::Skipped("not a photo or video".into())),
        Kind::Sidecar => match sidecar_owner(txn, &item.origin)? {
            Some(owner) => Some(owner),
            None => return Ok(Ingested::Skipped("sidecar without its photo".into())),
        },
        Kind::Image | Kind::Video => None,
    };
    let file = File::open(item.file).map_err(Error::io(item.file))?;
    let cuts: Vec<u64> = facts.data_offset.into_iter().collect();
    let put = lib.store.put(
        txn,
        BufReader::with_capacity(1 << 20, file),
        &cuts,
        !format.is_compressed(),
    )?;
    let part = Part {
        blob: put.blob,
        size: put.size,
        name: item.name.clone(),
    };
    let mut meta = txn.open_table(META)?;
    db::meta_add(&mut meta, "ingested_files", 1)?;
    db::meta_add(
        &mut meta,
        "ingested_bytes",
        i64::try_from(put.size).unwrap_or(i64::MAX),
    )?;
    drop(meta);

    if let Some(owner) = txn
        .open_table(BLOB_OWNERS)?
        .get(&put.blob.0)?
        .map(|v| AssetId(v.value()))
    {
        return add_origin(txn, owner, item, &put);
    }
    let outcome = if let Some(owner) = sidecar_of {
        update_asset(txn, owner, |a| a.sidecars.push(part))?;
        Ingested::Paired(owner)
    } else if let Some(owner) = live_partner(txn, &facts, format)? {
        join_live_photo(txn, owner, part, &facts, format)?;
        Ingested::Paired(owner)
    } else {
        Ingested::New(new_asset(txn, item, part, &facts, format)?)
    };
    let (Ingested::New(asset) | Ingested::Paired(asset)) = outcome else {
        return Ok(outcome);
    };
    txn.open_table(BLOB_OWNERS)?.insert(&put.blob.0, asset.0)?;
    lib.store.retain(txn, put.blob)?;
    let mut meta = txn.open_table(META)?;
    db::meta_add(
        &mut meta,
        "bytes",
        i64::try_from(put.size).unwrap_or(i64::MAX),
    )?;
    drop(meta);
    record_origin(txn, item, asset, &put)?;
    if matches!(outcome, Ingested::Paired(_)) {
        update_asset(txn, asset, |a| add_unique(&mut a.origins, &item.origin))?;
    }
    Ok(outcome)
}

/// The same bytes arrived again: remember the origin on the existing asset.
fn add_origin(
    txn: &WriteTransaction,
    owner: AssetId,
    item: &Incoming<'_>,
    put: &Put,
) -> Result<Ingested> {
    let previous = txn
        .open_table(ORIGINS)?
        .get(item.origin.key().as_str())?
        .map(|v| db::decode::<OriginEntry>(v.value()))
        .transpose()?;
    record_origin(txn, item, owner, put)?;
    if previous.is_some_and(|p| p.blob == put.blob) {
        return Ok(Ingested::Unchanged(owner));
    }
    update_asset(txn, owner, |a| add_unique(&mut a.origins, &item.origin))?;
    Ok(Ingested::Duplicate(owner))
}

fn add_unique(origins: &mut Vec<Origin>, origin: &Origin) {
    if !origins.contains(origin) {
        origins.push(origin.clone());
    }
}

fn record_origin(
    txn: &WriteTransaction,
    item: &Incoming<'_>,
    asset: AssetId,
    put: &Put,
) -> Result<()> {
    let entry = OriginEntry {
        asset,
        blob: put.blob,
        stamp: item.stamp,
    };
    txn.open_table(ORIGINS)?
        .insert(item.origin.key().as_str(), db::encode(&entry)?.as_slice())?;
    Ok(())
}

pub(crate) fn apply_facts(a: &mut Asset, facts: &Facts) {
    if let Some(t) = facts.taken_at {
        a.taken = Taken {
            local: t.local.and_utc().timestamp(),
            offset: t.offset_secs,
            source: TimeSource::Metadata,
        };
    }
    a.width = facts.width.or(a.width);
    a.height = facts.height.or(a.height);
    a.orientation = facts.orientation.or(a.orientation);
    a.make = facts.make.clone().or(a.make.take());
    a.model = facts.model.clone().or(a.model.take());
    a.gps = facts.gps.map(|g| (g.lat, g.lon, g.alt)).or(a.gps);
    a.warnings.extend(facts.warnings.iter().cloned());
}

fn new_asset(
    txn: &WriteTransaction,
    item: &Incoming<'_>,
    part: Part,
    facts: &Facts,
    format: Format,
) -> Result<AssetId> {
    let mut meta = txn.open_table(META)?;
    let id = AssetId(db::meta_get(&meta, "next_asset")? + 1);
    meta.insert("next_asset", id.0)?;
    let kind = if format.kind() == Kind::Video {
        AssetKind::Video
    } else {
        AssetKind::Photo
    };
    db::meta_add(&mut meta, "assets", 1)?;
    db::meta_add(&mut meta, kind_counter(kind), 1)?;
    drop(meta);
    let fallback = item.file_time.unwrap_or_else(unix_now);
    let mut asset = Asset {
        id,
        kind,
        original: part,
        live_video: None,
        edited: None,
        raw: None,
        sidecars: Vec::new(),
        taken: Taken {
            local: fallback,
            offset: None,
            source: TimeSource::FileTime,
        },
        added: unix_now(),
        width: None,
        height: None,
        orientation: None,
        duration_ms: facts.duration_ms,
        make: None,
        model: None,
        gps: None,
        content_id: facts.content_id.clone(),
        format: format.extension().to_string(),
        favorite: false,
        hidden: false,
        origins: vec![item.origin.clone()],
        state: State::Active,
        warnings: Vec::new(),
        notes: super::asset::Notes::default(),
    };
    apply_facts(&mut asset, facts);
    if let Some(cid) = &facts.content_id {
        txn.open_table(CONTENT_IDS)?.insert(cid.as_str(), id.0)?;
    }
    db::put_asset(txn, None, &asset)?;
    Ok(id)
}

/// Counter name for an asset kind.
pub(crate) fn kind_counter(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Photo => "photos",
        AssetKind::Video => "videos",
        AssetKind::LivePhoto => "live_photos",
    }
}

/// Reads, changes and writes an asset, keeping the timeline in step.
pub(crate) fn update_asset(
    txn: &WriteTransaction,
    id: AssetId,
    change: impl FnOnce(&mut Asset),
) -> Result<()> {
    let before = db::get_asset(&txn.open_table(db::ASSETS)?, id)?.ok_or(Error::NoSuchAsset(id))?;
    let mut after = before.clone();
    change(&mut after);
    db::put_asset(txn, Some(&before), &after)
}
