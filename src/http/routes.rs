//! The route table: every path with the access level the guard enforces. A route missing from
//! [`access`] falls to [`Access::Admin`], so forgetting to classify one can only make it
//! stricter; the tests walk [`ROUTES`] and try each one without a session.

use axum::Router;
use axum::routing::{any, get, post};

use super::state::AppState;
use super::{
    account, albums, assets, backup, dav, gallery, icloud, import, login_flow, notify, phone,
    photos, settings, setup, snapshot, status, thumbs,
};

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, always (static files, health).
    Public,
    /// The first wizard steps: only while nobody has an account.
    WizardOpen,
    /// The later wizard steps: the owner, until the wizard is finished; then gone.
    Wizard,
    /// Sign-in: once an account exists.
    Login,
    /// Any signed-in person, after setup.
    User,
    /// Administrators, after setup.
    Admin,
}

/// Every route: (method, path, access). Tests use this list.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/assets/{file}", Access::Public),
    ("GET", "/healthz", Access::Public),
    // WebDAV signs in with HTTP Basic itself (src/dav); every method goes there.
    ("GET", "/dav", Access::Public),
    ("GET", "/dav/", Access::Public),
    ("GET", "/dav/{*path}", Access::Public),
    // The Nextcloud apps' endpoints (src/dav/nextcloud.rs), Basic sign-in as above.
    ("GET", "/status.php", Access::Public),
    ("GET", "/ocs/{*path}", Access::Public),
    ("GET", "/remote.php/{*path}", Access::Public),
    // Nextcloud login flow v2 (src/http/login_flow.rs): the app's calls carry no session; the
    // page it opens in the browser is a signed-in page like any other.
    ("POST", "/index.php/login/v2", Access::Public),
    ("POST", "/index.php/login/v2/poll", Access::Public),
    ("GET", "/index.php/login/v2/flow/{token}", Access::User),
    ("POST", "/index.php/login/v2/flow/{token}", Access::User),
    ("GET", "/setup", Access::Wizard),
    ("GET", "/setup/welcome", Access::WizardOpen),
    ("POST", "/setup/welcome", Access::WizardOpen),
    ("GET", "/setup/owner", Access::WizardOpen),
    ("POST", "/setup/owner", Access::WizardOpen),
    ("GET", "/setup/storage", Access::Wizard),
    ("POST", "/setup/storage", Access::Wizard),
    ("GET", "/setup/restore", Access::Wizard),
    ("POST", "/setup/restore/target", Access::Wizard),
    ("POST", "/setup/restore/start", Access::Wizard),
    ("GET", "/setup/restore/progress", Access::Wizard),
    ("POST", "/setup/restore/retry", Access::Wizard),
    ("POST", "/setup/restore/other", Access::Wizard),
    ("POST", "/setup/restore/fresh", Access::Wizard),
    ("GET", "/setup/sources", Access::Wizard),
    ("POST", "/setup/sources", Access::Wizard),
    ("POST", "/setup/icloud", Access::Wizard),
    ("POST", "/setup/icloud/code", Access::Wizard),
    ("GET", "/setup/backup", Access::Wizard),
    ("POST", "/setup/backup", Access::Wizard),
    ("POST", "/setup/backup/target", Access::Wizard),
    ("GET", "/setup/summary", Access::Wizard),
    ("POST", "/setup/finish", Access::Wizard),
    ("GET", "/login", Access::Login),
    ("POST", "/login", Access::Login),
    ("POST", "/logout", Access::Login),
    ("GET", "/", Access::User),
    ("GET", "/cameras", Access::User),
    ("POST", "/photos/bulk", Access::User),
    ("GET", "/photos/{id}", Access::User),
    ("GET", "/photos/{id}/original", Access::User),
    ("GET", "/photos/{id}/live", Access::User),
    ("GET", "/photos/{id}/thumb", Access::User),
    ("GET", "/photos/{id}/preview", Access::User),
    ("POST", "/photos/{id}/favorite", Access::User),
    ("POST", "/photos/{id}/trash", Access::User),
    ("POST", "/photos/{id}/restore", Access::Admin),
    ("POST", "/photos/{id}/albums", Access::User),
    ("GET", "/albums", Access::User),
    ("POST", "/albums", Access::User),
    ("GET", "/albums/{id}", Access::User),
    ("POST", "/albums/{id}/rename", Access::User),
    ("POST", "/albums/{id}/delete", Access::User),
    ("GET", "/search", Access::User),
    ("GET", "/trash", Access::User),
    ("POST", "/trash/purge", Access::Admin),
    ("GET", "/status", Access::User),
    ("GET", "/status/events", Access::User),
    ("GET", "/api/status", Access::User),
    ("GET", "/phone", Access::User),
    ("POST", "/phone/app-passwords", Access::User),
    ("POST", "/phone/app-passwords/{id}/revoke", Access::User),
    ("POST", "/phone/delete-trashes", Access::Admin),
    ("GET", "/account", Access::User),
    ("POST", "/account/password", Access::User),
    ("GET", "/users", Access::Admin),
    ("POST", "/users", Access::Admin),
    ("POST", "/users/{name}/remove", Access::Admin),
    ("POST", "/users/{name}/password", Access::Admin),
    ("POST", "/users/{name}/scope", Access::Admin),
    ("GET", "/notifications", Access::Admin),
    ("POST", "/notifications/push", Access::Admin),
    ("POST", "/notifications/push/test", Access::Admin),
    ("POST", "/notifications/email", Access::Admin),
    ("POST", "/notifications/email/test", Access::Admin),
    ("GET", "/settings", Access::Admin),
    ("POST", "/settings", Access::Admin),
    ("GET", "/backup", Access::Admin),
    ("POST", "/backup/target", Access::Admin),
    ("POST", "/backup/now", Access::Admin),
    ("POST", "/backup/schedule", Access::Admin),
    ("GET", "/backup/snapshots/{snap}", Access::Admin),
    (
        "POST",
        "/backup/snapshots/{snap}/photos/{id}/restore",
        Access::Admin,
    ),
    (
        "GET",
        "/backup/snapshots/{snap}/photos/{id}/original",
        Access::Admin,
    ),
    (
        "POST",
        "/backup/snapshots/{snap}/albums/{id}/restore",
        Access::Admin,
    ),
    ("GET", "/icloud", Access::Admin),
    ("POST", "/icloud/add", Access::Admin),
    ("POST", "/icloud/code", Access::Admin),
    ("POST", "/icloud/sync", Access::Admin),
    ("POST", "/icloud/remove", Access::Admin),
    ("GET", "/import", Access::Admin),
    ("POST", "/import", Access::Admin),
];

