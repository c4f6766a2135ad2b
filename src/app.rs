//! Composition root: opens the one database, builds the services, starts the web app and
//! mDNS, and shuts down in order on SIGTERM/SIGINT (jobs stop at a safe point).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::accounts::Accounts;
use crate::http::{self, AppState, Services};
use crate::jobs::Scheduler;
use crate::library::{self, Library};
use crate::system::settings::SettingsStore;

/// Options of `shoebox serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The library folder.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Announce `<device>.local` on the network.
    pub mdns: bool,
}

/// Why the app could not start; printed once by `main`.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The library could not be opened.
    #[error("opening the library in {path}: {source}")]
    Library {
        /// The data directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: library::Error,
    },
    /// Accounts could not be opened.
    #[error("opening accounts: {0}")]
    Accounts(#[from] crate::accounts::Error),
    /// The backup target could not be opened.
    #[error("opening the backup settings: {0}")]
    Backup(#[from] crate::backup::Error),
    /// Settings could not be opened.
    #[error("opening settings: {0}")]
    Settings(#[from] crate::system::Error),
    /// iCloud sessions could not be opened.
    #[error("opening iCloud sessions: {0}")]
    Icloud(#[from] crate::icloud::Error),
    /// The port is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
}

/// Opens everything that lives in the data directory.
pub fn services(data_dir: &Path) -> Result<Services, StartupError> {
    services_with(data_dir, library::Options::default())
}

/// [`services`] with library options (the CLI's `gc --grace`).
pub fn services_with(data_dir: &Path, options: library::Options) -> Result<Services, StartupError> {
    let wrap = |source| StartupError::Library {
        path: data_dir.to_path_buf(),
        source,
    };
    let db = Arc::new(library::open_database(data_dir, options.db_cache_bytes).map_err(wrap)?);
    tracing::info!(path = %data_dir.display(), "library opened");
    let library = Arc::new(Library::with_db(Arc::clone(&db), data_dir, options).map_err(wrap)?);
    let accounts = Arc::new(Accounts::open(Arc::clone(&db))?);
    let settings = Arc::new(SettingsStore::open(Arc::clone(&db))?);
    let icloud = Arc::new(crate::icloud::SessionStore::open(db, data_dir)?);
    let backup = Arc::new(crate::backup::Backup::open(Arc::clone(&library))?);
    Ok(Services::new(
        library,
        accounts,
        settings,
        Scheduler::new(),
        data_dir.to_path_buf(),
        backup,
        icloud,
    ))
}

/// Runs the web app until a signal asks it to stop.
pub async fn serve(options: ServeOptions) -> Result<(), StartupError> {
    let dir = options.data_dir.clone();
    let services = tokio::task::spawn_blocking(move || services(&dir))
        .await
        .map_err(|e| StartupError::Serve(std::io::Error::other(e)))??;
    let state = AppState(Arc::new(services));
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| StartupError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(%addr, "listening");
    println!("shoebox is listening on http://{addr}/");
    if options.mdns {
        let st = state.clone();
        let port = addr.port();
        // mdns-sd starts its own thread; keep the slow part off the async threads.
        let _ = tokio::task::spawn_blocking(move || st.allow_mdns(port)).await;
    }
    let sweeper = tokio::spawn(sweep(state.clone()));
    let thumbnailer = tokio::spawn(keep_thumbnails(state.clone()));
    let icloud = tokio::spawn(crate::icloud::schedule::keep_synced(
        Arc::clone(&state.library),
        state.jobs.clone(),
    ));
    let names = Arc::clone(&state.settings);
    let backups = tokio::spawn(crate::backup::schedule::keep_backed_up(
        Arc::clone(&state.backup),
        state.jobs.clone(),
        Arc::new(move || names.get().map(|s| s.device_name).unwrap_or_default()),
    ));
    let app = http::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await;
    sweeper.abort();
    thumbnailer.abort();
    icloud.abort();
    backups.abort();
    tracing::info!("stopping jobs at a safe point");
    let jobs = state.jobs.clone();
    let _ = tokio::task::spawn_blocking(move || jobs.shutdown()).await;
    served.map_err(StartupError::Serve)
}

/// New photos get thumbnails soon after they arrive: every 15 s, when the library changed
/// since the last run and no thumbnail job is running, start one (it skips what exists).
async fn keep_thumbnails(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
    let mut seen = None;
    loop {
        tick.tick().await;
        let st = state.clone();
        let Ok(Ok(counts)) = tokio::task::spawn_blocking(move || st.library.counts()).await else {
            continue;
        };
        let generation = (counts.ingested_files, counts.assets, counts.live_photos);
        if seen == Some(generation)
            || state.jobs.is_running("thumbnails")
            || state.jobs.is_running("import")
        {
            continue;
        }
        let job = crate::thumbs::ThumbnailJob::new(Arc::clone(&state.library), false);
        match state.jobs.start(job) {
            Ok(_) => seen = Some(generation),
            Err(e) => tracing::warn!("could not start the thumbnail job: {e}"),
        }
    }
}

/// What one round of upkeep did.
#[derive(Debug, Default)]
pub struct Upkeep {
    /// Trashed assets purged (past the retention the settings name).
    pub purged: u64,
    /// Derived images deleted because no asset holds their original any more.
    pub derived_removed: u64,
    /// Store garbage collection, when it ran.
    pub gc: Option<crate::store::GcReport>,
}

/// Purges trash past its retention, deletes the thumbnails of purged photos, and (when `gc`)
/// frees their bytes in the store. The CLI's `gc` and the server's hourly sweep both run it.
pub fn upkeep(services: &Services, gc: bool) -> anyhow::Result<Upkeep> {
    let retention = services.settings.get()?.trash_retention_days;
    let purged = services.library.purge_trash(retention, false)?;
    let lib = &services.library;
    // On a read error keep the file: a thumbnail too many is harmless, one too few is not.
    let derived_removed = services
        .derived
        .sweep(|blob| lib.holds_blob(blob).unwrap_or(true))?;
    let gc = if gc { Some(lib.gc()?) } else { None };
    Ok(Upkeep {
        purged,
        derived_removed,
        gc,
    })
}

/// Hourly upkeep: expired sessions, trash past its retention with the purged photos'
/// thumbnails, once a day (or right after a purge) store garbage collection, and stalled
/// WebDAV uploads.
async fn sweep(state: AppState) {
    const GC_EVERY_HOURS: u32 = 24;
    let mut tick = tokio::time::interval(std::time::Duration::from_hours(1));
    let mut hours = 0u32;
    let mut purged_since_gc = false;
    loop {
        tick.tick().await;
        hours = hours.wrapping_add(1);
        let st = state.clone();
        let gc = purged_since_gc || hours.is_multiple_of(GC_EVERY_HOURS);
        match tokio::task::spawn_blocking(move || upkeep(&st, gc)).await {
            Ok(Ok(done)) => {
                if done.purged > 0 || done.derived_removed > 0 {
                    tracing::info!(
                        assets = done.purged,
                        thumbnails = done.derived_removed,
                        "expired trash purged"
                    );
                }
                if let Some(r) = &done.gc {
                    tracing::info!(
                        freed = r.blobs_freed,
                        bytes = r.bytes_reclaimed,
                        in_grace = r.blobs_in_grace,
                        "store garbage collected"
                    );
                    // Freed files wait out the grace period: come back for them.
                    purged_since_gc = r.blobs_in_grace > 0;
                } else {
                    purged_since_gc = done.purged > 0;
                }
            }
            Ok(Err(e)) => tracing::warn!("upkeep: {e:#}"),
            Err(e) => tracing::warn!("upkeep task: {e}"),
        }
        let st = state.clone();
        let _ = tokio::task::spawn_blocking(move || st.dav.sweep_spool(crate::dav::STALE)).await;
        let st = state.clone();
        match tokio::task::spawn_blocking(move || st.accounts.purge_expired()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
            Ok(Err(e)) => tracing::warn!("session sweep: {e}"),
            _ => {}
        }
    }
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
