//! A view counter on posts (workflow 2: changing a table that holds rows, without downtime).
//!
//! `posts` already has rows, so the new column must be nullable or have a default: `views` is
//! `NOT NULL DEFAULT 0`, which every existing post gets at once, and which the code running
//! during the deploy never has to write. Deploy this first, then the code that counts views.
//! (`Column::integer("views")` without the default would not compile.)

use godwit::prelude::*;

pub struct AddViewsToPosts;

impl Migration for AddViewsToPosts {
    fn up(&self, s: &mut Schema) {
        s.add_column("posts", Column::integer("views").default(0));
        // On MySQL/MariaDB: add it instantly, or fail rather than lock the table.
        s.mysql_online(Algorithm::Instant, Lock::None);
    }
}

godwit::register!(AddViewsToPosts);
