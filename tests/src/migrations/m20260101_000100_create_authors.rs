//! Authors.
use godwit::prelude::*;

pub struct CreateAuthors;

impl Migration for CreateAuthors {
    fn up(&self, s: &mut Schema) {
        s.create_table("authors", |t| {
            t.id();
            t.string("name", 100).unique();
        });
    }
}

godwit::register!(CreateAuthors);
