//! shoebox: a family photo vault in one binary.
//!
//! Layers (arrows point down only): `cli` → `import` → `library` → `store`, `media`, `jobs`.
//! See README.md for the architecture map.

pub mod accounts;
pub mod app;
pub mod backup;
pub mod boxkey;
pub mod cli;
pub mod dav;
pub mod http;
pub mod icloud;
pub mod import;
pub mod jobs;
pub mod library;
pub mod media;
pub mod net;
pub mod notify;
pub mod store;
pub mod system;
pub mod thumbs;
