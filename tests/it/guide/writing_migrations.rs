//! `docs/writing-migrations.md`: every operation of the DSL, with the code of its scenario (cut
//! out of `scenarios.rs`) and the SQL godwit renders for it on every backend.
//!
//! The prose is here; the code and SQL come from the scenarios. Every scenario has an entry, and
//! every method of the DSL appears in the code the page shows: the tests below fail otherwise.

use std::fmt::Write as _;

use godwit_core::Backend;

use super::source::{closure_body, const_step, dedent, method, scenario_step};
use super::{catalog, check_file, rendered_text, sql_blocks, wrap};
use crate::scenarios::{self, Scenario};

const SCENARIOS: &str = include_str!("../scenarios.rs");
/// A migration file of the example, shown whole.
const EXAMPLE_FILE: &str =
    include_str!("../../../migrations-example/src/migrations/m20261105_100000_create_tags.rs");
const EXAMPLE_PATH: &str = "migrations-example/src/migrations/m20261105_100000_create_tags.rs";
/// What the compiler says to a `NOT NULL` column without a default (a UI test checks it).
const NOT_NULL_UI: &str =
    include_str!("../../../crates/godwit-core/tests/ui/add_not_null_column_without_default.stderr");
/// The DSL's source, for the test that every method is shown.
const DSL_SOURCES: [(&str, &str); 6] = [
    (
        "schema.rs",
        include_str!("../../../crates/godwit-core/src/schema.rs"),
    ),
    (
        "table_builder.rs",
        include_str!("../../../crates/godwit-core/src/table_builder.rs"),
    ),
    (
        "column.rs",
        include_str!("../../../crates/godwit-core/src/column.rs"),
    ),
    (
        "op.rs",
        include_str!("../../../crates/godwit-core/src/op.rs"),
    ),
    (
        "data.rs",
        include_str!("../../../crates/godwit-core/src/data.rs"),
    ),
    (
        "types.rs",
        include_str!("../../../crates/godwit-core/src/types.rs"),
    ),
];

/// A group of operations under one heading.
struct Section {
    title: &'static str,
    text: &'static str,
    entries: &'static [Entry],
}

/// One scenario of `scenarios.rs`, explained.
struct Entry {
    /// The scenario's name in `scenarios.rs`.
    scenario: &'static str,
    title: &'static str,
    text: &'static str,
    /// Show the SQL of a derived `down` (a hand-written one is always shown).
    show_down: bool,
}

const fn entry(scenario: &'static str, title: &'static str, text: &'static str) -> Entry {
    Entry {
        scenario,
        title,
        text,
        show_down: false,
    }
}

const fn with_down(scenario: &'static str, title: &'static str, text: &'static str) -> Entry {
    Entry {
        scenario,
        title,
        text,
        show_down: true,
    }
}

