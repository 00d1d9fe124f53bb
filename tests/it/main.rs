//! godwit's cross-backend integration tests.
//!
//! - `scenarios`: the table of scenarios, one (or a few) per DSL operation.
//! - `snapshots`: the SQL each scenario renders on PostgreSQL, MySQL/MariaDB and SQLite.
//! - `live`: the same scenarios run on real databases, the resulting schema compared with the
//!   schema model, and every reversible migration rolled back and checked.
//! - `guide`: `docs/writing-migrations.md` and `docs/safety-rules.md`, generated from the
//!   scenarios and from lint fragments compiled here, and checked to be current.
//! - `fuzz`: random DSL programs, file names and manifests, none of which may panic (a short
//!   run here, a long one with `cargo xtask fuzz`).
//! - `runner`: applying and rolling back the fixture's migrations (`tests/src/migrations`) with
//!   the runner, in-process and as processes: history, lock, transactions, failures, the CLI.
//!
//! The live tests read `GODWIT_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `GODWIT_TEST_MYSQL_URL` (default
//! `mysql://godwit:godwit@127.0.0.1:3306/test`); a server they cannot reach fails them.
//! `bash .ci/run` starts both servers and runs everything.

#[macro_use]
mod scenarios;
mod fuzz;
mod guide;
mod live;
mod runner;
mod snapshots;
