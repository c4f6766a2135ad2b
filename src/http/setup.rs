//! The first-boot wizard. Its position is persisted in settings, so a reboot resumes it; once
//! finished, the guard answers 404 for all of it.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::{SESSION_COOKIE, Viewer, set_cookie};
use super::page::{Frame, render, settings};
use super::state::AppState;
use super::views::setup as views;
use crate::system::settings::SetupStep;
use crate::system::{self, disks};

mod restore;
mod sources;

pub use restore::{
    restore, restore_fresh, restore_other, restore_progress, restore_retry, restore_start,
    restore_target,
};
pub use sources::{backup, backup_ok, backup_target, icloud_add, icloud_code, sources, sources_ok};

fn step_url(step: SetupStep) -> &'static str {
    match step {
        SetupStep::Welcome => "/setup/welcome",
        SetupStep::Owner | SetupStep::RestoredOwner => "/setup/owner",
        SetupStep::Storage | SetupStep::RestoreStorage => "/setup/storage",
        SetupStep::RestoreTarget => "/setup/restore",
        SetupStep::Restoring => "/setup/restore/progress",
        SetupStep::Sources => "/setup/sources",
        SetupStep::Backup => "/setup/backup",
        SetupStep::Summary => "/setup/summary",
        SetupStep::Done => "/",
    }
}

async fn current(st: &AppState) -> Result<SetupStep, HttpError> {
    Ok(settings(st).await?.setup)
}

/// Moves the wizard from `from` to `to`; anything else sends the browser to where it is.
async fn advance(st: &AppState, from: SetupStep, to: SetupStep) -> Result<Response, HttpError> {
    let now = current(st).await?;
    if now != from {
        return Ok(Redirect::to(step_url(now)).into_response());
    }
    let st = st.clone();
    blocking(move || st.settings.update(|s| s.setup = to)).await?;
    Ok(Redirect::to(step_url(to)).into_response())
}

/// Shows `body` for step `step` unless the wizard is elsewhere (both branches share pages).
async fn show(
    st: &AppState,
    v: &Viewer,
    step: SetupStep,
    title: &str,
    body: maud::Markup,
) -> Result<Response, HttpError> {
    let now = current(st).await?;
    if step_url(now) != step_url(step) {
        return Ok(Redirect::to(step_url(now)).into_response());
    }
    Ok(render(st, v, Frame::new(title, "setup"), &body)
        .await?
        .into_response())
}

/// `GET /setup`: wherever the wizard is.
pub async fn resume(State(st): State<AppState>) -> Result<Response, HttpError> {
    Ok(Redirect::to(step_url(current(&st).await?)).into_response())
}

/// `GET /setup/welcome`.
pub async fn welcome(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    show(
        &st,
        &v,
        SetupStep::Welcome,
        "Welcome",
        views::welcome(&v.csrf),
    )
    .await
}

/// The first step's choice.
#[derive(Deserialize)]
pub struct Choice {
    choice: String,
}

/// `POST /setup/welcome`.
pub async fn welcome_choice(
    State(st): State<AppState>,
    Form(c): Form<Choice>,
) -> Result<Response, HttpError> {
    if c.choice == "restore" {
        return advance(&st, SetupStep::Welcome, SetupStep::RestoreStorage).await;
    }
    advance(&st, SetupStep::Welcome, SetupStep::Owner).await
}

/// `GET /setup/owner`.
pub async fn owner_form(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    let settings = settings(&st).await?;
    let zones = system::timezones();
    let form = views::OwnerForm {
        name: "",
        device: &settings.device_name,
        time_zone: &settings.time_zone,
        zones: &zones,
        problem: None,
        restored: settings.setup == SetupStep::RestoredOwner,
    };
    show(
        &st,
        &v,
        SetupStep::Owner,
        "Your account",
        views::owner(&v.csrf, &form),
    )
    .await
}

/// The owner form.
#[derive(Deserialize)]
pub struct OwnerInput {
    name: String,
    password: String,
    password2: String,
    device: String,
    time_zone: String,
}

