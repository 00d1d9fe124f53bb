//! Posts, each written by a user.
//!
//! `author_id` references `users` (with an index, for "posts by this author"); deleting a user who
//! still has posts is refused rather than silently deleting their writing. A draft has no
//! `published_at`, and listing recent posts filters and sorts on it, hence its index.

use godwit::prelude::*;

pub struct CreatePosts;

impl Migration for CreatePosts {
    fn up(&self, s: &mut Schema) {
        s.create_table("posts", |t| {
            t.id();
            t.references_as("author_id", "users").on_delete(Restrict);
            t.string("title", 200);
            t.text("body");
            t.timestamp_tz("published_at").nullable();
            t.timestamps();
            t.index(["published_at"]);
        });
    }
}

godwit::register!(CreatePosts);
