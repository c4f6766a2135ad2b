//! One snapshot of the off-site backup (admins): what it holds, "Restore" of one photo
//! (inline: a handful of files) or one album (a background job on the Status page), and a
//! photo's original streamed straight from the backup. The backup facade blocks on
//! `OpenDAL`'s own runtime, so its calls run on plain threads (`off_runtime`).

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use super::backup::off_runtime;
use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::backup::when;
use super::views::snapshot::{Notice, SnapshotPage, page};
use crate::backup::Error as BackupError;
use crate::library::AssetId;

/// The snapshot routes (their access levels are in `routes::ROUTES`).
pub fn routes() -> Router<AppState> {
    let base = "/backup/snapshots/{snap}";
    Router::new()
        .route(base, get(browse))
        .route(
            &format!("{base}/photos/{{id}}/restore"),
            post(restore_photo),
        )
        .route(&format!("{base}/photos/{{id}}/original"), get(original))
        .route(
            &format!("{base}/albums/{{id}}/restore"),
            post(restore_album),
        )
}

/// Photos per page.
const PAGE: usize = 100;

/// `?after=ID`, or the same as a hidden field of the restore forms.
#[derive(Deserialize, Default)]
pub struct After {
    after: Option<u64>,
}

/// Not-found errors as 404, the rest as a notice on the page.
fn refusal(e: BackupError) -> Result<Notice, HttpError> {
    match e {
        BackupError::SnapshotNotFound(_) | BackupError::NotInSnapshot(_) => {
            Err(HttpError::NotFound)
        }
        other => {
            tracing::warn!("restore from the backup failed: {other}");
            Ok(Notice {
                text: format!(
                    "The restore failed: {}",
                    crate::backup::describe_failure(&other, None)
                ),
                link: None,
                problem: true,
            })
        }
    }
}

async fn show(
    st: AppState,
    v: &Viewer,
    name: String,
    after: Option<u64>,
    notice: Option<Notice>,
) -> Result<Response, HttpError> {
    let (st2, name2) = (st.clone(), name.clone());
    let contents = off_runtime(move || st2.backup.contents(&name2, after.map(AssetId), PAGE))
        .await?
        .map_err(|e| match refusal(e) {
            Ok(n) => HttpError::Internal(n.text),
            Err(e) => e,
        })?;
    let (st3, name3) = (st.clone(), name.clone());
    let (contents, presence, links, taken) = blocking(move || {
        let photos: Vec<_> = contents.photos.iter().collect();
        let presence = st3.library.presence(&photos)?;
        let albums: Vec<_> = contents.albums.iter().map(|(a, _)| a).collect();
        let links = st3.library.albums_like(&albums)?;
        let taken = st3
            .backup
            .store()
            .status()
            .ok()
            .and_then(|s| s.snapshots.into_iter().find(|r| r.name == name3))
            .map_or_else(
                || name3.get(..12).unwrap_or_default().to_string(),
                |r| when(r.time),
            );
        Ok::<_, crate::library::Error>((contents, presence, links, taken))
    })
    .await?;
    let albums: Vec<_> = contents
        .albums
        .into_iter()
        .zip(links)
        .map(|((a, n), here)| (a, n, here))
        .collect();
    let photos: Vec<_> = contents.photos.into_iter().zip(presence).collect();
    let body = page(&SnapshotPage {
        token: &v.csrf,
        name: &name,
        taken: &taken,
        albums: &albums,
        photos: &photos,
        total: contents.total,
        after,
        next: contents.next.map(|a| a.0),
        notice: notice.as_ref(),
    });
    let frame = Frame::new("Snapshot", "backup");
    Ok(render(&st, v, frame, &body).await?.into_response())
}

/// `GET /backup/snapshots/{snap}`.
pub async fn browse(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(snap): Path<String>,
    Query(q): Query<After>,
) -> Result<Response, HttpError> {
    show(st, &v, snap, q.after, None).await
}

/// `POST /backup/snapshots/{snap}/photos/{id}/restore`: inline.
pub async fn restore_photo(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((snap, id)): Path<(String, u64)>,
    Form(f): Form<After>,
) -> Result<Response, HttpError> {
    let (st2, name) = (st.clone(), snap.clone());
    let done = off_runtime(move || st2.backup.restore_photo(&name, AssetId(id))).await?;
    let notice = match done {
        Ok((here, b)) => {
            tracing::info!(by = %v.name(), snapshot = %snap, asset = id, "photo restored from the backup");
            let how = if b.restored > 0 {
                format!(
                    "The photo is back in the library ({} files restored from the backup).",
                    b.files
                )
            } else {
                "The library still has this photo (out of the trash now, if it was there).".into()
            };
            Notice {
                text: how,
                link: Some((format!("/photos/{here}"), "Open it".into())),
                problem: false,
            }
        }
        Err(e) => refusal(e)?,
    };
    show(st, &v, snap, f.after, Some(notice)).await
}

/// `POST /backup/snapshots/{snap}/albums/{id}/restore`: a background job.
pub async fn restore_album(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((snap, id)): Path<(String, u64)>,
    Form(f): Form<After>,
) -> Result<Response, HttpError> {
    let (st2, name) = (st.clone(), snap.clone());
    let started = off_runtime(move || st2.backup.start_album_restore(&st2.jobs, &name, id)).await?;
    let notice = match started {
        Ok((album, _)) => {
            tracing::info!(by = %v.name(), snapshot = %snap, album = id, "album restore started");
            Notice {
                text: format!(
                    "Restoring the album “{}” in the background. Once it is done it is linked here and listed under Albums.",
                    album.name
                ),
                link: Some(("/status".into(), "Progress".into())),
                problem: false,
            }
        }
        Err(e) => refusal(e)?,
    };
    show(st, &v, snap, f.after, Some(notice)).await
}

/// `GET /backup/snapshots/{snap}/photos/{id}/original`: streamed from the remote as it is
/// read (never held whole); a file that turns out damaged cuts the transfer.
pub async fn original(
    State(st): State<AppState>,
    Path((snap, id)): Path<(String, u64)>,
) -> Result<Response, HttpError> {
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    std::thread::Builder::new()
        .name("backup-download".into())
        .spawn(move || {
            let head = std::cell::Cell::new(Some(head_tx));
            let result = st.backup.read_original(
                &snap,
                AssetId(id),
                |part| {
                    head.take()
                        .is_some_and(|h| h.send(Ok(part.clone())).is_ok())
                },
                |bytes| tx.blocking_send(Ok(Bytes::copy_from_slice(bytes))).is_ok(),
            );
            if let Err(e) = result {
                if let Some(h) = head.take() {
                    drop(h.send(Err(e)));
                } else {
                    tracing::error!("a download from the backup failed: {e}");
                    drop(tx.blocking_send(Err(std::io::Error::other(e.to_string()))));
                }
            }
        })
        .map_err(|e| HttpError::Internal(format!("starting a thread: {e}")))?;
    let part = head_rx
        .await
        .map_err(|_| HttpError::Internal("the download thread stopped".into()))?
        .map_err(|e| refusal(e).map_or_else(|e| e, |n| HttpError::Internal(n.text)))?;
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut response = body.into_response();
    let h = response.headers_mut();
    let safe = part.name.replace(['"', '\\', '\r', '\n'], "_");
    for (k, v) in [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::CONTENT_LENGTH, part.size.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe}\""),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    Ok(response)
}
