//! Find a post by its slug without scanning `posts` (an index on a table that holds rows).
//!
//! On PostgreSQL, `CREATE INDEX CONCURRENTLY` builds the index while reads and writes go on. It
//! cannot run in a transaction, so it has a migration of its own: nothing else here runs
//! without one. If the build fails, PostgreSQL leaves an invalid index behind; `down` (derived:
//! drop the index) removes it before trying again. On MySQL/MariaDB the index is built in place
//! without blocking writes, or the statement fails rather than lock.

use godwit::prelude::*;

pub struct IndexPostsBySlug;

impl Migration for IndexPostsBySlug {
    fn up(&self, s: &mut Schema) {
        s.add_index("posts", ["slug"]).concurrently();
        s.mysql_online(Algorithm::Inplace, Lock::None);
    }
}

godwit::register!(IndexPostsBySlug);
