//! The LAN web app (axum + maud). The only module that knows about HTTP status codes.
//!
//! Handlers are thin: typed input → one facade call (off the async threads) → a view model →
//! a view. Every request passes [`guard::guard`] (who, may they, CSRF) and gets the security
//! headers of [`guard::headers`].

mod account;
mod albums;
pub mod assets;
mod backup;
mod dav;
mod error;
mod gallery;
pub mod guard;
mod icloud;
mod import;
mod login_flow;
mod notify;
mod page;
mod phone;
mod photos;
pub mod routes;
mod settings;
mod setup;
mod snapshot;
pub mod state;
mod status;
mod thumbs;
pub mod views;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};

pub use state::{AppState, Services};

/// The whole web app.
pub fn app(state: AppState) -> Router {
    routes::router()
        .layer(from_fn_with_state(state.clone(), guard::guard))
        .fallback(|| async { error::HttpError::NotFound })
        .layer(from_fn(guard::headers))
        .with_state(state)
}
