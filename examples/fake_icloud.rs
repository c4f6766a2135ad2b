//! The fake iCloud of the test suite as a program, for `scripts/bench-icloud.sh` and
//! `scripts/bench-icloudpd.sh`. A test and benchmark tool: it is an example, never part of
//! the `shoebox` binary.
//!
//! `cargo run --release --example fake_icloud -- ASSETS BLOB_BYTES BANDWIDTH_BYTES_PER_S [CA_PEM]`
//! prints `READY <url> <apple id> <password> <trust token>` and serves until killed. The 2FA code is 424242.
//! With `CA_PEM` it serves TLS on 127.0.0.1:443 under Apple's host names (the caller maps them
//! in /etc/hosts) and writes the CA that signed its certificate to that file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/fake_icloud/mod.rs"]
mod fake_icloud;

const TRUST_TOKEN: &str = "HSARMTbenchtrust";

fn main() {
    let mut args = std::env::args().skip(1);
    let mut num = || -> u64 {
        args.next()
            .map_or(0, |a| a.parse().expect("numbers: ASSETS BLOB BANDWIDTH"))
    };
    let (assets, blob, bandwidth) = (num(), num(), num());
    let ca_file = std::env::args().nth(4);
    let (fake, url) = if let Some(path) = &ca_file {
        let (fake, ca) = fake_icloud::Fake::start_tls("127.0.0.1:443");
        std::fs::write(path, ca).expect("write the CA");
        (fake, "https://setup.icloud.com".to_string())
    } else {
        let fake = fake_icloud::Fake::start();
        let url = fake.url();
        (fake, url)
    };
    fake.add_account("bench@example.com", "bench password", "s2k_fo");
    {
        let mut w = fake.world();
        // A trust token from an earlier two-factor sign-in, for clients whose session file is
        // pre-seeded (icloudpd's binary cannot reach the code-entry endpoints through a test CA).
        w.account("bench@example.com")
            .trust_tokens
            .insert(TRUST_TOKEN.into());
        w.populate("bench@example.com", "PrimarySync", assets, 0, blob);
        if bandwidth > 0 {
            w.bandwidth = Some(bandwidth);
        }
    }
    println!("READY {url} bench@example.com bench password {TRUST_TOKEN}");
    loop {
        std::thread::park();
    }
}
