//! Facts a source service states about an asset (iCloud's capture time with its time zone,
//! its place, the favorite mark), merged with what the file itself says: the file wins where
//! it is precise, the source fills the gaps and corrects what only it knows (a date changed
//! in Photos). One transaction per asset, and none when nothing changes.

use super::Library;
use super::asset::{Asset, AssetId, TimeSource};
use super::error::Result;
use super::ingest::update_asset;

/// How far a file's wall clock may differ from the source's instant and still be the same
/// moment (cameras and phones round and drift).
const SAME_MOMENT_SECS: i64 = 120;

/// What a source says; `None` fields are left alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFacts {
    /// Capture instant (unix seconds) and UTC offset (seconds).
    pub time: Option<(i64, Option<i32>)>,
    /// Where it was taken (latitude, longitude, altitude), or `Some(None)` to clear.
    pub place: Option<Option<(f64, f64, Option<f64>)>>,
    /// The favorite mark.
    pub favorite: Option<bool>,
    /// The caption, or `Some(None)` to clear it.
    pub caption: Option<Option<String>>,
    /// The keywords (replacing those the asset has).
    pub keywords: Option<Vec<String>>,
}

/// Applies `facts` to `a`. A time from the file's date or the source is replaced
/// (local = utc + offset); a time from the file's metadata without an offset gains the
/// source's offset when both say the same moment.
fn merge(a: &mut Asset, facts: &SourceFacts) {
    if let Some((utc, offset)) = facts.time {
        let t = &mut a.taken;
        match t.source {
            TimeSource::FileTime | TimeSource::Source => {
                t.local = utc + i64::from(offset.unwrap_or(0));
                t.offset = offset;
                t.source = TimeSource::Source;
            }
            TimeSource::Metadata => {
                if let (None, Some(off)) = (t.offset, offset)
                    && (t.local - i64::from(off) - utc).abs() <= SAME_MOMENT_SECS
                {
                    t.offset = Some(off);
                }
            }
        }
    }
    if let Some(place) = facts.place {
        a.gps = place;
    }
    if let Some(f) = facts.favorite {
        a.favorite = f;
    }
    if let Some(c) = &facts.caption {
        a.notes.caption.clone_from(c);
    }
    if let Some(k) = &facts.keywords {
        a.notes.keywords.clone_from(k);
    }
}

impl Library {
    /// Merges what a source says into an asset. True when the asset changed.
    pub fn apply_source_facts(&self, id: AssetId, facts: &SourceFacts) -> Result<bool> {
        let Some(before) = self.asset(id)? else {
            return Ok(false);
        };
        let mut after = before.clone();
        merge(&mut after, facts);
        if after == before {
            return Ok(false);
        }
        let txn = self.db.begin_write()?;
        update_asset(&txn, id, |a| merge(a, facts))?;
        txn.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::{Taken, asset::TimeSource};

    fn asset_with(taken: Taken) -> Asset {
        let json = serde_json::json!({"id": 1, "kind": "Photo",
            "original": {"blob": vec![0u8; 32], "size": 1, "name": "a.jpg"},
            "live_video": null, "edited": null, "raw": null, "sidecars": [],
            "taken": {"local": 0, "offset": null, "source": "FileTime"}, "added": 0,
            "width": null, "height": null, "orientation": null, "duration_ms": null,
            "make": null, "model": null, "gps": null, "content_id": null, "format": "jpg",
            "favorite": false, "hidden": false, "origins": [], "state": "Active", "warnings": []});
        let mut a: Asset = serde_json::from_value(json).unwrap();
        a.taken = taken;
        a
    }

    #[test]
    fn the_source_time_fills_gaps_and_never_overrides_a_precise_file() {
        let utc = 1_700_000_000;
        let mut a = asset_with(Taken {
            local: utc,
            offset: None,
            source: TimeSource::FileTime,
        });
        merge(
            &mut a,
            &SourceFacts {
                time: Some((utc, Some(7200))),
                ..SourceFacts::default()
            },
        );
        assert_eq!((a.taken.local, a.taken.offset), (utc + 7200, Some(7200)));
        assert_eq!(a.taken.source, TimeSource::Source);
        assert_eq!(a.taken.utc(), utc);
        // EXIF wall clock without an offset, the same moment: gains the offset only.
        let mut b = asset_with(Taken {
            local: utc + 7200 + 30,
            offset: None,
            source: TimeSource::Metadata,
        });
        merge(
            &mut b,
            &SourceFacts {
                time: Some((utc, Some(7200))),
                ..SourceFacts::default()
            },
        );
        assert_eq!((b.taken.local, b.taken.offset), (utc + 7230, Some(7200)));
        // A different moment: the file stays as it is.
        let mut c = asset_with(Taken {
            local: utc + 99_999,
            offset: None,
            source: TimeSource::Metadata,
        });
        merge(
            &mut c,
            &SourceFacts {
                time: Some((utc, Some(7200))),
                ..SourceFacts::default()
            },
        );
        assert_eq!(c.taken.offset, None);
        // With an offset of its own: untouched.
        let mut d = asset_with(Taken {
            local: utc,
            offset: Some(-3600),
            source: TimeSource::Metadata,
        });
        merge(
            &mut d,
            &SourceFacts {
                time: Some((utc, Some(7200))),
                favorite: Some(true),
                place: Some(Some((1.0, 2.0, None))),
                ..SourceFacts::default()
            },
        );
        assert_eq!(d.taken.offset, Some(-3600));
        assert!(d.favorite);
        assert_eq!(d.gps, Some((1.0, 2.0, None)));
    }
}
