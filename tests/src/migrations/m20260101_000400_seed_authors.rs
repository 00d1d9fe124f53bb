//! Seed rows, with bound values, and the `down` that removes them.
use godwit::prelude::*;

pub struct SeedAuthors;

impl Migration for SeedAuthors {
    fn up(&self, s: &mut Schema) {
        s.insert("authors", ["name"])
            .values(["Ursula K. Le Guin"])
            .values(["Terry Pratchett"]);
    }

    fn down(&self, s: &mut Schema) {
        s.delete("authors").filter(
            Expr::col("name").is_in(["Ursula K. Le Guin", "Terry Pratchett"]),
        );
    }
}

godwit::register!(SeedAuthors);
