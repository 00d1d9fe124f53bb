//! Random DSL programs, file names and manifests: nothing panics on user input.
//!
//! Each case is a few migrations of random operations (tables, columns of every type, indexes,
//! keys, checks, defaults, renames, drops, inserts, raw SQL that declares objects) over hostile
//! names and values (quotes, backslashes, NUL, emoji, SQL keywords, 300-character names, empty
//! strings, the limits of each number type). Every case is recorded, folded, rendered up and down
//! for the three backends, linted, snapshotted and planned; any of these may refuse with an error,
//! none may panic, and a migration's code may not panic inside the DSL. Random file names go
//! through `resolve`, random text through the manifest parser.
//!
//! CI runs a short run (`GODWIT_FUZZ_CASES`, 3,000 by default); `cargo xtask fuzz` runs a long one
//! (`--cases`, `--seed`). A failure prints its seed and case, which reproduce it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use godwit_core::prelude::*;
use godwit_core::{Backend, Catalog, Migration, MigrationId, Registration, manifest, resolve};
use sea_query::value::prelude::{BigDecimal, serde_json};

/// xorshift64*: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &[
    "users",
    "posts",
    "t",
    "id",
    "select",
    "order",
    "Name",
    "naïve_ünïcode",
    "emoji_🦆",
    "a b",
    "it's",
    "back\\slash",
    "dq\"uote",
    "back`tick",
    "semi;colon",
    "",
    " ",
    "x",
    "_godwit_new_posts",
    "godwit_migrations",
    "sqlite_master",
];

const TEXTS: &[&str] = &[
    "",
    "plain",
    "it's",
    "'); DROP TABLE users; -- ",
    "C:\\temp\\new",
    "\\",
    "\"double\"",
    "`tick`",
    "line\nbreak\r\n",
    "nul\0byte",
    "ctrl\u{1a}z",
    "héllo wörld 🦆 ☃",
    "%_like\\%",
    "$$ dollar $$",
    "/* comment */",
    "-- comment",
];

fn name(rng: &mut Rng, known: &[String]) -> String {
    if !known.is_empty() && rng.chance(70) {
        return rng.pick(known).clone();
    }
    if rng.chance(60) {
        return format!(
            "{}{}",
            rng.pick(&["c", "col", "tag", "note", "total"]),
            rng.below(20)
        );
    }
    match rng.below(10) {
        0 => "n".repeat(1 + rng.below(300)),
        1 => format!("{}_{}", rng.pick(NAMES), rng.below(5)),
        _ => rng.pick(NAMES).to_string(),
    }
}

fn column_type(rng: &mut Rng) -> ColumnType {
    match rng.below(16) {
        0 => ColumnType::SmallInt,
        1 => ColumnType::Integer,
        2 => ColumnType::BigInt,
        3 if rng.chance(20) => ColumnType::String(*rng.pick(&[0, 16_383, 16_384, 10_485_761])),
        3 => ColumnType::String(*rng.pick(&[1, 50, 255])),
        4 => ColumnType::Text,
        5 => ColumnType::Boolean,
        6 => ColumnType::Float,
        7 => ColumnType::Double,
        8 if rng.chance(20) => ColumnType::Decimal(*rng.pick(&[0, 66, 1001]), *rng.pick(&[0, 70])),
        8 => ColumnType::Decimal(*rng.pick(&[1, 15, 30, 65]), *rng.pick(&[0, 1])),
        9 => ColumnType::Date,
        10 => ColumnType::Time,
        11 => ColumnType::Timestamp,
        12 => ColumnType::TimestampTz,
        13 => ColumnType::Uuid,
        14 => ColumnType::Json,
        _ => ColumnType::Binary,
    }
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::from(*rng.pick(&[i64::MIN, -1, 0, 1, i64::MAX])),
        1 => Value::from(*rng.pick(&[i32::MIN, i32::MAX])),
        2 => Value::from(*rng.pick(&[f64::NAN, f64::INFINITY, -0.0, 1e308, 5e-324])),
        3 => Value::from(rng.chance(50)),
        4 => Value::String(None),
        5 => Value::from(
            "12345678901234567890.1234567891"
                .parse::<BigDecimal>()
                .unwrap_or_default(),
        ),
        6 => Value::from(serde_json::json!({"k": rng.pick(TEXTS).to_string(), "n": [1, null]})),
        7 => Value::from(vec![0u8, 255, 39, 92]),
        _ => Value::from(rng.pick(TEXTS).to_string()),
    }
}

