//! Mounts the WebDAV ingest (`src/dav`): it signs requests in itself with HTTP Basic, so the
//! guard lets `/dav/…` through as public.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;

use super::state::AppState;

/// Any method under `/dav`.
pub async fn serve(State(st): State<AppState>, req: Request) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    Arc::clone(&st.dav).handle(req, client).await
}
