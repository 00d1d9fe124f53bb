//! The fixture: a small migrations crate, built the way users build theirs, that the runner
//! tests drive as a real process (`fixture-migrations`, see `src/main.rs`) and in-process.
//!
//! Its migrations are a library of books: authors, books, a column added with a default, seed
//! rows, and reviews. Three environment variables change the last migration, so that one binary
//! serves every process-level test:
//!
//! - `GODWIT_FIXTURE_FAIL=1`: `create_reviews` fails at its third statement (of four);
//! - `GODWIT_FIXTURE_SLOW=1`: `create_reviews` runs a statement that takes minutes, to be killed;
//! - `GODWIT_FIXTURE_FAIL_DOWN=1`: the `down` of `create_reviews` fails at its second statement
//!   (of three).
//!
//! A variant's code differs from the binary's plain code, while the checksums and allowances
//! the binary keeps beside itself (`godwit_runner::Cache`) stand for the binary: the tests run
//! the variants with `GODWIT_NO_CACHE` (`fixture_variant` in `tests/it/runner`).

godwit::migrations!();
