//! Users: the people who write posts and comments.
//!
//! The e-mail address identifies a user, so it is unique: the constraint, not the application,
//! is what keeps two sign-ups with one address from both succeeding.

use godwit::prelude::*;

pub struct CreateUsers;

impl Migration for CreateUsers {
    fn up(&self, s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("email", 255).unique();
            t.string("name", 100);
            t.timestamps();
        });
    }
}

godwit::register!(CreateUsers);