const SECTIONS: &[Section] = &[
    Section {
        title: "Tables",
        text: "`s.create_table(name, |t| { .. })` declares a table: its columns, keys, indexes and \
               constraints, created together. A column is `NOT NULL` unless `.nullable()` is \
               called on it; indexes, keys and constraints get default names \
               (`idx_<table>_<columns>`, `fk_<table>_<column>`, `uq_<table>_<columns>`, \
               `ck_<table>_<column>`) unless they are given one.",
        entries: &[
            entry(
                "create_table_every_type",
                "Create a table, with a column of every type",
                "`t.id()` is a `bigint` auto-increment primary key called `id`. Each column type \
                 has a method of the same name on the table builder (and on `Column`, for \
                 `add_column`); `string` takes a length and `decimal` a precision and scale. \
                 The SQL shows what each type is on each backend: `json` is `jsonb` on \
                 PostgreSQL, `uuid` is `binary(16)` on MySQL/MariaDB, and SQLite's types carry \
                 their intent in their names (`datetime_text`). Every value is stored as it was \
                 written: on MySQL/MariaDB, `time`, `timestamp` and `timestamp_tz` are `time(6)` \
                 and `datetime(6)`, which keep microseconds and the years 1000 to 9999 (a \
                 `timestamp_tz` is stored in UTC; godwit's sessions are in UTC and \
                 `CurrentTimestamp` is `UTC_TIMESTAMP(6)` there), and a value a column cannot \
                 hold is an error, never a zero date. (A `timestamp_tz` column that an earlier \
                 godwit made a MySQL `timestamp`, which ends in 2038 and drops microseconds, is \
                 reported by `schema --live`; `s.change_column_type(table, column, \
                 ColumnType::TimestampTz)` converts it in place, values kept.) SQLite stores integers and booleans as \
                 INTEGER, floats as REAL, strings, JSON, dates and times as TEXT, uuids and \
                 binary as BLOB, and a decimal of up to 15 digits as `decimal` (NUMERIC \
                 affinity: an INTEGER or a REAL, which hold 15 digits exactly), a longer one as \
                 `decimal_text` (TEXT affinity: its digits as written, which SQL's arithmetic \
                 and `ORDER BY` see as text).",
            ),
            entry(
                "create_table_defaults",
                "Nullable columns, defaults and a primary key column",
                "`.nullable()` allows NULL. `.default(..)` takes a literal (a number, a string, \
                 a `bool`), `CurrentTimestamp`, or `Sql(\"..\")`, an expression written as \
                 given on every backend. `.primary_key()` makes a column the table's primary \
                 key, in place of `t.id()`.",
            ),
            entry(
                "create_table_timestamps",
                "Timestamps",
                "`t.timestamps()` adds `created_at` and `updated_at`: timestamps with time \
                 zone, `NOT NULL`, defaulting to the current time. Keeping `updated_at` current \
                 is the application's job.",
            ),
            entry(
                "create_table_unique_check_index",
                "Unique columns, checks and indexes declared with the table",
                "`.unique()` and `.check(..)` on a column constrain that column alone (the check \
                 is named `ck_<table>_<column>`). `t.unique([..])` is a unique constraint over \
                 several columns, `t.check(name, expr)` a named check over the table, and \
                 `t.index([..])` an index, which `.unique()` and `.name(..)` modify. A check is \
                 either SQL text, written as given on every backend, or a sea-query expression \
                 built with `col(..)`, rendered for each backend.",
            ),
            entry(
                "create_table_references",
                "References to other tables",
                "`t.references(\"posts\")` adds `post_id`, a `bigint NOT NULL` column with a \
                 foreign key to `posts(id)` and an index; `t.references_as(column, table)` \
                 names the column. `.on_delete(..)` and `.on_update(..)` take `Cascade`, \
                 `SetNull`, `SetDefault`, `Restrict` or `NoAction`; `.nullable()` makes the \
                 reference optional and `.no_index()` leaves the index out.",
            ),
            entry(
                "create_table_named_keys",
                "Names of your own, keys that are not bigint, and columns built with Column",
                "`.name(..)` names a reference's foreign key and `.index_name(..)` its index, \
                 for instance when a default name would pass the backend's identifier limit \
                 (63 characters on PostgreSQL, 64 on MySQL). `.of_type(..)` gives the column \
                 the type of a key that is not a `bigint`. `t.column(..)` takes a column built \
                 with `Column`, including `Column::of(name, ColumnType::..)`, which takes any \
                 type.",
            ),
            entry(
                "create_table_composite_primary_key",
                "A primary key over several columns",
                "`t.primary_key([..])` declares a key over several columns, here the join table \
                 of a many-to-many relation: a post carries a tag at most once. A reference \
                 whose column leads the primary key gets no index of its own: the key's index \
                 serves it.",
            ),
            with_down(
                "drop_table",
                "Drop a table",
                "The table goes, with its rows, indexes and constraints. Another table's foreign \
                 key to it must be dropped first: godwit refuses the migration otherwise, \
                 naming that key. Rolling back recreates the table from the schema model, \
                 exactly as it was declared, but empty.",
            ),
            entry(
                "rename_table",
                "Rename a table",
                "Indexes, keys and the foreign keys of other tables follow the table.",
            ),
        ],
    },
    Section {
        title: "Columns",
        text: "`s.add_column(table, column)` takes a column built with `Column::<type>(name)` and \
               the same modifiers as in a table: `.nullable()`, `.default(..)`, `.unique()`, \
               `.check(..)`. The other column operations name the table and the column.",
        entries: &[
            entry(
                "add_column_nullable",
                "Add a nullable column",
                "A nullable column is the cheap way to add a column to a table that has rows: \
                 every backend adds it without touching the rows.",
            ),
            entry(
                "add_column_with_default",
                "Add a column with a default",
                "A `NOT NULL` column must have a default when it is added to an existing table, \
                 or the rows already there would have no value for it.",
            ),
            entry(
                "add_column_expression_default",
                "Add a column whose default is an expression",
                "`CurrentTimestamp` (or `Sql(\"..\")`) fills the existing rows too, when the \
                 column is added.",
            ),
            entry(
                "add_column_unique_and_check",
                "Add a column with a unique constraint or a check",
                "`.unique()` and `.check(..)` on an added column add the constraint after the \
                 column; rolling back drops both.",
            ),
            with_down(
                "drop_column",
                "Drop a column",
                "Rolling back adds the column back with its full definition (type, \
                 nullability, default), but not its values: the rollback says so in a warning.",
            ),
            with_down(
                "drop_column_with_index",
                "Drop a column that is indexed",
                "Indexes and unique constraints that use the column are dropped with it, first; \
                 rolling back recreates them too. Here `posts.status` had an index and a unique \
                 constraint over `(user_id, status)`.",
            ),
            with_down(
                "drop_column_with_foreign_key",
                "Drop a column with a foreign key",
                "Its foreign key and index are dropped first, and come back on rollback.",
            ),
            with_down(
                "drop_column_with_check",
                "Drop a column with a check",
                "A check declared on the column (`.check(..)`) is dropped with it, on every \
                 backend.",
            ),
            entry(
                "rename_column",
                "Rename a column",
                "Indexes, keys and constraints follow the column, and so do foreign keys that \
                 reference it.",
            ),
            entry(
                "rename_column_in_check",
                "Rename a column a check uses",
                "A check whose expression names the column is rewritten with the new name, \
                 in the schema model and, on SQLite, in the table it rebuilds.",
            ),
            with_down(
                "change_column_type",
                "Change a column's type",
                "`change_column_type(table, column, ColumnType::..)` keeps the column's \
                 nullability and default. Rolling back changes it back to the type the model \
                 knew. A change that loses data (a narrower type) fails on the rows that do not \
                 fit, where the backend checks them.",
            ),
            with_down(
                "set_default",
                "Set a column's default",
                "The default applies to rows inserted from then on. Rolling back restores the \
                 previous default, or drops it if there was none.",
            ),
            entry(
                "set_default_expression",
                "Set a default that is an expression",
                "`CurrentTimestamp` and `Sql(\"..\")` work as in `create_table`.",
            ),
            with_down(
                "drop_default",
                "Drop a column's default",
                "Rolling back sets the default the model knew.",
            ),
            entry(
                "set_not_null",
                "Make a column NOT NULL",
                "Every row must have a value already: fill the column first (see \
                 [backfill](#fill-a-new-column-in-batches)). On PostgreSQL this scans the table \
                 under an exclusive lock; [safety-rules.md](safety-rules.md#set-not-null) shows \
                 the way that does not.",
            ),
            entry(
                "drop_not_null",
                "Allow NULL in a column",
                "Rolling back makes the column `NOT NULL` again, which fails if NULLs were \
                 written in the meantime.",
            ),
        ],
    },
    Section {
        title: "Indexes",
        text: "`s.add_index(table, [columns])` creates an index named `idx_<table>_<columns>`; \
               `.unique()`, `.name(..)`, `.where_(..)` and `.concurrently()` modify it.",
        entries: &[
            entry(
                "add_index",
                "Add an index",
                "On PostgreSQL, building an index on a table with rows blocks writes to it \
                 until it is done: see [concurrently](#build-an-index-without-blocking-writes).",
            ),
            entry("add_index_unique", "Add a unique index", "`.unique()`."),
            entry(
                "add_index_multi_column",
                "Add an index over several columns",
                "The columns in the order given; `.name(..)` names the index.",
            ),
            entry(
                "add_index_partial",
                "Add a partial index",
                "`.where_(..)` indexes only the rows matching a condition, on PostgreSQL and \
                 SQLite. MySQL/MariaDB have no partial indexes: the migration is an error there, \
                 before anything runs.",
            ),
            entry(
                "add_index_on_text",
                "An index on a text column",
                "MySQL/MariaDB cannot index a `text` (or `json`, `binary`) column without a \
                 prefix length: index a `string(len)` column instead.",
            ),
            entry(
                "add_index_concurrently",
                "Build an index without blocking writes",
                "`.concurrently()` is `CREATE INDEX CONCURRENTLY` on PostgreSQL, which lets \
                 writes through while the index is built. It cannot run in a transaction, so \
                 the whole migration runs outside one: keep such an index in a migration of \
                 its own. Elsewhere it is a plain `CREATE INDEX` (MySQL/MariaDB build indexes \
                 in place; see [mysql_online](#mysql-online-ddl)).",
            ),
            with_down(
                "drop_index",
                "Drop an index",
                "By name. Rolling back recreates it from the model.",
            ),
            entry("rename_index", "Rename an index", "By name."),
        ],
    },
    Section {
        title: "Constraints",
        text: "Foreign keys, checks and unique constraints added to and dropped from existing \
               tables. SQLite cannot alter a table's constraints: godwit rebuilds the table \
               instead (create the new table, copy the rows, drop the old one, rename), inside \
               the migration's transaction, with foreign key checks off around it.",
        entries: &[
            entry(
                "add_foreign_key",
                "Add a foreign key",
                "`s.add_foreign_key(table, [columns], ref_table)` references `ref_table(id)`; \
                 `.on_delete(..)`, `.on_update(..)` and `.name(..)` modify it.",
            ),
            entry(
                "add_foreign_key_to_other_column",
                "A foreign key to a column other than id",
                "`.ref_columns([..])` names the referenced columns, which must be the \
                 referenced table's primary key or have a unique constraint.",
            ),
            with_down(
                "drop_foreign_key",
                "Drop a foreign key",
                "By name (`fk_<table>_<column>` unless it was named). Its index stays.",
            ),
            with_down(
                "drop_foreign_key_without_index",
                "Drop a foreign key that had no index",
                "MySQL/MariaDB create an index for a foreign key that has none; godwit drops it \
                 with the key, so that rolling back leaves the schema as it was.",
            ),
            with_down(
                "drop_index_beside_foreign_key_without_index",
                "Drop an index beside a foreign key that has none",
                "MySQL/MariaDB enforce such a key through the index they made for it, so any \
                 other index of the table can go. godwit refuses only to drop the last index a \
                 key of the model is enforced through.",
            ),
            entry(
                "add_check",
                "Add a check constraint",
                "`s.add_check(table, name, expr)`; the rows already there must pass it.",
            ),
            with_down("drop_check", "Drop a check constraint", "By name."),
            entry(
                "add_unique",
                "Add a unique constraint",
                "`s.add_unique(table, [columns])`, named `uq_<table>_<columns>` unless \
                 `.name(..)` says otherwise.",
            ),
            with_down("drop_unique", "Drop a unique constraint", "By name."),
            with_down(
                "add_unique_using_index",
                "Make a unique index the unique constraint",
                "`s.add_unique_using_index(table, index)`: a unique index built `concurrently()` in \
                 an earlier migration becomes the constraint, of the same name. PostgreSQL takes \
                 a brief lock and does not scan the table; on MySQL/MariaDB and SQLite the unique \
                 index is the constraint already, and nothing runs. This is the safe way to add a \
                 unique constraint to a table with rows ([unique-constraint](safety-rules.md#unique-constraint)).",
            ),
            entry(
                "add_constraints_not_valid_then_validate",
                "Add constraints without a long lock",
                "On PostgreSQL, adding a foreign key or a check to a table with rows checks every \
                 row while holding a lock. `.not_valid()` adds it for new rows only, under a \
                 brief lock; `s.validate_constraint(table, name)` then checks the existing \
                 rows without blocking writes. Do them in two migrations, as the \
                 [safety rules](safety-rules.md#foreign-key-not-valid) show (here they are in \
                 one, to show the SQL). MySQL/MariaDB and SQLite have no such state: they check \
                 the rows when the constraint is added, and `validate_constraint` renders \
                 nothing.",
            ),
        ],
    },
    Section {
        title: "Generated columns",
        text: "A generated (computed) column takes its value from the other columns of its \
               row, through an expression written once for every backend: `.generated(expr)` \
               stores it in the row, computed whenever the row is written; \
               `.generated_virtual(expr)` computes it when it is read (MySQL/MariaDB and SQLite; \
               PostgreSQL before 18 has only stored ones). Nothing writes a generated column: \
               an `insert`, `update`, `backfill` or `copy_rows` that names one is refused, and \
               `copy` leaves them to the target.",
        entries: &[
            with_down(
                "create_table_generated_columns",
                "A table with a generated column",
                "MariaDB takes no `NOT NULL` on a generated column, so godwit writes none \
                 there; the other backends keep it.",
            ),
            with_down(
                "add_generated_column",
                "Add a generated column",
                "It can be added to a table that holds rows: each row gets its value. \
                 PostgreSQL and MySQL/MariaDB compute it for every row (a rewrite of the table); \
                 SQLite cannot add a stored generated column, and rebuilds the table.",
            ),
            with_down(
                "add_virtual_generated_column",
                "Add a virtual generated column",
                "Nothing is stored, so adding it does not touch the rows. PostgreSQL refuses it \
                 before anything runs.",
            ),
        ],
    },
    Section {
        title: "Enumerated types and comments",
        text: "An enumerated type is made once with `s.create_enum(name, values)` and used by \
               columns made with `t.enumeration(column, name)` (or `Column::enumeration`). \
               PostgreSQL has the type itself; on MySQL/MariaDB each column is an `ENUM(..)` of \
               the values, and on SQLite each column is text with a `CHECK` on them. The model \
               knows the values, so every backend follows when they change. Comments on tables \
               and columns are kept by PostgreSQL and MySQL/MariaDB; SQLite keeps none, and \
               renders nothing for them.",
        entries: &[
            with_down(
                "create_enum_column",
                "Create an enumerated type and a column of it",
                "A value is any text without a backslash (MySQL/MariaDB would read one \
                 differently under each `sql_mode`). Rolling back drops the column, then the \
                 type.",
            ),
            entry(
                "create_table_enum_and_comments",
                "A table with an enum column and comments",
                "`t.comment(..)` comments the table and `.comment(..)` a column. PostgreSQL \
                 writes them as `COMMENT ON` statements after the `CREATE TABLE`; \
                 MySQL/MariaDB writes them in it.",
            ),
            with_down(
                "add_enum_value",
                "Add a value to an enum",
                "The value comes last. PostgreSQL adds it to the type in the migration's \
                 transaction, and rows may hold it only once that has committed: a migration \
                 that also writes the value (an insert, an update, a backfill, a default) is \
                 refused there before anything runs, and the value is used from the next \
                 migration on. MySQL/MariaDB modifies each column of the type, and SQLite \
                 rebuilds each table that has one. Rolling back removes it, as below.",
            ),
            with_down(
                "remove_enum_value",
                "Remove a value from an enum",
                "A row that still holds the value makes the migration fail, and nothing \
                 changes: the conversion refuses it on every backend. PostgreSQL cannot remove \
                 a value from a type, so the type is made again and each column of it converted \
                 (a rewrite of those tables, under an `ACCESS EXCLUSIVE` lock: `plan` says so). \
                 A column whose default is the value must get another default first. Rolling \
                 back adds the value again when it was the last one; otherwise the order of the \
                 values would change, and `down` must be written by hand.",
            ),
            with_down(
                "drop_enum",
                "Drop an enum",
                "Only an enum no column uses can be dropped; rolling back makes it again with \
                 its values.",
            ),
            with_down(
                "change_column_to_enum",
                "Change a column to an enum",
                "`ColumnType::enumeration(name)` is the type; every value the column holds must \
                 be one of the enum's, or the change fails and nothing changes.",
            ),
            with_down(
                "comment_on_table_and_column",
                "Comment a table and a column",
                "On MySQL/MariaDB a column's comment is part of its definition: the column is \
                 modified, with everything else about it as it was.",
            ),
            with_down(
                "drop_comments",
                "Remove comments",
                "Rolling back sets the comments they had again.",
            ),
        ],
    },
    Section {
        title: "Views, functions, triggers and extensions",
        text: "Views, functions and triggers are made from their SQL, which the model keeps: \
               dropping one rolls back by making it again, and `schema --live` finds one \
               dropped or changed by hand. A view's query names the tables it reads, and a \
               change that would break the view is refused before anything runs, with the way \
               that works: drop the view, make the change, and create the view again, in the \
               same migration. Dropping a column the view reads is refused on every backend; \
               renaming it too (PostgreSQL would keep the old name as the view's column, SQLite \
               would take the new one); changing its type on PostgreSQL, and renaming the table \
               on MySQL/MariaDB, which would leave the view failing.",
        entries: &[
            with_down(
                "create_view",
                "Create a view",
                "The query is written once for every backend; the model finds the tables it \
                 reads by their names in it.",
            ),
            with_down(
                "create_view_per_backend",
                "A view whose query differs per backend",
                "`s.create_view_per_backend(name, PerBackend { .. })` takes one query per \
                 backend.",
            ),
            with_down(
                "replace_view",
                "Give a view a new query",
                "Rolling back restores the query before. PostgreSQL's `CREATE OR REPLACE VIEW` \
                 cannot drop, rename or retype a column, so there the view is made again in the \
                 migration's transaction (readers wait for the commit); when another view reads \
                 it, `CREATE OR REPLACE` is kept and PostgreSQL's rule applies. SQLite has no \
                 `CREATE OR REPLACE`.",
            ),
            with_down(
                "drop_view",
                "Drop a view",
                "Rolling back makes it again from the query the model kept.",
            ),
            with_down(
                "rename_table_under_view",
                "Rename a table a view reads",
                "PostgreSQL and SQLite carry the view along, and the model's copy of its query \
                 follows; MySQL/MariaDB would leave the view naming a table that is gone, so \
                 there it is refused before anything runs.",
            ),
            with_down(
                "change_column_type_under_view",
                "Change a column a view reads",
                "On PostgreSQL, changing the type of a column a view reads is refused before \
                 anything runs, and the error shows this way: drop the view, change the column, \
                 and create the view again, in one migration. The derived `down` does the same \
                 backwards.",
            ),
            with_down(
                "create_materialized_view",
                "Create a materialized view",
                "PostgreSQL only: elsewhere the migration is an error before anything runs.",
            ),
            with_down(
                "drop_materialized_view",
                "Drop a materialized view",
                "Rolling back makes it again, and fills it.",
            ),
            with_down(
                "refresh_materialized_view",
                "Refresh a materialized view",
                "It runs the view's query again; its readers wait until it is done (`plan` shows \
                 the lock). Rolling back has nothing to undo.",
            ),
            with_down(
                "create_function_and_trigger",
                "Create a function and a trigger",
                "Functions and triggers are written whole, per backend, since their syntax \
                 differs. A backend left `None` makes the migration an error there; an empty \
                 text (`Some(\"\")`) leaves the object out on that backend on purpose. Here the \
                 `updated_at` trigger: PostgreSQL's calls a function, while MySQL/MariaDB and \
                 SQLite set the column in the trigger itself (SQLite has no functions). Dropping \
                 the table drops its triggers, and rolling that back makes them again.",
            ),
            with_down(
                "drop_trigger",
                "Drop a trigger",
                "Rolling back makes it again from the statement the model kept.",
            ),
            with_down(
                "drop_trigger_and_function",
                "Drop a function",
                "A function a trigger calls cannot be dropped before the trigger.",
            ),
            with_down(
                "create_extension",
                "Enable an extension",
                "PostgreSQL only: `CREATE EXTENSION IF NOT EXISTS`, and rolling back drops it \
                 `IF EXISTS` (refused by PostgreSQL while something uses it). A project that \
                 also runs on other backends writes it as raw SQL that is empty there.",
            ),
            with_down(
                "drop_extension",
                "Drop an extension",
                "Rolling back enables it again.",
            ),
        ],
    },
    Section {
        title: "PostgreSQL schemas",
        text: "On PostgreSQL a table, view, enumerated type or function may live in a schema \
               other than the connection's: name it `schema.name` (`\"billing.invoices\"`), as \
               Rails does. Its indexes and constraints live in its schema, and their default \
               names come from the table's own name (`idx_invoices_state`). `s.create_schema` \
               makes a schema, and `s.drop_schema` drops one that holds nothing of the model \
               any more; a table may also live in a schema made outside the migrations. \
               `schema --live`, `verify` and `fresh` read the schemas the migrations name \
               besides the connection's. A name without a schema is in the connection's schema \
               (the first of its `search_path`), and `up` refuses a name that gives that \
               schema (`public.invoices`), which would part from `invoices`. MySQL/MariaDB and SQLite have no \
               schemas inside a database: there every name with a schema is an error before \
               anything runs. The history table's schema is set apart: `--history-table \
               ops.godwit_migrations`.",
        entries: &[
            with_down(
                "create_tables_in_schema",
                "Create a schema, and tables, a type and a view in it",
                "Rolling back drops them, and the schema last.",
            ),
            with_down(
                "change_tables_in_schema",
                "Change tables in a schema",
                "Every operation takes the table's name with its schema; an index is dropped or \
                 renamed by its name in the table's schema. A table of the connection's schema \
                 may reference one in another.",
            ),
            with_down(
                "rename_and_move_tables_in_schema",
                "Rename a table in its schema, or move it to another",
                "A new name in the same schema is `RENAME TO`; another schema is `SET SCHEMA` \
                 first, and its rows, indexes, keys and sequence go with it. Moving a table back \
                 to the connection's schema asks the server which one that is. Renaming or \
                 moving a table a view reads is refused, with the way that works: drop the \
                 view, rename the table, create the view again.",
            ),
            with_down(
                "drop_tables_in_schema",
                "Drop a schema",
                "`drop_schema` is refused while the model still has something in it. Rolling \
                 back makes the schema, its type, tables and view again, empty.",
            ),
        ],
    },
    Section {
        title: "Raw SQL",
        text: "For what the DSL does not cover (procedures, policies, grants), \
               `s.sql(..)` runs SQL as written. godwit cannot know what it does: rolling back \
               needs its `down` written out, and the schema model sees only the objects the \
               migration declares it makes or removes.",
        entries: &[
            with_down(
                "raw_sql",
                "Run SQL, with its down",
                "`.down(..)` is the SQL that undoes it.",
            ),
            with_down(
                "raw_sql_per_backend",
                "Run different SQL on each backend",
                "`s.sql_per_backend(PerBackend { .. })` takes one text per backend, and \
                 `.down_per_backend(..)` its inverse. A backend left `None` makes the migration \
                 an error there, before anything runs; an empty text (`Some(\"\")`) runs \
                 nothing there, on purpose.",
            ),
            entry(
                "raw_sql_without_down",
                "Raw SQL without a down",
                "The migration can still be applied; it cannot be rolled back.",
            ),
            with_down(
                "raw_sql_outside_transaction",
                "Run SQL outside a transaction",
                "`.outside_transaction()` runs it, and its down, outside a transaction, as \
                 PostgreSQL requires of `REINDEX CONCURRENTLY`, `CREATE INDEX CONCURRENTLY` (on \
                 an expression, which `add_index` does not take) and `DROP INDEX CONCURRENTLY`, \
                 and SQLite of `VACUUM`. The migration then runs statement by statement, with \
                 history recording which statement it is at, as one with a `concurrently()` \
                 index does.",
            ),
            with_down(
                "raw_sql_declares_objects",
                "Declare what raw SQL creates",
                "`.creates_index(name, table)`, `.creates_view(name, tables it reads)`, \
                 `.creates_trigger(name, table)` and `.creates_function(name)` tell the schema \
                 model what the statement makes. `schema --live` then expects it (and reports it \
                 missing when someone drops it by hand), `schema` lists it, a SQLite rebuild of \
                 the table keeps it, lint warns before a migration drops or changes a column of \
                 a table a declared view reads, and, without a `.down(..)`, the derived `down` \
                 drops what was declared, newest first. An object made by raw SQL and not \
                 declared is reported by `schema --live` as in the database but not in the \
                 migrations.",
            ),
            with_down(
                "raw_sql_declares_function",
                "Declare a function",
                "SQLite has no stored functions: a function's SQL is given for PostgreSQL and \
                 MySQL/MariaDB only, and the migration is an error on SQLite before anything \
                 runs. Without a `down`, the derived one drops it (`DROP ROUTINE` on PostgreSQL, \
                 which drops a function or a procedure).",
            ),
            with_down(
                "raw_sql_drops_declared",
                "Declare what raw SQL drops",
                "`.drops_index(name)`, `.drops_view(name)`, `.drops_trigger(name)` and \
                 `.drops_function(name)` remove an object an earlier migration declared from the \
                 model; dropping one \
                 no migration declared is an error that says where to declare it. Their `.down(..)` \
                 makes them again, and the model knows them again after the rollback.",
            ),
        ],
    },
    Section {
        title: "Data",
        text: "Rows are changed with values bound as parameters, never spliced into the SQL. \
               `insert`, `update` and `delete` run as statements of the migration, in its \
               transaction. For a table of any size, `backfill` and `copy_rows` work in \
               batches, each a short transaction of its own. `run` runs Rust code. See \
               [moving-data.md](moving-data.md) for data migrations end to end.",
        entries: &[
            with_down(
                "insert_rows",
                "Insert rows",
                "`s.insert(table, [columns])` then `.values([..])` once per row. An insert has no \
                 derived inverse (godwit cannot tell the rows it added from others): here \
                 `down` is written by hand, deleting them.",
            ),
            entry(
                "insert_every_type",
                "Values of every type",
                "`.values(..)` takes anything that converts into a sea-query `Value`: numbers, \
                 strings, booleans, `time` dates and times, UUIDs, `serde_json` values and bytes. \
                 The SQL shows the values as they are bound. \
                 `time`, `uuid` and `serde_json` are the crates sea-query takes these types \
                 from (this scenario imports them with \
                 `use sea_query::value::prelude::{serde_json, time, uuid};`).",
            ),
            with_down(
                "hostile_literals",
                "Text that looks like SQL",
                "A default, a check or a value that holds quotes, backslashes or what looks like \
                 the end of a statement is stored as written, whatever the server's settings say \
                 about backslashes (MariaDB's `NO_BACKSLASH_ESCAPES`, PostgreSQL's \
                 `standard_conforming_strings = off`) or double quotes (`ANSI_QUOTES`). On \
                 MySQL/MariaDB a quote is doubled and a backslash is `CHAR(92 USING utf8mb4)` \
                 (`_utf8mb4 0x..` right after `DEFAULT`); on PostgreSQL a literal with a \
                 backslash is an escape string (`E'..'`). Values `up` inserts are bound, never \
                 written into the SQL.",
            ),
            entry(
                "update_rows",
                "Update rows",
                "`s.update(table)`, `.set(column, value or expression)` and `.filter(..)`, all in \
                 one statement. Use it for small tables; a large one is held locked until every \
                 row is done: use `backfill`.",
            ),
            entry(
                "delete_rows",
                "Delete rows",
                "`s.delete(table).filter(..)`. Without a filter it deletes every row.",
            ),
            with_down(
                "backfill_rows",
                "Fill a new column in batches",
                "`s.backfill(table)` is an `UPDATE` run in batches walked by primary key: each \
                 batch is a transaction of its own, outside the migration's, so no lock is held \
                 for longer than a batch. An interrupted backfill resumes after the last batch \
                 done, and no row is updated twice. `.set(..)` and `.filter(..)` work as in \
                 `update`; `.batch_size(..)` sets the rows per batch (10 000 by default) and \
                 `.pause(..)` a pause after each. The SQL shows one batch, its key range as \
                 placeholders. Rolling back drops the column, which undoes the backfill too.",
            ),
            entry(
                "backfill_existing_column",
                "Backfill a column that was already there",
                "The old values are gone once overwritten: `down` cannot be derived. Write it \
                 by hand, or mark the migration irreversible.",
            ),
            with_down(
                "copy_rows_mapped",
                "Copy rows into another table",
                "`s.copy_rows(from, to)` is `INSERT INTO to .. SELECT .. FROM from`, batched and \
                 resumable like a backfill. `.map(to_column, from_column)` copies a column \
                 into one of another name, `.set(column, expr)` fills one with an expression of \
                 the source row, and `.filter(..)` picks the rows. On PostgreSQL, the target's \
                 identity sequence is moved past the copied keys with the last batch. Rolling \
                 back drops the table the migration created, rows and all.",
            ),
            entry(
                "copy_rows_shared_columns",
                "Copy the columns two tables share",
                "Without `.map(..)`, `.columns(..)` or `.set(..)`, `copy_rows` copies every \
                 column of the target that the source has too, by name. `.columns([..])` copies \
                 the named ones only.",
            ),
            entry(
                "run_rust_code",
                "Run Rust code",
                "`s.run(name, |db| Box::pin(async move { .. }))` runs Rust code with the \
                 migration's connection, in its transaction (on MySQL/MariaDB, which commit \
                 DDL as it runs, in a transaction of its own). `db.execute(..)` runs a sea-query \
                 statement and `db.fetch_all(..)` reads rows. What the code will do cannot be \
                 known before it runs: `sql`, `plan` and `up --dry-run` show its name. It has \
                 no derived inverse.",
            ),
            with_down(
                "run_rust_code_with_down",
                "Rust code with a down",
                "A hand-written `down` may run Rust code too. It replaces the derived `down` \
                 entirely, so it undoes the schema changes as well.",
            ),
        ],
    },
    Section {
        title: "Rolling back",
        text: "A migration that cannot be rolled back says why, and `down` fails on it before \
               anything runs.",
        entries: &[entry(
            "irreversible",
            "Mark a migration irreversible",
            "`s.irreversible(\"why\")` states that rolling back is not possible, even where \
             godwit could derive a `down` (here it would re-add the column, empty). Roll back \
             no further than the migration after it.",
        )],
    },
    Section {
        title: "Deploying safely",
        text: "Settings of a migration that change how it runs, not what it changes.",
        entries: &[
            entry(
                "allow_rule",
                "Allow an operation a safety rule flags",
                "`lint` and `up` check every migration against zero-downtime rules \
                 ([safety-rules.md](safety-rules.md)). `s.allow(Rule::X, \"why\")`, right after \
                 an operation, allows that operation past that rule, with the reason written \
                 down for reviewers; the reason cannot be empty. The SQL does not change.",
            ),
            entry(
                "mysql_online_ddl",
                "MySQL online DDL",
                "`s.mysql_online(algorithm, lock)` adds `ALGORITHM` and `LOCK` to every \
                 `ALTER TABLE` and index change of the migration on MySQL/MariaDB, so that \
                 MySQL refuses the change, rather than copying the table or blocking writes, \
                 when it cannot do it that way. `Algorithm::Instant` changes metadata only, \
                 `Inplace` rebuilds in place, `Copy` copies; `Lock::None` blocks nothing, \
                 `Shared` blocks writes, `Exclusive` blocks reads and writes. Other backends \
                 ignore it.",
            ),
            entry(
                "migration_timeouts",
                "Timeouts and lock retries",
                "Before a migration runs, the runner sets the session's lock timeout (how long \
                 a statement may wait for a lock; 5 s by default) and statement timeout (how \
                 long it may run; 1 hour by default). `s.lock_timeout(..)` and \
                 `s.statement_timeout(..)` set this migration's own; `Duration::ZERO` means no \
                 limit. A migration that timed out waiting for a lock, and of which nothing \
                 stayed applied, is tried again after a growing pause, 3 times by default: \
                 `s.lock_retries(..)`. The statements do not change: `up --dry-run` and `plan` \
                 show the settings. They are PostgreSQL's `lock_timeout` and \
                 `statement_timeout`, MySQL/MariaDB's `lock_wait_timeout` and \
                 `innodb_lock_wait_timeout` and MariaDB's `max_statement_time` (MySQL's \
                 `max_execution_time` applies to `SELECT` only), and SQLite's busy timeout and \
                 an interrupt.",
            ),
        ],
    },
    Section {
        title: "SQLite table rebuilds",
        text: "SQLite's `ALTER TABLE` adds, drops and renames columns, and little else. For \
               every other change (a type, a default, `NOT NULL`, a constraint), godwit \
               rebuilds the table: it creates the new table under a temporary name, copies the \
               rows, drops the old table, renames the new one, and recreates its indexes, in \
               the migration's transaction with foreign key checks off. What the table has \
               that the migrations do not model (indexes and triggers made by raw SQL) is read \
               from `sqlite_master` before the old table goes and made again after, its \
               `AUTOINCREMENT` counter is kept, and each view over it is queried: one that no \
               longer fits (it names a dropped column) rolls the migration back with an error \
               that names it.",
        entries: &[
            entry(
                "rebuild_referenced_table",
                "Rebuild a table other tables reference",
                "The rows of `comments`, which references `posts` with `ON DELETE CASCADE`, \
                 survive the rebuild of `posts`: foreign key checks are off while it runs, and \
                 checked when it is done.",
            ),
            entry(
                "rebuild_once_for_several_changes",
                "Several changes to one table",
                "Operations on one table, one after another in a migration, that SQLite makes \
                 by rebuilding it share one rebuild: the table is built once as it is after the \
                 last of them (and the derived `down` rebuilds it once too). A migration applied \
                 by a godwit that rebuilt the table once per operation keeps its checksum: it \
                 stays `applied`.",
            ),
            entry(
                "rebuild_table_under_view",
                "Rebuild a table a view reads",
                "A view on the table (`post_titles`, created by raw SQL before) keeps working \
                 after the rebuild.",
            ),
        ],
    },
];

