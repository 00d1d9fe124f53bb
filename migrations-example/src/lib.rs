//! The migrations of an example blog, in `src/migrations`, one per file.
//!
//! - `m20261001_*`: the blog as first deployed: users, posts (written by a user), comments.
//! - `m20261105_100000_create_tags`: a new feature, tagging posts.
//! - `m20261115_*`: changes to tables that already hold rows, made without downtime: every new
//!   column is nullable or has a default, so the running code keeps working while it is added.
//!
//! Print their SQL with `cargo xtask migrate sql --backend postgres`, and write a new one with
//! `cargo xtask migrate new "Add a summary to posts"`. Without `DATABASE_URL`, the database is
//! the SQLite file `migrations-example/dev.db`.

godwit::migrations!();

/// The Rust code blocks of the README and the guide (`docs/`), compiled and run as doctests by
/// `cargo test --doc`, so that no example in the documentation can stop compiling unnoticed.
#[cfg(doctest)]
pub mod docs {
    #[doc = include_str!("../../README.md")]
    pub mod readme {}
    #[doc = include_str!("../../docs/getting-started.md")]
    pub mod getting_started {}
    #[doc = include_str!("../../docs/workflows.md")]
    pub mod workflows {}
    #[doc = include_str!("../../docs/moving-data.md")]
    pub mod moving_data {}
    #[doc = include_str!("../../docs/coming-from.md")]
    pub mod coming_from {}
}
