//! The channel settings (sealed, one row) and which problem of each caller key was announced
//! (clear: it holds no secret), both in `catalog.redb` so an episode survives restarts.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use super::email::Smtp;
use super::error::{Error, Result};
use crate::boxkey::BoxKey;

/// "channels" → sealed [`Channels`] (JSON).
const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("notify.config");
/// Caller key → kind of the problem announced in the current episode.
const EPISODES: TableDefinition<&str, &str> = TableDefinition::new("notify.episodes");
const ROW: &str = "channels";

/// Where notifications go.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Channels {
    /// ntfy topic URL or any webhook: a plain-text POST with a `Title` header.
    pub push_url: Option<String>,
    /// Email over SMTP.
    pub smtp: Option<Smtp>,
    /// How messages link back to the box (e.g. `http://attic.local:8080`).
    pub box_url: Option<String>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("push", &self.push_url.is_some())
            .field("email", &self.smtp.is_some())
            .field("box_url", &self.box_url)
            .finish()
    }
}

pub struct Store {
    db: Arc<Database>,
    key: BoxKey,
}

impl Store {
    pub fn open(db: Arc<Database>, data_dir: &Path) -> Result<Self> {
        let key = BoxKey::open(data_dir).map_err(|e| Error::Store(e.to_string()))?;
        let txn = db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(CONFIG).map_err(redb::Error::from)?;
        txn.open_table(EPISODES).map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self { db, key })
    }

    pub fn channels(&self) -> Result<Channels> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(CONFIG).map_err(redb::Error::from)?;
        let Some(sealed) = table.get(ROW).map_err(redb::Error::from)? else {
            return Ok(Channels::default());
        };
        let clear = self
            .key
            .open_sealed(ROW.as_bytes(), sealed.value())
            .map_err(|e| Error::Store(e.to_string()))?;
        serde_json::from_slice(&clear).map_err(|e| Error::Store(e.to_string()))
    }

    pub fn save_channels(&self, channels: &Channels) -> Result<()> {
        let clear = serde_json::to_vec(channels).map_err(|e| Error::Store(e.to_string()))?;
        let sealed = self
            .key
            .seal(ROW.as_bytes(), &clear)
            .map_err(|e| Error::Store(e.to_string()))?;
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(CONFIG)
            .map_err(redb::Error::from)?
            .insert(ROW, sealed.as_slice())
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    pub fn announced(&self, key: &str) -> Result<Option<String>> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(EPISODES).map_err(redb::Error::from)?;
        Ok(table
            .get(key)
            .map_err(redb::Error::from)?
            .map(|v| v.value().to_string()))
    }

    pub fn set_announced(&self, key: &str, kind: Option<&str>) -> Result<()> {
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        {
            let mut table = txn.open_table(EPISODES).map_err(redb::Error::from)?;
            match kind {
                Some(k) => table.insert(key, k).map(drop),
                None => table.remove(key).map(drop),
            }
            .map_err(redb::Error::from)?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Security;

    #[test]
    fn channels_are_sealed_and_episodes_persist() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let store = Store::open(Arc::clone(&db), dir.path()).unwrap();
        let channels = Channels {
            push_url: Some("https://push.example/topic-SECRET".into()),
            smtp: Some(Smtp {
                host: "mail.example".into(),
                port: 587,
                security: Security::StartTls,
                user: "me".into(),
                password: Some("smtp-pass-XYZ".into()),
                from: "box@example.com".into(),
                to: "me@example.com".into(),
            }),
            box_url: None,
        };
        store.save_channels(&channels).unwrap();
        store.set_announced("icloud:a", Some("login")).unwrap();
        drop(store);
        drop(db);
        let raw = std::fs::read(dir.path().join("c.redb")).unwrap();
        let find = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        assert!(!find(b"smtp-pass-XYZ"));
        assert!(!find(b"topic-SECRET"));
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let store = Store::open(db, dir.path()).unwrap();
        let back = store.channels().unwrap();
        assert_eq!(
            back.smtp.unwrap().password.as_deref(),
            Some("smtp-pass-XYZ")
        );
        assert_eq!(
            store.announced("icloud:a").unwrap().as_deref(),
            Some("login")
        );
        store.set_announced("icloud:a", None).unwrap();
        assert_eq!(store.announced("icloud:a").unwrap(), None);
    }
}