/// The anchor GitHub gives a heading.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn scenario(name: &str) -> Scenario {
    match scenarios::ALL.iter().find(|(n, _)| *n == name) {
        Some((_, make)) => make(),
        None => panic!("the guide names scenario `{name}`, which scenarios.rs does not have"),
    }
}

fn intro(out: &mut String) {
    let blog = closure_body(const_step(SCENARIOS, "BLOG"));
    let rows = closure_body(const_step(SCENARIOS, "BLOG_ROWS"));
    let ui_line = NOT_NULL_UI.lines().take_while(|l| !l.starts_with("help:"));
    let ui: Vec<&str> = ui_line.collect();
    let contents: String = SECTIONS
        .iter()
        .map(|s| {
            let entries: Vec<String> = s
                .entries
                .iter()
                .map(|e| format!("[{}](#{})", e.title, anchor(e.title)))
                .collect();
            format!(
                "- [{}](#{}): {}\n",
                s.title,
                anchor(s.title),
                entries.join(", ")
            )
        })
        .collect();
    write!(
        out,
        r#"# Writing migrations

<!-- Generated from tests/it/scenarios.rs by tests/it/guide/writing_migrations.rs: do not edit.
     Regenerate with `UPDATE_EXPECT=1 cargo nextest run -p tests --test it guide`. -->

A migration is a Rust type whose `up` records changes into a `Schema`, through the methods this
page goes through one by one: what each does, the code, and the SQL it renders on PostgreSQL,
MySQL/MariaDB and SQLite. Recording touches no database: godwit folds the recorded operations
into a model of the schema, checks each against it, derives the rollback, and renders SQL from it.

## A migration file

Each migration is a file of its own in the migrations crate's `src/migrations/`, named
`m<YYYYMMDD>_<HHMMSS>_<name>.rs`: the version and the name come from the file name, and
`cargo xtask migrate new "add tags"` writes one. It holds a type (usually a unit struct), its
`impl Migration` with `up` and, when needed, `down`, and `godwit::register!`, which is how the
migrations binary finds it: no list of migrations to keep in order by hand. This is
[`{EXAMPLE_PATH}`](../{EXAMPLE_PATH}):

```rust
{EXAMPLE_FILE}```

The other files of [`migrations-example/src/migrations`](../migrations-example/src/migrations)
show more: a column added and backfilled, Rust code with a hand-written `down`.

### `down`, derived or written

Without a `down`, godwit derives one: it takes the inverse of each operation of `up`, from the
schema as it was before that operation, and runs them in reverse order. A dropped column comes
back with its type, default and indexes; a dropped table comes back as it was declared, empty.
Some operations have no inverse: raw SQL without a `.down(..)`, inserted, updated and deleted
rows, a backfill of a column that was already there, Rust code. A migration with one of them
cannot be rolled back unless its `down` is written by hand, and rolling it back is an error that
says so before anything runs. A hand-written `down` replaces the derived one entirely;
`s.irreversible("why")` says that there is none.

Each example below says which it is, and shows the SQL of `down` where it is worth reading.

### The examples

Each example is a scenario of the integration tests
([`tests/it/scenarios.rs`](../tests/it/scenarios.rs)): the code shown is the `up` (and `down`)
the tests compile, the SQL is what godwit renders for it (`cargo xtask migrate sql` prints the
same), and the tests run it on PostgreSQL, MariaDB and SQLite, roll it back, and compare the
schema with the model each time. Backends that render the same SQL share one block; lines
starting with `--` say how a migration runs (`-- runs outside a transaction`, `-- foreign keys
off`), what a reviewer should know (`-- warning: ..`), and the values bound to a statement's
parameters (`-- values: ..`).

Unless an example says otherwise, it runs on a schema of users and posts, with two of each:

```rust
// The first migration: the tables.
{blog_up}
// The second: two users, with a post each.
{rows_up}```

A `NOT NULL` column without a default cannot be added to a table that has rows, and godwit
refuses it when the migration is compiled:

```text
{ui}
```

Contents:

{contents}"#,
        blog_up = method("up", &blog),
        rows_up = method("up", &rows),
        ui = ui.join("\n").trim_end(),
    )
    .unwrap();
}

