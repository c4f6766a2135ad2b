//! What can go wrong configuring or sending a notification, worded for the admin.

/// Notification errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A push URL that is neither https nor http to this machine.
    #[error("the push URL must start with https:// (http:// only to this machine): {0}")]
    BadUrl(String),
    /// A form value that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The channel has not been set up.
    #[error("no {0} channel is set up")]
    NotConfigured(&'static str),
    /// The push receiver could not be reached or refused.
    #[error("the push notification was not delivered: {0}")]
    Push(String),
    /// The mail server could not be reached or refused.
    #[error("the email was not sent: {0}")]
    Email(String),
    /// The catalog or the box key.
    #[error("notification settings: {0}")]
    Store(String),
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Self::Store(e.to_string())
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
