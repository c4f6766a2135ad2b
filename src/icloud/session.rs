//! What the box remembers per Apple ID, and where: sessions (cookies, trust token, client id,
//! the password for unattended re-sign-in) encrypted at rest in `catalog.redb` with a box key
//! kept in the data directory, and per-zone sync state in clear.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::http::Cookie;
use crate::boxkey::BoxKey;

/// Apple ID → sealed session.
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("icloud.sessions");
/// "apple id|database|zone" → zone sync state (JSON).
const ZONES: TableDefinition<&str, &[u8]> = TableDefinition::new("icloud.zones");
/// Apple ID → sealed [`PendingSignIn`].
const PENDING: TableDefinition<&str, &[u8]> = TableDefinition::new("icloud.pending");
/// A sign-in waiting for its code longer than this is forgotten (with its password).
const PENDING_SECS: i64 = 86_400;
/// Name of the box key file in the data directory.
pub const KEY_FILE: &str = crate::boxkey::KEY_FILE;

/// Trust lasts about 30 days at Apple (the `X-APPLE-WEBAUTH-USER` cookie's life).
pub const TRUST_DAYS: i64 = 30;
/// Status and notifications warn this many days before the trust ends.
pub const WARN_DAYS: i64 = 7;
/// Syncs failing in a row before a person is told (one failure is often Apple's hiccup).
pub const FAIL_LIMIT: u32 = 3;

/// One Apple ID's sign-in state.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Session {
    /// The Apple ID as typed (Apple's SRP proof uses it verbatim).
    pub apple_id: String,
    /// Our client id; Apple ties trust to it, so it never changes.
    pub client_id: String,
    /// China-mainland service.
    pub china: bool,
    /// Kept so a sync can sign in again with the trust token, without a person.
    pub password: Option<String>,
    /// Apple's cookies.
    pub cookies: Vec<Cookie>,
    /// Echoed `scnt`.
    pub scnt: Option<String>,
    /// Echoed `X-Apple-ID-Session-Id`.
    pub session_id: Option<String>,
    /// `X-Apple-Session-Token`, the `dsWebAuthToken` of `accountLogin`.
    pub session_token: Option<String>,
    /// `X-Apple-TwoSV-Trust-Token`: skips 2FA while valid.
    pub trust_token: Option<String>,
    /// `X-Apple-ID-Account-Country`.
    pub account_country: Option<String>,
    /// Directory services id.
    pub dsid: Option<String>,
    /// CloudKit database host from `webservices.ckdatabasews`.
    pub ckdatabase: Option<String>,
    /// When the trust (2FA) ends, unix seconds.
    pub trust_expires: Option<i64>,
    /// Set when a person must sign in; syncs do nothing until then.
    pub needs_login: Option<String>,
    /// Nothing is sent to Apple before this unix second (throttling).
    pub blocked_until: Option<i64>,
    /// The last back-off, doubled on each refusal in a row.
    pub backoff_secs: i64,
    /// Last sync: (unix second, outcome).
    pub last_sync: Option<(i64, String)>,
    /// Syncs that failed in a row (reset by one that works).
    #[serde(default)]
    pub failures: u32,
    /// When Apple last accepted this session (a sign-in, `validate`, a sync that worked).
    #[serde(default)]
    pub last_ok: Option<i64>,
}