fn render_entry(out: &mut String, e: &Entry) {
    let sc = scenario(e.scenario);
    let (up, down) = scenario_step(SCENARIOS, e.scenario);
    assert_eq!(
        down.is_some(),
        sc.step.down.is_some(),
        "scenario `{}`: the source text and the scenario disagree on its `down`",
        e.scenario
    );
    let (catalog, versions) = catalog(sc.setup, &[sc.step], e.scenario);
    writeln!(out, "### {}\n\n{}\n", e.title, wrap(e.text)).unwrap();

    let mut code = method("up", &closure_body(up));
    if let Some(down) = down {
        code.push('\n');
        code.push_str(&method("down", &closure_body(down)));
    }
    writeln!(out, "```rust\n{code}```\n").unwrap();

    let up_texts: Vec<(Backend, Result<String, String>)> = Backend::ALL
        .iter()
        .map(|&b| (b, rendered_text(catalog.render_up(b, Some(&versions)))))
        .collect();
    out.push_str(&sql_blocks(&up_texts));

    // `down` where `up` renders.
    let down_texts: Vec<(Backend, Result<String, String>)> = up_texts
        .iter()
        .filter(|(_, up)| up.is_ok())
        .map(|&(b, _)| (b, rendered_text(catalog.render_down(b, Some(&versions)))))
        .collect();
    let reversible = down_texts.iter().all(|(_, t)| t.is_ok());
    assert_eq!(
        reversible, sc.reversible,
        "scenario `{}`: rolling back renders {down_texts:?}",
        e.scenario
    );
    if sc.step.down.is_some() {
        out.push_str("`down` is written by hand:\n\n");
        out.push_str(&sql_blocks(&down_texts));
    } else if !reversible {
        out.push_str(
            "`down` cannot be derived: rolling back fails before anything runs, with this error:\n\n",
        );
        out.push_str(&sql_blocks(&down_texts));
    } else if e.show_down {
        out.push_str("`down` is derived:\n\n");
        out.push_str(&sql_blocks(&down_texts));
    } else {
        out.push_str("`down` is derived.\n\n");
    }
}

