//! The one place where domain errors become HTTP statuses and user-facing words. Details go to
//! the log, never into the page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::views::layout::{Chrome, page};

/// A request that failed.
#[derive(Debug)]
pub enum HttpError {
    /// The thing asked for does not exist (or is closed, like the wizard after setup).
    NotFound,
    /// Signed in, but not allowed.
    Forbidden(&'static str),
    /// The request itself is malformed; the message says how.
    BadRequest(String),
    /// Something broke inside; logged with details.
    Internal(String),
}

impl From<crate::library::Error> for HttpError {
    fn from(e: crate::library::Error) -> Self {
        match e {
            crate::library::Error::NoSuchAsset(_) | crate::library::Error::NoSuchAlbum(_) => {
                Self::NotFound
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::accounts::Error> for HttpError {
    fn from(e: crate::accounts::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::backup::Error> for HttpError {
    fn from(e: crate::backup::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::system::Error> for HttpError {
    fn from(e: crate::system::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for HttpError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("background task: {e}"))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "Not found.".to_string()),
            Self::Forbidden(why) => (StatusCode::FORBIDDEN, why.to_string()),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Self::Internal(details) => {
                tracing::error!("request failed: {details}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the box. The details are in its log.".to_string(),
                )
            }
        };
        let chrome = Chrome {
            title: status.canonical_reason().unwrap_or("Error"),
            device: "shoebox",
            nav: None,
            csrf: "",
            flash: None,
            refresh_without_js: None,
            reload: None,
            alerts: &[],
        };
        let body = maud::html! {
            div.narrow {
                h1 { (status.as_u16()) " · " (status.canonical_reason().unwrap_or("Error")) }
                p { (message) }
                p { a.button href="/" { "Go to your photos" } }
            }
        };
        let body = page(&chrome, &body).into_string();
        (status, Html(body)).into_response()
    }
}

/// Runs blocking domain code (redb, the store) off the async threads.
pub async fn blocking<T: Send + 'static, E: Into<HttpError> + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(work).await?.map_err(Into::into)
}
