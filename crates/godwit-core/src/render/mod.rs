//! Rendering operations into SQL for each backend.

use crate::error::RenderError;
use crate::model::SchemaModel;
use crate::op::Op;
use crate::types::Backend;

/// One SQL statement, with its bound values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL with placeholders (`$1` on PostgreSQL, `?` elsewhere) where `values` go.
    pub sql: String,
    /// Values bound to the placeholders; empty for DDL.
    pub values: sea_query::Values,
    /// The statement with values written inline, for previews.
    pub preview: String,
}

impl Statement {
    pub(crate) fn ddl(sql: impl Into<String>) -> Self {
        let sql = sql.into();
        Statement { preview: sql.clone(), sql, values: sea_query::Values(Vec::new()) }
    }
}

/// What one operation renders to.
#[derive(Debug, Clone, Default)]
pub struct RenderedOp {
    pub statements: Vec<Statement>,
    /// A SQLite table rebuild: foreign key enforcement must be off while it runs.
    pub foreign_keys_off: bool,
}

/// Render `op` for `backend`. `before` is the schema it applies to, `after` the schema it leaves.
pub fn render_op(
    backend: Backend,
    before: &SchemaModel,
    after: &SchemaModel,
    op: &Op,
) -> Result<RenderedOp, RenderError> {
    let _ = (backend, before, after, op);
    Ok(RenderedOp::default())
}
