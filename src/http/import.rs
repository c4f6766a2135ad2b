//! Importing a folder from the browser: a folder picker limited to the box's disks, and a job
//! whose progress the status page shows live.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::import::{Entry, ImportView, page as import_page};
use crate::import::{BATCH_FILES, ImportJob};
use crate::system::disks;

/// `?path=`: the folder to show.
#[derive(Deserialize, Default)]
pub struct Browse {
    path: Option<String>,
}

/// `GET /import`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<Browse>,
) -> Result<Response, HttpError> {
    let roots = disks::allowed_roots(&st.data_dir);
    let busy = st.jobs.is_running("import");
    let (current, parent, folders, files) = match q.path {
        None => {
            let folders = roots
                .iter()
                .map(|r| Entry {
                    name: r.display().to_string(),
                    path: r.display().to_string(),
                })
                .collect::<Vec<_>>();
            (None, None, folders, 0)
        }
        Some(p) => {
            let (roots2, path) = (roots.clone(), PathBuf::from(&p));
            let listed = blocking(move || disks::list_dir(&roots2, &path)).await;
            let Ok(entries) = listed else {
                return Err(HttpError::Forbidden(
                    "That folder is outside the disks shoebox may read.",
                ));
            };
            let parent = PathBuf::from(&p)
                .parent()
                .filter(|pp| roots.iter().any(|r| pp.starts_with(r)))
                .map(|pp| pp.display().to_string());
            let files = entries.iter().filter(|e| !e.is_dir).count();
            let folders = entries
                .into_iter()
                .filter(|e| e.is_dir)
                .map(|e| Entry {
                    name: e.name,
                    path: e.path.display().to_string(),
                })
                .collect::<Vec<_>>();
            (Some(p), parent, folders, files)
        }
    };
    let view = ImportView {
        current: current.as_deref(),
        parent,
        folders: &folders,
        files,
        busy,
    };
    Ok(render(
        &st,
        &v,
        Frame::new("Import", "import"),
        &import_page(&v.csrf, &view),
    )
    .await?
    .into_response())
}

/// The folder to import.
#[derive(Deserialize)]
pub struct Start {
    path: String,
}

/// `POST /import`: starts the job and shows its progress on the status page.
pub async fn start(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<Start>,
) -> Result<Response, HttpError> {
    let roots = disks::allowed_roots(&st.data_dir);
    let path = PathBuf::from(&f.path);
    let (roots2, p2) = (roots.clone(), path.clone());
    if blocking(move || disks::list_dir(&roots2, &p2))
        .await
        .is_err()
    {
        return Err(HttpError::Forbidden(
            "That folder is outside the disks shoebox may read.",
        ));
    }
    if st.jobs.is_running("import") {
        return Ok(Redirect::to("/status").into_response());
    }
    let job = ImportJob::new(Arc::clone(&st.library), vec![path], BATCH_FILES);
    st.jobs
        .start(job)
        .map_err(|e| HttpError::Internal(e.to_string()))?;
    tracing::info!(by = %v.name(), folder = %f.path, "import started");
    Ok(Redirect::to("/status").into_response())
}
