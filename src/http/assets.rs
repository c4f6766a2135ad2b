//! The files of `web/`, compiled into the binary and served under content-hashed names, so
//! browsers may cache them forever and a new release is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const FILES: &[Asset] = &[
    Asset {
        name: "style.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/style.css"),
    },
    Asset {
        name: "app.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/app.js"),
    },
    Asset {
        name: "icon.svg",
        mime: "image/svg+xml",
        bytes: include_bytes!("../../web/icon.svg"),
    },
];

/// (hashed name, asset) for every file.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|a| {
            let hash = blake3::hash(a.bytes).to_hex();
            let (stem, ext) = a.name.rsplit_once('.').unwrap_or((a.name, ""));
            (
                format!("{stem}.{}.{ext}", hash.get(..12).unwrap_or_default()),
                a,
            )
        })
        .collect()
});

/// The URL of a `web/` file, e.g. `url("style.css")` → `/assets/style.3f2a….css`.
pub fn url(name: &str) -> String {
    HASHED.iter().find(|(_, a)| a.name == name).map_or_else(
        || format!("/assets/{name}"),
        |(hashed, _)| format!("/assets/{hashed}"),
    )
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, asset)) = HASHED.iter().find(|(h, _)| *h == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}
