//! Albums and search.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::error::{HttpError, blocking};
use super::guard::Viewer;
use super::page::{Frame, render};
use super::state::AppState;
use super::views::albums as views;
use super::views::layout::Flash;
use crate::library::{AssetId, AssetKind, Filter, SourceKind};

/// `GET /albums`.
pub async fn list(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> Result<Response, HttpError> {
    show_list(&st, &v, None).await
}

async fn show_list(st: &AppState, v: &Viewer, flash: Option<Flash>) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let (albums, mut folders) = blocking(move || {
        Ok::<_, crate::library::Error>((st2.library.albums()?, st2.library.source_folders()?))
    })
    .await?;
    // A member limited to their own uploads sees only their own upload folders.
    if let Some(user) = v.only_uploads_of() {
        let mine = format!("dav:{user}:");
        folders.retain(|f| f.key.starts_with(&mine));
    }
    Ok(render(
        st,
        v,
        Frame::new("Albums", "albums").flash(flash),
        &views::list(&v.csrf, &albums, &folders),
    )
    .await?
    .into_response())
}

/// An album name.
#[derive(Deserialize)]
pub struct Name {
    name: String,
}

/// `POST /albums`.
pub async fn create(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<Name>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    match blocking(move || Ok::<_, HttpError>(st2.library.create_album(&f.name))).await? {
        Ok(a) => Ok(Redirect::to(&format!("/albums/{}", a.id)).into_response()),
        Err(e) => show_list(&st, &v, Some(Flash::Problem(e.to_string()))).await,
    }
}

/// `?select=1` on an album page.
#[derive(Deserialize)]
pub struct AlbumQuery {
    select: Option<String>,
}

/// `GET /albums/{id}`.
pub async fn album(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    Query(q): Query<AlbumQuery>,
) -> Result<Response, HttpError> {
    let st2 = st.clone();
    let ((album, mut assets), albums) = blocking(move || {
        Ok::<_, crate::library::Error>((st2.library.album(id)?, st2.library.albums()?))
    })
    .await?;
    assets.retain(|a| v.may_see(a));
    let back = format!("/albums/{id}");
    let selection = super::views::gallery::Selection {
        csrf: &v.csrf,
        albums: &albums,
        album: Some(id),
        back: &back,
        on: super::gallery::flag(q.select.as_ref()),
    };
    let body = views::album(&v.csrf, &album, &assets, &selection);
    Ok(render(&st, &v, Frame::new(&album.name, "albums"), &body)
        .await?
        .into_response())
}

/// `POST /albums/{id}/rename`.
pub async fn rename(
    State(st): State<AppState>,
    Path(id): Path<u64>,
    Form(f): Form<Name>,
) -> Result<Response, HttpError> {
    blocking(move || st.library.rename_album(id, &f.name)).await?;
    Ok(Redirect::to(&format!("/albums/{id}")).into_response())
}

/// `POST /albums/{id}/delete`.
pub async fn delete(
    State(st): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Response, HttpError> {
    blocking(move || st.library.delete_album(id)).await?;
    Ok(Redirect::to("/albums").into_response())
}

/// Album membership change from a photo page.
#[derive(Deserialize)]
pub struct Membership {
    album: u64,
    member: String,
}

/// `POST /photos/{id}/albums`.
pub async fn set_member(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<u64>,
    Form(f): Form<Membership>,
) -> Result<Response, HttpError> {
    super::photos::load(&st, &v, id).await?;
    blocking(move || {
        st.library
            .set_in_album(f.album, AssetId(id), f.member == "1")
    })
    .await?;
    Ok(Redirect::to(&format!("/photos/{id}")).into_response())
}

/// Search parameters (all optional).
#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
    year: Option<String>,
    from: Option<String>,
    to: Option<String>,
    camera: Option<String>,
    source: Option<String>,
    located: Option<String>,
    fav: Option<String>,
    screenshots: Option<String>,
    folder: Option<String>,
    before: Option<String>,
    fragment: Option<String>,
    select: Option<String>,
}

