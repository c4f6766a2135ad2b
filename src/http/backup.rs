//! The Backup page (admins): set the target, test it, create or adopt its repository, back
//! up now, the nightly switch. The backup facade talks to the remote through `OpenDAL`'s own
//! runtime, so those calls run on a plain thread of their own, never on tokio's.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::Utc;
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::backup::{BackupPage, page as backup_page, when};
use super::views::layout::Flash;
use crate::backup::{KdfParams, Target, schedule};

pub(super) fn backup_error(e: &crate::backup::Error) -> HttpError {
    HttpError::Internal(e.to_string())
}

/// Runs `work` on a new plain thread and waits for it without blocking the runtime.
pub(super) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("backup-web".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| HttpError::Internal(format!("starting a thread: {e}")))?;
    rx.await
        .map_err(|_| HttpError::Internal("the backup thread stopped".into()))
}

async fn show(
    st: AppState,
    v: &Viewer,
    recovery: Option<String>,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let (target, draft, status, sched) = blocking(move || {
        let store = st2.backup.store();
        let got = (
            store.target()?,
            store.draft()?,
            store.status()?,
            store.schedule()?,
        );
        Ok::<_, crate::backup::Error>(got)
    })
    .await?;
    let next_run = target
        .as_ref()
        .and_then(|_| schedule::next_run(&sched, status.last_attempt, Utc::now()))
        .map(|t| when(t.timestamp()));
    let url = draft
        .as_ref()
        .or(target.as_ref())
        .map(|t| t.url.clone())
        .unwrap_or_default();
    let body = backup_page(&BackupPage {
        token: &v.csrf,
        target: target.as_ref().map(|t| t.url.as_str()),
        url: &url,
        status: &status,
        nightly: sched.nightly,
        upload_kib: sched.upload_kib,
        next_run,
        running: st.backup.is_running(),
        recovery: recovery.as_deref(),
    });
    let frame = Frame::new("Backup", "backup").flash(flash);
    Ok(render(&st, v, frame, &body).await?.into_response())
}

/// `GET /backup`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show(st, &v, None, None).await
}

/// The target form; empty secret fields keep what the draft or the target of the same
/// address already holds, so a tested target need not be typed twice.
#[derive(Deserialize)]
pub struct TargetInput {
    action: String,
    url: String,
    #[serde(default)]
    access_key: String,
    #[serde(default)]
    secret_key: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    passphrase: String,
}

fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl TargetInput {
    fn target(&self, known: &[Option<Target>]) -> Target {
        let url = self.url.trim().to_owned();
        let same = known.iter().flatten().find(|t| t.url == url);
        let keep = |typed: &str, old: Option<&Option<String>>| {
            given(typed).or_else(|| old.cloned().flatten())
        };
        Target {
            access_key: keep(&self.access_key, same.map(|t| &t.access_key)),
            secret_key: keep(&self.secret_key, same.map(|t| &t.secret_key)),
            user: keep(&self.user, same.map(|t| &t.user)),
            password: keep(&self.password, same.map(|t| &t.password)),
            passphrase: if self.passphrase.is_empty() {
                same.map(|t| t.passphrase.clone()).unwrap_or_default()
            } else {
                self.passphrase.clone()
            },
            url,
        }
    }
}

impl TargetInput {
    /// The button pressed.
    pub(super) fn action(&self) -> &str {
        &self.action
    }
}

/// The target the form describes (empty secrets filled from the draft or target of the same
/// address), kept as the draft; or why the address is unusable. Blocks; off the runtime.
pub(super) fn typed(
    store: &crate::backup::TargetStore,
    f: &TargetInput,
) -> Result<Result<Target, Flash>, crate::backup::Error> {
    let known = [store.draft()?, store.target()?];
    let target = f.target(&known);
    if let Err(e) = target.location() {
        return Ok(Err(Flash::Problem(format!(
            "That address is not one shoebox can use: {e}"
        ))));
    }
    store.set_draft(&target)?;
    Ok(Ok(target))
}

/// "Test connection" (write, read back, delete a probe object), in words. Blocks.
pub(super) fn test_words(target: &Target) -> Flash {
    match crate::backup::test(target) {
        Ok(()) => Flash::Ok(
            "The connection works: a test file was written, read back and deleted.".into(),
        ),
        Err(p) => Flash::Problem(p.to_string()),
    }
}

/// Tests, creates or adopts the target of the form; returns a recovery key just made and
/// what to tell the person. Shared by the Backup page and the wizard.
pub(super) async fn apply(
    st: &AppState,
    f: TargetInput,
) -> Result<(Option<String>, Flash), HttpError> {
    let st2 = st.clone();
    off_runtime(move || {
        let target = match typed(st2.backup.store(), &f)? {
            Ok(t) => t,
            Err(problem) => return Ok((None, problem)),
        };
        let answer = match f.action.as_str() {
            "create" => match st2.backup.create(&target, KdfParams::default()) {
                Ok(key) => (
                    Some(key),
                    Flash::Ok("Repository created; this box backs up there from now on.".into()),
                ),
                Err(e) => (None, Flash::Problem(e.to_string())),
            },
            "adopt" => match st2.backup.adopt(&target) {
                Ok(n) => (
                    None,
                    Flash::Ok(format!(
                        "This box now backs up to the repository there ({n} snapshots found)."
                    )),
                ),
                Err(e) => (None, Flash::Problem(e.to_string())),
            },
            _ => (None, test_words(&target)),
        };
        Ok::<_, crate::backup::Error>(answer)
    })
    .await?
    .map_err(|e| backup_error(&e))
}

/// `POST /backup/target`: test, create or adopt.
pub async fn target(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<TargetInput>,
) -> Result<Response, HttpError> {
    let (recovery, flash) = apply(&st, f).await?;
    show(st, &v, recovery, Some(flash)).await
}

/// `POST /backup/now`.
pub async fn now(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let started = off_runtime(move || {
        let host = st2
            .settings
            .get()
            .map(|s| s.device_name)
            .unwrap_or_default();
        st2.backup.start(&st2.jobs, &host)
    })
    .await?;
    let flash = match started {
        Ok(_) => Flash::Ok("Backup started; its progress is on the Status page.".into()),
        Err(e) => Flash::Problem(crate::backup::describe_failure(&e, None)),
    };
    show(st, &v, None, Some(flash)).await
}

/// The schedule form (a missing checkbox means off).
#[derive(Deserialize)]
pub struct ScheduleInput {
    nightly: Option<String>,
    /// KiB/s; empty for no limit.
    #[serde(default)]
    upload_kib: String,
}

/// `POST /backup/schedule`.
pub async fn set_schedule(
    State(st): State<AppState>,
    Form(f): Form<ScheduleInput>,
) -> Result<Response, HttpError> {
    let on = f.nightly.is_some();
    let limit = f.upload_kib.trim();
    let upload_kib = if limit.is_empty() {
        None
    } else {
        match limit.parse::<u32>() {
            Ok(k) if k > 0 => Some(k),
            _ => {
                return Err(HttpError::BadRequest(
                    "The upload limit is a whole number of KiB per second (for example 500), or empty for none.".into(),
                ));
            }
        }
    };
    blocking(move || {
        st.backup
            .store()
            .set_schedule(|s| {
                s.nightly = on;
                s.upload_kib = upload_kib;
            })
            .map(|_| ())
    })
    .await?;
    Ok(Redirect::to("/backup").into_response())
}