/// One DSL call, recorded so that a case can be printed and run again.
#[derive(Debug, Clone)]
enum Action {
    CreateTable {
        table: String,
        columns: Vec<(String, ColumnType, bool, Option<Value>)>,
        index: Option<Vec<String>>,
        check: Option<String>,
        reference: Option<String>,
    },
    AddColumn(String, String, ColumnType, Option<Value>),
    DropColumn(String, String),
    RenameColumn(String, String, String),
    ChangeType(String, String, ColumnType),
    SetDefault(String, String, Value),
    DropDefault(String, String),
    SetNotNull(String, String),
    DropNotNull(String, String),
    AddIndex(String, Vec<String>, bool, Option<String>),
    DropIndex(String, String),
    AddForeignKey(String, Vec<String>, String),
    AddCheck(String, String, String),
    AddUnique(String, Vec<String>),
    RenameTable(String, String),
    DropTable(String),
    Insert(String, Vec<String>, Vec<Vec<Value>>),
    Update(String, String, Value),
    Backfill(String, String, Value),
    Sql(String, Option<(u8, String, String)>),
}

fn action(rng: &mut Rng, tables: &mut Vec<String>, columns: &mut Vec<String>) -> Action {
    let table = name(rng, tables);
    let column = name(rng, columns);
    let a = match rng.below(20) {
        0..=2 => {
            let n = rng.below(5);
            let cols: Vec<_> = (0..n)
                .map(|_| {
                    let c = name(rng, columns);
                    let default = rng.chance(40).then(|| value(rng));
                    (c, column_type(rng), rng.chance(50), default)
                })
                .collect();
            Action::CreateTable {
                table: table.clone(),
                index: rng.chance(30).then(|| vec![name(rng, columns)]),
                check: rng.chance(20).then(|| rng.pick(TEXTS).to_string()),
                reference: rng.chance(20).then(|| name(rng, tables)),
                columns: cols,
            }
        }
        3 => Action::AddColumn(
            table.clone(),
            column.clone(),
            column_type(rng),
            rng.chance(60).then(|| value(rng)),
        ),
        4 => Action::DropColumn(table.clone(), column.clone()),
        5 => Action::RenameColumn(table.clone(), column.clone(), name(rng, &[])),
        6 => Action::ChangeType(table.clone(), column.clone(), column_type(rng)),
        7 => Action::SetDefault(table.clone(), column.clone(), value(rng)),
        8 => Action::DropDefault(table.clone(), column.clone()),
        9 => Action::SetNotNull(table.clone(), column.clone()),
        10 => Action::DropNotNull(table.clone(), column.clone()),
        11 => Action::AddIndex(
            table.clone(),
            vec![column.clone()],
            rng.chance(30),
            rng.chance(30).then(|| name(rng, &[])),
        ),
        12 => Action::DropIndex(table.clone(), name(rng, &[])),
        13 => Action::AddForeignKey(table.clone(), vec![column.clone()], name(rng, tables)),
        14 => Action::AddCheck(table.clone(), name(rng, &[]), rng.pick(TEXTS).to_string()),
        15 => Action::AddUnique(table.clone(), vec![column.clone()]),
        16 => {
            if rng.chance(50) {
                Action::RenameTable(table.clone(), name(rng, &[]))
            } else {
                Action::DropTable(table.clone())
            }
        }
        17 => {
            let rows = (0..1 + rng.below(3)).map(|_| vec![value(rng)]).collect();
            Action::Insert(table.clone(), vec![column.clone()], rows)
        }
        18 => {
            if rng.chance(50) {
                Action::Update(table.clone(), column.clone(), value(rng))
            } else {
                Action::Backfill(table.clone(), column.clone(), value(rng))
            }
        }
        _ => Action::Sql(
            rng.pick(TEXTS).to_string(),
            rng.chance(50)
                .then(|| (rng.below(4) as u8, name(rng, &[]), table.clone())),
        ),
    };
    if !tables.contains(&table) {
        tables.push(table);
    }
    if !columns.contains(&column) {
        columns.push(column);
    }
    a
}

