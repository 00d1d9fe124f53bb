//! Reviews of books: the table and its foreign key's index, (with `GODWIT_FIXTURE_FAIL` or
//! `GODWIT_FIXTURE_SLOW`) a statement that fails or takes minutes, (with
//! `GODWIT_FIXTURE_FAIL_DOWN`) one whose `down` fails, and an index.
use godwit::prelude::*;

pub struct CreateReviews;

fn set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

impl Migration for CreateReviews {
    fn up(&self, s: &mut Schema) {
        s.create_table("reviews", |t| {
            t.id();
            t.references("books").on_delete(Cascade);
            t.integer("stars");
        });
        if set("GODWIT_FIXTURE_FAIL") {
            s.sql("INSERT INTO no_such_table (x) VALUES (1)").down("SELECT 1");
            s.allow(Rule::RawSql, "a test: it must fail");
        }
        if set("GODWIT_FIXTURE_SLOW") {
            s.sql_per_backend(PerBackend {
                postgres: Some("SELECT pg_sleep(600)"),
                mysql: Some("SELECT SLEEP(600)"),
                sqlite: Some(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) \
                     SELECT count(*) FROM c",
                ),
            })
            .down("SELECT 1");
            s.allow(Rule::RawSql, "a test: it must run long enough to be stopped");
        }
        if set("GODWIT_FIXTURE_FAIL_DOWN") {
            s.sql("SELECT 1")
                .down("INSERT INTO no_such_table (x) VALUES (1)");
            s.allow(Rule::RawSql, "a test: its down must fail");
        }
        s.add_index("reviews", ["stars"]);
    }
}

godwit::register!(CreateReviews);
