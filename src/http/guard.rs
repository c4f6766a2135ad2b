//! Every request passes here: who is asking (session cookie), may they (route access level,
//! wizard state), is an unsafe request really from our own pages (Origin/Sec-Fetch-Site and
//! the form's CSRF token), and the security headers on every response.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::routes::{Access, access};
use super::state::AppState;
use crate::accounts::{Role, Session};
use crate::system::settings::SetupStep;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sb_session";
/// Name of the cookie holding the CSRF token of visitors without a session (sign-in, wizard).
pub const PRE_COOKIE: &str = "sb_pre";
/// Largest form body accepted.
const MAX_FORM: usize = 64 * 1024;

/// Who is asking, as the guard established it; every handler can extract it.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The session, when signed in.
    pub session: Option<Session>,
    /// The token this viewer's forms must carry.
    pub csrf: String,
    /// Where the request came from.
    pub client: IpAddr,
}

impl Viewer {
    /// True for administrators.
    pub fn is_admin(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.role == Role::Admin)
    }

    /// The signed-in user's name, or "".
    pub fn name(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.user.as_str())
    }

    /// `Some(name)` for a member who sees only their own uploads.
    pub fn only_uploads_of(&self) -> Option<&str> {
        self.session
            .as_ref()
            .filter(|s| s.own_uploads_only)
            .map(|s| s.user.as_str())
    }

    /// Whether this viewer may see `asset`.
    pub fn may_see(&self, asset: &crate::library::Asset) -> bool {
        self.only_uploads_of()
            .is_none_or(|u| crate::library::uploaded_by(asset, u))
    }
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, whole site.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64) -> HeaderValue {
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The access check and CSRF check middleware.
pub async fn guard(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    let level = access(&path);
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if level == Access::Public {
        return next.run(req).await;
    }
    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
    let pre = cookie(req.headers(), PRE_COOKIE).map(str::to_string);
    // The common case (a set-up box, a session seen a moment ago) needs no database read, so
    // it is answered here rather than on a blocking thread.
    let fast = token
        .as_deref()
        .and_then(|t| st.accounts.recent_session(t))
        .filter(|_| st.is_set_up());
    let looked_up = if let Some(session) = fast {
        Ok::<_, tokio::task::JoinError>((Some(session), Some(SetupStep::Done), true))
    } else {
        let (st2, tok) = (st.clone(), token.clone());
        tokio::task::spawn_blocking(move || {
            let session = match tok {
                Some(t) => st2.accounts.session(&t).ok().flatten(),
                None => None,
            };
            let step = st2.setup_step().ok();
            let has_users = st2.has_users();
            (session, step, has_users)
        })
        .await
    };
    let Ok((session, Some(step), has_users)) = looked_up else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(refusal) = refuse(
        level,
        req.method(),
        req.uri(),
        session.as_ref(),
        step,
        has_users,
    ) {
        return refusal;
    }
    let fresh_pre = pre.is_none().then(new_token);
    let csrf = session
        .as_ref()
        .map(|s| s.csrf.clone())
        .or(pre)
        .or_else(|| fresh_pre.clone())
        .unwrap_or_default();
    if !is_safe(req.method()) {
        if !same_origin(req.headers()) {
            return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "Form too large.").into_response();
        };
        if !token_matches(&bytes, &csrf) {
            return (StatusCode::FORBIDDEN, "This form has expired or did not come from this box. Go back, reload the page and try again.").into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(Viewer {
        session,
        csrf,
        client,
    });
    let mut response = next.run(req).await;
    if let Some(t) = fresh_pre {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(PRE_COOKIE, &t, 86_400));
    }
    response
}

/// Why a request may not go on, as the response to send; `None` lets it through.
#[allow(clippy::match_same_arms)] // one arm per rule reads better than merged patterns
fn refuse(
    level: Access,
    method: &Method,
    uri: &axum::http::Uri,
    session: Option<&Session>,
    setup: SetupStep,
    has_users: bool,
) -> Option<Response> {
    let done = setup == SetupStep::Done;
    let to_login = || {
        if method == Method::GET {
            Redirect::to(&format!(
                "/login?next={}",
                super::views::import::urlencode(uri.path())
            ))
            .into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "Sign in first.").into_response()
        }
    };
    let to_setup = || {
        if method == Method::GET {
            Redirect::to("/setup").into_response()
        } else {
            (StatusCode::CONFLICT, "Finish the setup first.").into_response()
        }
    };
    match level {
        Access::WizardOpen | Access::Wizard if done => {
            Some(super::error::HttpError::NotFound.into_response())
        }
        Access::WizardOpen if has_users => Some(to_setup()),
        Access::Public | Access::WizardOpen => None,
        // Before the owner exists the wizard's own pages send the browser to its first step.
        Access::Wizard if !has_users => None,
        Access::Wizard => match session {
            Some(s) if s.role == Role::Admin => None,
            Some(_) => Some(
                (
                    StatusCode::FORBIDDEN,
                    "Only the owner can finish the setup.",
                )
                    .into_response(),
            ),
            None => Some(to_login()),
        },
        Access::Login if !has_users => Some(to_setup()),
        Access::Login => None,
        Access::User | Access::Admin
            if !has_users || (!done && session.is_some_and(|s| s.role == Role::Admin)) =>
        {
            Some(to_setup())
        }
        Access::User | Access::Admin => match session {
            None => Some(to_login()),
            Some(_) if !done => {
                Some((StatusCode::SERVICE_UNAVAILABLE, "The box is being set up.").into_response())
            }
            Some(s) if level == Access::Admin && s.role != Role::Admin => {
                Some((StatusCode::FORBIDDEN, "Only administrators can do this.").into_response())
            }
            Some(_) => None,
        },
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The browser says the request comes from our own pages (or says nothing, like curl).
fn same_origin(h: &HeaderMap) -> bool {
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| !matches!(s, "same-origin" | "none")) {
        return false;
    }
    match (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The form's `csrf` field equals the expected token (constant-time).
fn token_matches(body: &[u8], expected: &str) -> bool {
    let given = body
        .split(|b| *b == b'&')
        .find_map(|kv| kv.strip_prefix(b"csrf="))
        .unwrap_or_default();
    !expected.is_empty()
        && given.len() == expected.len()
        && given
            .iter()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        return String::new(); // an empty token never matches: forms fail closed
    }
    blake3::Hash::from_bytes(bytes).to_hex().to_string()
}

/// Security headers on every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_field_must_match_exactly() {
        assert!(token_matches(b"a=1&csrf=abc&b=2", "abc"));
        assert!(!token_matches(b"a=1&csrf=abd", "abc"));
        assert!(!token_matches(b"a=1", "abc"));
        assert!(!token_matches(b"csrf=", ""));
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("shoebox.local:8080"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://shoebox.local:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
    }
}
