use godwit_core::prelude::*;

struct AddSlug;

impl Migration for AddSlug {
    fn up(&self, s: &mut Schema) {
        // `.unique()` keeps the column NOT NULL without a default: still refused.
        s.add_column("posts", Column::string("slug", 100).unique());
    }
}

fn main() {
    let _ = AddSlug;
}
