//! Push: one plain-text POST with a `Title` header, which ntfy shows as a phone notification
//! and any other webhook receiver gets as the body.

use std::time::Duration;

use super::Message;
use super::error::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Accepts `https://` anywhere and `http://` only to this machine (a local relay, tests).
pub fn check_url(url: &str) -> Result<()> {
    let bad = || Error::BadUrl(crate::net::shown(url));
    let parsed = url::Url::parse(url).map_err(|_| bad())?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if loopback { Ok(()) } else { Err(bad()) }
        }
        _ => Err(bad()),
    }
}

/// Posts `msg` to `url`.
pub async fn post(url: &str, msg: &Message) -> Result<()> {
    check_url(url)?;
    // The same trusted roots as the iCloud client: the system's plus SHOEBOX_EXTRA_CA_FILE.
    let client = crate::net::builder()
        .map_err(|e| Error::Push(format!("SHOEBOX_EXTRA_CA_FILE: {e}")))?
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| Error::Push(crate::net::error_text(e)))?;
    // Header values cannot hold line breaks or non-ASCII; ntfy reads the body in UTF-8.
    let title: String = msg
        .title
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let reply = client
        .post(url)
        .header("Title", title)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(msg.body.clone())
        .send()
        .await
        .map_err(|e| {
            Error::Push(format!(
                "could not reach the receiver ({})",
                e.without_url()
            ))
        })?;
    if reply.status().is_success() {
        Ok(())
    } else {
        Err(Error::Push(format!(
            "the receiver answered {}",
            reply.status()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_http() {
        assert!(check_url("https://ntfy.example/topic").is_ok());
        assert!(check_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_url("http://192.168.1.2/hook").is_err());
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("nonsense").is_err());
    }
}
