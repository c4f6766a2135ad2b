//! iCloud Photo Library pull: Apple sign-in with 2FA (`auth`), the CloudKit Photos API (`api`),
//! the sync job (`sync`), and what the box remembers per Apple ID (`session`).
//!
//! May import `library`, `jobs` and `notify`. Owns the `icloud.*` tables and `icloud.key` (the box key
//! that seals sessions). Apple's base URLs come from the environment so tests run against a
//! local fake; CloudKit and download hosts come from Apple's own answers.

pub mod albums;
mod alerts;
pub mod api;
pub mod auth;
pub mod bplist;
mod error;
pub mod http;
pub mod metadata;
pub mod records;
pub mod schedule;
pub mod session;
pub mod signin;
pub mod srp;
pub mod sync;

pub use auth::{Client, Prompt};
pub use error::{Error, Result};
pub use session::{Session, SessionStore};
pub use signin::{SignIns, Step};
pub use sync::{Report, SyncJob};
