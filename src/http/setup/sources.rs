//! The wizard's photo-sources and backup steps: signing Apple IDs in (password, then the
//! code) and setting up the backup target, each with the same pieces as the iCloud and Backup
//! pages, posted to wizard-only routes that close with the wizard.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::error::{HttpError, blocking};
use super::super::guard::Viewer;
use super::super::page::{Frame, render};
use super::super::state::AppState;
use super::super::views::setup as views;
use super::{advance, current, step_url};
use crate::system::settings::SetupStep;

/// The wizard's sources page, with the Apple IDs signed in so far and `flash`.
async fn sources_step(
    st: &AppState,
    v: &Viewer,
    flash: Option<super::super::views::layout::Flash>,
) -> Result<Response, HttpError> {
    let now = current(st).await?;
    if now != SetupStep::Sources {
        return Ok(Redirect::to(step_url(now)).into_response());
    }
    let st2 = st.clone();
    let ids = blocking(move || st2.icloud.accounts()).await?;
    let body = views::sources(&v.csrf, &ids);
    Ok(render(
        st,
        v,
        Frame::new("Photo sources", "setup").flash(flash),
        &body,
    )
    .await?
    .into_response())
}

/// `GET /setup/sources`.
pub async fn sources(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    sources_step(&st, &v, None).await
}

/// A sign-in step inside the wizard: the code page, or back to the sources with words.
async fn icloud_step(
    st: &AppState,
    v: &Viewer,
    shown: super::super::icloud::Shown,
) -> Result<Response, HttpError> {
    use super::super::icloud::Shown;
    match shown {
        Shown::Done(f) | Shown::Problem(f) => sources_step(st, v, Some(f)).await,
        Shown::Code(apple_id, question, sms) => {
            let view = super::super::views::icloud::CodeView {
                apple_id: &apple_id,
                question: &question,
                sms,
                wizard: true,
            };
            let body = super::super::views::icloud::code_page(&v.csrf, &view);
            Ok(
                render(st, v, Frame::new("Verification code", "setup"), &body)
                    .await?
                    .into_response(),
            )
        }
    }
}

/// `POST /setup/icloud`: signs an Apple ID in from the wizard.
pub async fn icloud_add(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
    Form(f): Form<super::super::icloud::SignInForm>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::Sources {
        return Err(HttpError::NotFound);
    }
    let shown = super::super::icloud::start(&st, f).await?;
    icloud_step(&st, &v, shown).await
}

/// `POST /setup/icloud/code`: the verification code, from the wizard.
pub async fn icloud_code(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
    Form(f): Form<super::super::icloud::CodeForm>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::Sources {
        return Err(HttpError::NotFound);
    }
    let shown = super::super::icloud::give_code(&st, f).await?;
    icloud_step(&st, &v, shown).await
}

/// `POST /setup/sources`.
pub async fn sources_ok(State(st): State<AppState>) -> Result<Response, HttpError> {
    advance(&st, SetupStep::Sources, SetupStep::Backup).await
}

/// The wizard's backup page: the target form, or where this box backs up.
async fn backup_step(
    st: &AppState,
    v: &Viewer,
    recovery: Option<String>,
    flash: Option<super::super::views::layout::Flash>,
) -> Result<Response, HttpError> {
    let now = current(st).await?;
    if now != SetupStep::Backup {
        return Ok(Redirect::to(step_url(now)).into_response());
    }
    let st2 = st.clone();
    let (target, draft) = blocking(move || {
        let store = st2.backup.store();
        Ok::<_, crate::backup::Error>((store.target()?, store.draft()?))
    })
    .await?;
    let url = target
        .as_ref()
        .or(draft.as_ref())
        .map(|t| t.url.clone())
        .unwrap_or_default();
    let body = views::backup(&v.csrf, &url, target.is_some(), recovery.as_deref());
    Ok(
        render(st, v, Frame::new("Backup", "setup").flash(flash), &body)
            .await?
            .into_response(),
    )
}

/// `GET /setup/backup`.
pub async fn backup(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    backup_step(&st, &v, None, None).await
}

/// `POST /setup/backup/target`: test, create or adopt, as on the Backup page.
pub async fn backup_target(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
    Form(f): Form<super::super::backup::TargetInput>,
) -> Result<Response, HttpError> {
    if current(&st).await? != SetupStep::Backup {
        return Err(HttpError::NotFound);
    }
    let (recovery, flash) = super::super::backup::apply(&st, f).await?;
    backup_step(&st, &v, recovery, Some(flash)).await
}

/// `POST /setup/backup`.
pub async fn backup_ok(State(st): State<AppState>) -> Result<Response, HttpError> {
    advance(&st, SetupStep::Backup, SetupStep::Summary).await
}
