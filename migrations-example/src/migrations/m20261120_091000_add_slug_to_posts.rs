//! URL slugs for posts (workflow 3, step 2: a large table, filled in batches).
//!
//! The column is added nullable, so adding it is instant and the code running during the deploy
//! never writes it. `backfill` then fills it for the posts that exist, in batches walked by
//! primary key: each batch is one short transaction of its own, outside the migration's schema
//! transaction, so no lock is held for longer than a batch, and writers go on between batches.
//! A progress bar (a log line every 5 s without a terminal) shows rows, rate and time left.
//! If the run is interrupted (killed, timed out, failed), the next `up` resumes after the last
//! committed batch; no post is updated twice.
//!
//! Rolling back drops the column, which undoes the backfill too: the `down` is derived. Make
//! the column `NOT NULL` in a later migration, once the code that writes slugs is deployed.

use godwit::prelude::*;

pub struct AddSlugToPosts;

impl Migration for AddSlugToPosts {
    fn up(&self, s: &mut Schema) {
        s.add_column("posts", Column::string("slug", 255).nullable());
        s.backfill("posts")
            .set(
                "slug",
                Func::lower(Func::cust("REPLACE").args([col("title"), Expr::val(" "), Expr::val("-")])),
            )
            .filter(col("slug").is_null())
            .batch_size(1_000)
            .pause(Duration::from_millis(10));
        s.mysql_online(Algorithm::Instant, Lock::None);
    }
}

godwit::register!(AddSlugToPosts);
