//! One asset: its page, its original bytes (with HTTP Range for video seeking), favorite,
//! trash and restore; and the trash page.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::layout::Flash;
use super::views::photo;
use crate::library::{Asset, AssetId, Part, State as AssetState};

/// The asset `id` if this viewer may see it (a member restricted to their own uploads gets
/// "not found" for anything else, as if it did not exist).
pub(super) async fn load(st: &AppState, v: &Viewer, id: u64) -> Result<Asset, HttpError> {
    let st = st.clone();
    blocking(move || st.library.asset(AssetId(id)))
        .await?
        .filter(|a| v.may_see(a))
        .ok_or(HttpError::NotFound)
}

/// `GET /photos/{id}`.
pub async fn page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
) -> Result<Response, HttpError> {
    let asset = load(&st, &v, id).await?;
    let st2 = st.clone();
    let v2 = v.clone();
    let (newer, older, albums, member_of) = blocking(move || {
        let (newer, older) = st2.library.neighbours(AssetId(id))?;
        // A restricted member's neighbours are links only where they may follow them.
        let visible = |n: Option<AssetId>| -> Result<Option<AssetId>, crate::library::Error> {
            Ok(match n {
                Some(n) if v2.only_uploads_of().is_some() => st2
                    .library
                    .asset(n)?
                    .filter(|a| v2.may_see(a))
                    .map(|a| a.id),
                other => other,
            })
        };
        Ok::<_, crate::library::Error>((
            visible(newer)?,
            visible(older)?,
            st2.library.albums()?,
            st2.library.albums_of(AssetId(id))?,
        ))
    })
    .await?;
    let body = maud::html! {
        (photo::page(&v.csrf, &asset, newer.map(|a| a.0), older.map(|a| a.0), v.is_admin()))
        (super::views::albums::on_photo(&v.csrf, id, &albums, &member_of))
    };
    Ok(
        render(&st, &v, Frame::new(&asset.original.name, "photos"), &body)
            .await?
            .into_response(),
    )
}

/// `?download=1` asks for an attachment.
#[derive(Deserialize, Default)]
pub struct Download {
    download: Option<String>,
}

/// `GET /photos/{id}/original`.
pub async fn original(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    Query(q): Query<Download>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let asset = load(&st, &v, id).await?;
    serve_part(&st, &asset.original, &headers, q.download.is_some()).await
}

/// `GET /photos/{id}/live`: the motion clip of a Live Photo.
pub async fn live(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let asset = load(&st, &v, id).await?;
    let part = asset.live_video.clone().ok_or(HttpError::NotFound)?;
    serve_part(&st, &part, &headers, false).await
}

fn mime(name: &str) -> &'static str {
    let ext = name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "heic" | "heif" => "image/heic",
        "tif" | "tiff" | "dng" => "image/tiff",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "xmp" => "application/rdf+xml",
        _ => "application/octet-stream",
    }
}

/// Parses a single `bytes=` range against `size`; `Err(())` means unsatisfiable.
fn parse_range(value: &str, size: u64) -> Result<(u64, u64), ()> {
    let spec = value.strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(()); // one range only; browsers and players ask for one
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            (size.saturating_sub(n), size.checked_sub(1).ok_or(())?)
        }
        (s, "") => (s.parse().map_err(|_| ())?, size.checked_sub(1).ok_or(())?),
        (s, e) => (
            s.parse().map_err(|_| ())?,
            e.parse::<u64>()
                .map_err(|_| ())?
                .min(size.saturating_sub(1)),
        ),
    };
    if start > end || start >= size {
        return Err(());
    }
    Ok((start, end))
}

