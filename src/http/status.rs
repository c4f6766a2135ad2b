//! The status page, its live feed (Server-Sent Events) and the JSON for scripts.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::status::{
    IcloudLine, JobView, LibraryFigures, StatusView, UploadsView, page as status_page,
};
use crate::system::disks;

/// Gathers every figure the status page shows.
pub fn gather(st: &AppState) -> Result<StatusView, HttpError> {
    let info = st.system_info();
    let counts = st.library.counts()?;
    let settings = st.settings.get()?;
    let disk = disks::for_path(&st.data_dir);
    let mut jobs: Vec<JobView> = st
        .jobs
        .statuses()
        .iter()
        .map(JobView::from_snapshot)
        .collect();
    jobs.reverse();
    Ok(StatusView {
        device: settings.device_name,
        load: info.load,
        cpu_percent: info.cpu_percent,
        temperature_c: info.temperature_c,
        mem_total: info.mem_total,
        mem_used: info.mem_used,
        uptime_secs: info.uptime_secs,
        process_rss: info.process_rss,
        data_dir: st.data_dir.display().to_string(),
        disk_total: disk.as_ref().map_or(0, |d| d.total),
        disk_free: disk.as_ref().map_or(0, |d| d.available),
        library: LibraryFigures {
            assets: counts.assets,
            photos: counts.photos,
            videos: counts.videos,
            live_photos: counts.live_photos,
            trashed: counts.trashed,
            bytes: counts.bytes,
            stored_bytes: counts.stored_bytes,
            savings: counts.savings(),
        },
        jobs,
        uploads: uploads(&st.dav.activity()),
        icloud: icloud(st)?,
    })
}

fn icloud(st: &AppState) -> Result<Vec<IcloudLine>, HttpError> {
    let now = chrono::Utc::now().timestamp();
    let mut out = Vec::new();
    for id in st.icloud.accounts()? {
        let Some(s) = st.icloud.load(&id)? else {
            continue;
        };
        out.push(IcloudLine {
            attention: s.attention(now),
            last_sync: s.last_sync.clone(),
            next_sync_in: crate::icloud::schedule::next_sync(&s)
                .map(|at| u64::try_from(at - now).unwrap_or(0)),
            apple_id: id,
        });
    }
    Ok(out)
}

fn uploads(a: &crate::dav::Activity) -> UploadsView {
    UploadsView {
        active: a.active,
        receiving: a.receiving,
        recent: a
            .recent
            .iter()
            .map(|u| {
                (
                    u.user.clone(),
                    u.path.clone(),
                    u.size,
                    u.at,
                    u.outcome.to_owned(),
                )
            })
            .collect(),
    }
}

/// `GET /status`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let view = blocking(move || gather(&st2)).await?;
    let mut snapshots = st.jobs.statuses();
    snapshots.reverse();
    let body = status_page(&view, &snapshots);
    let frame = Frame {
        title: "Status",
        active: "status",
        flash: None,
        refresh: Some(5),
        reload: None,
    };
    Ok(render(&st, &v, frame, &body).await?.into_response())
}

/// `GET /api/status`: the same facts as JSON.
pub async fn api(State(st): State<AppState>) -> Result<Json<StatusView>, HttpError> {
    Ok(Json(blocking(move || gather(&st)).await?))
}

/// `GET /status/events`: a `status` event with the JSON of `/api/status` every second.
pub async fn events(
    State(st): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold(st, |st| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let st2 = st.clone();
        let event = match tokio::task::spawn_blocking(move || gather(&st2)).await {
            Ok(Ok(view)) => Event::default()
                .event("status")
                .json_data(&view)
                .unwrap_or_else(|_| Event::default().comment("unserialisable")),
            _ => Event::default().comment("status unavailable"),
        };
        Some((Ok(event), st))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
