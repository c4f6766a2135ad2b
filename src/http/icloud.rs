//! The iCloud page: thin handlers over `icloud` (sign-in with a code, sync now, remove).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::icloud::{AccountView, CodeView, ZoneView, code_page, page as icloud_page};
use super::views::layout::Flash;
use crate::icloud::{Error, Step, SyncJob, schedule};

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Every Apple ID with what the page shows of it.
fn gather(st: &AppState) -> Result<Vec<AccountView>, HttpError> {
    let now = chrono::Utc::now().timestamp();
    let mut out = Vec::new();
    for id in st.icloud.accounts()? {
        let Some(s) = st.icloud.load(&id)? else {
            continue;
        };
        let zones = st
            .icloud
            .zones_of(&id)?
            .into_iter()
            .map(|(key, z)| ZoneView {
                label: if key.starts_with("shared|") {
                    "Shared library"
                } else {
                    "Photo library"
                },
                counts: z.counts,
            })
            .collect();
        let running = st.jobs.is_running(&format!("iCloud sync {id}"));
        let ago = |at: i64| u64::try_from(now - at).unwrap_or(0);
        out.push(AccountView {
            next_sync: schedule::next_sync(&s).map(|at| u64::try_from(at - now).unwrap_or(0)),
            waiting: s
                .blocked_until
                .filter(|u| *u > now)
                .map(|u| u64::try_from(u - now).unwrap_or(0)),
            last_sync: s.last_sync.as_ref().map(|(at, o)| (ago(*at), o.clone())),
            trust_days: s.trust_days_left(now),
            needs_login: s.needs_login.clone(),
            apple_id: id,
            running,
            zones,
        });
    }
    Ok(out)
}

async fn show(st: &AppState, v: &Viewer, flash: Option<Flash>) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let (accounts, waiting) =
        blocking(move || Ok::<_, HttpError>((gather(&st2)?, st2.signins.waiting()))).await?;
    Ok(render(
        st,
        v,
        Frame::new("iCloud", "icloud").flash(flash),
        &icloud_page(&v.csrf, &accounts, &waiting),
    )
    .await?
    .into_response())
}

/// `GET /icloud`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show(&st, &v, None).await
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    apple_id: String,
    password: String,
    china: Option<String>,
}

/// The code form.
#[derive(Deserialize)]
pub struct CodeForm {
    apple_id: String,
    code: String,
}

/// A form naming one Apple ID.
#[derive(Deserialize)]
pub struct Which {
    apple_id: String,
}

/// A sign-in's outcome as a page: the code page, or the page it ends on with words.
pub enum Shown {
    /// Signed in; the message says so.
    Done(Flash),
    /// Failed; the message says why and what to do.
    Problem(Flash),
    /// Apple asks for a code.
    Code(String, String, bool),
}

/// Words for the person about a sign-in step.
pub fn outcome(apple_id: &str, step: Step) -> Shown {
    match step {
        Step::SignedIn(days) => Shown::Done(Flash::Ok(match days {
            Some(d) => format!(
                "Signed in to iCloud as {apple_id}; Apple trusts this box for {d} more days."
            ),
            None => format!("Signed in to iCloud as {apple_id}."),
        })),
        Step::Code {
            question,
            retry,
            sms,
        } => {
            let question = if retry {
                format!("That code was not accepted. Apple sent a new one. {question}")
            } else {
                question
            };
            Shown::Code(apple_id.to_string(), question, sms)
        }
        Step::Failed(Error::WrongPassword) => Shown::Problem(Flash::Problem(format!(
            "Apple refused the password for {apple_id}. Check it and try again; shoebox never retries a refused password by itself."
        ))),
        Step::Failed(e) => Shown::Problem(Flash::Problem(format!("Not signed in: {e}"))),
    }
}

async fn step_page(st: &AppState, v: &Viewer, shown: Shown) -> Result<Response, HttpError> {
    match shown {
        Shown::Done(f) | Shown::Problem(f) => show(st, v, Some(f)).await,
        Shown::Code(apple_id, question, sms) => {
            let view = CodeView {
                apple_id: &apple_id,
                question: &question,
                sms,
                wizard: false,
            };
            Ok(render(
                st,
                v,
                Frame::new("Verification code", "icloud"),
                &code_page(&v.csrf, &view),
            )
            .await?
            .into_response())
        }
    }
}

/// Starts a sign-in off the async threads.
pub async fn start(st: &AppState, f: SignInForm) -> Result<Shown, HttpError> {
    let st = st.clone();
    let id = f.apple_id.trim().to_string();
    if id.is_empty() || f.password.is_empty() {
        return Ok(Shown::Problem(Flash::Problem(
            "Type the Apple ID and its password.".into(),
        )));
    }
    let china = f.china.is_some();
    let step =
        blocking(move || Ok::<_, HttpError>(st.signins.start(&id, &f.password, china))).await?;
    Ok(outcome(f.apple_id.trim(), step))
}

/// Gives a code off the async threads.
pub async fn give_code(st: &AppState, f: CodeForm) -> Result<Shown, HttpError> {
    let st = st.clone();
    let id = f.apple_id.clone();
    let step = blocking(move || Ok::<_, HttpError>(st.signins.answer(&id, &f.code))).await?;
    Ok(outcome(&f.apple_id, step))
}

/// `POST /icloud/add`: add an Apple ID or sign one in again.
pub async fn add(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<SignInForm>,
) -> Result<Response, HttpError> {
    let shown = start(&st, f).await?;
    step_page(&st, &v, shown).await
}

/// `POST /icloud/code`: the verification code (or `sms` for a text message).
pub async fn code(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<CodeForm>,
) -> Result<Response, HttpError> {
    let shown = give_code(&st, f).await?;
    step_page(&st, &v, shown).await
}

/// `POST /icloud/sync`: starts a sync job now; its progress shows on the status page.
pub async fn sync(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<Which>,
) -> Result<Response, HttpError> {
    let job = SyncJob::new(Arc::clone(&st.library), Arc::clone(&st.icloud), &f.apple_id);
    if st.jobs.is_running(&crate::jobs::Job::name(&job)) {
        return show(
            &st,
            &v,
            Some(Flash::Ok("A sync of this Apple ID is running.".into())),
        )
        .await;
    }
    st.jobs
        .start(job)
        .map_err(|e| HttpError::Internal(format!("starting the iCloud sync: {e}")))?;
    tracing::info!(by = %v.name(), "iCloud sync started from the web");
    Ok(Redirect::to("/status").into_response())
}

/// `POST /icloud/remove`: forgets an Apple ID (its photos stay in the library).
pub async fn remove(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<Which>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let id = f.apple_id.clone();
    blocking(move || st2.icloud.remove(&id)).await?;
    tracing::info!(by = %v.name(), "iCloud account removed");
    show(
        &st,
        &v,
        Some(Flash::Ok(format!(
            "{} removed; its photos stay in the library.",
            f.apple_id
        ))),
    )
    .await
}
