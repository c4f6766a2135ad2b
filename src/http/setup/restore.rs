//! The wizard's restore branch: after the storage check, the repository (the target form of
//! the Backup page, opened read-only), a snapshot to choose, and the restore as a background
//! job whose page reloads itself. A failure or a restart of the box mid-way offers "try
//! again", which goes on from where it stopped; at the end the repository is the box's
//! target and the owner step comes next.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::super::backup::{TargetInput, backup_error, off_runtime, test_words, typed};
use super::super::error::{HttpError, blocking};
use super::super::guard::Viewer;
use super::super::page::{Frame, render};
use super::super::state::AppState;
use super::super::views::layout::Flash;
use super::super::views::restore::{self as views, Restore};
use super::{current, step_url};
use crate::backup::target::SnapshotRow;
use crate::system::settings::SetupStep;

/// Seconds between reloads of the progress page.
const RELOAD_SECS: u32 = 2;

/// Sends the browser to where the wizard is unless it is at `step`.
async fn elsewhere(st: &AppState, step: SetupStep) -> Result<Option<Response>, HttpError> {
    let now = current(st).await?;
    Ok((now != step).then(|| Redirect::to(step_url(now)).into_response()))
}

async fn set_step(st: &AppState, step: SetupStep) -> Result<(), HttpError> {
    let st = st.clone();
    blocking(move || st.settings.update(|s| s.setup = step).map(drop)).await
}

/// The repository page, with the snapshots of the repository just opened and `flash`.
async fn target_step(
    st: &AppState,
    v: &Viewer,
    snapshots: Option<Vec<SnapshotRow>>,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    if let Some(away) = elsewhere(st, SetupStep::RestoreTarget).await? {
        return Ok(away);
    }
    let st2 = st.clone();
    let draft = blocking(move || st2.backup.store().draft()).await?;
    let url = draft.map(|t| t.url).unwrap_or_default();
    let body = views::target(&v.csrf, &url, snapshots.as_deref());
    let frame = Frame::new("Restore", "setup").flash(flash);
    Ok(render(st, v, frame, &body).await?.into_response())
}

/// `GET /setup/restore`.
pub async fn restore(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    target_step(&st, &v, None, None).await
}

/// `POST /setup/restore/target`: test the connection, or open the repository (reading only)
/// and list its snapshots.
pub async fn restore_target(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<TargetInput>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::RestoreTarget {
        return Err(HttpError::NotFound);
    }
    let st2 = st.clone();
    let (rows, flash) = off_runtime(move || {
        let target = match typed(st2.backup.store(), &f)? {
            Ok(t) => t,
            Err(problem) => return Ok((None, problem)),
        };
        if f.action() == "test" {
            return Ok((None, test_words(&target)));
        }
        Ok::<_, crate::backup::Error>(match st2.backup.snapshots_at(&target) {
            Ok(rows) if rows.is_empty() => (
                None,
                Flash::Problem(
                    "The repository opened, but it holds no snapshot yet: there is nothing to restore."
                        .into(),
                ),
            ),
            Ok(rows) => {
                let words = format!(
                    "The repository opened: {} snapshot(s). Choose the one to restore (the newest is chosen).",
                    rows.len()
                );
                (Some(rows), Flash::Ok(words))
            }
            Err(e) => (None, Flash::Problem(e.to_string())),
        })
    })
    .await?
    .map_err(|e| backup_error(&e))?;
    target_step(&st, &v, rows, Some(flash)).await
}

/// The snapshot chosen.
#[derive(Deserialize)]
pub struct Pick {
    snapshot: String,
}

