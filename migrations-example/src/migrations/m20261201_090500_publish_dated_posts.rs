//! Posts that have a publication date are published (workflow 6: enums, views and triggers).
//!
//! A batched backfill, outside the schema transaction, resumed where it stopped if interrupted.
//! Rolling back leaves the statuses as they are: the previous migration's rollback drops the
//! column.

use godwit::prelude::*;

pub struct PublishDatedPosts;

impl Migration for PublishDatedPosts {
    fn up(&self, s: &mut Schema) {
        s.backfill("posts")
            .set("status", "published")
            .filter(col("published_at").is_not_null());
    }

    fn down(&self, _s: &mut Schema) {}
}

godwit::register!(PublishDatedPosts);
