//! Comments on posts.
//!
//! A comment belongs to its post: deleting the post deletes its comments. The commenter is
//! optional, so that deleting a user keeps the discussion readable (their comments lose their
//! author instead of disappearing).

use godwit::prelude::*;

pub struct CreateComments;

impl Migration for CreateComments {
    fn up(&self, s: &mut Schema) {
        s.create_table("comments", |t| {
            t.id();
            t.references("posts").on_delete(Cascade);
            t.references_as("author_id", "users").nullable().on_delete(SetNull);
            t.text("body");
            t.timestamps();
        });
    }
}

godwit::register!(CreateComments);