fn apply(s: &mut Schema, a: &Action) {
    match a.clone() {
        Action::CreateTable {
            table,
            columns,
            index,
            check,
            reference,
        } => s.create_table(table, |t| {
            t.id();
            for (c, ty, nullable, default) in columns {
                let def = t.column(Column::of(c, ty));
                if nullable {
                    def.nullable();
                }
                if let Some(v) = default {
                    def.default(v);
                }
            }
            if let Some(cols) = index {
                t.index(cols);
            }
            if let Some(expr) = check {
                t.check("ck_fuzz", expr.as_str());
            }
            if let Some(r) = reference {
                t.references(r);
            }
        }),
        Action::AddColumn(t, c, ty, default) => match default {
            Some(v) => s.add_column(t, Column::of(c, ty).default(v)),
            None => s.add_column(t, Column::of(c, ty).nullable()),
        },
        Action::DropColumn(t, c) => s.drop_column(t, c),
        Action::RenameColumn(t, a, b) => s.rename_column(t, a, b),
        Action::ChangeType(t, c, ty) => s.change_column_type(t, c, ty),
        Action::SetDefault(t, c, v) => s.set_default(t, c, v),
        Action::DropDefault(t, c) => s.drop_default(t, c),
        Action::SetNotNull(t, c) => s.set_not_null(t, c),
        Action::DropNotNull(t, c) => s.drop_not_null(t, c),
        Action::AddIndex(t, cols, unique, name) => {
            let ix = s.add_index(t, cols);
            if unique {
                ix.unique();
            }
            if let Some(n) = name {
                ix.name(n);
            }
        }
        Action::DropIndex(t, n) => {
            s.drop_index(t, n);
        }
        Action::AddForeignKey(t, cols, r) => {
            s.add_foreign_key(t, cols, r);
        }
        Action::AddCheck(t, n, e) => {
            s.add_check(t, n, e.as_str());
        }
        Action::AddUnique(t, cols) => {
            s.add_unique(t, cols);
        }
        Action::RenameTable(a, b) => s.rename_table(a, b),
        Action::DropTable(t) => s.drop_table(t),
        Action::Insert(t, cols, rows) => {
            let insert = s.insert(t, cols);
            for row in rows {
                insert.values(row);
            }
        }
        Action::Update(t, c, v) => {
            s.update(t).set(c, v);
        }
        Action::Backfill(t, c, v) => {
            s.backfill(t).set(c, v);
        }
        Action::Sql(text, declared) => {
            let raw = s.sql(text);
            match declared {
                Some((0, n, t)) => {
                    raw.creates_index(n, t);
                }
                Some((1, n, t)) => {
                    raw.creates_view(n, [t]);
                }
                Some((2, n, t)) => {
                    raw.creates_trigger(n, t);
                }
                Some((_, n, _)) => {
                    raw.drops_view(n);
                }
                None => {}
            }
        }
    }
}

/// A migration made of recorded actions; `down` is derived.
struct Program(Vec<Action>);

impl Migration for Program {
    fn up(&self, s: &mut Schema) {
        for a in &self.0 {
            apply(s, a);
        }
    }
}

