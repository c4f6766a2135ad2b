//! Wrapping a page body in the shell for the current viewer.

use axum::response::Html;
use maud::Markup;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::state::AppState;
use super::views::layout::{Chrome, Flash, Nav, page};

/// How a page is framed.
pub struct Frame<'a> {
    /// Title.
    pub title: &'a str,
    /// Section for the navigation.
    pub active: &'a str,
    /// One-time message.
    pub flash: Option<Flash>,
    /// Reload period without JavaScript.
    pub refresh: Option<u32>,
    /// Reload period in any case.
    pub reload: Option<u32>,
}

impl<'a> Frame<'a> {
    /// A plain page.
    pub fn new(title: &'a str, active: &'a str) -> Self {
        Self {
            title,
            active,
            flash: None,
            refresh: None,
            reload: None,
        }
    }

    /// Reloading itself every `secs` seconds.
    pub fn reload(mut self, secs: u32) -> Self {
        self.reload = Some(secs);
        self
    }

    /// With a message on top.
    pub fn flash(mut self, flash: Option<Flash>) -> Self {
        self.flash = flash;
        self
    }
}

/// The box's settings, read off the async threads.
pub async fn settings(st: &AppState) -> Result<crate::system::settings::Settings, HttpError> {
    let st = st.clone();
    blocking(move || st.settings.get()).await
}

/// Renders `body` in the page shell, with navigation when signed in.
pub async fn render(
    st: &AppState,
    viewer: &Viewer,
    frame: Frame<'_>,
    body: &Markup,
) -> Result<Html<String>, HttpError> {
    let settings = settings(st).await?;
    let alerts = if viewer.is_admin() && settings.setup == crate::system::settings::SetupStep::Done
    {
        let st = st.clone();
        blocking(move || alerts(&st)).await?
    } else {
        Vec::new()
    };
    let nav = viewer.session.as_ref().map(|s| Nav {
        user: &s.user,
        admin: viewer.is_admin(),
        active: frame.active,
    });
    let chrome = Chrome {
        title: frame.title,
        device: &settings.device_name,
        nav: if settings.setup == crate::system::settings::SetupStep::Done {
            nav
        } else {
            None
        },
        csrf: &viewer.csrf,
        flash: frame.flash,
        refresh_without_js: frame.refresh,
        reload: frame.reload,
        alerts: &alerts,
    };
    Ok(Html(page(&chrome, body).into_string()))
}

/// What needs an administrator now, from each Apple ID's state.
fn alerts(st: &AppState) -> Result<Vec<String>, HttpError> {
    let now = chrono::Utc::now().timestamp();
    let mut out = Vec::new();
    for id in st.icloud.accounts()? {
        if let Some(alert) = st.icloud.load(&id)?.and_then(|s| s.attention(now)) {
            out.push(alert);
        }
    }
    Ok(out)
}
