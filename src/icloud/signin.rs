//! Signing in from the browser. Apple's sign-in is one conversation (password, then a code),
//! but the browser speaks in separate requests; so each sign-in runs on its own thread with its
//! own small runtime and waits there for the next answer, while the web requests stay short
//! and the async threads never block. Once Apple has sent the code, the sign-in is also kept
//! sealed in the catalog (`PendingSignIn`), so a code typed after a restart still finishes it
//! (Apple's conversation lives in the saved cookies and headers); if Apple no longer takes
//! it, a new code is sent.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::auth::{Client, Prompt};
use super::error::{Error, Result};
use super::session::{PendingSignIn, Session, SessionStore};

/// How long a step waits for Apple before the page says so.
const APPLE_WAIT: Duration = Duration::from_secs(90);
/// How long a sign-in waits for the person to type the code.
const CODE_WAIT: Duration = Duration::from_mins(10);

/// Where a sign-in stands after a step.
#[derive(Debug)]
pub enum Step {
    /// Signed in; Apple trusts this box for that many days.
    SignedIn(Option<i64>),
    /// Apple asks for a code; the question says where it was sent. `retry` after a refused code.
    Code {
        /// Apple's question, in words.
        question: String,
        /// The last code was refused and a new one was sent.
        retry: bool,
        /// A text message can be asked for instead.
        sms: bool,
    },
    /// The sign-in ended without success.
    Failed(Error),
}

enum Event {
    Ask(String),
    Done(Result<Option<i64>>),
}

struct Pending {
    answers: Sender<Option<String>>,
    events: Receiver<Event>,
    password: String,
    china: bool,
    sms: bool,
}

/// Sign-ins in progress, one per Apple ID.
pub struct SignIns {
    sessions: Arc<SessionStore>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Hands Apple's questions to the browser side and waits for its answers.
struct Relay {
    events: Sender<Event>,
    answers: Receiver<Option<String>>,
    sessions: Arc<SessionStore>,
    password: String,
    known: bool,
}

impl Prompt for Relay {
    fn ask(&mut self, question: &str) -> Option<String> {
        self.events.send(Event::Ask(question.to_string())).ok()?;
        self.answers.recv_timeout(CODE_WAIT).ok().flatten()
    }

    fn code_sent(&mut self, session: &Session) {
        self.keep(session, None);
    }

