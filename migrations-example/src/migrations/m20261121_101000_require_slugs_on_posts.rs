//! `posts.slug` becomes `NOT NULL` (workflow 2, step 4: the constraint comes last, part 3 of 3).
//!
//! `SET NOT NULL` would scan every post under an exclusive lock, but PostgreSQL (12 and later)
//! skips the scan when a valid check already proves the column has no NULL: the one the two
//! migrations before added and validated. The lint rule knows that check from the schema model,
//! so it does not flag the operation. The check is then redundant, and dropped. On MySQL/MariaDB the
//! column is changed in place without blocking writes (or the statement fails rather than
//! lock); on SQLite the table is rebuilt.
//!
//! Rolling back restores the check as it was, validated (added `NOT VALID`, then validated, so
//! that no step holds an exclusive lock while it scans), and makes the column nullable again.
//! That `down` is written out rather than derived for MySQL/MariaDB, which can add the check back
//! only by copying the table: it says so, where the derived one would ask for an in-place change
//! and be refused.

use godwit::prelude::*;

pub struct RequireSlugsOnPosts;

impl Migration for RequireSlugsOnPosts {
    fn up(&self, s: &mut Schema) {
        s.set_not_null("posts", "slug");
        s.drop_check("posts", "ck_posts_slug_not_null");
        s.mysql_online(Algorithm::Inplace, Lock::None);
    }

    fn down(&self, s: &mut Schema) {
        s.add_check("posts", "ck_posts_slug_not_null", "slug IS NOT NULL")
            .not_valid();
        s.validate_constraint("posts", "ck_posts_slug_not_null");
        s.drop_not_null("posts", "slug");
        s.mysql_online(Algorithm::Copy, Lock::Shared);
    }
}

godwit::register!(RequireSlugsOnPosts);
