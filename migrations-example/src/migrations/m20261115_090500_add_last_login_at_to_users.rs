//! When each user last signed in (workflow 2: changing a table that holds rows, without downtime).
//!
//! There is no sensible value for users who signed in before it was recorded, so the column is
//! nullable: existing rows get NULL and the running code keeps working. Deploy this, then the
//! code that sets it at sign-in; a backfill from the session logs can follow.

use godwit::prelude::*;

pub struct AddLastLoginAtToUsers;

impl Migration for AddLastLoginAtToUsers {
    fn up(&self, s: &mut Schema) {
        s.add_column("users", Column::timestamp_tz("last_login_at").nullable());
        // On MySQL/MariaDB: add it instantly, or fail rather than lock the table.
        s.mysql_online(Algorithm::Instant, Lock::None);
    }
}

godwit::register!(AddLastLoginAtToUsers);
