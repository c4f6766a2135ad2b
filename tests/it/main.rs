//! Black-box tests of the real `shoebox` binary, one test binary with a module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::items_after_statements
)] // test helpers may panic: a panic is a failed test

mod cli;
mod crash;
mod dav;
mod harness;
mod photos;
mod serve;
mod thumbs;
mod web;
