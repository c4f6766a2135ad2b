//! Black-box tests of the real `shoebox` binary, one test binary with a module per area.

mod cli;
mod crash;
mod harness;
