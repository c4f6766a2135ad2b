//! The configured backup target (where, with which credentials, under which passphrase) and
//! what the last runs did, kept in the catalog so `serve` can back up with nobody there.
//!
//! The target holds secrets, so it is sealed with the box key (`boxkey`), bound to its row;
//! the status and the schedule hold none and are stored in clear JSON.

use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::error::{Error, Result};
use super::remote::{Credentials, RemoteUrl};
use crate::boxkey::BoxKey;

/// "target" → the sealed [`Target`].
const TARGET: TableDefinition<&str, &[u8]> = TableDefinition::new("backup.target");
/// "status" → [`Status`], "schedule" → [`Schedule`] (JSON).
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("backup.state");
const TARGET_ROW: &str = "target";
/// A target typed and tested but not yet made the target (its secrets need not be typed twice).
const DRAFT_ROW: &str = "draft";
const STATUS_ROW: &str = "status";
const SCHEDULE_ROW: &str = "schedule";
/// The snapshot a restore into this box started from, until it finished.
const RESTORE_ROW: &str = "restore";

/// Where backups go and how to open the repository there.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Repository URL in the form [`RemoteUrl::parse`] reads.
    pub url: String,
    /// S3 access key id.
    pub access_key: Option<String>,
    /// S3 secret.
    pub secret_key: Option<String>,
    /// WebDAV user.
    pub user: Option<String>,
    /// WebDAV password.
    pub password: Option<String>,
    /// The repository passphrase (kept so nightly runs need nobody).
    pub passphrase: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({}, ..)", self.url)
    }
}

impl Target {
    /// The parsed location.
    pub fn location(&self) -> Result<RemoteUrl> {
        Ok(RemoteUrl::parse(&self.url)?)
    }

    /// The remote's credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
        }
    }
}

/// A finished run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    /// Unix second it ended.
    pub at: i64,
    /// The snapshot written (or matched when nothing changed).
    pub snapshot: String,
    /// Files in it.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bytes sent in that run.
    pub uploaded: u64,
}

/// A snapshot as the page lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRow {
    /// Object name (hex).
    pub name: String,
    /// Unix second it was taken.
    pub time: i64,
    /// Box that took it.
    pub host: String,
    /// Assets in it.
    pub assets: u64,
    /// Files in it.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What the page shows about past runs; refreshed after each run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The last run that worked.
    pub last_success: Option<Success>,
    /// The last run that failed: (unix second, what went wrong in plain words).
    pub last_error: Option<(i64, String)>,
    /// Unix second the last run (either outcome) started; the schedule counts from it.
    pub last_attempt: Option<i64>,
    /// Bytes the repository takes on the remote.
    pub remote_bytes: Option<u64>,
    /// Snapshots on the remote, oldest first.
    pub snapshots: Vec<SnapshotRow>,
    /// Another box wrote to the repository during the last run (its warning, in words).
    #[serde(default)]
    pub other_writer: Option<String>,
    /// The last forget + prune.
    #[serde(default)]
    pub upkeep: Option<UpkeepRun>,
    /// The last scrub slice.
    #[serde(default)]
    pub scrub: Option<ScrubRun>,
}

/// A forget + prune the box ran by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepRun {
    /// Unix second it ended.
    pub at: i64,
    /// Snapshots forgotten by the retention rules.
    pub forgotten: usize,
    /// Bytes deleted from the remote (marks past their grace period).
    pub freed: u64,
    /// Bytes marked unused, to be deleted after the grace period.
    pub marked: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// One day's slice of the monthly read of the whole remote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrubRun {
    /// Unix second it ended.
    pub at: i64,
    /// Slice `n` of `m`.
    pub slice: (u32, u32),
    /// Packs downloaded and verified.
    pub packs: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Damage found, naming the objects.
    pub problems: Vec<String>,
}

