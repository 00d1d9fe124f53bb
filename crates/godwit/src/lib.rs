//! godwit: typed, code-first database migrations.
//!
//! A migrations crate is a library of migrations plus a one-line binary:
//!
//! ```text
//! migrations/
//!   Cargo.toml     depends on godwit; build-depends on godwit-build
//!   build.rs       fn main() { godwit_build::discover(); }
//!   src/lib.rs     godwit::migrations!();
//!   src/main.rs    godwit::main!();
//!   src/migrations/m20261120_090000_create_tags.rs
//! ```
//!
//! Each file in `src/migrations` holds one migration:
//!
//! ```
//! use godwit::prelude::*;
//!
//! /// Tags for posts.
//! pub struct CreateTags;
//!
//! impl Migration for CreateTags {
//!     fn up(&self, s: &mut Schema) {
//!         s.create_table("tags", |t| {
//!             t.id();
//!             t.string("name", 50).unique();
//!             t.timestamps();
//!         });
//!     }
//! }
//!
//! godwit::register!(CreateTags);
//! ```
//!
//! **Linking.** `register!` collects through [`inventory`](https://docs.rs/inventory), which
//! only sees crates that are linked into the binary. `godwit::main!()` links the crate's own
//! library (godwit-build writes the `use your_crate as _;` for it), and the binary checks at start-up
//! that every file in `src/migrations` registered exactly one migration. A crate that ships
//! migrations of its own is added by naming it in `src/main.rs`: `use auth_migrations as _;`.
//!
//! Everything of `godwit_core` is re-exported here; migration files need only
//! `use godwit::prelude::*;`.
//!
//! **Cargo features.** `postgres`, `mysql` and `sqlite`, all on by default, choose the database
//! drivers the migrations binary is built with. A team on one database builds one driver:
//!
//! ```toml
//! [dependencies]
//! godwit = { version = "0.1", default-features = false, features = ["postgres", "mimalloc"] }
//! ```
//!
//! A URL for a backend left out is refused before anything connects, with an error naming the
//! feature. Rendering SQL (`sql`, `schema`, `plan`, `lint`) works for every backend whatever the
//! features.
//!
//! The fourth default feature, `mimalloc`, makes the binary that [`main!`] writes allocate
//! through mimalloc, which keeps the commands that fold thousands of migrations fast. Leave it
//! out to choose the binary's allocator yourself (a `#[global_allocator]` in `src/main.rs`).

#![warn(missing_docs)]

pub use godwit_core::*;

/// Everything a migration file needs: `use godwit::prelude::*;`. The DSL, and for Rust code in
/// migrations, `run` with its connection ([`Db`](godwit_runner::Db)) and sea-query's `Query`.
pub mod prelude {
    pub use godwit_core::prelude::*;
    pub use godwit_runner::data::{BoxError, Db, Row, RunCode};
    pub use sea_query::{Alias, Order, Query};
}

/// Applying migrations to a database: [`Runner`] and what goes with it.
pub use godwit_runner as runner;
pub use godwit_runner::{DatabaseUrl, Runner};

pub mod cli;

/// A [`Runner`] for `url` and every migration linked into this binary, checked as the CLI
/// checks them at start-up: for an application that migrates when it starts.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// use my_migrations as _; // the migrations crate's library
/// # mod my_migrations {}
/// let url: godwit::DatabaseUrl = std::env::var("DATABASE_URL")?.parse()?;
/// let runner = godwit::runner(url).map_err(|e| format!("{e:?}"))?;
/// runner.up(&godwit::runner::Up::default()).await?;
/// # Ok(()) }
/// ```
pub fn runner(url: DatabaseUrl) -> Result<Runner, Vec<RegistryError>> {
    let resolved = resolve(&registrations())?;
    Ok(Runner::lazy(
        url,
        resolved.into_iter().map(|(id, r)| (id, r.migration)),
    ))
}

/// A registered migration, as `inventory` collects it. Written by [`register!`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Registered(pub Registration);

inventory::collect!(Registered);

/// Every migration registered with [`register!`] in the crates linked into this binary, in no
/// particular order ([`resolve`] orders them and checks their file names).
pub fn registrations() -> Vec<Registration> {
    inventory::iter::<Registered>
        .into_iter()
        .map(|r| r.0)
        .collect()
}

/// What the macros expand to; not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::Registered;
    pub use godwit_core::Registration;
    pub use inventory;
    #[cfg(feature = "mimalloc")]
    pub use mimalloc::MiMalloc;
}

/// The binary's allocator, declared by [`main!`]: mimalloc with the `mimalloc` feature (on by
/// default), the standard library's otherwise.
#[cfg(feature = "mimalloc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __global_allocator {
    () => {
        #[global_allocator]
        static __GODWIT_ALLOCATOR: $crate::__private::MiMalloc = $crate::__private::MiMalloc;
    };
}

/// Without the `mimalloc` feature, [`main!`] leaves the binary's allocator alone.
#[cfg(not(feature = "mimalloc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __global_allocator {
    () => {};
}

/// Register a migration: `godwit::register!(CreateTags);`, once, at the end of its file.
///
/// The version and name come from the file the macro is written in,
/// `src/migrations/mYYYYMMDD_HHMMSS_snake_name.rs`. The type must be a unit struct (or a
/// constant) implementing [`Migration`].
#[macro_export]
macro_rules! register {
    ($migration:path) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registered($crate::__private::Registration {
                file: ::core::file!(),
                type_name: ::core::stringify!($migration),
                migration: &$migration,
            })
        }
    };
}

/// Declare every file in `src/migrations` as a module: write `godwit::migrations!();` in the
/// migrations crate's `src/lib.rs`. The list is written by `godwit_build::discover()` in
/// `build.rs`, so adding a migration is adding a file.
///
/// The modules are private, grouped for compile time (see `godwit_build::group_of`): nothing
/// outside a migration's file names its type; the binary finds it through `register!`.
#[macro_export]
macro_rules! migrations {
    () => {
        /// The migrations in `src/migrations`, one module per file.
        pub mod migrations {
            ::core::include!(::core::concat!(
                ::core::env!(
                    "OUT_DIR",
                    "godwit::migrations!() needs a build.rs that calls godwit_build::discover()"
                ),
                "/godwit_migrations.rs"
            ));
        }
    };
}

/// The whole `src/main.rs` of a migrations crate: `godwit::main!();`.
///
/// It links the crate's library (or, in a crate without `src/lib.rs`, declares the migrations
/// itself) and hands control to [`cli::main`]. With the `mimalloc` feature (on by default) it
/// also makes mimalloc the binary's `#[global_allocator]`; a crate that declares its own leaves
/// the feature out.
#[macro_export]
macro_rules! main {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!(
                "OUT_DIR",
                "godwit::main!() needs a build.rs that calls godwit_build::discover()"
            ),
            "/godwit_main.rs"
        ));

        $crate::__global_allocator!();

        fn main() -> ::std::process::ExitCode {
            $crate::cli::main(&$crate::cli::Project {
                name: ::core::env!("CARGO_PKG_NAME"),
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                files: __GODWIT_FILES,
            })
        }
    };
}
