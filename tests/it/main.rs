//! Black-box tests of the real `shoebox` binary, one test binary with a module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::items_after_statements,
    clippy::duration_suboptimal_units
)] // test helpers may panic: a panic is a failed test

mod backup;
mod backup_browse;
mod backup_target;
mod backup_upkeep;
mod backup_web;
mod cli;
mod crash;
mod dav;
#[path = "../fake_icloud/mod.rs"]
mod fake_icloud;
mod harness;
mod icloud;
mod icloud_albums;
mod icloud_auth;
mod icloud_notes;
mod icloud_restart;
mod icloud_web;
mod notify;
mod phone_apps;
mod photos;
mod serve;
mod thumbs;
mod timeline;
mod web;
mod wizard_restore;