/// How many (case, backend) pairs rendered without an error: a run that renders none tests
/// little.
static RENDERED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Everything done with one case; a panic anywhere is the failure.
fn exercise(programs: &[Program]) {
    let catalog = Catalog::new(programs.iter().enumerate().map(|(i, p)| {
        (
            MigrationId {
                version: 20260101000000 + i as u64,
                name: format!("case_{i}"),
            },
            p as &dyn Migration,
        )
    }));
    for entry in catalog.entries() {
        for e in entry.up.errors.iter().chain(&entry.down.errors) {
            assert!(!e.contains("panicked"), "the DSL panicked: {e}");
        }
    }
    // The index of names `apply` keeps says what a full rebuild of it says.
    if let Ok(model) = catalog.model(None) {
        let mut fresh = model.clone();
        fresh.reindex();
        assert_eq!(model.indexed_names(), fresh.indexed_names());
        for t in model.tables.keys() {
            assert_eq!(
                model.references_to(t),
                fresh.references_to(t),
                "references to {t}"
            );
        }
        for t in model.tables.values() {
            let names = t
                .indexes
                .iter()
                .map(|i| &i.name)
                .chain(t.uniques.iter().map(|u| &u.name))
                .chain(t.foreign_keys.iter().map(|f| &f.name))
                .chain(t.checks.iter().map(|c| &c.name));
            for name in names {
                assert_eq!(model.name_owner(name), fresh.name_owner(name), "{name}");
                assert!(model.name_owner(name).is_some(), "{name} is indexed");
            }
        }
    }
    for backend in Backend::ALL {
        if catalog.render_up(backend, None).is_ok() {
            RENDERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let _ = catalog.render_down(backend, None);
        let _ = catalog.lint(backend, None);
        let _ = catalog.schema_snapshot(backend);
        let _ = catalog.deploy_plan(backend, None);
        // The one-pass reversibility says what each migration's own render_down says.
        if let Ok(one_pass) = catalog.reversibility(backend, None) {
            for (version, reversible) in one_pass {
                let alone = catalog
                    .render_down(backend, Some(&[version]))
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                assert_eq!(reversible, alone, "migration {version} on {backend}");
            }
        }
    }
}

fn cases() -> u64 {
    std::env::var("GODWIT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000)
}

fn seed() -> u64 {
    std::env::var("GODWIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
}

#[test]
fn random_dsl_programs_never_panic() {
    let (cases, seed) = (cases(), seed());
    for case in 0..cases {
        let mut rng = Rng((seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
        let mut tables = vec!["users".to_string()];
        let mut columns = vec!["email".to_string(), "id".to_string()];
        let mut programs: Vec<Program> = (0..1 + rng.below(4))
            .map(|_| {
                let n = rng.below(8);
                Program(
                    (0..n)
                        .map(|_| action(&mut rng, &mut tables, &mut columns))
                        .collect(),
                )
            })
            .collect();
        // Tables to work on, so that most operations get past the model to the renderer.
        let start: Vec<Action> = ["users", "posts"]
            .iter()
            .map(|t| Action::CreateTable {
                table: t.to_string(),
                columns: (0..1 + rng.below(4))
                    .map(|i| {
                        let c = if i == 0 {
                            "email".to_string()
                        } else {
                            name(&mut rng, &columns)
                        };
                        (
                            c,
                            column_type(&mut rng),
                            rng.chance(50),
                            rng.chance(30).then(|| value(&mut rng)),
                        )
                    })
                    .collect(),
                index: None,
                check: None,
                reference: None,
            })
            .collect();
        programs.insert(0, Program(start));
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&programs)));
        if outcome.is_err() {
            let shown: Vec<&Vec<Action>> = programs.iter().map(|p| &p.0).collect();
            panic!(
                "case {case} of seed {seed} panicked (GODWIT_FUZZ_SEED={seed}); its migrations:\n{shown:#?}"
            );
        }
    }
    let rendered = RENDERED.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{cases} cases, {rendered} of {} renders succeeded",
        cases * 3
    );
    // Most random programs hit an invalid operation (a model error) somewhere; the operations
    // before it are rendered all the same. Whole programs must render now and then.
    assert!(
        cases < 1000 || rendered > 0,
        "none of {} renders succeeded: the cases stop at the model",
        cases * 3
    );
}

static NOTHING: Program = Program(Vec::new());

#[test]
fn random_file_names_and_manifests_never_panic() {
    let (cases, seed) = (cases() * 4, seed());
    let mut rng = Rng(seed | 1);
    let pieces = [
        "m",
        "2026",
        "1120",
        "_",
        "090000",
        "m20261120_090000_",
        "create",
        ".rs",
        "/",
        "\\",
        "🦆",
        "..",
        " ",
        "\0",
        "99999999_999999",
        "00000000_000000",
    ];
    for case in 0..cases {
        let files: Vec<&'static str> = (0..1 + rng.below(4))
            .map(|_| {
                let name: String = (0..rng.below(8)).map(|_| *rng.pick(&pieces)).collect();
                &*Box::leak(format!("/work/blog/src/migrations/{name}").into_boxed_str())
            })
            .collect();
        let registrations: Vec<Registration> = files
            .iter()
            .map(|file| Registration {
                file,
                type_name: "Program",
                migration: &NOTHING,
            })
            .collect();
        let text: String = (0..rng.below(12))
            .map(|_| match rng.below(6) {
                0 => "sum v1:".to_string(),
                1 => format!("{:x}", rng.next()),
                2 => "\n".to_string(),
                3 => format!("{} ", 20261120090000u64 + rng.below(3) as u64),
                4 => rng.pick(TEXTS).to_string(),
                _ => rng.pick(&pieces).to_string(),
            })
            .collect();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = resolve(&registrations);
            let _ = manifest::parse(&text);
        }));
        assert!(
            outcome.is_ok(),
            "case {case} of seed {seed} panicked: files {files:?}, manifest {text:?}"
        );
    }
}
