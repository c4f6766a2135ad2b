//! Sign-in and out, the own password, and the people page.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::{SESSION_COOKIE, Viewer, set_cookie};
use super::page::{Frame, render};
use super::state::AppState;
use super::views::account as views;
use super::views::layout::Flash;
use crate::accounts::{self, LoginError, Role};

/// Words for a person about an accounts error; internal failures are logged, not shown.
pub fn say(e: &accounts::Error) -> String {
    if e.is_user_error() {
        e.to_string()
    } else {
        tracing::error!("accounts: {e}");
        "Something went wrong on the box. The details are in its log.".to_string()
    }
}

/// `?next=` after sign-in: only paths on this site.
#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

/// `GET /login`.
pub async fn login_form(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<Next>,
) -> Result<Response, HttpError> {
    if v.session.is_some() {
        return Ok(Redirect::to(safe_next(q.next.as_deref())).into_response());
    }
    let body = views::login(&v.csrf, "", safe_next(q.next.as_deref()), None);
    Ok(render(&st, &v, Frame::new("Sign in", "login"), &body)
        .await?
        .into_response())
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginInput {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`.
pub async fn login(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<LoginInput>,
) -> Result<Response, HttpError> {
    let (st2, name, pw, client) = (st.clone(), f.name.clone(), f.password, v.client);
    let result =
        blocking(move || Ok::<_, HttpError>(st2.accounts.login(&name, &pw, client))).await?;
    let next = safe_next(f.next.as_deref()).to_string();
    let (status, problem) = match result {
        Ok(session) => {
            tracing::info!(user = %session.user, client = %v.client, "signed in");
            let cookie = set_cookie(SESSION_COOKIE, &session.token, 30 * 86_400);
            return Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response());
        }
        Err(LoginError::BadCredentials) => {
            tracing::warn!(user = %f.name, client = %v.client, "sign-in refused");
            (
                StatusCode::UNAUTHORIZED,
                "Wrong name or password.".to_string(),
            )
        }
        Err(LoginError::Throttled { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts. Try again in {} seconds.",
                retry_after.as_secs().max(1)
            ),
        ),
        Err(LoginError::Other(e)) => return Err(HttpError::Internal(e.to_string())),
    };
    let body = views::login(&v.csrf, &f.name, &next, Some(&problem));
    Ok((
        status,
        render(&st, &v, Frame::new("Sign in", "login"), &body).await?,
    )
        .into_response())
}

/// `POST /logout`.
pub async fn logout(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    if let Some(s) = v.session {
        blocking(move || st.accounts.logout(&s.token)).await?;
    }
    Ok((
        [(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0))],
        Redirect::to("/login"),
    )
        .into_response())
}

/// `GET /account`.
pub async fn account(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    account_page(&st, &v, None).await
}

async fn account_page(
    st: &AppState,
    v: &Viewer,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    let role = if v.is_admin() {
        "administrator"
    } else {
        "member"
    };
    let body = views::account(&v.csrf, v.name(), role);
    Ok(
        render(st, v, Frame::new("Account", "account").flash(flash), &body)
            .await?
            .into_response(),
    )
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordInput {
    password: String,
    new: String,
    new2: String,
}

/// `POST /account/password`.
pub async fn change_password(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<PasswordInput>,
) -> Result<Response, HttpError> {
    let Some(session) = v.session.clone() else {
        return Err(HttpError::Forbidden("Sign in first."));
    };
    if f.new != f.new2 {
        return account_page(
            &st,
            &v,
            Some(Flash::Problem("The two new passwords differ.".into())),
        )
        .await;
    }
    let st2 = st.clone();
    let result = blocking(move || {
        Ok::<_, HttpError>(st2.accounts.change_password(
            &session.user,
            &f.password,
            &f.new,
            Some(&session.token),
        ))
    })
    .await?;
    let flash = match result {
        Ok(()) => Flash::Ok("Password changed. Other devices were signed out.".into()),
        Err(e) => Flash::Problem(say(&e)),
    };
    account_page(&st, &v, Some(flash)).await
}

/// `GET /users`.
pub async fn users(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    users_page(&st, &v, None).await
}

async fn users_page(
    st: &AppState,
    v: &Viewer,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    let list = {
        let st = st.clone();
        blocking(move || {
            st.accounts
                .users()?
                .into_iter()
                .map(|u| {
                    let only = st.accounts.own_uploads_only(&u.name)?;
                    Ok((u, only))
                })
                .collect::<Result<Vec<_>, crate::accounts::Error>>()
        })
        .await?
    };
    let people: Vec<views::Person<'_>> = list
        .iter()
        .map(|(u, only)| views::Person {
            name: &u.name,
            role: if u.role == Role::Admin {
                "administrator"
            } else {
                "member"
            },
            owner: u.owner,
            own_uploads_only: (u.role != Role::Admin).then_some(*only),
        })
        .collect();
    let body = views::users(&v.csrf, &people, v.name());
    Ok(
        render(st, v, Frame::new("People", "users").flash(flash), &body)
            .await?
            .into_response(),
    )
}

/// The add-person form.
#[derive(Deserialize)]
pub struct AddInput {
    name: String,
    password: String,
    admin: Option<String>,
}

/// `POST /users`.
pub async fn add_user(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<AddInput>,
) -> Result<Response, HttpError> {
    let role = if f.admin.is_some() {
        Role::Admin
    } else {
        Role::Member
    };
    let st2 = st.clone();
    let result =
        blocking(move || Ok::<_, HttpError>(st2.accounts.add_user(&f.name, &f.password, role)))
            .await?;
    let flash = match result {
        Ok(u) => {
            tracing::info!(by = %v.name(), user = %u.name, "account added");
            Flash::Ok(format!("{} can now sign in.", u.name))
        }
        Err(e) => Flash::Problem(say(&e)),
    };
    users_page(&st, &v, Some(flash)).await
}

/// `POST /users/{name}/remove`.
pub async fn remove_user(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(name): Path<String>,
) -> Result<Response, HttpError> {
    if name == v.name() {
        return users_page(
            &st,
            &v,
            Some(Flash::Problem("You cannot remove yourself.".into())),
        )
        .await;
    }
    let (st2, n) = (st.clone(), name.clone());
    let result = blocking(move || Ok::<_, HttpError>(st2.accounts.remove_user(&n))).await?;
    let flash = match result {
        Ok(()) => Flash::Ok(format!(
            "{name} was removed; their photos stay in the library."
        )),
        Err(e) => Flash::Problem(say(&e)),
    };
    users_page(&st, &v, Some(flash)).await
}

/// The view-scope form.
#[derive(Deserialize)]
pub struct ScopeForm {
    own_uploads_only: String,
}

/// `POST /users/{name}/scope` (administrators): whole library, or only their own uploads.
pub async fn set_scope(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(name): Path<String>,
    Form(f): Form<ScopeForm>,
) -> Result<Response, HttpError> {
    let on = f.own_uploads_only == "1";
    let (st2, n) = (st.clone(), name.clone());
    let result =
        blocking(move || Ok::<_, HttpError>(st2.accounts.set_own_uploads_only(&n, on))).await?;
    let flash = match result {
        Ok(()) if on => Flash::Ok(format!("{name} now sees only the photos they uploaded.")),
        Ok(()) => Flash::Ok(format!("{name} now sees the whole family library.")),
        Err(e) => Flash::Problem(say(&e)),
    };
    users_page(&st, &v, Some(flash)).await
}

/// The reset-password form.
#[derive(Deserialize)]
pub struct ResetInput {
    password: String,
}

/// `POST /users/{name}/password`.
pub async fn reset_password(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(name): Path<String>,
    Form(f): Form<ResetInput>,
) -> Result<Response, HttpError> {
    let (st2, n) = (st.clone(), name.clone());
    let result =
        blocking(move || Ok::<_, HttpError>(st2.accounts.set_password(&n, &f.password))).await?;
    let flash = match result {
        Ok(()) => Flash::Ok(format!(
            "New password set for {name}; they were signed out everywhere."
        )),
        Err(e) => Flash::Problem(say(&e)),
    };
    users_page(&st, &v, Some(flash)).await
}
