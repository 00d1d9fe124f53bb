//! `godwit archive`: move the migrations that no longer change into a crate of their own.
//!
//! The migrations crate compiles as one crate, so every migration added makes rustc check all of
//! them again: with 5,000 migrations a rebuild after `new` takes seconds more than with 1,000.
//! Archiving moves the migrations up to a version into `<migrations crate>/archive`, a crate that
//! the migrations crate links and that rustc then leaves alone. Versions, names and checksums do
//! not change, so history, `migrations.sum` and `check` see the same migrations.
//!
//! [`plan`] reads the project and decides everything, refusing (with every reason) before
//! anything is written; [`Plan::write`] creates the archive crate when it is new, links it, and
//! only then moves the files, so that a run stopped half-way leaves every migration in a crate
//! that the binary links.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use toml_edit::{InlineTable, Item, Value};

use crate::init::{
    Change, find_root, member_packages, read_manifest, relative, show, slashes, string_list,
};

/// The archive crate's directory, inside the migrations crate.
pub const ARCHIVE_DIR: &str = "archive";

/// What `godwit archive` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to start looking for the cargo project (walking up).
    pub dir: PathBuf,
    /// The migrations crate's directory, when the workspace has several.
    pub krate: Option<PathBuf>,
    /// Archive every migration up to and including this version.
    pub through: String,
}

/// Everything `archive` will do, checked against the project.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The workspace root (absolute), for messages.
    pub root: PathBuf,
    /// The migrations crate's directory (absolute).
    pub krate: PathBuf,
    /// The archive crate's package name, `<migrations package>-archive`.
    pub archive_package: String,
    /// The files written (relative to `root`), new ones first; the archive crate's only when
    /// it is new.
    pub writes: Vec<Change>,
    /// The migration files moved, (from, to), oldest first.
    pub moves: Vec<(PathBuf, PathBuf)>,
    /// The versions of the first and last migration moved.
    pub range: (u64, u64),
}

/// A migration file's version: `m20261120_090000_create_users.rs` is 20261120090000.
pub fn file_version(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".rs")?.strip_prefix('m')?;
    let (date, rest) = stem.split_at_checked(8)?;
    let rest = rest.strip_prefix('_')?;
    let (time, rest) = rest.split_at_checked(6)?;
    if !rest.starts_with('_')
        || !date.bytes().all(|b| b.is_ascii_digit())
        || !time.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    format!("{date}{time}").parse().ok()
}

/// `--through` as written: `20261120090000`, or `20261120_090000` as in the file names.
fn parse_version(text: &str) -> anyhow::Result<u64> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!(
            "`--through {text}` is not a migration version: give the 14 digits of a migration's \
             version, as `cargo xtask migrate status` shows them (such as 20261120090000)"
        );
    }
    digits
        .parse()
        .map_err(|_| anyhow!("`--through {text}` is not a migration version"))
}

