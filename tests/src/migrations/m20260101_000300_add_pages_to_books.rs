//! A column added to a table that holds rows: it has a default.
use godwit::prelude::*;

pub struct AddPagesToBooks;

impl Migration for AddPagesToBooks {
    fn up(&self, s: &mut Schema) {
        s.add_column("books", Column::integer("pages").default(0));
        s.mysql_online(Algorithm::Instant, Lock::None);
    }
}

godwit::register!(AddPagesToBooks);