/// When `serve` backs up by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Nightly runs on.
    pub nightly: bool,
    /// The night window, local hours: runs start in `[start_hour, end_hour)`.
    pub start_hour: u8,
    /// End of the window (may be past midnight: 23 → 5).
    pub end_hour: u8,
    /// Where in the window this box starts, as a fraction in millionths; chosen at random
    /// once so many boxes do not all hit one server at 01:00.
    pub jitter_ppm: u32,
    /// Upload limit in KiB per second (`None`: as fast as the line goes).
    #[serde(default)]
    pub upload_kib: Option<u32>,
}

impl Default for Schedule {
    fn default() -> Self {
        let mut r = [0u8; 4];
        let jitter_ppm = if getrandom::fill(&mut r).is_ok() {
            u32::from_le_bytes(r) % 1_000_000
        } else {
            500_000
        };
        Self {
            nightly: true,
            start_hour: 1,
            end_hour: 5,
            jitter_ppm,
            upload_kib: None,
        }
    }
}

/// The target, status and schedule tables.
pub struct TargetStore {
    db: Arc<Database>,
    key: BoxKey,
}

impl TargetStore {
    /// Opens the tables (creating them) and the box key of `data_dir`.
    pub fn open(db: Arc<Database>, data_dir: &std::path::Path) -> Result<Self> {
        let key = BoxKey::open(data_dir)?;
        let txn = db.begin_write()?;
        txn.open_table(TARGET).map_err(redb::Error::from)?;
        txn.open_table(STATE).map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self { db, key })
    }

    /// The configured target, if any.
    pub fn target(&self) -> Result<Option<Target>> {
        self.sealed(TARGET_ROW)
    }

    /// The target last typed on the page, when it is not the configured one yet.
    pub fn draft(&self) -> Result<Option<Target>> {
        self.sealed(DRAFT_ROW)
    }

    /// Keeps a typed target (sealed) until it is created or adopted.
    pub fn set_draft(&self, target: &Target) -> Result<()> {
        let clear = serde_json::to_vec(target).map_err(|e| Error::corrupt("target", e))?;
        let sealed = self.key.seal(DRAFT_ROW.as_bytes(), &clear)?;
        let txn = self.db.begin_write()?;
        txn.open_table(TARGET)
            .map_err(redb::Error::from)?
            .insert(DRAFT_ROW, sealed.as_slice())
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    fn sealed(&self, row: &str) -> Result<Option<Target>> {
        let Some(sealed) = self.read(TARGET, row)? else {
            return Ok(None);
        };
        let clear = self.key.open_sealed(row.as_bytes(), &sealed)?;
        serde_json::from_slice(&clear)
            .map(Some)
            .map_err(|e| Error::corrupt("the stored backup target", e))
    }

    /// Stores `target` sealed, replacing any other (and the draft); the status of the old one
    /// goes with it.
    pub fn set_target(&self, target: &Target) -> Result<()> {
        let clear = serde_json::to_vec(target).map_err(|e| Error::corrupt("target", e))?;
        let sealed = self.key.seal(TARGET_ROW.as_bytes(), &clear)?;
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(TARGET).map_err(redb::Error::from)?;
            t.insert(TARGET_ROW, sealed.as_slice())
                .map_err(redb::Error::from)?;
            t.remove(DRAFT_ROW).map_err(redb::Error::from)?;
        }
        txn.open_table(STATE)
            .map_err(redb::Error::from)?
            .remove(STATUS_ROW)
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// What past runs did.
    pub fn status(&self) -> Result<Status> {
        self.json(STATUS_ROW)
    }

    /// Changes the status in one transaction.
    pub fn update_status(&self, change: impl FnOnce(&mut Status)) -> Result<Status> {
        self.update_json(STATUS_ROW, change)
    }

    /// The schedule (nightly with a random place in 01:00–05:00 until someone changes it).
    pub fn schedule(&self) -> Result<Schedule> {
        if self.read(STATE, SCHEDULE_ROW)?.is_none() {
            return self.update_json(SCHEDULE_ROW, |_: &mut Schedule| {});
        }
        self.json(SCHEDULE_ROW)
    }

    /// The snapshot a restore into this box was started from and has not finished (kept so
    /// "try again" after a failure or a restart needs nobody to choose it again).
    pub fn restore_choice(&self) -> Result<Option<String>> {
        self.json(RESTORE_ROW)
    }

    /// Remembers (or forgets) the snapshot a restore starts from.
    pub fn set_restore_choice(&self, name: Option<&str>) -> Result<()> {
        self.update_json(RESTORE_ROW, |c: &mut Option<String>| {
            *c = name.map(str::to_owned);
        })
        .map(drop)
    }

    /// Changes the schedule.
    pub fn set_schedule(&self, change: impl FnOnce(&mut Schedule)) -> Result<Schedule> {
        self.update_json(SCHEDULE_ROW, change)
    }

    fn read(&self, table: TableDefinition<&str, &[u8]>, row: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(table).map_err(redb::Error::from)?;
        Ok(t.get(row)
            .map_err(redb::Error::from)?
            .map(|v| v.value().to_vec()))
    }

    fn json<T: DeserializeOwned + Default>(&self, row: &str) -> Result<T> {
        match self.read(STATE, row)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::corrupt(format!("the stored backup {row}"), e)),
            None => Ok(T::default()),
        }
    }

    fn update_json<T: Serialize + DeserializeOwned + Default>(
        &self,
        row: &str,
        change: impl FnOnce(&mut T),
    ) -> Result<T> {
        let txn = self.db.begin_write()?;
        let value = {
            let mut t = txn.open_table(STATE).map_err(redb::Error::from)?;
            let mut value: T = match t.get(row).map_err(redb::Error::from)? {
                Some(bytes) => serde_json::from_slice(bytes.value())
                    .map_err(|e| Error::corrupt(format!("the stored backup {row}"), e))?,
                None => T::default(),
            };
            change(&mut value);
            let bytes = serde_json::to_vec(&value).map_err(|e| Error::corrupt(row, e))?;
            t.insert(row, bytes.as_slice()).map_err(redb::Error::from)?;
            value
        };
        txn.commit().map_err(redb::Error::from)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_sealed_at_rest_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.redb");
        let target = Target {
            url: "s3://b/p?path_style=true".into(),
            access_key: Some("AKID".into()),
            secret_key: Some("very-secret-key".into()),
            passphrase: "correct horse staple".into(),
            ..Target::default()
        };
        {
            let db = Arc::new(Database::create(&path).unwrap());
            let store = TargetStore::open(db, dir.path()).unwrap();
            assert!(store.target().unwrap().is_none());
            store.set_draft(&target).unwrap();
            assert_eq!(store.draft().unwrap(), Some(target.clone()));
            store.set_target(&target).unwrap();
            assert_eq!(store.draft().unwrap(), None, "the draft became the target");
            store
                .update_status(|s| s.last_error = Some((5, "down".into())))
                .unwrap();
            let first = store.schedule().unwrap();
            assert_eq!(
                store.schedule().unwrap(),
                first,
                "the jitter is chosen once"
            );
        }
        let raw = std::fs::read(&path).unwrap();
        for secret in [&b"very-secret-key"[..], b"correct horse staple"] {
            assert!(!raw.windows(secret.len()).any(|w| w == secret));
        }
        let db = Arc::new(Database::create(&path).unwrap());
        let store = TargetStore::open(db, dir.path()).unwrap();
        assert_eq!(store.target().unwrap(), Some(target.clone()));
        assert_eq!(store.status().unwrap().last_error, Some((5, "down".into())));
        store.set_target(&target).unwrap();
        assert_eq!(
            store.status().unwrap(),
            Status::default(),
            "a new target starts afresh"
        );
        assert!(!format!("{target:?}").contains("secret"));
    }
}
