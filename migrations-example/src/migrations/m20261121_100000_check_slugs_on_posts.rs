//! Every post has a slug, checked without locking `posts` (workflow 2, step 4: the constraint
//! comes last, part 1 of 3).
//!
//! `add_slug_to_posts` added the column nullable and filled it for the posts of the time; the
//! code deployed since writes a slug for every new post. Posts created in between, by the code
//! that did not know about slugs yet, are filled first by the same batched backfill. Then the
//! check is added `NOT VALID`: on PostgreSQL, new and updated rows are checked at once, while
//! the existing ones are not scanned under the exclusive lock (that is the next migration's
//! `VALIDATE`, which does not block writes). SQLite checks the rows as the constraint is added,
//! in a table rebuild. MySQL/MariaDB have no in-place way to add a check: they copy the table,
//! blocking writes to it until the copy is done, which is allowed here with the reason.
//!
//! Rolling back drops the check; the slugs written by the backfill stay, which is harmless.

use godwit::prelude::*;

pub struct CheckSlugsOnPosts;

impl Migration for CheckSlugsOnPosts {
    fn up(&self, s: &mut Schema) {
        s.backfill("posts")
            .set(
                "slug",
                Func::lower(Func::cust("REPLACE").args([col("title"), Expr::val(" "), Expr::val("-")])),
            )
            .filter(col("slug").is_null())
            .batch_size(1_000);
        s.add_check("posts", "ck_posts_slug_not_null", "slug IS NOT NULL")
            .not_valid();
        s.allow(
            Rule::MysqlCheck,
            "MySQL/MariaDB add a check only by copying the table; the blog's posts copy in seconds",
        );
    }

    fn down(&self, s: &mut Schema) {
        s.drop_check("posts", "ck_posts_slug_not_null");
    }
}

godwit::register!(CheckSlugsOnPosts);
