//! godwit-core: the plan, the schema model, reversal and SQL rendering.
//!
//! **Invariant:** nothing in this crate does IO or is async, and nothing panics on user input.
//! Migration code records operations into a [`Plan`]; folding plans in version order gives a
//! [`SchemaModel`] that validates each operation, derives `down`, and lets [`render`] turn each
//! operation into SQL for PostgreSQL, MySQL/MariaDB or SQLite.

#![warn(missing_docs)]

pub mod column;
pub mod data;
pub mod deploy;
pub mod error;
pub mod lint;
pub mod manifest;
pub mod migration;
pub mod model;
pub mod op;
pub mod plan;
pub mod render;
pub mod reverse;
pub mod schema;
pub mod snapshot;
pub mod table_builder;
pub mod types;

pub use column::{AddableColumn, Column, ColumnDef, Generated};
pub use data::{Backfill, Batched, Code, CopyRows, DataStep, RunCode};
pub use deploy::{ChangeKind, MigrationPlan, PlanStep};
pub use error::{Error, ErrorKind, ModelError, RegistryError, RenderError};
pub use lint::{Allowance, Finding, LiveContext, Rule, TableSize};
pub use manifest::{Manifest, ManifestError, ManifestLine};
pub use migration::{Migration, MigrationId, Registration, resolve};
pub use model::SchemaModel;
pub use op::{Op, PerBackend, TableDef};
pub use plan::{Catalog, Entry, RenderedMigration, SchemaNames};
pub use render::Statement;
pub use schema::{Plan, Schema};
pub use table_builder::{Reference, TableBuilder};
pub use types::{
    Backend, ColumnType, CurrentTimestamp, DefaultValue, EnumType, ReferentialAction, Sql, SqlExpr,
    Timeouts,
};

/// Everything a migration file needs: `use godwit::prelude::*;`.
pub mod prelude {
    pub use crate::column::{AddableColumn, Column};
    pub use crate::lint::Rule;
    pub use crate::migration::Migration;
    pub use crate::op::PerBackend;
    pub use crate::schema::{Schema, col};
    pub use crate::table_builder::TableBuilder;
    pub use crate::types::ColumnType;
    pub use crate::types::ReferentialAction::{
        self, Cascade, NoAction, Restrict, SetDefault, SetNull,
    };
    pub use crate::types::{Algorithm, CurrentTimestamp, Lock, Sql};
    pub use sea_query::{Expr, ExprTrait, Func, Value};
    pub use std::time::Duration;
}
