use godwit_core::prelude::*;

struct AddViews;

impl Migration for AddViews {
    fn up(&self, s: &mut Schema) {
        s.add_column("posts", Column::integer("views"));
    }
}

fn main() {
    let _ = AddViews;
}
