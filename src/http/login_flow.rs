//! Nextcloud login flow v2 over HTTP (the flow itself is `dav::login_flow`): the app's two
//! calls, `POST /index.php/login/v2` and `…/poll`, answer JSON and need no session; the page
//! the app opens in the browser, `…/flow/{token}`, is an ordinary signed-in page with a
//! CSRF-checked "Allow" form.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::phone::grant_page;
use crate::system::settings::SetupStep;

/// Where the flow's URLs start.
const BASE: &str = "/index.php/login/v2";

/// `http://host` as the app reached the box, or `None` for a Host header that is not a plain
/// host name (it goes into URLs the app follows).
fn server(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    plain.then(|| format!("http://{host}"))
}

/// `POST /index.php/login/v2`: starts a flow.
pub async fn start(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let st2 = st.clone();
    let ready = st.is_set_up()
        || tokio::task::spawn_blocking(move || {
            st2.setup_step().is_ok_and(|s| s == SetupStep::Done) && st2.has_users()
        })
        .await
        .unwrap_or(false);
    if !ready {
        return (StatusCode::SERVICE_UNAVAILABLE, "The box is being set up.").into_response();
    }
    let Some(server) = server(&headers) else {
        return (StatusCode::BAD_REQUEST, "bad Host header").into_response();
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match st.dav.start_login(agent) {
        Ok(started) => Json(serde_json::json!({
            "poll": {"token": started.poll, "endpoint": format!("{server}{BASE}/poll")},
            "login": format!("{server}{BASE}/flow/{}", started.login),
        }))
        .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// The poll form.
#[derive(Deserialize)]
pub struct PollInput {
    token: String,
}

/// `POST /index.php/login/v2/poll`: 404 until the person allowed the app, then the
/// credentials, once.
pub async fn poll(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<PollInput>,
) -> Response {
    let Some(server) = server(&headers) else {
        return (StatusCode::BAD_REQUEST, "bad Host header").into_response();
    };
    match st.dav.poll_login(&f.token) {
        Some((user, password)) => Json(serde_json::json!({
            "server": server, "loginName": user, "appPassword": password,
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, Json(serde_json::json!([]))).into_response(),
    }
}

/// `GET /index.php/login/v2/flow/{token}`: asks the signed-in person.
pub async fn ask(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let client = st.dav.login_client(&token).ok_or(HttpError::NotFound)?;
    let action = format!("{BASE}/flow/{token}");
    let body = grant_page(&v.csrf, &action, v.name(), &client, false);
    Ok(
        render(&st, &v, Frame::new("Connect an app", "phone"), &body)
            .await?
            .into_response(),
    )
}

/// `POST /index.php/login/v2/flow/{token}`: the person allowed it.
pub async fn grant(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let (st2, user) = (st.clone(), v.name().to_owned());
    let client = blocking(move || match st2.dav.grant_login(&token, &user) {
        Ok(client) => Ok(client),
        Err(crate::dav::Error::NotFound) => Err(HttpError::NotFound),
        Err(e) => Err(HttpError::Internal(e.to_string())),
    })
    .await?;
    let body = grant_page(&v.csrf, "", v.name(), &client, true);
    Ok(
        render(&st, &v, Frame::new("Connect an app", "phone"), &body)
            .await?
            .into_response(),
    )
}
