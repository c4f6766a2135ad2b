//! Signing in from the browser. Apple's sign-in is one conversation (password, then a code),
//! but the browser speaks in separate requests; so each sign-in runs on its own thread with its
//! own small runtime and waits there for the next answer, while the web requests stay short
//! and the async threads never block. Nothing of it outlives the process: a half-done sign-in
//! is simply started again.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::auth::{Client, Prompt};
use super::error::{Error, Result};
use super::session::{Session, SessionStore};

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
}

impl Prompt for Relay {
    fn ask(&mut self, question: &str) -> Option<String> {
        self.events.send(Event::Ask(question.to_string())).ok()?;
        self.answers.recv_timeout(CODE_WAIT).ok().flatten()
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
            return Step::Failed(Error::NeedsLogin(
                "this sign-in is no longer waiting for a code; start it again".into(),
            ));
        };
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

    /// True while `apple_id` waits for a code.
    pub fn waiting(&self, apple_id: &str) -> bool {
        self.lock().contains_key(apple_id)
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
    if outcome.is_ok() || known {
        sessions.save(client.snapshot())?;
    }
    outcome?;
    Ok(client
        .session
        .trust_days_left(chrono::Utc::now().timestamp()))
}
