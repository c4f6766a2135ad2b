//! Outbound TLS shared by the iCloud client, push notifications and email: the extra CA of
//! `SHOEBOX_EXTRA_CA_FILE`, and URLs cut down to what is safe to show (signed download links
//! and webhook addresses carry their secrets in the query, and sometimes in user info).
//!
//! Imports nothing of the crate.

/// The environment variable naming a PEM file of CAs trusted besides the system roots.
pub const EXTRA_CA_VAR: &str = "SHOEBOX_EXTRA_CA_FILE";

/// The certificates of `SHOEBOX_EXTRA_CA_FILE` (none when unset); the error says why the
/// file cannot be used.
pub fn extra_roots() -> Result<Vec<reqwest::Certificate>, String> {
    let Some((path, pem)) = extra_ca_pem()? else {
        return Ok(Vec::new());
    };
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("{path}: {}", e.without_url()))
}

/// The file `SHOEBOX_EXTRA_CA_FILE` names and its PEM text (none when unset), for clients
/// other than reqwest (email).
pub fn extra_ca_pem() -> Result<Option<(String, Vec<u8>)>, String> {
    let Some(path) = std::env::var_os(EXTRA_CA_VAR).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let shown = path.to_string_lossy().to_string();
    let pem = std::fs::read(&path).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Some((shown, pem)))
}

/// A client builder trusting the system roots plus `SHOEBOX_EXTRA_CA_FILE`.
pub fn builder() -> Result<reqwest::ClientBuilder, String> {
    // reqwest is built without a provider; the process may not have installed one yet.
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let mut builder = reqwest::Client::builder();
    let extra = extra_roots()?;
    if !extra.is_empty() {
        builder = builder.tls_certs_merge(extra);
    }
    Ok(builder)
}

/// `url` without user info, query and fragment: scheme, host, port and path only (and a
/// marker where something was cut). Text that does not parse as a URL is cut at `?`/`#`/`@`.
pub fn shown(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        let end = url.find(['?', '#', '@']).unwrap_or(url.len());
        let mut s = url[..end].to_string();
        if end < url.len() {
            s.push('…');
        }
        return s;
    };
    let cut = u.query().is_some() || u.fragment().is_some() || !u.username().is_empty();
    u.set_query(None);
    u.set_fragment(None);
    u.set_username("").ok();
    u.set_password(None).ok();
    let mut s = u.to_string();
    if cut {
        s.push_str("?…");
    }
    s
}

/// A reqwest error in words, without the URL it carries.
pub fn error_text(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_keep_no_secret() {
        assert_eq!(
            shown("https://cvws.icloud-content.com/B/AbC/${f}?o=x&k=wrap&s=sig"),
            "https://cvws.icloud-content.com/B/AbC/$%7Bf%7D?…"
        );
        assert_eq!(
            shown("https://user:pw@ntfy.example/topic"),
            "https://ntfy.example/topic?…"
        );
        assert_eq!(shown("http://127.0.0.1:8080/x"), "http://127.0.0.1:8080/x");
        assert_eq!(shown("not a url?token=1"), "not a url…");
        assert_eq!(shown("ftp//a@b"), "ftp//a…");
    }
}