/// `POST /setup/owner`: creates the owner, signs them in, moves on.
pub async fn create_owner(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
    Form(f): Form<OwnerInput>,
) -> Result<Response, HttpError> {
    let now = current(&st).await?;
    if now != SetupStep::Owner && now != SetupStep::RestoredOwner {
        return Ok(Redirect::to("/setup").into_response());
    }
    // The restore branch checked the disk before restoring onto it.
    let next = if now == SetupStep::Owner {
        SetupStep::Storage
    } else {
        SetupStep::Sources
    };
    let zones = system::timezones();
    let device = f.device.trim().to_ascii_lowercase();
    let problem = if f.password != f.password2 {
        Some("The two passwords differ.".to_string())
    } else if !system::settings::valid_device_name(&device) {
        Some(
            "The box name may use letters, digits and dashes (not at the start or end), up to 63."
                .to_string(),
        )
    } else if !zones.contains(&f.time_zone) {
        Some("Choose a time zone from the list.".to_string())
    } else {
        None
    };
    let created = if let Some(p) = problem {
        Err(p)
    } else {
        let (st2, name, pw) = (st.clone(), f.name.clone(), f.password.clone());
        blocking(move || Ok::<_, HttpError>(st2.accounts.create_owner(&name, &pw)))
            .await?
            .map_err(|e| super::account::say(&e))
    };
    if let Err(problem) = created {
        let form = views::OwnerForm {
            name: &f.name,
            device: &device,
            time_zone: &f.time_zone,
            zones: &zones,
            problem: Some(&problem),
            restored: now == SetupStep::RestoredOwner,
        };
        return Ok(render(
            &st,
            &v,
            Frame::new("Your account", "setup"),
            &views::owner(&v.csrf, &form),
        )
        .await?
        .into_response());
    }
    let (st2, client) = (st.clone(), v.client);
    let session = blocking(move || {
        st2.settings.update(|s| {
            s.device_name = device;
            s.time_zone = f.time_zone;
            s.setup = next;
        })?;
        st2.accounts
            .login(&f.name, &f.password, client)
            .map_err(|e| HttpError::Internal(e.to_string()))
    })
    .await?;
    tracing::info!(owner = %session.user, "owner account created");
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, &session.token, 30 * 86_400),
        )],
        Redirect::to(step_url(next)),
    )
        .into_response())
}

async fn storage_view(st: &AppState) -> Result<(disks::DataDirCheck, Vec<disks::Disk>), HttpError> {
    let dir = st.data_dir.clone();
    blocking(move || {
        Ok::<_, HttpError>((disks::check_data_dir(&dir, disks::MIN_FREE), disks::list()))
    })
    .await
}

fn describe(d: &disks::Disk) -> String {
    match &d.model {
        Some(m) => format!("{m} ({}, {})", d.name, d.file_system),
        None => format!("{} ({})", d.name, d.file_system),
    }
}

/// `GET /setup/storage`.
pub async fn storage(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    let restore = current(&st).await? == SetupStep::RestoreStorage;
    let (check, all) = storage_view(&st).await?;
    let path = check.path.display().to_string();
    let mine = check.disk.as_ref().map(|d| d.mount_point.clone());
    let view = views::StorageView {
        path: &path,
        disk: check.disk.as_ref().map(describe),
        total: check.disk.as_ref().map(|d| d.total),
        free: check.free,
        problems: &check.problems,
        others: all
            .iter()
            .filter(|d| Some(&d.mount_point) != mine.as_ref())
            .map(|d| {
                (
                    describe(d),
                    d.mount_point.display().to_string(),
                    d.total,
                    d.available,
                    d.removable,
                )
            })
            .collect(),
        restore,
    };
    show(
        &st,
        &v,
        SetupStep::Storage,
        "Storage",
        views::storage(&v.csrf, &view),
    )
    .await
}

/// `POST /setup/storage`: only when the folder is writable and has room.
pub async fn storage_ok(State(st): State<AppState>) -> Result<Response, HttpError> {
    let (check, _) = storage_view(&st).await?;
    if !check.ok() {
        return Ok(Redirect::to("/setup/storage").into_response());
    }
    if current(&st).await? == SetupStep::RestoreStorage {
        return advance(&st, SetupStep::RestoreStorage, SetupStep::RestoreTarget).await;
    }
    advance(&st, SetupStep::Storage, SetupStep::Sources).await
}

/// `GET /setup/summary`.
pub async fn summary(
    State(st): State<AppState>,
    axum::Extension(v): axum::Extension<Viewer>,
) -> Result<Response, HttpError> {
    let settings = settings(&st).await?;
    let path = st.data_dir.display().to_string();
    let s = views::Summary {
        owner: v.name(),
        device: &settings.device_name,
        time_zone: &settings.time_zone,
        path: &path,
    };
    show(
        &st,
        &v,
        SetupStep::Summary,
        "All set",
        views::summary(&v.csrf, &s),
    )
    .await
}

/// `POST /setup/finish`: closes the wizard for good.
pub async fn finish(State(st): State<AppState>) -> Result<Response, HttpError> {
    let response = advance(&st, SetupStep::Summary, SetupStep::Done).await?;
    tracing::info!("setup finished");
    Ok(response)
}