    fn sms_sent(&mut self, session: &Session, phone: (i64, String)) {
        self.keep(session, Some(phone));
    }
}

impl Relay {
    /// Keeps the sign-in sealed in the catalog, so a code typed after a restart finishes it.
    fn keep(&self, session: &Session, sms: Option<(i64, String)>) {
        let pending = PendingSignIn {
            session: session.clone(),
            password: self.password.clone(),
            known: self.known,
            at: chrono::Utc::now().timestamp(),
            sms,
        };
        if let Err(e) = self.sessions.save_pending(&pending) {
            tracing::warn!(
                "the sign-in of {} will not survive a restart: {e}",
                session.apple_id
            );
        }
    }
}

impl SignIns {
    /// Sign-ins that save into `sessions`.
    pub fn new(sessions: Arc<SessionStore>) -> Self {
        Self {
            sessions,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Starts signing in `apple_id` (blocking: call it off the async threads). A sign-in of the
    /// same Apple ID still waiting for a code is dropped.
    pub fn start(&self, apple_id: &str, password: &str, china: bool) -> Step {
        self.lock().remove(apple_id);
        match self.spawn(apple_id, password, china) {
            Ok(p) => self.follow(apple_id, p, false),
            Err(e) => Step::Failed(e),
        }
    }

    /// Gives the code (or `sms` for a text message) to the sign-in of `apple_id`. A refused code
    /// starts the sign-in again with the same password, which sends a new code.
    pub fn answer(&self, apple_id: &str, code: &str) -> Step {
        let Some(p) = self.lock().remove(apple_id) else {
            return self.answer_saved(apple_id, code);
        };
        if code.trim().eq_ignore_ascii_case("new") {
            // End this conversation first (its thread forgets its saved state), then a new one.
            let (password, china) = (p.password.clone(), p.china);
            p.answers.send(None).ok();
            self.follow(apple_id, p, false);
            return self.start(apple_id, &password, china);
        }
        if p.answers.send(Some(code.trim().to_string())).is_err() {
            return Step::Failed(Error::NeedsLogin(
                "this sign-in stopped; start it again".into(),
            ));
        }
        let (password, china) = (p.password.clone(), p.china);
        match self.follow(apple_id, p, false) {
            Step::Failed(Error::WrongCode) => match self.spawn(apple_id, &password, china) {
                Ok(p) => self.follow(apple_id, p, true),
                Err(e) => Step::Failed(e),
            },
            step => step,
        }
    }

    /// Apple IDs whose sign-in waits for a code (also those begun before a restart).
    pub fn waiting(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .sessions
            .pending()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.session.apple_id)
            .collect();
        ids.extend(self.lock().keys().cloned());
        ids.sort();
        ids.dedup();
        ids
    }

    /// A code for a sign-in this process did not start: finished from the saved
    /// conversation; `new` (or a code Apple no longer takes) sends a new code.
    fn answer_saved(&self, apple_id: &str, code: &str) -> Step {
        let saved = self
            .sessions
            .pending()
            .ok()
            .and_then(|all| all.into_iter().find(|p| p.session.apple_id == apple_id));
        let Some(saved) = saved else {
            return Step::Failed(Error::NeedsLogin(
                "this sign-in is no longer waiting for a code; start it again".into(),
            ));
        };
        let china = saved.session.china;
        let code = code.trim();
        let again = code.eq_ignore_ascii_case("new") || code.eq_ignore_ascii_case("sms");
        if let Some(phone) = saved.sms.clone() {
            // A text message was chosen: a new code is a new text message, not a device push.
            if again {
                return self.text_again(saved, &phone, false);
            }
            return match finish_saved(&self.sessions, saved.clone(), code) {
                Ok(days) => Step::SignedIn(days),
                Err(e) => {
                    tracing::info!("the saved sign-in of {apple_id} did not finish ({e})");
                    self.text_again(saved, &phone, true)
                }
            };
        }
        if again {
            return self.start(apple_id, &saved.password, china);
        }
        match finish_saved(&self.sessions, saved.clone(), code) {
            Ok(days) => Step::SignedIn(days),
            Err(e) => {
                tracing::info!(
                    "the saved sign-in of {apple_id} did not finish ({e}); a new code is sent"
                );
                self.lock().remove(apple_id);
                match self.spawn(apple_id, &saved.password, china) {
                    Ok(p) => self.follow(apple_id, p, true),
                    Err(e) => Step::Failed(e),
                }
            }
        }
    }

    /// Sends the text message again in the saved conversation; if Apple no longer takes
    /// that conversation, signs in anew and asks for a text message straight away.
    fn text_again(&self, saved: PendingSignIn, phone: &(i64, String), retry: bool) -> Step {
        let apple_id = saved.session.apple_id.clone();
        let (password, china) = (saved.password.clone(), saved.session.china);
        match resend_saved(&self.sessions, saved, phone.0) {
            Ok(()) => Step::Code {
                question: format!("Enter the code sent by text message to {}", phone.1),
                retry,
                sms: false,
            },
            Err(e) => {
                tracing::info!("the saved sign-in of {apple_id} cannot send a text ({e})");
                self.lock().remove(&apple_id);
                match self.spawn(&apple_id, &password, china) {
                    Ok(p) => match self.follow(&apple_id, p, retry) {
                        Step::Code { .. } => self.answer(&apple_id, "sms"),
                        step => step,
                    },
                    Err(e) => Step::Failed(e),
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the sign-in's next event and keeps it pending when it asks for a code.
    fn follow(&self, apple_id: &str, mut p: Pending, retry: bool) -> Step {
        match p.events.recv_timeout(APPLE_WAIT) {
            Ok(Event::Ask(question)) => {
                let sms = p.sms && question.contains("type sms");
                p.sms = sms;
                let question = question
                    .split(", or type sms")
                    .next()
                    .unwrap_or(&question)
                    .trim_end_matches(':')
                    .to_string();
                self.lock().insert(apple_id.to_string(), p);
                Step::Code {
                    question,
                    retry,
                    sms,
                }
            }
            Ok(Event::Done(Ok(days))) => Step::SignedIn(days),
            Ok(Event::Done(Err(e))) => Step::Failed(e),
            Err(RecvTimeoutError::Timeout) => Step::Failed(Error::NeedsLogin(
                "Apple did not answer in time; try again later".into(),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                Step::Failed(Error::NeedsLogin("the sign-in stopped".into()))
            }
        }
    }

    fn spawn(&self, apple_id: &str, password: &str, china: bool) -> Result<Pending> {
        let existing = self.sessions.load(apple_id)?;
        let known = existing.is_some();
        let mut session = existing.unwrap_or_else(|| Session::new(apple_id, china));
        session.china = china;
        let (event_tx, events) = mpsc::channel();
        let (answers, answer_rx) = mpsc::channel();
        let sessions = Arc::clone(&self.sessions);
        let secret = password.to_string();
        let relay_sessions = Arc::clone(&self.sessions);
        std::thread::Builder::new()
            .name("icloud-signin".into())
            .spawn(move || {
                let done = sign_in(
                    &sessions,
                    session,
                    &secret,
                    known,
                    Relay {
                        events: event_tx.clone(),
                        answers: answer_rx,
                        sessions: relay_sessions,
                        password: secret.clone(),
                        known,
                    },
                );
                event_tx.send(Event::Done(done)).ok();
            })
            .map_err(|e| Error::Store(format!("starting the sign-in: {e}")))?;
        Ok(Pending {
            answers,
            events,
            password: password.to_string(),
            china,
            sms: true,
        })
    }
}

/// One whole sign-in, on its own thread. A failed first sign-in leaves nothing behind; a
/// failed sign-in of a known Apple ID keeps what Apple sent (cookies, back-off).
fn sign_in(
    sessions: &SessionStore,
    session: Session,
    password: &str,
    known: bool,
    mut relay: Relay,
) -> Result<Option<i64>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Store(format!("starting the sign-in: {e}")))?;
    let mut client = Client::new(session)?;
    let outcome = runtime.block_on(client.login(password, &mut relay));
    sessions.remove_pending(&client.session.apple_id)?;
    if outcome.is_ok() || known {
        sessions.save(client.snapshot())?;
    }
    outcome?;
    Ok(client
        .session
        .trust_days_left(chrono::Utc::now().timestamp()))
}

/// Ends a saved sign-in with `code` (blocking). A failure leaves what a failed sign-in
/// leaves: nothing for a new Apple ID, the session with Apple's answers for a known one.
fn finish_saved(sessions: &SessionStore, saved: PendingSignIn, code: &str) -> Result<Option<i64>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Store(format!("finishing the sign-in: {e}")))?;
    let mut client = Client::new(saved.session)?;
    let sms = saved.sms.as_ref().map(|p| p.0);
    let outcome = runtime.block_on(client.login_with_code(&saved.password, code, sms));
    if outcome.is_ok() {
        sessions.remove_pending(&client.session.apple_id)?;
    }
    if outcome.is_ok() || saved.known {
        sessions.save(client.snapshot())?;
    }
    outcome?;
    Ok(client
        .session
        .trust_days_left(chrono::Utc::now().timestamp()))
}

/// Sends the text message of a saved sign-in again (blocking), and keeps the conversation
/// as it then stands.
fn resend_saved(sessions: &SessionStore, mut saved: PendingSignIn, phone: i64) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Store(format!("sending the text message: {e}")))?;
    let mut client = Client::new(saved.session)?;
    runtime.block_on(client.send_sms(phone))?;
    saved.session = client.snapshot().clone();
    saved.at = chrono::Utc::now().timestamp();
    sessions.save_pending(&saved)
}