/// The whole page.
fn render() -> String {
    let mut out = String::new();
    intro(&mut out);
    for section in SECTIONS {
        let end = out.trim_end().len();
        out.truncate(end);
        writeln!(out, "\n\n## {}\n\n{}\n", section.title, wrap(section.text)).unwrap();
        for e in section.entries {
            render_entry(&mut out, e);
        }
    }
    // One trailing newline.
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[test]
fn writing_migrations_is_current() {
    check_file("docs/writing-migrations.md", &render());
}

#[test]
fn every_scenario_is_in_the_guide() {
    let shown: Vec<&str> = SECTIONS
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.scenario))
        .collect();
    let missing: Vec<&str> = scenarios::ALL
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !shown.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios missing from docs/writing-migrations.md (add them to SECTIONS in guide/writing_migrations.rs): {missing:?}"
    );
    let mut titles: Vec<String> = SECTIONS
        .iter()
        .flat_map(|s| std::iter::once(s.title).chain(s.entries.iter().map(|e| e.title)))
        .map(anchor)
        .collect();
    titles.sort();
    let before = titles.len();
    titles.dedup();
    assert_eq!(before, titles.len(), "two headings share an anchor");
}

/// Public functions of the DSL's source files that migrations do not call, by file.
const NOT_DSL: &[(&str, &str)] = &[
    ("schema.rs", "new"),
    ("schema.rs", "into_plan"),
    // `run`, from the prelude, is how a migration records Rust code.
    ("schema.rs", "run_code"),
    // What the default `down` calls.
    ("schema.rs", "reverse_up"),
    ("schema.rs", "transactional"),
    ("column.rs", "def"),
    ("column.rs", "into_def"),
    ("op.rs", "column"),
    ("op.rs", "describe"),
    ("op.rs", "is_data"),
    ("op.rs", "name"),
    ("op.rs", "method"),
    ("op.rs", "for_backend"),
    ("op.rs", "left_out_on"),
    ("op.rs", "is_batched"),
    // How godwit reads a name with a PostgreSQL schema.
    ("types.rs", "split_schema"),
    ("types.rs", "bare_name"),
    ("types.rs", "in_schema_of"),
    ("data.rs", "next_bound"),
    ("data.rs", "count"),
    ("data.rs", "batch"),
    ("data.rs", "preview"),
    ("data.rs", "code_preview"),
    ("types.rs", "as_str"),
    ("types.rs", "max_identifier_len"),
    ("types.rs", "from_url"),
    ("types.rs", "describe"),
    ("types.rs", "raw"),
    ("types.rs", "expr"),
    ("types.rs", "sql"),
    ("types.rs", "mentions"),
    ("types.rs", "or"),
];