fn some(s: Option<&String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl SearchQuery {
    fn filter(&self) -> Filter {
        let year = some(self.year.as_ref())
            .filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()));
        Filter {
            kind: match self.kind.as_deref() {
                Some("photo") => Some(AssetKind::Photo),
                Some("video") => Some(AssetKind::Video),
                Some("live") => Some(AssetKind::LivePhoto),
                _ => None,
            },
            favorites: self.fav.as_deref() == Some("1"),
            from: some(self.from.as_ref()).or_else(|| year.as_ref().map(|y| format!("{y}-01-01"))),
            to: some(self.to.as_ref()).or_else(|| year.as_ref().map(|y| format!("{y}-12-31"))),
            camera: some(self.camera.as_ref()),
            source: match self.source.as_deref() {
                Some("import") => Some(SourceKind::Import),
                Some("dav") => Some(SourceKind::Dav),
                Some("icloud") => Some(SourceKind::Icloud),
                _ => None,
            },
            located: match self.located.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            name: some(self.q.as_ref()),
            screenshots: self.screenshots.as_deref() == Some("1"),
            uploader: None,
            folder: some(self.folder.as_ref()),
        }
    }

    fn values(&self) -> Vec<(&'static str, String)> {
        let pairs = [
            ("q", &self.q),
            ("kind", &self.kind),
            ("year", &self.year),
            ("from", &self.from),
            ("to", &self.to),
            ("camera", &self.camera),
            ("source", &self.source),
            ("located", &self.located),
            ("fav", &self.fav),
            ("screenshots", &self.screenshots),
            ("folder", &self.folder),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
    }
}

/// `GET /search`.
pub async fn search(
    State(st): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, HttpError> {
    let filter = Filter {
        uploader: v.only_uploads_of().map(str::to_string),
        ..q.filter()
    };
    let cursor = q.before.as_deref().and_then(super::gallery::parse_cursor);
    let st2 = st.clone();
    let (page, facets) = blocking(move || {
        Ok::<_, crate::library::Error>((
            st2.library.search(&filter, cursor, 120)?,
            st2.library.facets()?,
        ))
    })
    .await?;
    let values = q.values();
    let query: Vec<String> = values
        .iter()
        .map(|(k, v)| format!("{k}={}", super::views::import::urlencode(v)))
        .collect();
    let here = format!("/search?{}", query.join("&"));
    let next = super::gallery::next_link(
        &format!("{here}{}", if query.is_empty() { "" } else { "&" }),
        &page,
        super::gallery::flag(q.select.as_ref()),
    );
    let grid = maud::html! {
        (super::views::gallery::grid(&page.assets, true))
        (super::views::gallery::more(next.as_deref(), "More"))
    };
    if super::gallery::flag(q.fragment.as_ref()) {
        return Ok(Html(grid.into_string()).into_response());
    }
    let st2 = st.clone();
    let albums = blocking(move || st2.library.albums()).await?;
    let selection = super::views::gallery::Selection {
        csrf: &v.csrf,
        albums: &albums,
        album: None,
        back: &here,
        on: super::gallery::flag(q.select.as_ref()),
    };
    let results = maud::html! {
        @if page.assets.is_empty() { p.muted { "Nothing matches (yet): " @if next.is_some() { "look further below." } @else { "try fewer conditions." } } }
        (super::views::gallery::selectable(&selection, &grid))
    };
    let form = views::SearchForm {
        values: &values,
        cameras: &facets.cameras,
        years: &facets.years,
    };
    let folder_title = q.folder.as_deref().map(|f| {
        let f = crate::library::SourceFolder::from_key(f, 0);
        format!("{}: {}", f.source, f.path)
    });
    let title = match &folder_title {
        Some(t) if values.len() == 1 => t.as_str(),
        _ if filter_is_screenshots(&values) => "Screenshots",
        _ => "Search",
    };
    Ok(render(
        &st,
        &v,
        Frame::new(title, "photos"),
        &views::search(title, &form, &results),
    )
    .await?
    .into_response())
}

fn filter_is_screenshots(values: &[(&'static str, String)]) -> bool {
    values.len() == 1 && values.iter().any(|(k, v)| *k == "screenshots" && v == "1")
}
