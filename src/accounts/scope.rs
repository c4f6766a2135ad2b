//! What a member sees: the whole family library (the default), or, when an administrator says
//! so, only what that member uploaded from their phone. Administrators always see everything.

use redb::{ReadableDatabase, TableDefinition};

use super::error::Result;
use super::{Accounts, Role, normalize_name, users::no_such};

/// Names of members restricted to their own uploads.
pub(super) const OWN_UPLOADS_ONLY: TableDefinition<&str, ()> =
    TableDefinition::new("accounts.own_uploads_only");

/// Whether `name` is restricted, read in an open transaction (a database from before this
/// table existed has nobody restricted).
pub(super) fn is_restricted(txn: &redb::ReadTransaction, name: &str) -> Result<bool> {
    match txn.open_table(OWN_UPLOADS_ONLY) {
        Ok(t) => Ok(t.get(name)?.is_some()),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Accounts {
    /// Restricts a member to their own uploads, or lifts it. Takes effect on their next
    /// request. Fails with [`super::Error::NoSuchUser`].
    pub fn set_own_uploads_only(&self, name: &str, on: bool) -> Result<()> {
        let name = normalize_name(name)?;
        let txn = self.db.begin_write()?;
        {
            if super::db::get_user(&txn.open_table(super::db::USERS)?, &name)?.is_none() {
                return Err(no_such(&name));
            }
            let mut table = txn.open_table(OWN_UPLOADS_ONLY)?;
            if on {
                table.insert(name.as_str(), ())?;
            } else {
                table.remove(name.as_str())?;
            }
        }
        self.commit(txn)?;
        tracing::info!(user = %name, own_uploads_only = on, "view scope changed");
        Ok(())
    }

    /// Whether this user sees only their own uploads (never true for an administrator).
    pub fn own_uploads_only(&self, name: &str) -> Result<bool> {
        let Ok(name) = normalize_name(name) else {
            return Ok(false);
        };
        let txn = self.db.begin_read()?;
        let admin = super::db::get_user(&txn.open_table(super::db::USERS)?, &name)?
            .is_some_and(|u| u.role == Role::Admin);
        Ok(!admin && is_restricted(&txn, &name)?)
    }
}
