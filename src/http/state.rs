//! What handlers may reach: the facades, as shared handles. No raw database.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::accounts::Accounts;
use crate::backup::Backup;
use crate::dav::Dav;
use crate::icloud::{SessionStore, SignIns};
use crate::jobs::Scheduler;
use crate::library::Library;
use crate::system::info::{Probe, SystemInfo};
use crate::system::mdns::{self, Announcer};
use crate::system::settings::{SettingsStore, SetupStep};
use crate::thumbs::Derived;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState(pub Arc<Services>);

/// The services behind the web app.
pub struct Services {
    /// Photos.
    pub library: Arc<Library>,
    /// People and sessions.
    pub accounts: Arc<Accounts>,
    /// Wizard-edited settings.
    pub settings: Arc<SettingsStore>,
    /// Background jobs.
    pub jobs: Scheduler,
    /// The library folder.
    pub data_dir: PathBuf,
    /// Thumbnails and previews.
    pub derived: Derived,
    /// WebDAV uploads from phones.
    pub dav: Arc<Dav>,
    /// Off-site backup: its target, status and runs.
    pub backup: Arc<Backup>,
    /// iCloud sessions and sync state.
    pub icloud: Arc<SessionStore>,
    /// iCloud sign-ins waiting for a code.
    pub signins: SignIns,
    /// Machine facts, refreshed at most once a second (the status page is polled).
    probe: Mutex<(Probe, Option<(Instant, SystemInfo)>)>,
    /// The wizard was seen finished (it never reopens).
    setup_done: AtomicBool,
    /// An account was seen (the owner is never removed).
    users_exist: AtomicBool,
    /// The mDNS announcement: the port it names (None: announcing not allowed) and the live one.
    mdns: Mutex<(Option<u16>, Option<Announcer>)>,
}

impl Services {
    /// Bundles the services.
    pub fn new(
        library: Arc<Library>,
        accounts: Arc<Accounts>,
        settings: Arc<SettingsStore>,
        jobs: Scheduler,
        data_dir: PathBuf,
        backup: Arc<Backup>,
        icloud: Arc<SessionStore>,
    ) -> Self {
        let dav = Arc::new(Dav::new(
            Arc::clone(&library),
            Arc::clone(&accounts),
            crate::dav::Options::from_env(),
        ));
        Self {
            dav,
            backup,
            signins: SignIns::new(Arc::clone(&icloud)),
            icloud,
            library,
            accounts,
            settings,
            jobs,
            derived: Derived::new(&data_dir),
            data_dir,
            probe: Mutex::new((Probe::new(), None)),
            mdns: Mutex::new((None, None)),
            setup_done: AtomicBool::new(false),
            users_exist: AtomicBool::new(false),
        }
    }

    /// Where the wizard is. Once finished it stays finished (settings refuse to go back), so
    /// that answer is kept in memory and every later request skips the database.
    pub fn setup_step(&self) -> crate::system::Result<SetupStep> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(SetupStep::Done);
        }
        let step = self.settings.get()?.setup;
        self.setup_done
            .store(step == SetupStep::Done, Ordering::Relaxed);
        Ok(step)
    }

    /// True once setup is finished and accounts exist, as already seen (no database read).
    pub fn is_set_up(&self) -> bool {
        self.setup_done.load(Ordering::Relaxed) && self.users_exist.load(Ordering::Relaxed)
    }

    /// Whether any account exists. The owner cannot be removed, so once true it stays true
    /// and is kept in memory.
    pub fn has_users(&self) -> bool {
        if self.users_exist.load(Ordering::Relaxed) {
            return true;
        }
        let exist = self.accounts.has_users().unwrap_or(true);
        self.users_exist.store(exist, Ordering::Relaxed);
        exist
    }

    /// Allows announcing the web app on `port` with mDNS (the `--no-mdns` flag never calls it).
    pub fn allow_mdns(&self, port: u16) {
        self.mdns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0 = Some(port);
        self.announce();
    }

    /// Starts, renames or stops the mDNS announcement to match the settings.
    pub fn announce(&self) {
        let mut guard = self
            .mdns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.1 = None; // unregister the old name first
        let Some(port) = guard.0 else { return };
        let Ok(settings) = self.settings.get() else {
            return;
        };
        if !settings.mdns {
            tracing::info!("mDNS announcement off");
            return;
        }
        match mdns::announce(&settings.device_name, port) {
            Ok(a) => {
                tracing::info!(host = %format!("{}.local", settings.device_name), "announced with mDNS");
                guard.1 = Some(a);
            }
            Err(e) => tracing::warn!("mDNS announcement failed: {e}"),
        }
    }

    /// Machine facts, at most a second old.
    pub fn system_info(&self) -> SystemInfo {
        let mut guard = self
            .probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (probe, cached) = &mut *guard;
        if let Some((_, info)) = cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(1))
        {
            return info.clone();
        }
        let info = probe.snapshot();
        *cached = Some((Instant::now(), info.clone()));
        info
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}
