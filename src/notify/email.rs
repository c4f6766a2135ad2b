//! Email over SMTP with lettre (rustls with ring; no OpenSSL). Plain SMTP is allowed only to
//! this machine, where a local relay may listen; anything else is STARTTLS or implicit TLS.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::Message;
use super::error::{Error, Result};

/// A slow mail server must not hold a sync for long.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only to this machine.
    None,
}

impl Security {
    /// The form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }

    /// Reads the form's value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// A mail server account and the addresses of the messages.
#[derive(Clone, Serialize, Deserialize)]
pub struct Smtp {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection protection.
    pub security: Security,
    /// User name; empty for a server without sign-in.
    pub user: String,
    /// Password (sealed at rest with the channels; never shown back).
    pub password: Option<String>,
    /// Sender address.
    pub from: String,
    /// Recipient address.
    pub to: String,
}

impl Smtp {
    /// Refuses values that cannot work before anything is stored.
    pub fn check(&self) -> Result<()> {
        if self.host.trim().is_empty() {
            return Err(Error::Invalid(
                "The mail server's host name is missing.".into(),
            ));
        }
        if self.port == 0 {
            return Err(Error::Invalid("The mail server's port is missing.".into()));
        }
        if self.security == Security::None && !is_loopback(&self.host) {
            return Err(Error::Invalid(
                "An unencrypted connection is allowed only to this machine (127.0.0.1 or localhost); choose STARTTLS or TLS.".into(),
            ));
        }
        for (what, addr) in [("sender", &self.from), ("recipient", &self.to)] {
            if addr.parse::<lettre::Address>().is_err() {
                return Err(Error::Invalid(format!(
                    "The {what} address \"{addr}\" is not an email address."
                )));
            }
        }
        Ok(())
    }

    /// Sends one plain-text message.
    pub async fn send(&self, msg: &Message) -> Result<()> {
        self.check()?;
        let bad = |e: lettre::address::AddressError| Error::Invalid(e.to_string());
        let email = lettre::Message::builder()
            .from(self.from.parse().map_err(bad)?)
            .to(self.to.parse().map_err(bad)?)
            .subject(msg.title.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let plain = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str());
        let builder = match self.security {
            Security::StartTls => plain.tls(Tls::Required(self.tls_parameters()?)),
            Security::Tls => plain.tls(Tls::Wrapper(self.tls_parameters()?)),
            Security::None => plain,
        };
        let mut builder = builder.port(self.port).timeout(Some(TIMEOUT));
        if !self.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                self.user.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        builder
            .build()
            .send(email)
            .await
            .map(drop)
            .map_err(|e| Error::Email(self.explain(&e)))
    }

    /// TLS to `host`, trusting the system roots and `SHOEBOX_EXTRA_CA_FILE` (a mail server
    /// with the household's own CA).
    fn tls_parameters(&self) -> Result<TlsParameters> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some((path, pem)) = crate::net::extra_ca_pem().map_err(Error::Email)? {
            let cert =
                Certificate::from_pem(&pem).map_err(|e| Error::Email(format!("{path}: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build().map_err(|e| Error::Email(e.to_string()))
    }

    /// Plain words for a failed send (lettre's text names no secret).
    fn explain(&self, e: &lettre::transport::smtp::Error) -> String {
        let at = format!("{}:{}", self.host, self.port);
        if e.is_permanent() && e.status().is_some_and(|c| c.to_string() == "535") {
            format!("the mail server {at} refused the user name or password ({e})")
        } else if e.is_permanent() || e.is_transient() {
            format!("the mail server {at} refused the message ({e})")
        } else if e.to_string().contains("certificate") {
            format!(
                "the mail server {at} showed a certificate this box does not trust; a server with the household's own CA needs that CA in SHOEBOX_EXTRA_CA_FILE ({e})"
            )
        } else if e.is_tls() {
            format!("the secure connection to {at} failed; check the security setting ({e})")
        } else if e.is_timeout() {
            format!("the mail server {at} did not answer in time")
        } else {
            format!("could not talk to a mail server at {at}; check the host and port ({e})")
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, security: Security) -> Smtp {
        Smtp {
            host: host.into(),
            port: 25,
            security,
            user: String::new(),
            password: None,
            from: "box@example.com".into(),
            to: "me@example.com".into(),
        }
    }

    #[test]
    fn plain_smtp_only_to_this_machine() {
        assert!(smtp("127.0.0.1", Security::None).check().is_ok());
        assert!(smtp("localhost", Security::None).check().is_ok());
        assert!(smtp("mail.example", Security::None).check().is_err());
        assert!(smtp("mail.example", Security::StartTls).check().is_ok());
        let mut bad = smtp("mail.example", Security::Tls);
        bad.to = "not an address".into();
        assert!(bad.check().unwrap_err().to_string().contains("recipient"));
    }
}
