//! The progress table in the target (`godwit_copy_progress`): per table, the source, the last
//! key copied, the rows done, whether it is finished; written with each batch.

use std::collections::BTreeMap;

use godwit_core::{Backend, ColumnType};
use sea_query as sq;
use sea_query::{ExprTrait as _, Value};

use crate::connect::Conn;
use crate::error::Error;
use crate::values::{self, key_from_json, key_to_json};

use super::copier::Copier;
use super::plan::Plan;
use super::{PROGRESS_TABLE, build, count, exec, quote};

/// One row of the progress table.
#[derive(Debug, Clone)]
pub(super) struct Progress {
    pub(super) source: String,
    pub(super) last_key: Option<String>,
    pub(super) rows_done: u64,
    pub(super) finished: bool,
}

/// A key as the progress table records it: a JSON array of tagged values.
pub(super) fn key_text(key: &[Value]) -> Option<String> {
    let parts: Option<Vec<_>> = key.iter().map(key_to_json).collect();
    Some(sq::value::prelude::serde_json::Value::Array(parts?).to_string())
}

pub(super) fn parse_key(text: &str) -> Option<Vec<Value>> {
    let json: sq::value::prelude::Json = sq::value::prelude::serde_json::from_str(text).ok()?;
    json.as_array()?.iter().map(key_from_json).collect()
}

impl Copier<'_> {
    pub(super) fn progress_create_sql(&self) -> String {
        let b = self.target_backend();
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({} varchar(255) NOT NULL PRIMARY KEY, {} text NOT NULL, \
             {} text NULL, {} bigint NOT NULL, {} boolean NOT NULL)",
            quote(b, PROGRESS_TABLE),
            quote(b, "table_name"),
            quote(b, "source"),
            quote(b, "last_key"),
            quote(b, "rows_done"),
            quote(b, "finished"),
        )
    }

    pub(super) async fn progress_exists(&self, dst: &mut Conn) -> Result<bool, Error> {
        let sql = match self.target_backend() {
            Backend::Postgres => format!(
                "SELECT count(*)::int8 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '{PROGRESS_TABLE}'"
            ),
            Backend::MySql => format!(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = '{PROGRESS_TABLE}'"
            ),
            Backend::Sqlite => format!(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{PROGRESS_TABLE}'"
            ),
        };
        dst.scalar_i64(&sql)
            .await
            .map(|n| n > 0)
            .map_err(|e| self.target_failed(&format!("looking for {PROGRESS_TABLE}"), &e))
    }

    pub(super) async fn read_progress(
        &self,
        dst: &mut Conn,
    ) -> Result<BTreeMap<String, Progress>, Error> {
        let mut stmt = sq::Query::select();
        stmt.columns(["table_name", "source", "last_key", "rows_done", "finished"])
            .from(PROGRESS_TABLE);
        let (sql, values) = build(self.target_backend(), &stmt);
        let types = [
            Some(ColumnType::Text),
            Some(ColumnType::Text),
            Some(ColumnType::Text),
            Some(ColumnType::BigInt),
            Some(ColumnType::Boolean),
        ];
        let (_, rows) = values::fetch_rows(dst, sql, values, Some(&types))
            .await
            .map_err(|e| self.target_failed(&format!("reading {PROGRESS_TABLE}"), &e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            if let [
                Value::String(Some(table)),
                Value::String(Some(source)),
                Value::String(last_key),
                Value::BigInt(Some(rows_done)),
                Value::Bool(Some(finished)),
            ] = row.as_slice()
            {
                out.insert(
                    table.clone(),
                    Progress {
                        source: source.clone(),
                        last_key: last_key.clone(),
                        rows_done: u64::try_from(*rows_done).unwrap_or(0),
                        finished: *finished,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Once every count matches: the progress rows of `plans` go, and the table with them when
    /// nothing else is in it.
    pub(super) async fn forget_progress(
        &self,
        dst: &mut Conn,
        plans: &[Plan],
    ) -> Result<(), Error> {
        let b = self.target_backend();
        let mut stmt = sq::Query::delete();
        stmt.from_table(PROGRESS_TABLE)
            .and_where(sq::Expr::col("table_name").is_in(plans.iter().map(|p| p.name.clone())));
        let (sql, values) = build(b, &stmt);
        let fail =
            |e: sqlx::Error| self.target_failed(&format!("cleaning up {PROGRESS_TABLE}"), &e);
        exec(dst, sql, values).await.map_err(fail)?;
        if count(dst, PROGRESS_TABLE).await.map_err(fail)? == 0 {
            dst.batch(&format!("DROP TABLE {}", quote(b, PROGRESS_TABLE)))
                .await
                .map_err(fail)?;
        }
        Ok(())
    }

    /// Insert `plan`'s progress row: nothing copied yet.
    pub(super) async fn start_progress(&self, dst: &mut Conn, plan: &Plan) -> Result<(), Error> {
        let mut stmt = sq::Query::insert();
        stmt.into_table(PROGRESS_TABLE)
            .columns(["table_name", "source", "last_key", "rows_done", "finished"])
            .values_panic([
                sq::Expr::val(plan.name.clone()),
                sq::Expr::val(self.from.redacted().to_string()),
                sq::Expr::val(Value::String(None)),
                sq::Expr::val(0i64),
                sq::Expr::val(false),
            ]);
        let (sql, values) = build(self.target_backend(), &stmt);
        exec(dst, sql, values).await.map(drop).map_err(|e| {
            self.target_failed(
                &format!("recording the copy of {} in {PROGRESS_TABLE}", plan.name),
                &e,
            )
        })
    }

    pub(super) fn progress_update(
        &self,
        plan: &Plan,
        key: Option<String>,
        done: u64,
        finished: bool,
    ) -> (String, sq::Values) {
        let mut stmt = sq::Query::update();
        stmt.table(PROGRESS_TABLE);
        if let Some(key) = key {
            stmt.value("last_key", key);
        }
        stmt.value("rows_done", i64::try_from(done).unwrap_or(i64::MAX))
            .value("finished", finished)
            .and_where(sq::Expr::col("table_name").eq(plan.name.clone()));
        build(self.target_backend(), &stmt)
    }

    /// Mark `plan` finished after its last batch was empty.
    pub(super) async fn finish_progress(
        &self,
        dst: &mut Conn,
        plan: &Plan,
        done: u64,
    ) -> Result<(), Error> {
        let (sql, values) = self.progress_update(plan, None, done, true);
        exec(dst, sql, values).await.map(drop).map_err(|e| {
            self.target_failed(
                &format!("recording the end of {} in {PROGRESS_TABLE}", plan.name),
                &e,
            )
        })
    }
}
