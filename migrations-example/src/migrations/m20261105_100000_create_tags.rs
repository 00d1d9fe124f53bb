//! Tagging posts (workflow 1: adding a feature).
//!
//! Planned as two tables: `tags`, whose names are unique, and the join table `post_tags`, whose
//! composite primary key lets a post carry a tag at most once. Deleting a post or a tag deletes
//! its links, never the other side. No `down`: it is derived by reversing `up` (drop
//! `post_tags`, then `tags`).

use godwit::prelude::*;

pub struct CreateTags;

impl Migration for CreateTags {
    fn up(&self, s: &mut Schema) {
        s.create_table("tags", |t| {
            t.id();
            t.string("name", 50).unique();
            t.timestamps();
        });
        s.create_table("post_tags", |t| {
            t.references("posts").on_delete(Cascade);
            t.references("tags").on_delete(Cascade);
            t.primary_key(["post_id", "tag_id"]);
        });
    }
}

godwit::register!(CreateTags);
