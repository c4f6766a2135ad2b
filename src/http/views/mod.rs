//! Views: pure functions from view models to HTML. No I/O, no state, no config.

pub mod account;
pub mod albums;
pub mod backup;
pub mod components;
pub mod gallery;
pub mod icloud;
pub mod import;
pub mod layout;
pub mod notify;
pub mod phone;
pub mod photo;
pub mod restore;
pub mod settings;
pub mod setup;
pub mod snapshot;
pub mod status;
