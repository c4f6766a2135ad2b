//! Wizard-edited settings, persisted whole in the `system.settings` table.
//!
//! The value is one version byte followed by postcard. A future field means a new version and
//! a `migrate` arm for the old one; values are rewritten in the new version on the next update.

use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::timezone;

/// Key → versioned value. Only [`KEY`] exists today.
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("system.settings");
const TABLE_NAME: &str = "system.settings";
const KEY: &str = "settings";
/// Version of the [`Settings`] encoding written by this binary.
const VERSION: u8 = 1;

/// Settings the owner edits in the UI (the boot config file holds the rest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Name on the network (`<device_name>.local`); a DNS label, see [`valid_device_name`].
    pub device_name: String,
    /// IANA time zone for dates shown in the UI and for schedules.
    pub time_zone: String,
    /// Where the setup wizard is; persisted so a reboot mid-wizard resumes there.
    pub setup: SetupStep,
    /// Announce the device with mDNS.
    pub mdns: bool,
    /// Days a trashed photo is kept before purge; `None` keeps it forever.
    pub trash_retention_days: Option<u32>,
}

impl Default for Settings {
    /// `shoebox`, the system's time zone (or UTC), wizard at the start, mDNS on, 30 days.
    fn default() -> Self {
        Self {
            device_name: "shoebox".to_owned(),
            time_zone: timezone::system_default(),
            setup: SetupStep::Welcome,
            mdns: true,
            trash_retention_days: Some(30),
        }
    }
}

/// The setup wizard's position. The variant's index is its stored encoding, so new
/// variants go last (the restore branch was added after `Done`); their order means nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SetupStep {
    /// First page.
    Welcome,
    /// Create the owner account.
    Owner,
    /// Choose the data disk.
    Storage,
    /// Connect photo sources.
    Sources,
    /// Configure off-site backup.
    Backup,
    /// Review.
    Summary,
    /// The wizard is closed for good.
    Done,
    /// Restore branch: the data disk is checked first, since the restore writes to it.
    RestoreStorage,
    /// Restore branch: the repository, its passphrase, the snapshot.
    RestoreTarget,
    /// Restore branch: the restore runs, or stopped and waits for "try again".
    Restoring,
    /// Restore branch: the library is back; the owner account comes next.
    RestoredOwner,
}

/// True when `name` is a DNS label: 1–63 of `[a-z0-9-]`, not starting or ending with `-`.
pub fn valid_device_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Reads and writes [`Settings`] in the shared catalog database.
#[derive(Clone)]
pub struct SettingsStore {
    db: Arc<Database>,
}

impl SettingsStore {
    /// Opens the store, writing the defaults on first use (so the default time zone is fixed
    /// at first boot rather than following later changes of `/etc/timezone`).
    pub fn open(db: Arc<Database>) -> Result<Self> {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(SETTINGS)?;
            if table.get(KEY)?.is_none() {
                table.insert(KEY, encode(&Settings::default())?.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(Self { db })
    }

    /// The current settings.
    pub fn get(&self) -> Result<Settings> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(SETTINGS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Settings::default()),
            Err(e) => return Err(e.into()),
        };
        match table.get(KEY)? {
            Some(bytes) => decode(bytes.value()),
            None => Ok(Settings::default()),
        }
    }

    /// Applies `change` and stores the result atomically; returns the new settings.
    ///
    /// Nothing is stored when the result is refused: [`Error::SetupFinished`] if it moves the
    /// wizard back from [`SetupStep::Done`], [`Error::InvalidDeviceName`] or
    /// [`Error::UnknownTimeZone`] if it sets an unusable name or zone.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings> {
        let txn = self.db.begin_write()?;
        let new = {
            let mut table = txn.open_table(SETTINGS)?;
            let old = match table.get(KEY)? {
                Some(bytes) => decode(bytes.value())?,
                None => Settings::default(),
            };
            let mut new = old.clone();
            change(&mut new);
            if new == old {
                return Ok(new);
            }
            check(&old, &new)?;
            table.insert(KEY, encode(&new)?.as_slice())?;
            new
        };
        txn.commit()?;
        Ok(new)
    }
}

/// Refuses changes that must not be stored.
fn check(old: &Settings, new: &Settings) -> Result<()> {
    if old.setup == SetupStep::Done && new.setup != SetupStep::Done {
        return Err(Error::SetupFinished);
    }
    if new.device_name != old.device_name && !valid_device_name(&new.device_name) {
        return Err(Error::InvalidDeviceName(new.device_name.clone()));
    }
    if new.time_zone != old.time_zone && !timezone::is_known(&new.time_zone) {
        return Err(Error::UnknownTimeZone(new.time_zone.clone()));
    }
    Ok(())
}

