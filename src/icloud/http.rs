//! The HTTPS transport to Apple: one reqwest client (rustls with ring), the Apple roots, a
//! cookie jar we can persist, and the echo of Apple's session headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

/// The iCloud web widget key Apple's own web app sends.
pub const WIDGET_KEY: &str = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";
/// A current desktop browser; Apple rejects clients that look old.
const USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3.1 Safari/605.1.15";

/// Where Apple's three entry points live. CloudKit and download hosts come from Apple's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// `IdMSA`, e.g. `https://idmsa.apple.com/appleauth/auth`.
    pub auth: String,
    /// Setup, e.g. `https://setup.icloud.com/setup/ws/1`.
    pub setup: String,
    /// The web origin, e.g. `https://www.icloud.com`.
    pub home: String,
}

impl Roots {
    /// The roots for the global or China-mainland service, overridden by
    /// `SHOEBOX_ICLOUD_AUTH_URL`, `SHOEBOX_ICLOUD_SETUP_URL` and `SHOEBOX_ICLOUD_HOME_URL`.
    pub fn from_env(china: bool) -> Result<Self> {
        let pick = |var: &str, global: &str, cn: &str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| if china { cn } else { global }.to_string())
                .trim_end_matches('/')
                .to_string()
        };
        // China accounts authenticate at the global IdMSA host: the .cn one answers 503.
        let roots = Self {
            auth: pick(
                "SHOEBOX_ICLOUD_AUTH_URL",
                "https://idmsa.apple.com/appleauth/auth",
                "https://idmsa.apple.com/appleauth/auth",
            ),
            setup: pick(
                "SHOEBOX_ICLOUD_SETUP_URL",
                "https://setup.icloud.com/setup/ws/1",
                "https://setup.icloud.com.cn/setup/ws/1",
            ),
            home: pick(
                "SHOEBOX_ICLOUD_HOME_URL",
                "https://www.icloud.com",
                "https://www.icloud.com.cn",
            ),
        };
        for url in [&roots.auth, &roots.setup, &roots.home] {
            check_url(url)?;
        }
        Ok(roots)
    }
}

/// Accepts `https://` anywhere and plain `http://` only on loopback (tests, never Apple).
pub fn check_url(url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Error::bad_url(url))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(Error::bad_url(url))
            }
        }
        _ => Err(Error::bad_url(url)),
    }
}

/// One cookie as Apple set it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// `Domain` attribute with its leading dot, or the exact host that set it.
    pub domain: String,
    /// Unix expiry, `None` for a session cookie.
    pub expires: Option<i64>,
}

/// A cookie's value signs in: Debug leaves it out.
impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("domain", &self.domain)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Cookie {
    fn matches(&self, host: &str, now: i64) -> bool {
        if self.expires.is_some_and(|e| e <= now) {
            return false;
        }
        match self.domain.strip_prefix('.') {
            Some(d) => host == d || host.ends_with(&format!(".{d}")),
            None => host == self.domain,
        }
    }

    /// Parses a `Set-Cookie` header sent by `host`.
    fn parse(header: &str, host: &str, now: i64) -> Option<Self> {
        let mut parts = header.split(';');
        let (name, value) = parts.next()?.trim().split_once('=')?;
        let mut cookie = Self {
            name: name.trim().to_string(),
            value: value.trim().trim_matches('"').to_string(),
            domain: host.to_string(),
            expires: None,
        };
        let mut max_age = None;
        for attr in parts {
            let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
            match k.to_ascii_lowercase().as_str() {
                "domain" if !v.is_empty() => {
                    cookie.domain = format!(".{}", v.trim_start_matches('.').to_ascii_lowercase());
                }
                "max-age" => max_age = v.parse::<i64>().ok(),
                "expires" => {
                    cookie.expires = chrono::DateTime::parse_from_rfc2822(v)
                        .ok()
                        .map(|t| t.timestamp())
                        .or(cookie.expires);
                }
                _ => {}
            }
        }
        if let Some(age) = max_age {
            cookie.expires = Some(now + age);
        }
        Some(cookie)
    }
}

/// The client: reqwest plus our cookie jar and a request counter.
pub struct Http {
    client: reqwest::Client,
    /// Cookies, persisted with the session.
    pub cookies: std::sync::Mutex<Vec<Cookie>>,
    requests: AtomicU64,
}

impl Http {
    /// A client trusting the system roots plus `SHOEBOX_EXTRA_CA_FILE` when set.
    pub fn new(cookies: Vec<Cookie>) -> Result<Self> {
        let client = crate::net::builder()
            .map_err(Error::ExtraCa)?
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_mins(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Client(crate::net::error_text(e)))?;
        Ok(Self {
            client,
            cookies: std::sync::Mutex::new(cookies),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (the no-change sync target is three).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A request with the cookies that apply to its host.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder> {
        check_url(url)?;
        let parsed = reqwest::Url::parse(url).map_err(|_| Error::bad_url(url))?;
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let now = chrono::Utc::now().timestamp();
        let header = self
            .lock()
            .iter()
            .filter(|c| c.matches(&host, now))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = self.client.request(method, parsed);
        if !header.is_empty() {
            req = req.header(reqwest::header::COOKIE, header);
        }
        Ok(req)
    }

    /// Sends, counts, and keeps the cookies of the answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(Error::network)?;
        let host = resp
            .url()
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let now = chrono::Utc::now().timestamp();
        let mut jar = self.lock();
        for value in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some(c) = value
                .to_str()
                .ok()
                .and_then(|v| Cookie::parse(v, &host, now))
            else {
                continue;
            };
            jar.retain(|old| !(old.name == c.name && old.domain == c.domain));
            if !c.value.is_empty() && c.expires.is_none_or(|e| e > now) {
                jar.push(c);
            }
        }
        Ok(resp)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Cookie>> {
        self.cookies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the jar, to persist.
    pub fn cookie_snapshot(&self) -> Vec<Cookie> {
        self.lock().clone()
    }

    /// Expiry of a named cookie, if set.
    pub fn cookie_expiry(&self, name: &str) -> Option<i64> {
        self.lock()
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.expires)
    }

    /// Whether a named cookie is present.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.lock().iter().any(|c| c.name == name)
    }
}

/// A header value, or nothing when it is not valid text.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A value for a header, dropping characters HTTP does not allow.
pub fn value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_url("https://idmsa.apple.com/appleauth/auth").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        assert!(check_url("http://idmsa.apple.com/").is_err());
        assert!(check_url("http://10.0.0.1/").is_err());
        assert!(check_url("ftp://127.0.0.1/").is_err());
    }

    #[test]
    fn cookies_follow_domain_and_expiry() {
        let c = Cookie::parse(
            "X-APPLE-WEBAUTH-USER=\"v=1:s=0\"; Domain=.icloud.com; Path=/; Max-Age=2592000; Secure",
            "setup.icloud.com",
            1000,
        )
        .unwrap();
        assert_eq!(c.value, "v=1:s=0");
        assert_eq!(c.expires, Some(1000 + 2_592_000));
        assert!(c.matches("p61-ckdatabasews.icloud.com", 2000));
        assert!(!c.matches("icloud-content.com", 2000));
        assert!(!c.matches("setup.icloud.com", 3_000_000));
        let host_only =
            Cookie::parse("a=b; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "127.0.0.1", 0).unwrap();
        assert_eq!(host_only.domain, "127.0.0.1");
        assert_eq!(host_only.expires, Some(1_792_567_680));
    }
}