/// The `pub fn` names of `src`, and the column constructors of `simple_column_types!`.
fn public_fns(src: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in src.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("pub fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        } else if let Some((name, _)) = line.split_once(" => ColumnType::")
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            names.push(name.to_string());
        }
    }
    names
}

#[test]
fn every_dsl_method_is_shown() {
    let page = render();
    // The Rust the page shows.
    let code: String = page
        .split("```rust\n")
        .skip(1)
        .filter_map(|block| block.split_once("```").map(|(code, _)| code))
        .collect();
    let mut missing = Vec::new();
    for (file, src) in DSL_SOURCES {
        for name in public_fns(src) {
            if NOT_DSL.contains(&(file, name.as_str())) {
                continue;
            }
            let called = code.match_indices(&format!("{name}(")).any(|(i, _)| {
                !code[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            let macro_call = code.contains(&format!("{name}!("));
            if !called && !macro_call {
                missing.push(format!("{file}: {name}"));
            }
        }
    }
    for prelude in ["run("] {
        if !code.contains(prelude) {
            missing.push(prelude.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "DSL methods the guide never shows (add a scenario that uses them, or list them in NOT_DSL): {missing:?}"
    );
}

#[test]
fn examples_are_cut_from_their_scenarios() {
    // The BLOG setup, as shown, is the BLOG the scenarios run.
    let blog = closure_body(const_step(SCENARIOS, "BLOG"));
    assert!(blog.starts_with("s.create_table(\"users\""), "{blog}");
    assert_eq!(dedent("  a\n    b\n"), "a\n  b");
}