async fn serve_part(
    st: &AppState,
    part: &Part,
    headers: &HeaderMap,
    download: bool,
) -> Result<Response, HttpError> {
    let size = part.size;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, size));
    let (start, end, status) = match range {
        None => (0, size.saturating_sub(1), StatusCode::OK),
        Some(Ok((s, e))) => (s, e, StatusCode::PARTIAL_CONTENT),
        Some(Err(())) => {
            let cr = HeaderValue::from_str(&format!("bytes */{size}"))
                .unwrap_or(HeaderValue::from_static("bytes */0"));
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, cr)],
            )
                .into_response());
        }
    };
    let len = if size == 0 { 0 } else { end - start + 1 };
    let (st2, p2) = (st.clone(), part.clone());
    let mut reader = blocking(move || st2.library.open_file(&p2)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let name = part.name.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        if let Err(e) = reader.skip_to(start) {
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
            return;
        }
        let mut left = len;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            match reader.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    left -= n as u64;
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return; // the client went away
                    }
                }
                Err(e) => {
                    tracing::error!(file = %name, "reading a stored file failed: {e}");
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let disposition = format!(
        "{}; filename=\"{}\"",
        if download { "attachment" } else { "inline" },
        part.name.replace(['"', '\\', '\r', '\n'], "_")
    );
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    let put = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    put(h, header::CONTENT_TYPE, mime(&part.name).to_string());
    put(h, header::CONTENT_LENGTH, len.to_string());
    put(h, header::ACCEPT_RANGES, "bytes".into());
    put(h, header::ETAG, format!("\"{}\"", part.blob.to_hex()));
    put(h, header::CACHE_CONTROL, "private, max-age=86400".into());
    put(h, header::CONTENT_DISPOSITION, disposition);
    if status == StatusCode::PARTIAL_CONTENT {
        put(
            h,
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{size}"),
        );
    }
    Ok(response)
}

/// The favorite form.
#[derive(Deserialize)]
pub struct Favorite {
    on: String,
}

/// `POST /photos/{id}/favorite`.
pub async fn favorite(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    Form(f): Form<Favorite>,
) -> Result<Response, HttpError> {
    load(&st, &v, id).await?;
    blocking(move || st.library.set_favorite(AssetId(id), f.on == "1")).await?;
    Ok(Redirect::to(&format!("/photos/{id}")).into_response())
}

/// `POST /photos/{id}/trash`.
pub async fn trash(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
) -> Result<Response, HttpError> {
    load(&st, &v, id).await?;
    blocking(move || st.library.trash_asset(AssetId(id), false)).await?;
    tracing::info!(by = %v.name(), asset = id, "moved to trash");
    Ok(Redirect::to("/").into_response())
}

/// `POST /photos/{id}/restore` (administrators).
pub async fn restore(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
) -> Result<Response, HttpError> {
    if !v.is_admin() {
        return Err(HttpError::Forbidden(
            "Only administrators can restore from the trash.",
        ));
    }
    blocking(move || st.library.restore_asset(AssetId(id))).await?;
    Ok(Redirect::to(&format!("/photos/{id}")).into_response())
}

/// `GET /trash`.
pub async fn trash_page(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show_trash(&st, &v, None).await
}

async fn show_trash(
    st: &AppState,
    v: &Viewer,
    flash: Option<Flash>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let (assets, retention) = blocking(move || {
        Ok::<_, HttpError>((
            st2.library.trash(500)?,
            st2.settings.get()?.trash_retention_days,
        ))
    })
    .await?;
    let rows: Vec<(Asset, Option<String>)> = assets
        .into_iter()
        .filter(|a| v.may_see(a))
        .map(|a| {
            let purge = match (a.state, retention) {
                (AssetState::Trashed { at, .. }, Some(days)) => {
                    chrono::DateTime::from_timestamp(at + i64::from(days) * 86_400, 0)
                        .map(|d| d.format("%Y-%m-%d").to_string())
                }
                _ => None,
            };
            (a, purge)
        })
        .collect();
    let body = photo::trash(&v.csrf, &rows, v.is_admin());
    Ok(
        render(st, v, Frame::new("Trash", "trash").flash(flash), &body)
            .await?
            .into_response(),
    )
}

/// `POST /trash/purge` (administrators): empties the trash now.
pub async fn purge(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let n = blocking(move || st2.library.purge_trash(None, true)).await?;
    tracing::info!(by = %v.name(), assets = n, "trash emptied");
    show_trash(
        &st,
        &v,
        Some(Flash::Ok(format!(
            "{n} item(s) deleted for good; their space is reclaimed by the next clean-up."
        ))),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Ok((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Ok((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Ok((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), Err(()));
        assert_eq!(parse_range("bytes=5-1", 1000), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Err(()));
        assert_eq!(parse_range("items=0-1", 1000), Err(()));
    }
}
