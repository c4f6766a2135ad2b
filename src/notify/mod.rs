//! Telling a person when the box needs them, by push (ntfy or any webhook) and by email.
//!
//! Owns the `notify.*` tables: the channels (sealed with the box key: webhook URLs carry
//! topics, SMTP carries a password) and which problems were already announced. Callers
//! (the iCloud sync, backup runs) report a problem under a key of their own each time they
//! see it; one message goes out per episode, and a new one only after [`Notifier::resolved`].
//! Imports only `boxkey`; knows nothing of HTTP pages or of its callers.

mod email;
mod error;
mod store;
mod webhook;

use std::path::Path;
use std::sync::Arc;

use redb::Database;

pub use email::{Security, Smtp};
pub use error::{Error, Result};
pub use store::Channels;
use store::Store;

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    /// Short title (the email subject, ntfy's `Title`).
    pub title: String,
    /// Plain text saying what happened and what to do.
    pub body: String,
}

/// A channel, for the "send a test" buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// ntfy or webhook.
    Push,
    /// SMTP.
    Email,
}

/// The channels and the episode bookkeeping.
pub struct Notifier {
    store: Store,
}

impl Notifier {
    /// Opens the tables (creating the box key in `data_dir` on first use).
    pub fn open(db: Arc<Database>, data_dir: &Path) -> Result<Self> {
        Ok(Self {
            store: Store::open(db, data_dir)?,
        })
    }

    /// The configured channels.
    pub fn channels(&self) -> Result<Channels> {
        self.store.channels()
    }

    /// Checks and saves the channels. An empty SMTP password keeps the stored one, so the
    /// form never has to show it.
    pub fn save_channels(&self, mut channels: Channels) -> Result<()> {
        if let Some(url) = channels.push_url.as_deref() {
            webhook::check_url(url)?;
        }
        if let Some(smtp) = channels.smtp.as_mut() {
            smtp.check()?;
            if smtp.password.is_none() {
                let old = self.store.channels()?.smtp;
                smtp.password = old
                    .filter(|o| o.host == smtp.host && o.user == smtp.user)
                    .and_then(|o| o.password);
            }
        }
        self.store.save_channels(&channels)
    }

    /// Sends `msg` through one channel now, saying why when it fails.
    pub async fn send_to(&self, channel: Channel, msg: &Message) -> Result<()> {
        let channels = self.store.channels()?;
        match channel {
            Channel::Push => {
                let url = channels.push_url.ok_or(Error::NotConfigured("push"))?;
                webhook::post(&url, msg).await
            }
            Channel::Email => {
                let smtp = channels.smtp.ok_or(Error::NotConfigured("email"))?;
                smtp.send(msg).await
            }
        }
    }

    /// Announces the problem `key` is in (`kind` names which one) once per episode: a
    /// repeat of the same kind sends nothing. Returns whether it was sent on any channel.
    /// A failed send is logged and retried on the next report.
    pub async fn problem(&self, key: &str, kind: &str, msg: &Message) -> Result<bool> {
        if self.store.announced(key)?.as_deref() == Some(kind) {
            return Ok(false);
        }
        let channels = self.store.channels()?;
        let mut sent = false;
        if let Some(url) = channels.push_url.as_deref() {
            match webhook::post(url, msg).await {
                Ok(()) => sent = true,
                Err(e) => tracing::warn!(%key, "push notification not sent: {e}"),
            }
        }
        if let Some(smtp) = channels.smtp.as_ref() {
            match smtp.send(msg).await {
                Ok(()) => sent = true,
                Err(e) => tracing::warn!(%key, "email notification not sent: {e}"),
            }
        }
        if sent {
            self.store.set_announced(key, Some(kind))?;
        }
        Ok(sent)
    }

    /// `key` is fine again: its next problem is a new episode.
    pub fn resolved(&self, key: &str) -> Result<()> {
        if self.store.announced(key)?.is_some() {
            self.store.set_announced(key, None)?;
        }
        Ok(())
    }
}