/// The migration files in `dir` (`.rs` files with a version in their name), oldest first.
fn migration_files(dir: &Path) -> anyhow::Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e).with_context(|| format!("cannot list `{}`", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let name = entry.file_name();
        if let Some(version) = name.to_str().and_then(file_version)
            && entry.path().is_file()
        {
            files.push((version, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Whether the package in `dir` is a migrations crate: it builds with `godwit-build` and has a
/// binary (an archive crate has none).
fn is_migrations_crate(dir: &Path) -> bool {
    let Ok(doc) = read_manifest(&dir.join("Cargo.toml")) else {
        return false;
    };
    doc.get("build-dependencies")
        .and_then(|d| d.get("godwit-build"))
        .is_some()
        && dir.join("src/main.rs").is_file()
}

/// The migrations crate: the one given, or the workspace's only package that is one.
fn find_crate(start: &Path, given: Option<&Path>) -> anyhow::Result<(PathBuf, PathBuf)> {
    if let Some(given) = given {
        let dir = fs::canonicalize(start.join(given))
            .with_context(|| format!("cannot open the directory `{}`", given.display()))?;
        let (root, _, _) = find_root(&dir)?;
        if !is_migrations_crate(&dir) {
            bail!(
                "`{}` is not a migrations crate: it needs a Cargo.toml with `godwit-build` in \
                 `[build-dependencies]` and a `src/main.rs` (as `godwit init` writes them)",
                dir.display()
            );
        }
        return Ok((root, dir));
    }
    let (root, _, manifest) = find_root(start)?;
    let members = string_list(&manifest, "members")?;
    let found: Vec<PathBuf> = member_packages(&root, &members)
        .into_iter()
        .map(|(_, dir)| dir)
        .filter(|dir| is_migrations_crate(dir))
        .collect();
    match found.as_slice() {
        [] => bail!(
            "no migrations crate in the workspace at `{}`: run `godwit init` to make one, or \
             pass `--crate DIR` for one that is not a member",
            root.display()
        ),
        [one] => Ok((root.clone(), one.clone())),
        several => match several.iter().find(|dir| start.starts_with(dir)) {
            Some(dir) => Ok((root.clone(), dir.clone())),
            None => bail!(
                "the workspace has {} migrations crates ({}): pass `--crate DIR` to say which",
                several.len(),
                several
                    .iter()
                    .map(|d| format!("`{}`", show(&root, d, true)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// A dependency of the migrations crate as the archive crate, one directory deeper, writes it:
/// a relative `path` gains a `../`.
fn rebased(item: &Item, name: &str, manifest: &Path) -> anyhow::Result<String> {
    let mut value = match item {
        Item::Value(value) => value.clone(),
        Item::Table(table) => Value::InlineTable(table.clone().into_inline_table()),
        _ => bail!(
            "`{name}` in `{}` is not a dependency godwit can copy: write it as \
             `{name} = {{ path = \"..\" }}` or `{name} = \"<version>\"`",
            manifest.display()
        ),
    };
    if let Some(table) = value.as_inline_table_mut()
        && let Some(path) = table.get("path").and_then(Value::as_str)
        && Path::new(path).is_relative()
    {
        let path = slashes(&Path::new("..").join(path));
        table.insert("path", Value::from(path));
    }
    value.decor_mut().clear();
    Ok(value.to_string())
}

/// Plan `archive` for `options`: find the migrations crate and the files to move, and compute
/// every file. Fails, naming what is wrong, without writing anything.
pub fn plan(options: &Options) -> anyhow::Result<Plan> {
    let through = parse_version(&options.through)?;
    let start = fs::canonicalize(&options.dir)
        .with_context(|| format!("cannot open the directory `{}`", options.dir.display()))?;
    let (root, krate) = find_crate(&start, options.krate.as_deref())?;
    let manifest_path = krate.join("Cargo.toml");
    let mut manifest = read_manifest(&manifest_path)?;
    let package = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .ok_or_else(|| anyhow!("`{}` has no `package.name`", manifest_path.display()))?
        .to_owned();
    let archive_package = format!("{package}-archive");
    let ident = archive_package.replace('-', "_");
    let archive = krate.join(ARCHIVE_DIR);
    let migrations_dir = krate.join("src/migrations");
    let archived_dir = archive.join("src/migrations");

    // Is there an archive already, and is it this crate's?
    let archive_exists = archive.join("Cargo.toml").is_file();
    if archive_exists {
        let doc = read_manifest(&archive.join("Cargo.toml"))?;
        let name = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Item::as_str);
        if name != Some(archive_package.as_str()) {
            bail!(
                "`{}` holds another package ({}), not the archive `{archive_package}`: move it \
                 elsewhere, then run godwit archive again",
                show(&root, &archive, true),
                name.map_or("no name".to_string(), |n| format!("`{n}`"))
            );
        }
    } else if fs::symlink_metadata(&archive).is_ok() {
        bail!(
            "`{}` exists and is not an archive crate: move it elsewhere, then run godwit archive \
             again",
            show(&root, &archive, true)
        );
    }

    // The files to move.
    let files = migration_files(&migrations_dir)?;
    let archived = migration_files(&archived_dir)?;
    if !files.iter().any(|(v, _)| *v == through) {
        if archived.iter().any(|(v, _)| *v == through) {
            bail!(
                "migration {through} is archived already, in `{}`: nothing to do",
                show(&root, &archived_dir, true)
            );
        }
        let range = match (files.first(), files.last()) {
            (Some((first, _)), Some((last, _))) => {
                format!("the versions there run from {first} to {last}")
            }
            _ => "it holds no migration".to_string(),
        };
        bail!(
            "no migration in `{}` has version {through} ({range}): give the version of the newest \
             migration to archive, as `cargo xtask migrate status` shows it",
            show(&root, &migrations_dir, true)
        );
    }
    let moved: Vec<&(u64, PathBuf)> = files.iter().filter(|(v, _)| *v <= through).collect();
    let mut problems = Vec::new();
    for (_, file) in &moved {
        let text = fs::read_to_string(file)
            .with_context(|| format!("cannot read `{}`", file.display()))?;
        let uses_crate = text.lines().any(|line| {
            // A macro's `$crate::` names the macro's own crate, wherever it is used.
            let code = line
                .split("//")
                .next()
                .unwrap_or("")
                .replace("$crate::", "");
            code.contains("crate::") || code.contains("super::")
        });
        if uses_crate {
            problems.push(format!(
                "`{}` uses `crate::` or `super::`: in the archive crate these would name the \
                 archive, not the migrations crate's own items; move what it uses into the \
                 migrations' shared code (or copy it into the archive's `src/lib.rs`), or archive \
                 only the migrations before it",
                show(&root, file, false)
            ));
        }
        let to = archived_dir.join(file.file_name().unwrap_or_default());
        if fs::symlink_metadata(&to).is_ok() {
            problems.push(format!(
                "`{}` exists already: remove one of the two copies",
                show(&root, &to, false)
            ));
        }
    }
    if !problems.is_empty() {
        let mut message = String::from("godwit archive moves nothing:\n");
        for p in &problems {
            let _ = writeln!(message, "  - {p}");
        }
        bail!(message.trim_end().to_string());
    }

    let mut writes = Vec::new();
    if !archive_exists {
        let dependency = |table: &str, name: &str| -> anyhow::Result<String> {
            let item = manifest
                .get(table)
                .and_then(|t| t.get(name))
                .ok_or_else(|| {
                    anyhow!(
                        "`{}` has no `{name}` in `[{table}]`, which the archive crate needs as \
                         the migrations crate does: add it (as `godwit init` writes it)",
                        manifest_path.display()
                    )
                })?;
            rebased(item, name, &manifest_path)
        };
        let godwit = dependency("dependencies", "godwit")?;
        let godwit_build = dependency("build-dependencies", "godwit-build")?;
        let edition = manifest
            .get("package")
            .and_then(|p| p.get("edition"))
            .map(|e| match e {
                Item::Value(v) => {
                    let mut v = v.clone();
                    v.decor_mut().clear();
                    format!("edition = {v}\n")
                }
                Item::Table(t) => format!(
                    "edition = {}\n",
                    t.clone().into_inline_table().to_string().trim()
                ),
                _ => String::new(),
            })
            .unwrap_or_default();
        let new = |path: PathBuf, content: String| Change {
            path: relative(&root, &path),
            content,
            update: None,
        };
        writes.push(new(
            archive.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{archive_package}\"\ndescription = \"The migrations of \
                 {package} that no longer change, moved here by `godwit archive`\"\n\
                 version = \"0.1.0\"\n{edition}publish = false\n\n\
                 [dependencies]\ngodwit = {godwit}\n\n[build-dependencies]\ngodwit-build = {godwit_build}\n"
            ),
        ));
        writes.push(new(
            archive.join("build.rs"),
            "//! Declares every `src/migrations/*.rs` as a module.\n\nfn main() {\n    \
             godwit_build::discover();\n}\n"
                .into(),
        ));
        writes.push(new(
            archive.join("src/lib.rs"),
            format!(
                "//! The migrations of `{package}` that no longer change, which it links: moved \
                 here\n//! by `godwit archive`, so that adding a migration does not compile \
                 them again.\n\ngodwit::migrations!();\n"
            ),
        ));
    }
    // Link the archive: a dependency, and a `use` so that its migrations register themselves.
    let dependencies = manifest
        .entry("dependencies")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| {
            anyhow!(
                "`dependencies` in `{}` is not a table",
                manifest_path.display()
            )
        })?;
    if dependencies.get(&archive_package).is_none() {
        let mut dependency = InlineTable::new();
        dependency.insert("path", Value::from(ARCHIVE_DIR));
        dependencies.insert(
            &archive_package,
            Item::Value(Value::InlineTable(dependency)),
        );
        writes.push(Change {
            path: relative(&root, &manifest_path),
            content: manifest.to_string(),
            update: Some(format!("dependency `{archive_package}` added")),
        });
    }
    let source = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|s| krate.join(s))
        .find(|p| p.is_file())
        .unwrap_or_else(|| krate.join("src/main.rs"));
    let text = fs::read_to_string(&source)
        .with_context(|| format!("cannot read `{}`", source.display()))?;
    let link = format!("use {ident} as _;");
    if !text.contains(&link) {
        let mut content = text;
        if !content.ends_with('\n') {
            content.push('\n');
        }
        let _ = write!(
            content,
            "\n// The migrations that no longer change, moved by `godwit archive`: linked, so that \
             they\n// register themselves.\n{link}\n"
        );
        writes.push(Change {
            path: relative(&root, &source),
            content,
            update: Some(format!("links `{ident}`")),
        });
    }
    let moves: Vec<(PathBuf, PathBuf)> = moved
        .iter()
        .map(|(_, from)| {
            (
                from.clone(),
                archived_dir.join(from.file_name().unwrap_or_default()),
            )
        })
        .collect();
    let range = (
        moved.first().map_or(0, |(v, _)| *v),
        moved.last().map_or(0, |(v, _)| *v),
    );
    Ok(Plan {
        root,
        krate,
        archive_package,
        writes,
        moves,
        range,
    })
}

impl Plan {
    /// Create the archive crate (when new), link it, then move the files: every migration stays
    /// in a crate the binary links, whenever this stops.
    pub fn write(&self) -> anyhow::Result<()> {
        for w in &self.writes {
            w.write_under(&self.root)?;
        }
        for (moved, (from, to)) in self.moves.iter().enumerate() {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create `{}`", parent.display()))?;
            }
            fs::rename(from, to).with_context(|| {
                format!(
                    "cannot move `{}` to `{}` (after moving {moved} of {} migrations; run godwit \
                     archive again with the same version to move the rest)",
                    from.display(),
                    to.display(),
                    self.moves.len()
                )
            })?;
        }
        Ok(())
    }

    /// What was (or, for a dry run, would be) done, and what to run next.
    pub fn summary(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let n = self.moves.len();
        let _ = writeln!(
            out,
            "{} {n} migration{} ({} to {}) into {} (package `{}`)",
            if dry_run { "Would archive" } else { "Archived" },
            if n == 1 { "" } else { "s" },
            self.range.0,
            self.range.1,
            show(&self.root, &self.krate.join(ARCHIVE_DIR), true),
            self.archive_package
        );
        let (create, update, movement) = if dry_run {
            ("would create", "would update", "would move")
        } else {
            ("created", "updated", "moved")
        };
        for w in &self.writes {
            let path = slashes(&w.path);
            match &w.update {
                None => {
                    let _ = writeln!(out, "  {create:<12} {path}");
                }
                Some(what) => {
                    let _ = writeln!(out, "  {update:<12} {path} ({what})");
                }
            }
        }
        let _ = writeln!(
            out,
            "  {movement:<12} {n} file{} from {} to {}",
            if n == 1 { "" } else { "s" },
            show(&self.root, &self.krate.join("src/migrations"), true),
            show(
                &self.root,
                &self.krate.join(ARCHIVE_DIR).join("src/migrations"),
                true
            ),
        );
        if dry_run {
            out.push_str("Nothing was written.\n");
            return out;
        }
        out.push_str(
            "\nVersions, names and checksums are unchanged: history and migrations.sum see the \
             same migrations.\nNext:\n  \
             cargo xtask migrate check    # migrations.sum matches every migration, archived ones included\n  \
             git add -A                   # commit the moves with the new crate\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml_edit::DocumentMut;

    #[test]
    fn versions_from_file_names_and_arguments() {
        assert_eq!(
            file_version("m20261120_090000_create_users.rs"),
            Some(20261120090000)
        );
        for bad in [
            "m20261120_090000.rs",
            "m2026112_090000_x.rs",
            "20261120_090000_x.rs",
            "m20261120_090000_x.txt",
            "m2026112x_090000_x.rs",
        ] {
            assert_eq!(file_version(bad), None, "{bad}");
        }
        assert_eq!(parse_version("20261120090000").unwrap(), 20261120090000);
        assert_eq!(parse_version("20261120_090000").unwrap(), 20261120090000);
        let e = parse_version("2026").unwrap_err().to_string();
        assert!(e.contains("14 digits"), "{e}");
    }

    /// A workspace with a migrations crate `dir` holding `files` (name, source); its root.
    fn project(crates: &[&str], files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let members: Vec<String> = crates.iter().map(|c| format!("{c:?}")).collect();
        fs::write(
            root.path().join("Cargo.toml"),
            format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
        )
        .unwrap();
        for krate in crates {
            let dir = root.path().join(krate);
            fs::create_dir_all(dir.join("src/migrations")).unwrap();
            fs::write(
                dir.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"app-{krate}\"\nedition = \"2024\"\n\n[dependencies]\n\
                     godwit = {{ path = \"../vendor/godwit\" }}\n\n[build-dependencies]\n\
                     godwit-build = {{ path = \"../vendor/godwit-build\" }}\n"
                ),
            )
            .unwrap();
            fs::write(dir.join("src/main.rs"), "godwit::main!();\n").unwrap();
            fs::write(dir.join("src/lib.rs"), "godwit::migrations!();\n").unwrap();
            for (name, source) in files {
                fs::write(dir.join("src/migrations").join(name), source).unwrap();
            }
        }
        root
    }

    fn options(root: &Path, through: &str) -> Options {
        Options {
            dir: root.to_path_buf(),
            krate: None,
            through: through.into(),
        }
    }

    #[test]
    fn plans_the_archive_crate_and_refuses_what_would_break() {
        let plain = "use godwit::prelude::*;\nmacro_rules! m { () => { $crate::x() } }\n";
        let root = project(
            &["migrations"],
            &[
                ("m20260101_000001_a.rs", plain),
                ("m20260101_000002_b.rs", plain),
                (
                    "m20260101_000003_c.rs",
                    "const X: u8 = crate::helpers::X;\n",
                ),
                ("notes.md", "not a migration"),
            ],
        );
        let planned = plan(&options(root.path(), "20260101_000002")).unwrap();
        assert_eq!(planned.moves.len(), 2, "{planned:?}");
        assert_eq!(planned.range, (20260101000001, 20260101000002));
        let manifest = &planned.writes[0];
        assert!(manifest.path.ends_with("migrations/archive/Cargo.toml"));
        assert!(
            manifest
                .content
                .contains("name = \"app-migrations-archive\"")
                && manifest
                    .content
                    .contains("godwit = { path = \"../../vendor/godwit\" }")
                && manifest
                    .content
                    .contains("godwit-build = { path = \"../../vendor/godwit-build\" }")
                && manifest.content.contains("edition = \"2024\""),
            "{}",
            manifest.content
        );
        let edits: Vec<&str> = planned
            .writes
            .iter()
            .filter_map(|w| w.update.as_deref())
            .collect();
        assert_eq!(
            edits,
            [
                "dependency `app-migrations-archive` added",
                "links `app_migrations_archive`"
            ]
        );

        // A migration that uses the crate's own items stays, and nothing moves.
        let e = plan(&options(root.path(), "20260101000003"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("moves nothing") && e.contains("m20260101_000003_c.rs` uses `crate::`"),
            "{e}"
        );
        // An `archive` directory that is something else.
        fs::create_dir_all(root.path().join("migrations/archive")).unwrap();
        let e = plan(&options(root.path(), "20260101000001"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("exists and is not an archive crate"), "{e}");
    }

    #[test]
    fn two_migrations_crates_need_to_be_told_apart() {
        let root = project(&["one", "two"], &[("m20260101_000001_a.rs", "")]);
        let e = plan(&options(root.path(), "20260101000001"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has 2 migrations crates (`one/`, `two/`): pass `--crate DIR`"),
            "{e}"
        );
        // From inside one of them, or with `--crate`, it is that one.
        let inside = plan(&options(&root.path().join("two"), "20260101000001")).unwrap();
        assert!(inside.krate.ends_with("two"), "{inside:?}");
        let given = plan(&Options {
            krate: Some(PathBuf::from("one")),
            ..options(root.path(), "20260101000001")
        })
        .unwrap();
        assert!(given.krate.ends_with("one"), "{given:?}");
    }

    #[test]
    fn dependencies_rebased_one_directory_deeper() {
        let doc: DocumentMut = "[dependencies]\n\
             godwit = { path = \"../crates/godwit\", default-features = false, features = [\"postgres\"] }\n\
             [build-dependencies.godwit-build]\npath = \"/abs/godwit-build\"\n\
             [dev-dependencies]\nx = \"1.0\"\ny = { workspace = true }\n"
            .parse()
            .unwrap();
        let m = Path::new("Cargo.toml");
        assert_eq!(
            rebased(&doc["dependencies"]["godwit"], "godwit", m).unwrap(),
            "{ path = \"../../crates/godwit\", default-features = false, features = [\"postgres\"] }"
        );
        assert_eq!(
            rebased(
                &doc["build-dependencies"]["godwit-build"],
                "godwit-build",
                m
            )
            .unwrap(),
            "{ path = \"/abs/godwit-build\" }"
        );
        assert_eq!(
            rebased(&doc["dev-dependencies"]["x"], "x", m).unwrap(),
            "\"1.0\""
        );
        assert_eq!(
            rebased(&doc["dev-dependencies"]["y"], "y", m).unwrap(),
            "{ workspace = true }"
        );
    }
}