/// Starts the restore of the draft target (`snapshot`, or the one chosen before) and sends
/// the browser to its progress; or back to the repository page with the reason.
async fn start(st: &AppState, v: &Viewer, snapshot: Option<String>) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let started = blocking(move || {
        let store = st2.backup.store();
        let name = match snapshot {
            Some(n) => Some(n),
            None => store.restore_choice()?,
        };
        let (Some(target), Some(name)) = (store.draft()?, name) else {
            return Ok(Err(
                "Open the repository again and choose the snapshot to restore.".to_owned(),
            ));
        };
        match st2.backup.start_restore(&st2.jobs, &target, &name) {
            Ok(_) | Err(crate::backup::Error::AlreadyRunning) => Ok(Ok(())),
            Err(e) => Ok::<_, crate::backup::Error>(Err(e.to_string())),
        }
    })
    .await?;
    match started {
        Ok(()) => {
            set_step(st, SetupStep::Restoring).await?;
            tracing::info!("restore from a backup started");
            Ok(Redirect::to(step_url(SetupStep::Restoring)).into_response())
        }
        Err(why) => {
            set_step(st, SetupStep::RestoreTarget).await?;
            target_step(st, v, None, Some(Flash::Problem(why))).await
        }
    }
}

/// `POST /setup/restore/start`.
pub async fn restore_start(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(p): Form<Pick>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::RestoreTarget {
        return Err(HttpError::NotFound);
    }
    start(&st, &v, Some(p.snapshot)).await
}

/// True while this process runs a restore.
fn running(st: &AppState) -> bool {
    st.backup
        .restore_progress()
        .is_some_and(|p| !p.snapshot().finished)
}

/// `GET /setup/restore/progress`: running, failed (or cut by a restart), or done; done moves
/// the wizard on to the owner step.
pub async fn restore_progress(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    if let Some(away) = elsewhere(&st, SetupStep::Restoring).await? {
        return Ok(away);
    }
    let st2 = st.clone();
    let (job, stored, counts) = blocking(move || {
        let job = st2.backup.restore_progress().map(|p| p.snapshot());
        let stored = st2.backup.store().target()?.is_some();
        Ok::<_, HttpError>((job, stored, st2.library.counts()?))
    })
    .await?;
    let stopped = "The restore stopped before it finished (the box restarted).";
    let view = match &job {
        Some(j) if !j.finished => Restore::Running(j),
        Some(j) if j.recent_errors.is_empty() => Restore::Done(counts.assets, counts.bytes),
        Some(j) => Restore::Failed(Some(j), j.recent_errors.last().map_or(stopped, |e| e)),
        None if stored => Restore::Done(counts.assets, counts.bytes),
        None => Restore::Failed(None, stopped),
    };
    let mut frame = Frame::new("Restoring", "setup");
    match view {
        Restore::Running(_) => frame = frame.reload(RELOAD_SECS),
        Restore::Done(..) => {
            set_step(&st, SetupStep::RestoredOwner).await?;
            tracing::info!(assets = counts.assets, "restore from a backup finished");
        }
        Restore::Failed(..) => {}
    }
    let body = views::progress(&v.csrf, &view);
    Ok(render(&st, &v, frame, &body).await?.into_response())
}

/// `POST /setup/restore/retry`: the same snapshot again, going on from where it stopped.
pub async fn restore_retry(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::Restoring {
        return Err(HttpError::NotFound);
    }
    if running(&st) {
        return Ok(Redirect::to(step_url(SetupStep::Restoring)).into_response());
    }
    start(&st, &v, None).await
}

/// `POST /setup/restore/other`: back to the repository form (another address, credentials,
/// passphrase or snapshot).
pub async fn restore_other(State(st): State<AppState>) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::Restoring {
        return Err(HttpError::NotFound);
    }
    if !running(&st) {
        set_step(&st, SetupStep::RestoreTarget).await?;
    }
    Ok(Redirect::to("/setup").into_response())
}

/// `POST /setup/restore/fresh`: leave the restore branch for an empty library, before the
/// restore finished.
pub async fn restore_fresh(State(st): State<AppState>) -> Result<Response, HttpError> {
    let now = current(&st).await?;
    let before_end = matches!(
        now,
        SetupStep::RestoreStorage | SetupStep::RestoreTarget | SetupStep::Restoring
    );
    if !before_end {
        return Err(HttpError::NotFound);
    }
    if !running(&st) {
        set_step(&st, SetupStep::Owner).await?;
    }
    Ok(Redirect::to("/setup").into_response())
}
