//! The `shoebox` binary.
fn main() {}
