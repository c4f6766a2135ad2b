//! After each sync: counts failures in a row and tells a person (through `notify`) when an
//! Apple ID needs them, once per episode; a sync that works ends the episode.

use super::session::{Session, SessionStore};
use crate::notify::{Message, Notifier};

/// Records the outcome of a sync of `apple_id` and notifies when that starts a problem.
/// Never fails the sync: a notification problem is only logged (the banner remains).
pub async fn after_sync(
    sessions: &SessionStore,
    notifier: Option<&Notifier>,
    apple_id: &str,
    ok: bool,
) {
    let Ok(Some(mut session)) = sessions.load(apple_id) else {
        return;
    };
    session.failures = if ok {
        0
    } else {
        session.failures.saturating_add(1)
    };
    if let Err(e) = sessions.save(&session) {
        tracing::warn!("iCloud {apple_id}: could not record the sync outcome: {e}");
    }
    let Some(notifier) = notifier else { return };
    let key = format!("icloud:{apple_id}");
    let now = chrono::Utc::now().timestamp();
    let outcome = match session.problem(now) {
        None => notifier.resolved(&key),
        Some((kind, text)) => {
            let link = notifier.channels().ok().and_then(|c| c.box_url);
            notifier
                .problem(&key, kind, &message(&session, kind, &text, link.as_deref()))
                .await
                .map(drop)
        }
    };
    if let Err(e) = outcome {
        tracing::warn!("iCloud {apple_id}: notification bookkeeping failed: {e}");
    }
}

/// The words sent: which Apple ID, what happened, what to do and where.
pub fn message(session: &Session, kind: &str, text: &str, box_url: Option<&str>) -> Message {
    let id = &session.apple_id;
    let page = box_url.map_or_else(
        || "the iCloud page of your shoebox".to_string(),
        |u| format!("{}/icloud", u.trim_end_matches('/')),
    );
    let (title, todo) = match kind {
        "login" | "trust" => (
            format!("shoebox: sign in to iCloud again for {id}"),
            format!(
                "What to do: open {page}, choose \"Sign in again\" for {id} and enter the code Apple sends to your devices. Until then no new photos come from this Apple ID."
            ),
        ),
        _ => (
            format!("shoebox: iCloud sync keeps failing for {id}"),
            format!(
                "What to do: open {page} to see the last error. shoebox keeps trying by itself; nothing needs doing if it recovers."
            ),
        ),
    };
    Message {
        title,
        body: format!("{text}\n\n{todo}\n"),
    }
}
