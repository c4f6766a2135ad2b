//! The photos page.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::gallery;
use crate::library::{AssetId, Cursor};

/// `?before=<instant>.<id>`: where the page starts.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    before: Option<String>,
}

pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (instant, id) = s.split_once('.')?;
    Some(Cursor {
        instant: instant.parse().ok()?,
        id: AssetId(id.parse().ok()?),
    })
}

/// `GET /`.
pub async fn home(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PageQuery>,
) -> Result<Response, HttpError> {
    let cursor = q.before.as_deref().and_then(parse_cursor);
    let st2 = st.clone();
    let (page, counts) = blocking(move || {
        Ok::<_, crate::library::Error>((st2.library.timeline(cursor, 60)?, st2.library.counts()?))
    })
    .await?;
    let next = page
        .next
        .map(|c| format!("/?before={}.{}", c.instant, c.id));
    let visible = counts.assets.saturating_sub(counts.trashed);
    let body = gallery::home(&page.assets, visible, v.is_admin(), next.as_deref());
    Ok(render(&st, &v, Frame::new("Photos", "photos"), &body)
        .await?
        .into_response())
}
