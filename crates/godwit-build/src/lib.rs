//! Build-script helper for a godwit migrations crate: adding a migration is adding a file.
//!
//! ```text
//! // build.rs
//! fn main() {
//!     godwit_build::discover();
//! }
//! ```
//!
//! [`discover`] lists `src/migrations/*.rs` and writes two files into `OUT_DIR`:
//!
//! - `godwit_migrations.rs`, included by `godwit::migrations!()`: one `#[path = "..."] mod
//!   m20261120_090000_create_tags;` per file, spread over a few groups for compile time (see
//!   [`group_of`]);
//! - `godwit_main.rs`, included by `godwit::main!()`: links the crate's library (when it has a
//!   `src/lib.rs`) or declares the migrations itself (when it has none), and lists the files so
//!   that the binary can check that each registers exactly one migration.
//!
//! It tells cargo to rerun when the `src/migrations` directory changes, so a new file is picked up
//! by the next build. A file whose name is not `mYYYYMMDD_HHMMSS_snake_name.rs` fails the build
//! with a message that names it.
//!
//! **Invariant:** this crate has no dependencies and knows nothing of godwit's types: it only
//! writes module declarations.

#![warn(missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// The directory, relative to the crate's manifest, that holds the migrations.
pub const MIGRATIONS_DIR: &str = "src/migrations";

/// Discover `src/migrations/*.rs` and write the module declarations into `OUT_DIR`.
///
/// Call it from the migrations crate's `build.rs`. A malformed file name fails the build with
/// one `error:` line per file; this function never panics.
pub fn discover() {
    let result = (|| -> Result<Vec<String>, Vec<String>> {
        let var = |name: &str| {
            env::var(name).map_err(|_| {
                vec![format!(
                    "godwit_build::discover() must run in a build script: `{name}` is not set"
                )]
            })
        };
        let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
        let out_dir = PathBuf::from(var("OUT_DIR")?);
        let package = var("CARGO_PKG_NAME")?;
        let generated = generate(&manifest_dir, &package)?;
        write_if_changed(&out_dir.join("godwit_migrations.rs"), &generated.migrations)
            .map_err(|e| vec![e])?;
        write_if_changed(&out_dir.join("godwit_main.rs"), &generated.main).map_err(|e| vec![e])?;
        Ok(generated.warnings)
    })();
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    for path in watched(&manifest_dir) {
        println!("cargo::rerun-if-changed={path}");
    }
    match result {
        Ok(warnings) => {
            for w in warnings {
                println!("cargo::warning={w}");
            }
        }
        Err(errors) => {
            for e in errors {
                println!("cargo::error={e}");
            }
        }
    }
}

/// What cargo must watch to rerun the build script: the migrations directory (a directory, so
/// adding, removing or changing any file in it counts) and `src/lib.rs` (whether the crate has a
/// library decides what `godwit_main.rs` holds). A path that does not exist would make cargo rerun
/// the script, and rebuild the crate, on every build: `src` stands in for it, to notice its
/// creation.
pub fn watched(manifest_dir: &Path) -> Vec<&'static str> {
    let mut paths = Vec::new();
    for path in [MIGRATIONS_DIR, "src/lib.rs"] {
        let path = if manifest_dir.join(path).exists() {
            path
        } else {
            "src"
        };
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

/// What [`discover`] writes, computed without touching `OUT_DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The content of `godwit_migrations.rs`.
    pub migrations: String,
    /// The content of `godwit_main.rs`.
    pub main: String,
    /// The migration files found, absolute, sorted.
    pub files: Vec<PathBuf>,
    /// Things worth a `cargo::warning`.
    pub warnings: Vec<String>,
}

