//! The photos page (timeline), its fragments for infinite scroll, the cameras page, and
//! actions on a selection of photos.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::gallery::{self, Selection};
use crate::library::{AssetId, Cursor, Filter, Page};

/// Photos per timeline page.
const PAGE: usize = 60;

/// `?before=<instant>.<id>` or `?month=YYYY-MM`: where the page starts; `fragment=1`: only the
/// grid (for `app.js`); `select=1`: selection mode without JavaScript.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    before: Option<String>,
    month: Option<String>,
    fragment: Option<String>,
    select: Option<String>,
}

/// Parses a `before` cursor.
pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (instant, id) = s.split_once('.')?;
    Some(Cursor {
        instant: instant.parse().ok()?,
        id: AssetId(id.parse().ok()?),
    })
}

/// Parses `YYYY-MM`.
fn parse_month(s: &str) -> Option<(i32, u32)> {
    let (y, m) = s.split_once('-')?;
    let (y, m) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

/// True for `?x=1`.
pub fn flag(v: Option<&String>) -> bool {
    v.is_some_and(|v| v == "1")
}

/// `GET /`.
pub async fn home(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PageQuery>,
) -> Result<Response, HttpError> {
    let cursor = q.before.as_deref().and_then(parse_cursor);
    let month = q.month.as_deref().and_then(parse_month);
    let fragment = flag(q.fragment.as_ref());
    let st2 = st.clone();
    let own = v.only_uploads_of().map(str::to_string);
    let restricted = own.is_some();
    let page = blocking(move || match (month, own) {
        (_, Some(user)) => {
            let only = Filter {
                uploader: Some(user),
                ..Filter::default()
            };
            st2.library.search(&only, cursor, PAGE)
        }
        (Some((y, m)), None) if cursor.is_none() => st2.library.timeline_from_month(y, m, PAGE),
        _ => st2.library.timeline(cursor, PAGE),
    })
    .await?;
    let selecting = flag(q.select.as_ref());
    let next = next_link("/?", &page, selecting);
    if fragment {
        return Ok(Html(
            maud::html! { (gallery::grid(&page.assets, true)) (gallery::more(next.as_deref(), "Older")) }
                .into_string(),
        )
        .into_response());
    }
    let st2 = st.clone();
    let (counts, months, albums) = blocking(move || {
        Ok::<_, crate::library::Error>((
            st2.library.counts()?,
            st2.library.months()?,
            st2.library.albums()?,
        ))
    })
    .await?;
    // A restricted member's view has no library-wide figures.
    let (visible, months) = if restricted {
        (None, Vec::new())
    } else {
        (Some(counts.assets.saturating_sub(counts.trashed)), months)
    };
    let selection = Selection {
        csrf: &v.csrf,
        albums: &albums,
        album: None,
        back: "/",
        on: selecting,
    };
    let body = gallery::home(
        &page.assets,
        next.as_deref(),
        visible,
        &months,
        v.is_admin(),
        &selection,
    );
    Ok(render(&st, &v, Frame::new("Photos", "photos"), &body)
        .await?
        .into_response())
}

/// The link to the page after `page`: `base` is the path and query so far, ending in `?` or `&`.
pub fn next_link(base: &str, page: &Page, selecting: bool) -> Option<String> {
    page.next.map(|c| {
        let select = if selecting { "&select=1" } else { "" };
        format!("{base}before={}.{}{select}", c.instant, c.id)
    })
}

/// `GET /cameras`.
pub async fn cameras(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let cameras = blocking(move || st2.library.cameras()).await?;
    Ok(render(
        &st,
        &v,
        Frame::new("By camera", "photos"),
        &gallery::cameras(&cameras),
    )
    .await?
    .into_response())
}

/// What to do with a selection.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    AddToAlbum(u64),
    RemoveFromAlbum(u64),
    Favorite,
    Trash,
}

/// A parsed `POST /photos/bulk` form: repeated `id` fields, an action, where to go back.
#[derive(Debug)]
struct Bulk {
    ids: Vec<AssetId>,
    action: Action,
    back: String,
}

/// At most this many photos per action (a page holds 60; select-all over pages is not offered).
const MAX_SELECTION: usize = 2_000;

fn parse_bulk(body: &[u8]) -> Result<Bulk, HttpError> {
    let (mut ids, mut action, mut album, mut from_album, mut back) =
        (Vec::new(), None, None, None, String::from("/"));
    for (k, v) in form_urlencoded::parse(body) {
        match &*k {
            "id" => ids.push(AssetId(
                v.parse().map_err(|_| bad("a photo id is not a number"))?,
            )),
            "action" => action = Some(v.into_owned()),
            "album" => album = v.parse().ok(),
            "from_album" => from_album = v.parse().ok(),
            // Only paths on this site: never an absolute or scheme-relative URL.
            "back" if v.starts_with('/') && !v.starts_with("//") => back = v.into_owned(),
            _ => {}
        }
    }
    if ids.len() > MAX_SELECTION {
        return Err(bad("too many photos selected at once"));
    }
    let action = match (action.as_deref(), album, from_album) {
        (Some("album"), Some(a), _) => Action::AddToAlbum(a),
        (Some("unalbum"), _, Some(a)) => Action::RemoveFromAlbum(a),
        (Some("favorite"), _, _) => Action::Favorite,
        (Some("trash"), _, _) => Action::Trash,
        _ => return Err(bad("unknown action")),
    };
    Ok(Bulk { ids, action, back })
}

fn bad(why: &str) -> HttpError {
    HttpError::BadRequest(why.to_string())
}

/// `POST /photos/bulk`: acts on the selected photos, then returns to the page they were on.
pub async fn bulk(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let form = parse_bulk(&body)?;
    let back = form.back.clone();
    blocking(move || {
        let lib = &st.library;
        for id in &form.ids {
            if !lib.asset(*id)?.is_some_and(|a| v.may_see(&a)) {
                continue;
            }
            match form.action {
                Action::AddToAlbum(a) => lib.set_in_album(a, *id, true)?,
                Action::RemoveFromAlbum(a) => lib.set_in_album(a, *id, false)?,
                Action::Favorite => lib.set_favorite(*id, true)?,
                Action::Trash => lib.trash_asset(*id, false)?,
            }
        }
        Ok::<_, crate::library::Error>(())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_forms_parse_repeated_ids_and_refuse_foreign_destinations() {
        let f = parse_bulk(b"csrf=x&id=3&id=9&action=album&album=2&back=%2F%3Fselect%3D1").unwrap();
        assert_eq!(f.ids, vec![AssetId(3), AssetId(9)]);
        assert_eq!(f.action, Action::AddToAlbum(2));
        assert_eq!(f.back, "/?select=1");
        let f = parse_bulk(b"id=1&action=trash&back=https%3A%2F%2Fevil.example").unwrap();
        assert_eq!(f.back, "/", "absolute URLs are not followed");
        let f = parse_bulk(b"id=1&action=favorite&back=%2F%2Fevil.example").unwrap();
        assert_eq!(f.back, "/", "scheme-relative URLs are not followed");
        assert!(parse_bulk(b"id=x&action=trash").is_err());
        assert!(parse_bulk(b"id=1&action=explode").is_err());
        assert!(parse_bulk(b"id=1&action=album").is_err(), "album missing");
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(parse_month("2024-05"), Some((2024, 5)));
        assert_eq!(parse_month("2024-13"), None);
        assert_eq!(parse_month("may"), None);
    }
}
