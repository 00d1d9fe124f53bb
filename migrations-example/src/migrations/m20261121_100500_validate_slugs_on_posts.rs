//! Every post has a slug, checked without locking `posts` (workflow 2, step 4: the constraint
//! comes last, part 2 of 3).
//!
//! On PostgreSQL, `VALIDATE CONSTRAINT` scans the posts that existed before the check was added,
//! holding a lock that lets reads and writes go on. It fails, and changes nothing, if a post
//! still has no slug. MySQL/MariaDB and SQLite checked the rows when the constraint was added:
//! there, this migration runs nothing. Nothing to undo either: the derived `down` is empty.

use godwit::prelude::*;

pub struct ValidateSlugsOnPosts;

impl Migration for ValidateSlugsOnPosts {
    fn up(&self, s: &mut Schema) {
        s.validate_constraint("posts", "ck_posts_slug_not_null");
    }
}

godwit::register!(ValidateSlugsOnPosts);