/// Compute the generated files for the crate at `manifest_dir` (package `package`).
///
/// Errors name each offending file and say how to fix it.
pub fn generate(manifest_dir: &Path, package: &str) -> Result<Generated, Vec<String>> {
    let dir = manifest_dir.join(MIGRATIONS_DIR);
    let mut warnings = Vec::new();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry =
                    entry.map_err(|e| vec![format!("cannot list `{}`: {e}", dir.display())])?;
                let path = entry.path();
                if path.extension().is_none_or(|ext| ext != "rs") || path.is_dir() {
                    continue;
                }
                let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                    errors.push(format!(
                        "`{}` has a file name that is not UTF-8: rename it `mYYYYMMDD_HHMMSS_snake_name.rs`",
                        path.display()
                    ));
                    continue;
                };
                if stem.starts_with('.') {
                    continue; // editor and lock files
                }
                match check_stem(stem) {
                    Ok(()) => files.push(path),
                    Err(why) => errors.push(format!(
                        "`{MIGRATIONS_DIR}/{stem}.rs` is not a migration file name: {why}; rename it \
                         `mYYYYMMDD_HHMMSS_snake_name.rs` (such as `m20261120_090000_create_tags.rs`), \
                         or move it out of `{MIGRATIONS_DIR}` if it is not a migration"
                    )),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => warnings.push(format!(
            "`{}` does not exist, so there are no migrations: create it, or run the `new` command",
            dir.display()
        )),
        Err(e) => return Err(vec![format!("cannot list `{}`: {e}", dir.display())]),
    }
    if !errors.is_empty() {
        errors.sort();
        return Err(errors);
    }
    files.sort();

    let mut groups = vec![String::new(); GROUPS];
    let mut list = String::from("&[");
    for file in &files {
        let Some(path) = file.to_str() else {
            return Err(vec![format!(
                "`{}` has a path that is not UTF-8: move the crate to a UTF-8 path",
                file.display()
            )]);
        };
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let _ = writeln!(
            groups[group_of(stem)],
            "        #[path = {path:?}]\n        mod {stem};"
        );
        let _ = write!(list, "{path:?}, ");
    }
    list.push(']');
    let mut migrations = String::from(
        "// Generated by godwit-build from `src/migrations`: do not edit.\n\
         // Each migration is a module inside an anonymous constant, in one of a few groups: rustc\n\
         // then compiles one codegen unit per group instead of one per migration, and adding a\n\
         // migration recompiles only its group.\n",
    );
    for (i, group) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
        let _ = writeln!(
            migrations,
            "mod group_{i:02} {{\n    const _: () = {{\n{group}    }};\n}}"
        );
    }

    let lib = package.replace('-', "_");
    let main = if manifest_dir.join("src/lib.rs").is_file() {
        format!(
            "// Generated by godwit-build: links the migrations in `src/lib.rs`; do not edit.\n\
             use {lib} as _;\n\
             #[doc(hidden)]\n\
             const __GODWIT_FILES: &[&str] = {list};\n"
        )
    } else {
        format!(
            "// Generated by godwit-build: the crate has no library, so the binary declares the \
             migrations; do not edit.\n\
             mod migrations {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/godwit_migrations.rs\"));\n}}\n\
             #[doc(hidden)]\n\
             const __GODWIT_FILES: &[&str] = {list};\n"
        )
    };
    Ok(Generated {
        migrations,
        main,
        files,
        warnings,
    })
}

/// How many groups the migrations are split into (see [`group_of`]).
pub const GROUPS: usize = 16;

/// The group a migration file belongs to: a hash of its name, so that adding a file changes one
/// group only.
///
/// rustc makes one codegen unit per module, but merges them down to 256 when there are more, and
/// that merge reshuffles nearly every unit when one module is added: with 1,000 migrations in
/// modules of their own, adding one recompiles all of them. A module declared inside an anonymous
/// constant is compiled with the module around the constant, so each group is one codegen unit and
/// adding a migration recompiles its group alone.
pub fn group_of(stem: &str) -> usize {
    // FNV-1a, then MurmurHash3's finalizer to spread it over the low bits: stable across builds
    // and Rust versions, unlike `DefaultHasher`.
    let mut h = stem.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % GROUPS as u64) as usize
}

/// Check that `stem` is `mYYYYMMDD_HHMMSS_snake_name`, so also a Rust identifier.
///
/// The date itself is checked when the binary starts, with the version it makes.
pub fn check_stem(stem: &str) -> Result<(), String> {
    let Some(rest) = stem.strip_prefix('m') else {
        return Err("it does not start with `m`".into());
    };
    let b = rest.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..8) && b.get(8) == Some(&b'_') && digits(9..15) && b.get(15) == Some(&b'_')) {
        return Err("it has no `YYYYMMDD_HHMMSS_` timestamp after the `m`".into());
    }
    let name = &b[16..];
    match name.first() {
        None => Err("it has no name after the timestamp".into()),
        Some(first) if !first.is_ascii_lowercase() => {
            Err("its name does not start with a lowercase letter".into())
        }
        Some(_)
            if !name
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_') =>
        {
            Err("its name is not snake_case (lowercase letters, digits and `_` only)".into())
        }
        Some(_) => Ok(()),
    }
}

