//! Thumbnails and previews over HTTP: the derived images, or a "waiting" placeholder that is
//! not cached until the thumbnail job made them.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::HttpError;
use super::guard::Viewer;
use super::state::AppState;
use crate::media::{Size, placeholder};

/// `GET /photos/{id}/thumb`: the grid image.
pub async fn thumb(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    derived(&st, &v, id, Size::Grid, &headers).await
}

/// `GET /photos/{id}/preview`: the large image of the photo page.
pub async fn preview(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    derived(&st, &v, id, Size::Preview, &headers).await
}

/// Serves a derived image; until the thumbnail job made it, a "waiting" placeholder that is
/// not cached.
async fn derived(
    st: &AppState,
    v: &Viewer,
    id: u64,
    size: Size,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    // One small, usually cached read: done in place, not on a blocking thread, because a
    // timeline page asks for sixty of these at once.
    let asset = st
        .library
        .asset(crate::library::AssetId(id))?
        .filter(|a| v.may_see(a))
        .ok_or(HttpError::NotFound)?;
    let etag = format!(
        "\"{}-{}\"",
        asset.original.blob.to_hex().get(..16).unwrap_or_default(),
        matches!(size, Size::Grid)
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let path = st.derived.path(asset.original.blob, size);
    // A grid thumbnail is a few tens of KiB, read sixty at a time by a timeline page and
    // nearly always in the page cache: read in place. A preview is larger: off the async
    // threads.
    let made = match size {
        Size::Grid => std::fs::read(&path).ok(),
        Size::Preview => tokio::fs::read(&path).await.ok(),
    };
    let ready = made.is_some();
    let bytes = if let Some(b) = made {
        b
    } else {
        let (w, h) = asset
            .width
            .zip(asset.height)
            .map_or((360, 360), |(w, h)| size.fit(w, h));
        tokio::task::spawn_blocking(move || placeholder("…", w, h)).await?
    };
    let cache = if ready {
        "private, max-age=604800"
    } else {
        "no-store"
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response();
    if let Some(v) = HeaderValue::from_str(&etag).ok().filter(|_| ready) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}
