//! What the box last saw of each iCloud asset record, per Apple ID and zone: when a full
//! listing last saw it (so the periodic reconciliation finds records the change feed never
//! deleted), and the metadata last mirrored (so a change at Apple wins once, and a change
//! made here stays until Apple changes that field again).

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::session::SessionStore;

/// "apple id|database|zone|record name" → [`Seen`] (JSON).
pub(super) const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("icloud.records");

/// One asset record as last seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// `full_started` of the last full listing that saw it (0: only the feed has).
    #[serde(default)]
    pub listed: i64,
    /// Apple's `isFavorite` as last mirrored.
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Apple's caption (title) as last mirrored.
    #[serde(default)]
    pub caption: Option<String>,
    /// Apple's description as last mirrored.
    #[serde(default)]
    pub description: Option<String>,
    /// Apple's keywords as last mirrored (`None`: never, e.g. seen by an older shoebox).
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
    /// Apple's place as last mirrored.
    #[serde(default)]
    pub place: Option<(f64, f64)>,
}

fn key(zone_key: &str, record: &str) -> String {
    format!("{zone_key}|{record}")
}

fn db_err(e: impl Into<redb::Error>) -> Error {
    Error::from(e.into())
}

impl SessionStore {
    /// What was last seen of these records (in order).
    pub fn seen(&self, zone_key: &str, records: &[String]) -> Result<Vec<Option<Seen>>> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RECORDS).map_err(db_err)?;
        records
            .iter()
            .map(|r| {
                table
                    .get(key(zone_key, r).as_str())
                    .map_err(db_err)?
                    .map(|v| serde_json::from_slice(v.value()))
                    .transpose()
                    .map_err(|e| Error::Store(e.to_string()))
            })
            .collect()
    }

    /// Saves what was seen, in one transaction.
    pub fn save_seen(&self, zone_key: &str, seen: &[(String, Seen)]) -> Result<()> {
        if seen.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(RECORDS).map_err(db_err)?;
            for (record, s) in seen {
                let bytes = serde_json::to_vec(s).map_err(|e| Error::Store(e.to_string()))?;
                table
                    .insert(key(zone_key, record).as_str(), bytes.as_slice())
                    .map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(())
    }

    /// Records of a zone that no full listing since `listing` saw.
    pub fn unseen_since(&self, zone_key: &str, listing: i64) -> Result<Vec<String>> {
        let prefix = format!("{zone_key}|");
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RECORDS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in table.range(prefix.as_str()..).map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let Some(record) = k.value().strip_prefix(&prefix) else {
                break;
            };
            let s: Seen =
                serde_json::from_slice(v.value()).map_err(|e| Error::Store(e.to_string()))?;
            if s.listed < listing {
                out.push(record.to_string());
            }
        }
        Ok(out)
    }

    /// Forgets records that are gone at Apple.
    pub fn forget_seen(&self, zone_key: &str, records: &[String]) -> Result<()> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(RECORDS).map_err(db_err)?;
            for r in records {
                table.remove(key(zone_key, r).as_str()).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(())
    }
}

/// Removes every record of an account (inside its removal).
pub(super) fn forget_account(txn: &redb::WriteTransaction, apple_id: &str) -> Result<()> {
    let prefix = format!("{apple_id}|");
    let mut table = txn.open_table(RECORDS).map_err(db_err)?;
    let keys: Vec<String> = table
        .range(prefix.as_str()..)
        .map_err(db_err)?
        .filter_map(std::result::Result::ok)
        .map(|(k, _)| k.value().to_string())
        .take_while(|k| k.starts_with(&prefix))
        .collect();
    for k in keys {
        table.remove(k.as_str()).map_err(db_err)?;
    }
    Ok(())
}