/// Shows what helps a bug report and hides what signs in: the password, cookies and tokens
/// appear only as whether they are set.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("Session")
            .field("apple_id", &self.apple_id)
            .field("china", &self.china)
            .field("password", &set(&self.password))
            .field("cookies", &self.cookies.len())
            .field("scnt", &set(&self.scnt))
            .field("session_id", &set(&self.session_id))
            .field("session_token", &set(&self.session_token))
            .field("trust_token", &set(&self.trust_token))
            .field("account_country", &self.account_country)
            .field("dsid", &self.dsid)
            .field("trust_expires", &self.trust_expires)
            .field("needs_login", &self.needs_login)
            .field("blocked_until", &self.blocked_until)
            .field("failures", &self.failures)
            .field("last_ok", &self.last_ok)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A new session with a fresh client id.
    pub fn new(apple_id: &str, china: bool) -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok();
        let hex = super::srp::to_hex(&bytes);
        Self {
            apple_id: apple_id.to_string(),
            client_id: format!(
                "auth-{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ),
            china,
            ..Self::default()
        }
    }

    /// Days until the trust ends (negative once past).
    pub fn trust_days_left(&self, now: i64) -> Option<i64> {
        self.trust_expires.map(|e| (e - now).div_euclid(86_400))
    }

    /// What a person must know or do about this Apple ID now, in plain words (the banner).
    pub fn attention(&self, now: i64) -> Option<String> {
        self.problem(now).map(|(_, text)| text)
    }

    /// The problem of this Apple ID now: a short kind (one notification episode each) and
    /// plain words.
    pub fn problem(&self, now: i64) -> Option<(&'static str, String)> {
        let id = &self.apple_id;
        if let Some(why) = &self.needs_login {
            return Some(("login", format!("iCloud {id} needs sign-in: {why}.")));
        }
        if let Some(days) = self.trust_days_left(now).filter(|d| *d <= WARN_DAYS) {
            return Some((
                "trust",
                format!(
                    "Apple's trust of this box for iCloud {id} ends in {days} days: sign in again."
                ),
            ));
        }
        if self.blocked_until.is_some_and(|u| u > now) {
            return Some((
                "backoff",
                format!("iCloud {id} keeps failing; shoebox waits before asking Apple again."),
            ));
        }
        if self.failures >= FAIL_LIMIT {
            let why = self.last_sync.as_ref().map_or("", |(_, e)| e.as_str());
            return Some((
                "failing",
                format!(
                    "iCloud {id}: the last {} syncs failed ({why}).",
                    self.failures
                ),
            ));
        }
        None
    }
}

/// A sign-in waiting for its code, kept so the code can still be entered after a restart.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The session as it stood when Apple sent the code (its conversation with Apple).
    pub session: Session,
    /// The password typed, kept for the end of the sign-in and for "send a new code".
    pub password: String,
    /// The Apple ID was signed in before (a failure keeps its session).
    pub known: bool,
    /// Unix second the code was sent.
    pub at: i64,
    /// A text message was asked for instead: the phone (Apple's id, the number as shown).
    /// A new code for this sign-in is then a new text message, not a device push.
    #[serde(default)]
    pub sms: Option<(i64, String)>,
}

/// Counts per category, so "where are my other photos" answers itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Photos in the library at Apple (not hidden, not deleted).
    pub photos: u64,
    /// Videos at Apple.
    pub videos: u64,
    /// Hidden items at Apple.
    pub hidden: u64,
    /// Items in Recently Deleted at Apple.
    pub recently_deleted: u64,
    /// Items the box holds from this zone.
    pub downloaded: u64,
    /// Items the box moved to its trash because iCloud deleted them.
    pub trashed: u64,
}

/// Where a zone's sync stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZoneState {
    /// Change-feed token after the last complete pass.
    pub sync_token: Option<String>,
    /// True once a full listing finished.
    pub full_done: bool,
    /// Token captured when the running full listing started.
    pub pending_token: Option<String>,
    /// Which listing (0 = library, 1 = hidden) and rank the running full listing reached.
    pub cursor: (u8, u64),
    /// Unix second of the last full listing.
    pub last_full: i64,
    /// Counts at Apple and here.
    pub counts: Counts,
    /// True once the zone's albums were mirrored (then again only when the feed shows album
    /// changes or a full listing runs).
    #[serde(default)]
    pub albums_done: bool,
    /// Unix second the running (or last) full listing started: what it saw is marked with
    /// it, so records it did not see stand out (see `records.rs`).
    #[serde(default)]
    pub full_started: i64,
}

/// The sealed session table and the zone table.
pub struct SessionStore {
    pub(super) db: Arc<Database>,
    key: BoxKey,
}

