//! The notifications page: thin handlers over `notify` (save a channel, send a test).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::layout::Flash;
use super::views::notify::page as notify_page;
use crate::notify::{Channel, Channels, Error, Message, Notifier, Security, Smtp};

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        Self::Internal(e.to_string())
    }
}

fn notifier(st: &AppState) -> Result<Notifier, Error> {
    Notifier::open(st.library.database(), &st.data_dir)
}

/// `GET /notifications`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show(&st, &v, None).await
}

async fn show(st: &AppState, v: &Viewer, flash: Option<Flash>) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let channels = blocking(move || notifier(&st2)?.channels()).await?;
    Ok(render(
        st,
        v,
        Frame::new("Notifications", "settings").flash(flash),
        &notify_page(&v.csrf, &channels),
    )
    .await?
    .into_response())
}

/// How messages link back: the address the admin reached this page by.
fn box_url(headers: &HeaderMap) -> Option<String> {
    let host = headers.get("host")?.to_str().ok()?;
    let sane = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    sane.then(|| format!("http://{host}"))
}

/// Applies `change` to the stored channels and saves them; a refusal becomes the flash.
async fn update(
    st: &AppState,
    v: &Viewer,
    headers: &HeaderMap,
    change: impl FnOnce(&mut Channels) + Send + 'static,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let link = box_url(headers);
    let saved = blocking(move || {
        let n = notifier(&st2)?;
        let mut channels = n.channels()?;
        change(&mut channels);
        if link.is_some() {
            channels.box_url = link;
        }
        Ok::<_, Error>(n.save_channels(channels))
    })
    .await?;
    let flash = match saved {
        Ok(()) => {
            tracing::info!(by = %v.name(), "notification channels changed");
            Flash::Ok("Saved.".into())
        }
        Err(e @ (Error::BadUrl(_) | Error::Invalid(_))) => Flash::Problem(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    show(st, v, Some(flash)).await
}

/// The push form.
#[derive(Deserialize)]
pub struct PushForm {
    url: String,
}

/// `POST /notifications/push`.
pub async fn save_push(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    headers: HeaderMap,
    Form(f): Form<PushForm>,
) -> Result<Response, HttpError> {
    let url = Some(f.url.trim().to_string()).filter(|u| !u.is_empty());
    update(&st, &v, &headers, move |c| c.push_url = url).await
}

/// The email form; `remove` turns email off.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    remove: Option<String>,
}

/// `POST /notifications/email`.
pub async fn save_email(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    headers: HeaderMap,
    Form(f): Form<EmailForm>,
) -> Result<Response, HttpError> {
    if f.remove.is_some() {
        return update(&st, &v, &headers, |c| c.smtp = None).await;
    }
    let (Ok(port), Some(security)) = (f.port.trim().parse::<u16>(), Security::parse(&f.security))
    else {
        let why = "The port must be a number from 1 to 65535, and the security one of the choices.";
        return show(&st, &v, Some(Flash::Problem(why.into()))).await;
    };
    let smtp = Smtp {
        host: f.host.trim().to_string(),
        port,
        security,
        user: f.user.trim().to_string(),
        password: Some(f.password).filter(|p| !p.is_empty()),
        from: f.from.trim().to_string(),
        to: f.to.trim().to_string(),
    };
    update(&st, &v, &headers, move |c| c.smtp = Some(smtp)).await
}

/// `POST /notifications/push/test`.
pub async fn test_push(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    test(&st, &v, Channel::Push).await
}

/// `POST /notifications/email/test`.
pub async fn test_email(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    test(&st, &v, Channel::Email).await
}

async fn test(st: &AppState, v: &Viewer, channel: Channel) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let n = blocking(move || notifier(&st2)).await?;
    let link = n.channels()?.box_url;
    let msg = Message {
        title: "shoebox: test notification".into(),
        body: format!(
            "This is a test from your shoebox{}. Notifications work: you will hear from it when an Apple ID needs you.\n",
            link.map(|l| format!(" at {l}")).unwrap_or_default()
        ),
    };
    let what = match channel {
        Channel::Push => "push",
        Channel::Email => "email",
    };
    let flash = match n.send_to(channel, &msg).await {
        Ok(()) => Flash::Ok(format!("Test {what} sent.")),
        Err(e @ Error::Store(_)) => return Err(e.into()),
        Err(e) => Flash::Problem(format!("The test {what} failed: {e}.")),
    };
    show(st, v, Some(flash)).await
}
