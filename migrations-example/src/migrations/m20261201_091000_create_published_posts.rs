//! The published posts, newest first, as a view (workflow 6: enums, views and triggers).
//!
//! The model keeps the query: rolling back drops the view, and a later migration that drops or
//! renames a column it reads is refused before anything runs, with the way that works (drop the
//! view, make the change, create it again). `schema --live` reports the view if someone changes
//! it by hand.

use godwit::prelude::*;

pub struct CreatePublishedPosts;

impl Migration for CreatePublishedPosts {
    fn up(&self, s: &mut Schema) {
        s.create_view(
            "published_posts",
            "SELECT id, author_id, title, published_at FROM posts WHERE status = 'published'",
        );
    }
}

godwit::register!(CreatePublishedPosts);