/// Write `content` to `path` unless it already holds exactly that, so that an unchanged list of
/// migrations does not make cargo rebuild the crate.
fn write_if_changed(path: &Path, content: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    fs::write(path, content).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the target's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = env::temp_dir().join(format!("godwit-build-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join(MIGRATIONS_DIR)).unwrap();
            TempDir(dir)
        }

        fn touch(&self, rel: &str) {
            fs::write(self.0.join(rel), "").unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn declares_every_migration_sorted_with_absolute_paths() {
        let dir = TempDir::new("sorted");
        dir.touch("src/migrations/m20261121_080000_add_views.rs");
        dir.touch("src/migrations/m20261120_090000_create_tags.rs");
        dir.touch("src/migrations/notes.md");
        dir.touch("src/migrations/.m20261122_000000_draft.rs");
        let g = generate(&dir.0, "blog-migrations").unwrap();
        let root = dir.0.join(MIGRATIONS_DIR);
        let generated = g.migrations.replace(root.to_str().unwrap(), "<dir>");
        assert_eq!(
            generated,
            "// Generated by godwit-build from `src/migrations`: do not edit.
// Each migration is a module inside an anonymous constant, in one of a few groups: rustc
// then compiles one codegen unit per group instead of one per migration, and adding a
// migration recompiles only its group.
mod group_05 {
    const _: () = {
        #[path = \"<dir>/m20261120_090000_create_tags.rs\"]
        mod m20261120_090000_create_tags;
        #[path = \"<dir>/m20261121_080000_add_views.rs\"]
        mod m20261121_080000_add_views;
    };
}
"
        );
        assert_eq!(g.files.len(), 2);
        assert!(g.warnings.is_empty());
        // No src/lib.rs: the binary declares the migrations itself.
        assert!(g.main.contains("mod migrations {"), "{}", g.main);
    }

    #[test]
    fn adding_a_migration_changes_one_group_only() {
        // Pinned: a change of hash would recompile every group of every user once.
        assert_eq!(group_of("m20261120_090000_create_tags"), 5);
        assert_eq!(group_of("m20261121_080000_add_views"), 5);
        assert_eq!(group_of("m20261201_100000_create_tags"), 5);
        let dir = TempDir::new("groups");
        for n in 0..100 {
            dir.touch(&format!(
                "src/migrations/m20260101_0000{n:02}_create_table_{n}.rs"
            ));
        }
        let before = generate(&dir.0, "x").unwrap().migrations;
        dir.touch("src/migrations/m20260102_000000_one_more.rs");
        let after = generate(&dir.0, "x").unwrap().migrations;
        let groups = |text: &str| -> Vec<String> {
            text.split("mod group_")
                .skip(1)
                .map(str::to_string)
                .collect()
        };
        let (before, after) = (groups(&before), groups(&after));
        assert_eq!(before.len(), GROUPS);
        let changed = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        assert_eq!(changed, 1);
    }

    #[test]
    fn links_the_library_when_there_is_one() {
        let dir = TempDir::new("lib");
        dir.touch("src/lib.rs");
        dir.touch("src/migrations/m20261120_090000_create_tags.rs");
        let g = generate(&dir.0, "blog-migrations").unwrap();
        assert!(g.main.contains("use blog_migrations as _;\n"), "{}", g.main);
        assert!(!g.main.contains("mod migrations"), "{}", g.main);
        assert!(
            g.main.contains("m20261120_090000_create_tags.rs\", ]"),
            "{}",
            g.main
        );
    }

    #[test]
    fn malformed_names_fail_naming_each_file() {
        let dir = TempDir::new("malformed");
        dir.touch("src/migrations/create_tags.rs");
        dir.touch("src/migrations/m2026_create_tags.rs");
        dir.touch("src/migrations/m20261120_090000_CreateTags.rs");
        dir.touch("src/migrations/m20261120_090000_.rs");
        dir.touch("src/migrations/m20261120_090000_add-tags.rs");
        dir.touch("src/migrations/mod.rs");
        dir.touch("src/migrations/m20261120_090001_fine.rs");
        let errors = generate(&dir.0, "x").unwrap_err();
        let summary: Vec<String> = errors
            .iter()
            .map(|e| e.split("; rename it").next().unwrap().to_string())
            .collect();
        assert_eq!(
            summary,
            [
                "`src/migrations/create_tags.rs` is not a migration file name: it does not start with `m`",
                "`src/migrations/m20261120_090000_.rs` is not a migration file name: it has no name after the timestamp",
                "`src/migrations/m20261120_090000_CreateTags.rs` is not a migration file name: its name does not start with a lowercase letter",
                "`src/migrations/m20261120_090000_add-tags.rs` is not a migration file name: its name is not snake_case (lowercase letters, digits and `_` only)",
                "`src/migrations/m2026_create_tags.rs` is not a migration file name: it has no `YYYYMMDD_HHMMSS_` timestamp after the `m`",
                "`src/migrations/mod.rs` is not a migration file name: it has no `YYYYMMDD_HHMMSS_` timestamp after the `m`",
            ]
        );
        assert!(
            errors[0].contains("such as `m20261120_090000_create_tags.rs`"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_missing_directory_is_a_warning_not_an_error() {
        let dir = TempDir::new("missing");
        fs::remove_dir_all(dir.0.join(MIGRATIONS_DIR)).unwrap();
        let g = generate(&dir.0, "x").unwrap();
        assert!(g.files.is_empty());
        assert_eq!(g.warnings.len(), 1);
        assert!(
            g.warnings[0].contains("does not exist"),
            "{}",
            g.warnings[0]
        );
    }

    #[test]
    fn watches_only_paths_that_exist() {
        let dir = TempDir::new("watch");
        assert_eq!(watched(&dir.0), ["src/migrations", "src"]);
        dir.touch("src/lib.rs");
        assert_eq!(watched(&dir.0), ["src/migrations", "src/lib.rs"]);
        fs::remove_dir_all(dir.0.join(MIGRATIONS_DIR)).unwrap();
        assert_eq!(watched(&dir.0), ["src", "src/lib.rs"]);
    }

    #[test]
    fn writes_only_when_the_content_changes() {
        let dir = TempDir::new("write");
        let file = dir.0.join("out.rs");
        write_if_changed(&file, "a").unwrap();
        let first = fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&file, "a").unwrap();
        assert_eq!(fs::metadata(&file).unwrap().modified().unwrap(), first);
        write_if_changed(&file, "b").unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "b");
    }
}