fn encode(settings: &Settings) -> Result<Vec<u8>> {
    let mut out = vec![VERSION];
    postcard::to_io(settings, &mut out).map_err(|e| Error::BadValue {
        table: TABLE_NAME,
        what: e.to_string(),
    })?;
    Ok(out)
}

fn decode(bytes: &[u8]) -> Result<Settings> {
    let bad = |what: String| Error::BadValue {
        table: TABLE_NAME,
        what,
    };
    match bytes.split_first() {
        Some((&VERSION, rest)) => postcard::from_bytes(rest).map_err(|e| bad(e.to_string())),
        Some((version, _)) => Err(bad(format!("unknown value version {version}"))),
        None => Err(bad("empty value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &tempfile::TempDir) -> SettingsStore {
        let db = Database::create(dir.path().join("catalog.redb")).unwrap();
        SettingsStore::open(Arc::new(db)).unwrap()
    }

    #[test]
    fn steps_keep_their_stored_numbers() {
        // A box finished before the restore branch existed must still read as finished.
        let done = postcard::to_allocvec(&SetupStep::Done).unwrap();
        assert_eq!(done, [6]);
        assert_eq!(
            postcard::to_allocvec(&SetupStep::RestoreStorage).unwrap(),
            [7]
        );
        assert_eq!(
            postcard::to_allocvec(&SetupStep::RestoredOwner).unwrap(),
            [10]
        );
    }

    #[test]
    fn defaults_on_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir).get().unwrap();
        assert_eq!(s.device_name, "shoebox");
        assert_eq!(s.setup, SetupStep::Welcome);
        assert!(s.mdns);
        assert_eq!(s.trash_retention_days, Some(30));
        assert!(!s.time_zone.is_empty());
    }

    #[test]
    fn get_on_a_database_never_opened_by_the_store_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("catalog.redb")).unwrap());
        let store = SettingsStore { db };
        assert_eq!(store.get().unwrap().device_name, "shoebox");
    }

    #[test]
    fn update_round_trips_and_persists_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let new = store
            .update(|s| {
                s.device_name = "photos-2".into();
                s.time_zone = "UTC".into();
                s.setup = SetupStep::Storage;
                s.mdns = false;
                s.trash_retention_days = None;
            })
            .unwrap();
        assert_eq!(store.get().unwrap(), new);
        drop(store);
        let reopened = open(&dir);
        assert_eq!(reopened.get().unwrap(), new);
        assert_eq!(new.setup, SetupStep::Storage);
    }

    #[test]
    fn wizard_may_go_back_until_done_then_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store.update(|s| s.setup = SetupStep::Backup).unwrap();
        store.update(|s| s.setup = SetupStep::Owner).unwrap();
        store.update(|s| s.setup = SetupStep::Done).unwrap();
        let err = store
            .update(|s| {
                s.setup = SetupStep::Summary;
                s.mdns = false;
            })
            .unwrap_err();
        assert!(matches!(err, Error::SetupFinished), "{err}");
        let now = store.get().unwrap();
        assert_eq!(now.setup, SetupStep::Done);
        assert!(now.mdns, "a refused update stores nothing");
        store.update(|s| s.mdns = false).unwrap();
    }

    #[test]
    fn bad_name_or_zone_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let err = store.update(|s| s.device_name = "My Box".into());
        assert!(matches!(err, Err(Error::InvalidDeviceName(_))));
        let err = store.update(|s| s.time_zone = "Mars/Base".into());
        assert!(matches!(err, Err(Error::UnknownTimeZone(_))));
        assert_eq!(store.get().unwrap().device_name, "shoebox");
    }

    #[test]
    fn unknown_version_is_an_error_not_a_panic() {
        let mut bytes = encode(&Settings::default()).unwrap();
        bytes[0] = 9;
        assert!(matches!(decode(&bytes), Err(Error::BadValue { .. })));
        assert!(matches!(decode(&[]), Err(Error::BadValue { .. })));
        assert!(matches!(
            decode(&[VERSION, 0xff]),
            Err(Error::BadValue { .. })
        ));
    }

    #[test]
    fn device_names() {
        for good in ["shoebox", "a", "photo-box-2", &"x".repeat(63), "0"] {
            assert!(valid_device_name(good), "{good}");
        }
        for bad in [
            "",
            "-box",
            "box-",
            "Shoebox",
            "shoe box",
            "shoe.box",
            "shoe_box",
            "café",
            &"x".repeat(64),
        ] {
            assert!(!valid_device_name(bad), "{bad}");
        }
    }
}
