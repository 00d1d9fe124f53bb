//! Books, written by an author.
use godwit::prelude::*;

pub struct CreateBooks;

impl Migration for CreateBooks {
    fn up(&self, s: &mut Schema) {
        s.create_table("books", |t| {
            t.id();
            t.references("authors").on_delete(Cascade);
            t.string("title", 200);
            t.index(["title"]);
        });
    }
}

godwit::register!(CreateBooks);
