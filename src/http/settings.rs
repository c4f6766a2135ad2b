//! The settings page.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render, settings};
use super::state::AppState;
use super::views::layout::Flash;
use super::views::settings::{SettingsView, page as settings_page};
use crate::system;

/// `GET /settings`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show(&st, &v, None).await
}

async fn show(st: &AppState, v: &Viewer, flash: Option<Flash>) -> Result<Response, HttpError> {
    let settings = settings(st).await?;
    let zones = system::timezones();
    let view = SettingsView {
        device: &settings.device_name,
        time_zone: &settings.time_zone,
        zones: &zones,
        mdns: settings.mdns,
        retention: settings.trash_retention_days,
    };
    Ok(render(
        st,
        v,
        Frame::new("Settings", "settings").flash(flash),
        &settings_page(&v.csrf, &view),
    )
    .await?
    .into_response())
}

/// The settings form.
#[derive(Deserialize)]
pub struct Input {
    device: String,
    time_zone: String,
    mdns: Option<String>,
    retention: Option<String>,
}

/// `POST /settings`.
pub async fn save(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<Input>,
) -> Result<Response, HttpError> {
    let retention = match f
        .retention
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(r) => match r.parse::<u32>() {
            Ok(days) if (1..=3650).contains(&days) => Some(days),
            _ => {
                return show(
                    &st,
                    &v,
                    Some(Flash::Problem(
                        "Trash days must be a number from 1 to 3650, or empty.".into(),
                    )),
                )
                .await;
            }
        },
    };
    let st2 = st.clone();
    let device = f.device.trim().to_ascii_lowercase();
    let saved = blocking(move || {
        Ok::<_, HttpError>(st2.settings.update(|s| {
            s.device_name = device;
            s.time_zone = f.time_zone;
            s.mdns = f.mdns.is_some();
            s.trash_retention_days = retention;
        }))
    })
    .await?;
    let flash = match saved {
        Ok(_) => {
            let st2 = st.clone();
            blocking(move || {
                st2.announce();
                Ok::<_, HttpError>(())
            })
            .await?;
            tracing::info!(by = %v.name(), "settings changed");
            Flash::Ok("Saved.".into())
        }
        Err(e @ (system::Error::InvalidDeviceName(_) | system::Error::UnknownTimeZone(_))) => {
            Flash::Problem(e.to_string())
        }
        Err(e) => return Err(e.into()),
    };
    show(&st, &v, Some(flash)).await
}
