//! The phone setup page: app passwords (mint, shown once; revoke), the WebDAV address and the
//! viewer's last uploads; admins also set what a delete on the phone does.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::layout::Flash;
use super::views::phone::{PhonePage, page as phone_page};

/// Last uploads listed.
const LAST_UPLOADS: usize = 20;

fn dav_error(e: &crate::dav::Error) -> HttpError {
    HttpError::Internal(e.to_string())
}

/// `http://host` as the browser reached the box.
fn server(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("shoebox.local");
    format!("http://{host}")
}

async fn show(
    st: AppState,
    v: &Viewer,
    headers: &HeaderMap,
    minted: Option<(String, String)>,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    let (st2, user, admin) = (st.clone(), v.name().to_owned(), v.is_admin());
    let (passwords, uploads, delete_trashes) = blocking(move || {
        let passwords: Vec<(String, String, i64)> = st2
            .accounts
            .app_passwords(&user)?
            .into_iter()
            .map(|p| (p.id, p.label, p.created))
            .collect();
        let uploads = st2
            .dav
            .last_uploads(&user, LAST_UPLOADS)
            .map_err(|e| dav_error(&e))?
            .into_iter()
            .map(|(path, e)| {
                let size = match e.kind {
                    crate::dav::Kind::File { size, .. } => size,
                    crate::dav::Kind::Dir => 0,
                };
                (path, size, e.modified)
            })
            .collect::<Vec<_>>();
        let delete_trashes = if admin {
            Some(st2.dav.delete_trashes().map_err(|e| dav_error(&e))?)
        } else {
            None
        };
        Ok::<_, HttpError>((passwords, uploads, delete_trashes))
    })
    .await?;
    let server = server(headers);
    let body = phone_page(&PhonePage {
        token: &v.csrf,
        user: v.name(),
        server: &server,
        passwords: &passwords,
        minted: minted.as_ref().map(|(l, s)| (l.as_str(), s.as_str())),
        uploads: &uploads,
        delete_trashes,
    });
    let frame = Frame::new("Phone setup", "phone").flash(flash);
    Ok(render(&st, v, frame, &body).await?.into_response())
}

/// `GET /phone`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    show(st, &v, &headers, None, None).await
}

/// The mint form.
#[derive(Deserialize)]
pub struct MintInput {
    label: String,
}

/// `POST /phone/app-passwords`: answers with the page showing the new secret once.
pub async fn mint(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    headers: HeaderMap,
    Form(f): Form<MintInput>,
) -> Result<Response, HttpError> {
    let label = if f.label.trim().is_empty() {
        "phone".to_owned()
    } else {
        f.label.trim().to_owned()
    };
    let (st2, user, l2) = (st.clone(), v.name().to_owned(), label.clone());
    let (_, secret) = blocking(move || st2.accounts.mint_app_password(&user, &l2)).await?;
    show(st, &v, &headers, Some((label, secret)), None).await
}

/// `POST /phone/app-passwords/{id}/revoke`.
pub async fn revoke(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let (st2, user) = (st.clone(), v.name().to_owned());
    let found = blocking(move || st2.accounts.revoke_app_password(&user, &id)).await?;
    let flash = if found {
        Flash::Ok("App password revoked; the phone using it must be given a new one.".into())
    } else {
        Flash::Problem("No such app password.".into())
    };
    show(st, &v, &headers, None, Some(flash)).await
}

/// The delete setting form (a missing checkbox means off).
#[derive(Deserialize)]
pub struct DeleteInput {
    on: Option<String>,
}

/// `POST /phone/delete-trashes` (admins).
pub async fn delete_trashes(
    State(st): State<AppState>,
    Form(f): Form<DeleteInput>,
) -> Result<Response, HttpError> {
    let on = f.on.is_some();
    blocking(move || st.dav.set_delete_trashes(on).map_err(|e| dav_error(&e))).await?;
    Ok(Redirect::to("/phone").into_response())
}