/// Access level of a matched route path.
pub fn access(path: &str) -> Access {
    ROUTES
        .iter()
        .find(|(_, p, _)| *p == path)
        .map_or(Access::Admin, |(_, _, a)| *a)
}

/// The routes with their handlers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{file}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .route("/dav", any(dav::serve))
        .route("/dav/", any(dav::serve))
        .route("/dav/{*path}", any(dav::serve))
        .route("/status.php", any(dav::serve))
        .route("/ocs/{*path}", any(dav::serve))
        .route("/remote.php/{*path}", any(dav::serve))
        .route("/backup", get(backup::page))
        .route("/backup/target", post(backup::target))
        .route("/backup/now", post(backup::now))
        .route("/backup/schedule", post(backup::set_schedule))
        .merge(snapshot::routes())
        .route("/index.php/login/v2", post(login_flow::start))
        .route("/index.php/login/v2/poll", post(login_flow::poll))
        .route(
            "/index.php/login/v2/flow/{token}",
            get(login_flow::ask).post(login_flow::grant),
        )
        .route("/setup", get(setup::resume))
        .route(
            "/setup/welcome",
            get(setup::welcome).post(setup::welcome_choice),
        )
        .route(
            "/setup/owner",
            get(setup::owner_form).post(setup::create_owner),
        )
        .route(
            "/setup/storage",
            get(setup::storage).post(setup::storage_ok),
        )
        .route("/setup/restore", get(setup::restore))
        .route("/setup/restore/target", post(setup::restore_target))
        .route("/setup/restore/start", post(setup::restore_start))
        .route("/setup/restore/progress", get(setup::restore_progress))
        .route("/setup/restore/retry", post(setup::restore_retry))
        .route("/setup/restore/other", post(setup::restore_other))
        .route("/setup/restore/fresh", post(setup::restore_fresh))
        .route(
            "/setup/sources",
            get(setup::sources).post(setup::sources_ok),
        )
        .route("/setup/backup", get(setup::backup).post(setup::backup_ok))
        .route("/setup/backup/target", post(setup::backup_target))
        .route("/setup/icloud", post(setup::icloud_add))
        .route("/setup/icloud/code", post(setup::icloud_code))
        .route("/setup/summary", get(setup::summary))
        .route("/setup/finish", post(setup::finish))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/", get(gallery::home))
        .route("/cameras", get(gallery::cameras))
        .route("/photos/bulk", post(gallery::bulk))
        .route("/photos/{id}", get(photos::page))
        .route("/photos/{id}/original", get(photos::original))
        .route("/photos/{id}/live", get(photos::live))
        .route("/photos/{id}/thumb", get(thumbs::thumb))
        .route("/photos/{id}/preview", get(thumbs::preview))
        .route("/photos/{id}/favorite", post(photos::favorite))
        .route("/photos/{id}/trash", post(photos::trash))
        .route("/photos/{id}/restore", post(photos::restore))
        .route("/photos/{id}/albums", post(albums::set_member))
        .route("/albums", get(albums::list).post(albums::create))
        .route("/albums/{id}", get(albums::album))
        .route("/albums/{id}/rename", post(albums::rename))
        .route("/albums/{id}/delete", post(albums::delete))
        .route("/search", get(albums::search))
        .route("/trash", get(photos::trash_page))
        .route("/trash/purge", post(photos::purge))
        .route("/status", get(status::page))
        .route("/status/events", get(status::events))
        .route("/api/status", get(status::api))
        .route("/phone", get(phone::page))
        .route("/phone/app-passwords", post(phone::mint))
        .route("/phone/app-passwords/{id}/revoke", post(phone::revoke))
        .route("/phone/delete-trashes", post(phone::delete_trashes))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/users", get(account::users).post(account::add_user))
        .route("/users/{name}/remove", post(account::remove_user))
        .route("/users/{name}/password", post(account::reset_password))
        .route("/users/{name}/scope", post(account::set_scope))
        .route("/settings", get(settings::page).post(settings::save))
        .route("/notifications", get(notify::page))
        .route("/notifications/push", post(notify::save_push))
        .route("/notifications/push/test", post(notify::test_push))
        .route("/notifications/email", post(notify::save_email))
        .route("/notifications/email/test", post(notify::test_email))
        .route("/icloud", get(icloud::page))
        .route("/icloud/add", post(icloud::add))
        .route("/icloud/code", post(icloud::code))
        .route("/icloud/sync", post(icloud::sync))
        .route("/icloud/remove", post(icloud::remove))
        .route("/import", get(import::page).post(import::start))
}
