//! Nextcloud's login flow v2, how its apps sign in without the person typing a password into
//! them: the app asks for a flow and gets two secrets, a login token it opens in the browser
//! and a poll token it keeps. The person signs in to shoebox in that browser page and grants
//! access; that mints an app password named after the app. The app's next poll receives it,
//! once. Pending flows live in memory only (a restart just means "try again"), are few
//! (bounded) and expire after [`FLOW_TTL`], as Nextcloud's do.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Dav, Error, Result, random_name};

/// How long a flow waits for the person and then for the app's poll.
pub const FLOW_TTL: Duration = Duration::from_mins(20);
/// Pending flows at most: an unauthenticated caller cannot grow memory without bound.
const MAX_FLOWS: usize = 64;

/// A flow the app started.
struct Flow {
    /// The secret in the browser URL.
    login: String,
    /// What the app called itself (its User-Agent), shown on the grant page and used as the
    /// app password's label.
    client: String,
    started: Instant,
    /// Set when the person granted access: their name and the new app password.
    granted: Option<(String, String)>,
}

/// The pending flows, by blake3 of the poll token.
#[derive(Default)]
pub struct LoginFlows(Mutex<HashMap<[u8; 32], Flow>>);

impl LoginFlows {
    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Flow>> {
        let mut flows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        flows.retain(|_, f| f.started.elapsed() < FLOW_TTL);
        flows
    }
}

/// The two secrets of a new flow.
#[derive(Debug, Clone)]
pub struct Started {
    /// For the app's polls.
    pub poll: String,
    /// For the browser page.
    pub login: String,
}

fn poll_key(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// A client name fit for a label: printable, at most 64 characters.
fn client_label(user_agent: &str) -> String {
    let clean: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if clean.trim().is_empty() {
        "Nextcloud app".to_owned()
    } else {
        clean.trim().to_owned()
    }
}

impl Dav {
    /// Starts a flow for the app that says it is `user_agent`.
    pub fn start_login(&self, user_agent: &str) -> Result<Started> {
        let started = Started {
            poll: format!("{}{}", random_name(), random_name()),
            login: format!("{}{}", random_name(), random_name()),
        };
        let mut flows = self.flows.lock();
        if flows.len() >= MAX_FLOWS {
            return Err(Error::Busy);
        }
        flows.insert(
            poll_key(&started.poll),
            Flow {
                login: started.login.clone(),
                client: client_label(user_agent),
                started: Instant::now(),
                granted: None,
            },
        );
        Ok(started)
    }

    /// The app a pending, not yet granted flow is for (for the grant page).
    pub fn login_client(&self, login: &str) -> Option<String> {
        self.flows
            .lock()
            .values()
            .find(|f| f.login == login && f.granted.is_none())
            .map(|f| f.client.clone())
    }

    /// `user` grants the flow: an app password is minted for the app.
    pub fn grant_login(&self, login: &str, user: &str) -> Result<String> {
        let client = self.login_client(login).ok_or(Error::NotFound)?;
        let (_, secret) = self
            .accounts
            .mint_app_password(user, &client)
            .map_err(|e| Error::Accounts(e.to_string()))?;
        let mut flows = self.flows.lock();
        let flow = flows
            .values_mut()
            .find(|f| f.login == login && f.granted.is_none())
            .ok_or(Error::NotFound)?;
        flow.granted = Some((user.to_owned(), secret));
        tracing::info!(user, client = %client, "a Nextcloud app was granted an app password");
        Ok(client)
    }

    /// The app's poll: the name and app password once granted (then the flow is gone), else
    /// `None`.
    pub fn poll_login(&self, poll: &str) -> Option<(String, String)> {
        let mut flows = self.flows.lock();
        let key = poll_key(poll);
        flows.get(&key)?.granted.as_ref()?;
        flows.remove(&key).and_then(|f| f.granted)
    }
}

#[cfg(test)]
mod tests {
    use super::client_label;

    #[test]
    fn client_names_are_tamed() {
        assert_eq!(client_label(""), "Nextcloud app");
        assert_eq!(client_label("Mozilla\r\nX: y"), "MozillaX: y");
        assert_eq!(client_label(&"a".repeat(200)).len(), 64);
    }
}
