//! A post's status, one of a fixed set (workflow 6: enums, views and triggers).
//!
//! `post_status` is an enumerated type: PostgreSQL has the type itself, MySQL/MariaDB makes the
//! column an `ENUM`, SQLite text with a `CHECK` on the values. `posts` holds rows, so the column
//! has a default, which every existing post gets at once: each is a draft until the next
//! migration says otherwise. A value added later (`s.add_enum_value`) reaches every column of
//! the type on every backend.

use godwit::prelude::*;

pub struct AddStatusToPosts;

impl Migration for AddStatusToPosts {
    fn up(&self, s: &mut Schema) {
        s.create_enum("post_status", ["draft", "published", "archived"]);
        s.add_column(
            "posts",
            Column::enumeration("status", "post_status").default("draft"),
        );
        s.mysql_online(Algorithm::Instant, Lock::None);
    }
}

godwit::register!(AddStatusToPosts);
