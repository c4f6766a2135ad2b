//! The fake iCloud of the test suite as a program, for `scripts/bench-icloud.sh`. A test and
//! benchmark tool: it is an example, never part of the `shoebox` binary.
//!
//! `cargo run --release --example fake_icloud -- ASSETS BLOB_BYTES BANDWIDTH_BYTES_PER_S`
//! prints `READY <url> <apple id> <password>` and serves until killed. The 2FA code is 424242.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/fake_icloud/mod.rs"]
mod fake_icloud;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: ASSETS BLOB_BYTES BANDWIDTH"))
        .collect();
    let (assets, blob, bandwidth) = (args[0], args[1], args.get(2).copied().unwrap_or(0));
    let fake = fake_icloud::Fake::start();
    fake.add_account("bench@example.com", "bench password", "s2k_fo");
    {
        let mut w = fake.world();
        w.populate("bench@example.com", "PrimarySync", assets, 0, blob);
        if bandwidth > 0 {
            w.bandwidth = Some(bandwidth);
        }
    }
    println!("READY {} bench@example.com bench password", fake.url());
    loop {
        std::thread::park();
    }
}