impl SessionStore {
    /// Opens the tables, creating the box key on first use.
    pub fn open(db: Arc<Database>, data_dir: &Path) -> Result<Self> {
        let key = BoxKey::open(data_dir).map_err(|e| Error::Store(e.to_string()))?;
        let txn = db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(SESSIONS).map_err(redb::Error::from)?;
        txn.open_table(ZONES).map_err(redb::Error::from)?;
        txn.open_table(super::records::RECORDS)
            .map_err(redb::Error::from)?;
        txn.open_table(PENDING).map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self { db, key })
    }

    /// Keeps (sealed) a sign-in that waits for its code.
    pub fn save_pending(&self, p: &PendingSignIn) -> Result<()> {
        let id = p.session.apple_id.as_str();
        let clear = serde_json::to_vec(p).map_err(|e| Error::Store(e.to_string()))?;
        let aad = format!("pending|{id}");
        let sealed = self
            .key
            .seal(aad.as_bytes(), &clear)
            .map_err(|e| Error::Store(e.to_string()))?;
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(PENDING)
            .map_err(redb::Error::from)?
            .insert(id, sealed.as_slice())
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// The sign-ins waiting for a code, younger than a day, by Apple ID.
    pub fn pending(&self) -> Result<Vec<PendingSignIn>> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(PENDING).map_err(redb::Error::from)?;
        let now = chrono::Utc::now().timestamp();
        let mut out = Vec::new();
        for row in table.iter().map_err(redb::Error::from)? {
            let (k, v) = row.map_err(redb::Error::from)?;
            let aad = format!("pending|{}", k.value());
            let Ok(clear) = self.key.open_sealed(aad.as_bytes(), v.value()) else {
                continue;
            };
            if let Ok(p) = serde_json::from_slice::<PendingSignIn>(&clear)
                && now - p.at < PENDING_SECS
            {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Forgets the waiting sign-in of `apple_id`.
    pub fn remove_pending(&self, apple_id: &str) -> Result<()> {
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(PENDING)
            .map_err(redb::Error::from)?
            .remove(apple_id)
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// Every Apple ID signed in on this box.
    pub fn accounts(&self) -> Result<Vec<String>> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(SESSIONS).map_err(redb::Error::from)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(redb::Error::from)? {
            out.push(row.map_err(redb::Error::from)?.0.value().to_string());
        }
        Ok(out)
    }

    /// The session of `apple_id`.
    pub fn load(&self, apple_id: &str) -> Result<Option<Session>> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(SESSIONS).map_err(redb::Error::from)?;
        let Some(sealed) = table.get(apple_id).map_err(redb::Error::from)? else {
            return Ok(None);
        };
        let clear = self
            .key
            .open_sealed(apple_id.as_bytes(), sealed.value())
            .map_err(|_| {
                Error::Store(format!(
                    "the session of {apple_id} does not open with this box's {KEY_FILE}"
                ))
            })?;
        serde_json::from_slice(&clear)
            .map(Some)
            .map_err(|e| Error::Store(e.to_string()))
    }

    /// Seals and saves a session.
    pub fn save(&self, session: &Session) -> Result<()> {
        let clear = serde_json::to_vec(session).map_err(|e| Error::Store(e.to_string()))?;
        let sealed = self
            .key
            .seal(session.apple_id.as_bytes(), &clear)
            .map_err(|e| Error::Store(e.to_string()))?;
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(SESSIONS)
            .map_err(redb::Error::from)?
            .insert(session.apple_id.as_str(), sealed.as_slice())
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// Forgets an Apple ID: its session and its zones' sync state (photos already pulled stay).
    pub fn remove(&self, apple_id: &str) -> Result<()> {
        let prefix = format!("{apple_id}|");
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        {
            txn.open_table(SESSIONS)
                .map_err(redb::Error::from)?
                .remove(apple_id)
                .map_err(redb::Error::from)?;
            txn.open_table(PENDING)
                .map_err(redb::Error::from)?
                .remove(apple_id)
                .map_err(redb::Error::from)?;
            let mut zones = txn.open_table(ZONES).map_err(redb::Error::from)?;
            let keys: Vec<String> = zones
                .range(prefix.as_str()..)
                .map_err(redb::Error::from)?
                .filter_map(std::result::Result::ok)
                .map(|(k, _)| k.value().to_string())
                .take_while(|k| k.starts_with(&prefix))
                .collect();
            for k in keys {
                zones.remove(k.as_str()).map_err(redb::Error::from)?;
            }
            drop(zones);
            super::records::forget_account(&txn, apple_id)?;
        }
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// A zone's sync state.
    pub fn zone(&self, key: &str) -> Result<ZoneState> {
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(ZONES).map_err(redb::Error::from)?;
        let Some(v) = table.get(key).map_err(redb::Error::from)? else {
            return Ok(ZoneState::default());
        };
        serde_json::from_slice(v.value()).map_err(|e| Error::Store(e.to_string()))
    }

    /// Saves a zone's sync state.
    pub fn save_zone(&self, key: &str, state: &ZoneState) -> Result<()> {
        let bytes = serde_json::to_vec(state).map_err(|e| Error::Store(e.to_string()))?;
        let txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(ZONES)
            .map_err(redb::Error::from)?
            .insert(key, bytes.as_slice())
            .map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(())
    }

    /// Every zone state of an account, by zone key.
    pub fn zones_of(&self, apple_id: &str) -> Result<Vec<(String, ZoneState)>> {
        let prefix = format!("{apple_id}|");
        let txn = self.db.begin_read().map_err(redb::Error::from)?;
        let table = txn.open_table(ZONES).map_err(redb::Error::from)?;
        let mut out = Vec::new();
        for row in table.range(prefix.as_str()..).map_err(redb::Error::from)? {
            let (k, v) = row.map_err(redb::Error::from)?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            let state =
                serde_json::from_slice(v.value()).map_err(|e| Error::Store(e.to_string()))?;
            out.push((k.value()[prefix.len()..].to_string(), state));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_names_no_secret() {
        let mut s = Session::new("me@example.com", false);
        s.password = Some("hunter2-secret".into());
        s.trust_token = Some("TRUST-TOKEN-XYZ".into());
        s.session_token = Some("SESSION-TOKEN-XYZ".into());
        s.scnt = Some("SCNT-XYZ".into());
        s.cookies.push(crate::icloud::http::Cookie {
            name: "X-APPLE-WEBAUTH-TOKEN".into(),
            value: "COOKIE-VALUE-XYZ".into(),
            domain: ".icloud.com".into(),
            expires: None,
        });
        let shown = format!("{s:?}");
        assert!(shown.contains("me@example.com"), "{shown}");
        for secret in [
            "hunter2",
            "TRUST-TOKEN",
            "SESSION-TOKEN",
            "SCNT-XYZ",
            "COOKIE-VALUE",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn sessions_are_sealed_and_bound_to_the_box_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let store = SessionStore::open(Arc::clone(&db), dir.path()).unwrap();
        let mut s = Session::new("me@example.com", false);
        s.password = Some("hunter2-secret".into());
        s.trust_token = Some("TRUST-TOKEN-XYZ".into());
        store.save(&s).unwrap();
        let back = store.load("me@example.com").unwrap().unwrap();
        assert_eq!(back.password.as_deref(), Some("hunter2-secret"));
        assert_eq!(back.client_id, s.client_id);
        drop(store);
        drop(db);
        let raw = std::fs::read(dir.path().join("c.redb")).unwrap();
        let find = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        assert!(!find(b"hunter2-secret"));
        assert!(!find(b"TRUST-TOKEN-XYZ"));
        // Another box key cannot open it.
        std::fs::write(dir.path().join(KEY_FILE), [7u8; 32]).unwrap();
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let other = SessionStore::open(db, dir.path()).unwrap();
        assert!(other.load("me@example.com").is_err());
    }
}
