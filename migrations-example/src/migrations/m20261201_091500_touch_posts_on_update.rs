//! `posts.updated_at` follows every change, whoever makes it (workflow 6: enums, views and
//! triggers).
//!
//! A trigger, written for each backend since their syntaxes differ. PostgreSQL's calls a
//! function; MySQL/MariaDB and SQLite set the column in the trigger itself, so the function is
//! left out there on purpose (an empty text). SQLite's trigger fires after the update and only
//! when the statement left `updated_at` alone, so that its own update does not fire it again.
//! Rolling back drops the trigger, then the function.

use godwit::prelude::*;

pub struct TouchPostsOnUpdate;

impl Migration for TouchPostsOnUpdate {
    fn up(&self, s: &mut Schema) {
        s.create_function(
            "touch_updated_at",
            PerBackend {
                postgres: Some(
                    "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$",
                ),
                mysql: Some(""),
                sqlite: Some(""),
            },
        );
        s.create_trigger(
            "posts_touch_updated_at",
            "posts",
            PerBackend {
                postgres: Some(
                    "CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts \
                     FOR EACH ROW EXECUTE FUNCTION touch_updated_at()",
                ),
                mysql: Some(
                    "CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts \
                     FOR EACH ROW SET NEW.updated_at = UTC_TIMESTAMP(6)",
                ),
                sqlite: Some(
                    "CREATE TRIGGER posts_touch_updated_at AFTER UPDATE ON posts FOR EACH ROW \
                     WHEN NEW.updated_at IS OLD.updated_at \
                     BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
                ),
            },
        );
    }
}

godwit::register!(TouchPostsOnUpdate);
