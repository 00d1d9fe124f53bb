//! `godwit init`: plan every file against the project as it is, then write them.
//!
//! [`plan`] reads and writes nothing but the project's manifests and cargo configuration (read
//! only); it gathers every conflict before failing, so one run names them all. [`Plan::write`]
//! then creates the new files (refusing any that appeared in between) and rewrites the two files
//! it edits, the root `Cargo.toml` and the cargo configuration, keeping their formatting and
//! comments.

use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::templates;

/// The migrations crate's default name and directory.
pub const DEFAULT_NAME: &str = "migrations";

/// The xtask crate's name and directory.
const XTASK: &str = "xtask";

/// The godwit-cli crate's directory when this binary was built: `<godwit>/crates/godwit-cli`.
const BUILT_FROM: &str = env!("CARGO_MANIFEST_DIR");

/// What `godwit init` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to start looking for the cargo project (walking up).
    pub dir: PathBuf,
    /// The migrations crate's package name and directory.
    pub name: String,
    /// A godwit checkout or its `crates` directory; `None` for the tree this binary was built from.
    pub godwit_path: Option<PathBuf>,
    /// Depend on godwit from crates.io even when this binary was built from a checkout.
    pub registry: bool,
    /// The backends the migrations binary is built for (godwit's cargo features); empty for all
    /// three.
    pub backends: Vec<Backend>,
}

/// A database godwit can migrate, as `init --backend` names it: each is a cargo feature of
/// `godwit`, and a migrations binary built for some compiles only their drivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    /// PostgreSQL: the `postgres` feature.
    Postgres,
    /// MySQL and MariaDB: the `mysql` feature.
    Mysql,
    /// SQLite: the `sqlite` feature.
    Sqlite,
}

impl Backend {
    /// godwit's cargo feature for it.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Where the migrations crate gets godwit from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The `crates` directory of a godwit checkout (absolute): path dependencies.
    Path(PathBuf),
    /// crates.io, at this version: `godwit = "0.1.0"`.
    Registry(String),
}

/// What the workspace root was before `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// A `Cargo.toml` with a `[workspace]` table.
    Workspace,
    /// A single package, which becomes the root of a workspace.
    Package,
}

/// One file `init` writes.
#[derive(Debug, Clone)]
pub struct Change {
    /// Relative to the workspace root.
    pub path: PathBuf,
    /// The whole file as it will be written.
    pub content: String,
    /// `None` for a new file; what changes for an existing one.
    pub update: Option<String>,
}

/// Everything `init` will write, checked against the project.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The workspace root (absolute).
    pub root: PathBuf,
    /// What the root was before `init`.
    pub root_kind: RootKind,
    /// The migrations crate's directory at the root.
    pub name: String,
    /// Its package name: `<project>-migrations` for the default directory, so that two projects
    /// sharing a target directory do not share a package (see [`package_name`]).
    pub package: String,
    /// Where the migrations crate gets godwit from.
    pub source: Source,
    /// The backends it is built for; empty for all three.
    pub backends: Vec<Backend>,
    /// New files first, then the edits of existing ones.
    pub changes: Vec<Change>,
}

/// Plan `init` for `options`: find the workspace, check that nothing would be overwritten, and
/// compute every file. Fails, naming every conflict, without writing anything.
pub fn plan(options: &Options) -> anyhow::Result<Plan> {
    check_name(&options.name)?;
    let source = source(options.godwit_path.as_deref(), options.registry)?;
    let mut backends = options.backends.clone();
    backends.sort();
    backends.dedup();
    if backends.len() == 3 {
        backends.clear();
    }
    let start = fs::canonicalize(&options.dir)
        .with_context(|| format!("cannot open the directory `{}`", options.dir.display()))?;
    let (root, root_kind, mut manifest) = find_root(&start)?;

    let name = options.name.as_str();
    let package = package_name(name, &root, &manifest);
    let package = package.as_str();
    let mut conflicts: Vec<String> = Vec::new();
    for dir in [name, XTASK] {
        let path = root.join(dir);
        if fs::symlink_metadata(&path).is_ok() {
            conflicts.push(format!("`{}` exists", show(&root, &path, path.is_dir())));
        }
    }

    // The workspace members: add the two crates unless a member pattern covers them already.
    let members = string_list(&manifest, "members")?;
    let excluded = string_list(&manifest, "exclude")?;
    let mut added = Vec::new();
    for dir in [name, XTASK] {
        if excluded.iter().any(|e| normalize(e) == dir) {
            conflicts.push(format!(
                "`Cargo.toml` excludes `{dir}` from the workspace: remove it from `workspace.exclude`"
            ));
        } else if !members.iter().any(|m| glob_match(&normalize(m), dir)) {
            added.push(dir);
        }
    }
    for (member, at) in member_packages(&root, &members) {
        // A member in the directory `init` would create is reported as that directory.
        let reported = at == root.join(name) || at == root.join(XTASK);
        if (member == package || member == XTASK) && !reported {
            conflicts.push(format!(
                "the workspace already has a package named `{member}`, in `{}`",
                show(&root, &at, true)
            ));
        }
    }

    // The cargo configuration: cargo reads `.cargo/config` rather than `config.toml` when both
    // exist, so that is the one to edit.
    let legacy = root.join(".cargo").join("config");
    let config_path = if legacy.is_file() {
        legacy
    } else {
        root.join(".cargo").join("config.toml")
    };
    let config = match fs::read_to_string(&config_path) {
        Ok(text) => match alias_edit(&text) {
            Ok(AliasEdit::Present) => None,
            Ok(AliasEdit::Add(new)) => Some(Change {
                path: relative(&root, &config_path),
                content: new,
                update: Some("alias `xtask` added".into()),
            }),
            Err(why) => {
                conflicts.push(format!("`{}` {why}", show(&root, &config_path, false)));
                None
            }
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Some(Change {
            path: relative(&root, &config_path),
            content: templates::CARGO_CONFIG.into(),
            update: None,
        }),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read `{}`", config_path.display()));
        }
    };

    if !conflicts.is_empty() {
        let mut message = format!(
            "godwit init writes nothing, since it would overwrite what is in `{}`:\n",
            root.display()
        );
        for c in &conflicts {
            let _ = writeln!(message, "  - {c}");
        }
        message.push_str(
            "move or remove them and run it again, or pick another name for the migrations crate with \
             `--name`; if this project is already set up, run `cargo xtask migrate status`",
        );
        bail!(message);
    }

    // Path dependencies: relative to the migrations crate when godwit lives inside the
    // workspace (so the whole tree can move), absolute otherwise.
    let dependency = |krate: &str| -> templates::Dependency {
        match &source {
            Source::Registry(version) => templates::Dependency::Version(version.clone()),
            Source::Path(crates) => {
                let path = crates.join(krate);
                templates::Dependency::Path(match path.strip_prefix(&root) {
                    Ok(inside) => slashes(&Path::new("..").join(inside)),
                    Err(_) => path.display().to_string(),
                })
            }
        }
    };
    let features: Vec<&str> = backends.iter().map(|b| b.feature()).collect();

    let migrations = Path::new(name);
    let xtask = Path::new(XTASK);
    let new = |path: PathBuf, content: String| Change {
        path,
        content,
        update: None,
    };
    let mut changes = vec![
        new(
            migrations.join("Cargo.toml"),
            templates::migrations_manifest(
                package,
                &dependency("godwit"),
                &dependency("godwit-build"),
                &features,
            ),
        ),
        new(
            migrations.join("build.rs"),
            templates::MIGRATIONS_BUILD_RS.into(),
        ),
        new(
            migrations.join("src").join("main.rs"),
            templates::MIGRATIONS_MAIN_RS.into(),
        ),
        new(
            migrations.join("src").join("lib.rs"),
            templates::migrations_lib_rs(name, &features),
        ),
        new(
            migrations.join("src").join("migrations").join(".gitkeep"),
            String::new(),
        ),
        new(
            migrations.join("migrations.sum"),
            templates::MIGRATIONS_SUM.into(),
        ),
        new(
            migrations.join(".gitignore"),
            templates::MIGRATIONS_GITIGNORE.into(),
        ),
        new(xtask.join("Cargo.toml"), templates::XTASK_MANIFEST.into()),
        new(
            xtask.join("src").join("main.rs"),
            templates::xtask_main_rs(package),
        ),
    ];
    if let Some(config) = config {
        changes.push(config);
    }
    if !added.is_empty() {
        add_members(&mut manifest, &added)?;
        let what = match root_kind {
            RootKind::Workspace => format!("workspace members {} added", added.join(", ")),
            RootKind::Package => format!(
                "now a workspace: `[workspace]` with members {}",
                added.join(", ")
            ),
        };
        changes.push(Change {
            path: PathBuf::from("Cargo.toml"),
            content: manifest.to_string(),
            update: Some(what),
        });
    }
    Ok(Plan {
        root,
        root_kind,
        name: name.to_owned(),
        package: package.to_owned(),
        source,
        backends,
        changes,
    })
}

impl Change {
    /// Write it under `root`: a new file only if it still does not exist, an update over the
    /// file it replaces.
    pub(crate) fn write_under(&self, root: &Path) -> anyhow::Result<()> {
        let path = root.join(&self.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        if self.update.is_some() {
            fs::write(&path, &self.content)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        } else {
            use std::io::Write as _;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("cannot create `{}`", path.display()))?;
            file.write_all(self.content.as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        Ok(())
    }
}

impl Plan {
    /// Write every change: new files are created only if they still do not exist.
    pub fn write(&self) -> anyhow::Result<()> {
        let mut done: Vec<String> = Vec::new();
        for change in &self.changes {
            if let Err(e) = change.write_under(&self.root) {
                if done.is_empty() {
                    return Err(e);
                }
                return Err(e.context(format!(
                    "godwit init stopped half-way, after writing {}",
                    done.join(", ")
                )));
            }
            done.push(format!("`{}`", slashes(&change.path)));
        }
        Ok(())
    }

    /// What was (or, for a dry run, would be) created and changed, and what to run next.
    pub fn summary(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let (create, update) = if dry_run {
            ("would create", "would update")
        } else {
            ("created", "updated")
        };
        let _ = writeln!(
            out,
            "{} godwit migrations in {}",
            if dry_run { "Would set up" } else { "Set up" },
            self.root.display()
        );
        for change in &self.changes {
            let path = slashes(&change.path);
            match &change.update {
                None => {
                    let _ = writeln!(out, "  {create:<12} {path}");
                }
                Some(what) => {
                    let _ = writeln!(out, "  {update:<12} {path} ({what})");
                }
            }
        }
        match &self.source {
            Source::Path(crates) => {
                let _ = writeln!(
                    out,
                    "godwit comes from {} (path dependencies; `--godwit-path` picks another \
                     checkout, `--registry` crates.io)",
                    crates.display()
                );
            }
            Source::Registry(version) => {
                let _ = writeln!(out, "godwit comes from crates.io, version {version}");
            }
        }
        let backends = if self.backends.is_empty() {
            "PostgreSQL, MySQL/MariaDB and SQLite".to_string()
        } else {
            self.backends
                .iter()
                .map(|b| match b {
                    Backend::Postgres => "PostgreSQL",
                    Backend::Mysql => "MySQL/MariaDB",
                    Backend::Sqlite => "SQLite",
                })
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let _ = writeln!(
            out,
            "the migrations binary is built for {backends} (`--backend` chooses; godwit's cargo \
             features)"
        );
        if dry_run {
            out.push_str("Nothing was written.\n");
            return out;
        }
        let has_sqlite = self.backends.is_empty() || self.backends.contains(&Backend::Sqlite);
        out.push_str("\nNext:\n");
        if !has_sqlite {
            let example = match self.backends[0] {
                Backend::Postgres => "postgres://user:password@localhost/app",
                _ => "mysql://user:password@localhost/app",
            };
            let _ = writeln!(
                out,
                "  export DATABASE_URL={example}   # or DATABASE_URL=... in .env"
            );
        }
        let database = if has_sqlite {
            format!(
                "the database is {}/dev.db (SQLite) unless DATABASE_URL is set",
                self.name
            )
        } else {
            "on the database DATABASE_URL names".to_string()
        };
        let _ = write!(
            out,
            "  \
             cargo xtask migrate new \"create users\"   # writes {name}/src/migrations/m<UTC time>_create_users.rs\n  \
             cargo xtask migrate up                   # applies it; {database}\n  \
             cargo xtask migrate status               # what is applied and what is pending\n  \
             cargo xtask migrate --help               # every command\n",
            name = self.name
        );
        out
    }
}

/// The migrations crate's package name. For the default directory, `<project>-migrations`, the
/// project being the root package's name or else the root directory's: cargo treats two path
/// packages of one name, version and relative path as one, so two projects that share a target
/// directory (`CARGO_TARGET_DIR`) and both called theirs `migrations` would run each other's
/// binary. A name given with `--name` is used as it is.
pub fn package_name(name: &str, root: &Path, manifest: &DocumentMut) -> String {
    if name != DEFAULT_NAME {
        return name.to_string();
    }
    let project = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .map(str::to_string)
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut slug: String = project
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    slug = slug.trim_matches('-').to_string();
    match slug.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => format!("{slug}-migrations"),
        Some(_) => format!("app-{slug}-migrations"),
        None => DEFAULT_NAME.to_string(),
    }
}

/// A cargo package name that is also a directory and a binary name.
fn check_name(name: &str) -> anyhow::Result<()> {
    const RESERVED: [&str; 6] = ["xtask", "test", "deps", "build", "examples", "incremental"];
    const KEYWORDS: [&str; 51] = [
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
        "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while",
    ];
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{name}` cannot be the migrations crate's name: it is a package, directory and binary \
             name, so use ASCII letters, digits, `-` and `_`, starting with a letter (such as `--name db`)"
        );
    }
    if RESERVED.contains(&name) || KEYWORDS.contains(&name) {
        bail!(
            "`{name}` cannot be the migrations crate's name: cargo or the `xtask` crate uses it; pick \
             another, such as the default `{DEFAULT_NAME}`"
        );
    }
    Ok(())
}

/// The godwit crates directory: from `--godwit-path` (a checkout, its `crates` directory, or one
/// of its crates), else the tree this binary was built from.
/// Where godwit comes from: the checkout `--godwit-path` names; crates.io with `--registry`; else
/// the checkout this binary was built from, while it exists; else (a `godwit` installed from
/// crates.io) crates.io, at this binary's version.
fn source(given: Option<&Path>, registry: bool) -> anyhow::Result<Source> {
    let from_registry = || Source::Registry(env!("CARGO_PKG_VERSION").to_string());
    if registry {
        if given.is_some() {
            bail!("--registry and --godwit-path ask for two sources of godwit: pass one of them");
        }
        return Ok(from_registry());
    }
    if given.is_none() && !Path::new(BUILT_FROM).parent().is_some_and(is_crates) {
        return Ok(from_registry());
    }
    godwit_crates(given).map(Source::Path)
}

/// Whether `dir` is a godwit checkout's `crates` directory.
fn is_crates(dir: &Path) -> bool {
    dir.join("godwit").join("Cargo.toml").is_file()
        && dir.join("godwit-build").join("Cargo.toml").is_file()
}

fn godwit_crates(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => {
            let dir = fs::canonicalize(path).with_context(|| {
                format!(
                    "--godwit-path `{}` cannot be opened: pass the directory of a godwit checkout",
                    path.display()
                )
            })?;
            let candidates = [
                Some(dir.join("crates")),
                Some(dir.clone()),
                dir.parent().map(Path::to_path_buf),
            ];
            candidates
                .into_iter()
                .flatten()
                .find(|c| is_crates(c))
                .ok_or_else(|| {
                    anyhow!(
                        "--godwit-path `{}` is not a godwit source tree: it has no \
                         `crates/godwit/Cargo.toml` and `crates/godwit-build/Cargo.toml`; pass the \
                         directory of a godwit checkout",
                        path.display()
                    )
                })
        }
        None => {
            let built = Path::new(BUILT_FROM);
            match built.parent() {
                Some(crates) if is_crates(crates) => {
                    Ok(fs::canonicalize(crates).unwrap_or_else(|_| crates.to_path_buf()))
                }
                _ => bail!(
                    "the godwit source tree this `godwit` was built from (`{}`) is gone: pass \
                     `--godwit-path DIR`, the directory of a godwit checkout",
                    built.parent().unwrap_or(built).display()
                ),
            }
        }
    }
}

pub(crate) fn read_manifest(path: &Path) -> anyhow::Result<DocumentMut> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    text.parse::<DocumentMut>()
        .map_err(|e| anyhow!("`{}` is not valid TOML: {e}", path.display()))
}

/// The workspace root, walking up from `start` as cargo does: the nearest `Cargo.toml` with a
/// `[workspace]`, or the one its `package.workspace` names; a package outside any workspace is
/// the root itself (and becomes a workspace).
pub(crate) fn find_root(start: &Path) -> anyhow::Result<(PathBuf, RootKind, DocumentMut)> {
    let mut nearest: Option<(PathBuf, DocumentMut)> = None;
    for dir in start.ancestors() {
        let path = dir.join("Cargo.toml");
        if !path.is_file() {
            continue;
        }
        let doc = read_manifest(&path)?;
        if doc.contains_key("workspace") {
            if let Some((package_dir, _)) = &nearest {
                // An ancestor workspace that excludes the package is not its workspace.
                let relative = relative(dir, package_dir);
                let excluded = string_list(&doc, "exclude")?
                    .iter()
                    .any(|e| relative.starts_with(normalize(e)));
                if excluded {
                    break;
                }
            }
            return Ok((dir.to_path_buf(), RootKind::Workspace, doc));
        }
        if nearest.is_none() {
            let pointer = doc
                .get("package")
                .and_then(|p| p.get("workspace"))
                .and_then(Item::as_str)
                .map(str::to_owned);
            if let Some(pointer) = pointer {
                let root = fs::canonicalize(dir.join(&pointer)).with_context(|| {
                    format!(
                        "`{}` names the workspace `{pointer}`, which cannot be opened",
                        path.display()
                    )
                })?;
                let root_doc = read_manifest(&root.join("Cargo.toml"))?;
                if !root_doc.contains_key("workspace") {
                    bail!(
                        "`{}` names the workspace `{pointer}`, whose Cargo.toml has no `[workspace]`",
                        path.display()
                    );
                }
                return Ok((root, RootKind::Workspace, root_doc));
            }
            if !doc.contains_key("package") {
                bail!(
                    "`{}` has neither `[package]` nor `[workspace]`: fix it, then run godwit init again",
                    path.display()
                );
            }
            nearest = Some((dir.to_path_buf(), doc));
        }
    }
    match nearest {
        Some((dir, doc)) => Ok((dir, RootKind::Package, doc)),
        None => bail!(
            "no Cargo.toml in `{}` or any directory above it: godwit init adds migrations to a cargo \
             project, so create one first (`cargo new my-app`), then run godwit init in it",
            start.display()
        ),
    }
}

/// `workspace.<key>` as strings (empty when absent).
pub(crate) fn string_list(doc: &DocumentMut, key: &str) -> anyhow::Result<Vec<String>> {
    let Some(item) = doc.get("workspace").and_then(|w| w.get(key)) else {
        return Ok(Vec::new());
    };
    let array = item
        .as_array()
        .ok_or_else(|| anyhow!("`workspace.{key}` in Cargo.toml is not an array of paths"))?;
    Ok(array
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// A member path as written (`./migrations/`, `crates\\x`) in the form compared.
fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// Whether `path` matches a member pattern, `*` and `?` matching within one path component.
fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| component_match(p, s))
}

fn component_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((b'?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// The workspace's packages that can be found without cargo: the root package and every
/// member directory (patterns expanded), as (package name, directory).
pub(crate) fn member_packages(root: &Path, members: &[String]) -> Vec<(String, PathBuf)> {
    let mut dirs = vec![root.to_path_buf()];
    for member in members {
        let mut matched = vec![root.to_path_buf()];
        for part in normalize(member).split('/').filter(|p| !p.is_empty()) {
            let mut next = Vec::new();
            for dir in &matched {
                if part.contains(['*', '?']) {
                    let Ok(entries) = fs::read_dir(dir) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        let name = entry.file_name();
                        if component_match(part, &name.to_string_lossy()) {
                            next.push(entry.path());
                        }
                    }
                } else if part == ".." {
                    next.push(dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf));
                } else {
                    next.push(dir.join(part));
                }
            }
            matched = next;
        }
        dirs.extend(matched);
    }
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(text) = fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let Ok(doc) = text.parse::<DocumentMut>() else {
            continue;
        };
        if let Some(name) = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Item::as_str)
            && !found.iter().any(|(_, d)| d == &dir)
        {
            found.push((name.to_owned(), dir));
        }
    }
    found
}

/// Add `dirs` to `workspace.members`, creating `[workspace]` or `members` when missing, in the
/// array's own layout (one per line when it is written one per line).
fn add_members(doc: &mut DocumentMut, dirs: &[&str]) -> anyhow::Result<()> {
    if !doc.contains_key("workspace") {
        let mut table = Table::new();
        table.set_position(None);
        doc.insert("workspace", Item::Table(table));
    }
    let workspace = doc["workspace"]
        .as_table_like_mut()
        .ok_or_else(|| anyhow!("`workspace` in Cargo.toml is not a table"))?;
    if workspace.get("members").is_none() {
        workspace.insert("members", Item::Value(Value::Array(Default::default())));
    }
    let array = workspace
        .get_mut("members")
        .and_then(Item::as_array_mut)
        .ok_or_else(|| anyhow!("`workspace.members` in Cargo.toml is not an array of paths"))?;
    // The first element has no space before it: the others get one.
    let decor = array.iter().last().map(|v| {
        let prefix = v.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
        let suffix = v.decor().suffix().and_then(|s| s.as_str()).unwrap_or("");
        let prefix = if prefix.is_empty() { " " } else { prefix };
        (prefix.to_owned(), suffix.to_owned())
    });
    for dir in dirs {
        let mut value = Value::from(*dir);
        if let Some((prefix, suffix)) = &decor {
            value.decor_mut().set_prefix(prefix.as_str());
            value.decor_mut().set_suffix(suffix.as_str());
        }
        array.push_formatted(value);
    }
    if decor.is_none() {
        array.fmt();
    }
    Ok(())
}

enum AliasEdit {
    /// The alias is there already and runs the xtask package.
    Present,
    /// The configuration with the alias added.
    Add(String),
}

/// Add `alias.xtask` to a cargo configuration, or say why it cannot be.
fn alias_edit(text: &str) -> Result<AliasEdit, String> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| format!("is not valid TOML ({e}): fix it, then run godwit init again"))?;
    if let Some(alias) = doc.get("alias") {
        let alias = alias
            .as_table_like()
            .ok_or("has an `alias` that is not a table: make it `[alias]`")?;
        if let Some(existing) = alias.get("xtask") {
            let words: Option<Vec<String>> = match existing {
                Item::Value(Value::String(s)) => {
                    Some(s.value().split_whitespace().map(str::to_owned).collect())
                }
                Item::Value(Value::Array(a)) => {
                    a.iter().map(|v| v.as_str().map(str::to_owned)).collect()
                }
                _ => None,
            };
            if words.as_deref().is_some_and(runs_xtask) {
                return Ok(AliasEdit::Present);
            }
            return Err(format!(
                "already has an alias `xtask = {}`, which does not run the xtask package: remove it, \
                 or make it `xtask = \"{}\"`",
                existing.to_string().trim(),
                templates::XTASK_ALIAS
            ));
        }
    } else {
        doc.insert("alias", Item::Table(Table::new()));
    }
    let alias = doc["alias"]
        .as_table_like_mut()
        .ok_or("has an `alias` that is not a table: make it `[alias]`")?;
    alias.insert("xtask", toml_edit::value(templates::XTASK_ALIAS));
    Ok(AliasEdit::Add(doc.to_string()))
}

/// Whether an alias's words are `run` of the xtask package (`-p xtask`, `--package=xtask`, ...).
fn runs_xtask(words: &[String]) -> bool {
    if words.first().map(String::as_str) != Some("run") {
        return false;
    }
    words
        .windows(2)
        .any(|w| (w[0] == "-p" || w[0] == "--package") && w[1] == XTASK)
        || words
            .iter()
            .any(|w| w == "--package=xtask" || w == "-pxtask" || w == "-p=xtask")
}

/// `path` relative to `base`, or `path` itself when it is not under it.
pub(crate) fn relative(base: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// How a path is shown in a message: relative to the root, with `/` (and a trailing one for a
/// directory).
pub(crate) fn show(root: &Path, path: &Path, dir: bool) -> String {
    let mut shown = slashes(&relative(root, path));
    if shown.is_empty() {
        shown.push('.');
    }
    if dir && !shown.ends_with('/') {
        shown.push('/');
    }
    shown
}

/// A relative path with `/` separators, as written in Cargo.toml and printed.
pub(crate) fn slashes(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            Component::CurDir => None,
            Component::RootDir | Component::Prefix(_) => Some(String::new()),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(glob_match("migrations", "migrations"));
        assert!(glob_match("*", "xtask"));
        assert!(!glob_match("crates/*", "xtask"));
        assert!(glob_match("x?ask", "xtask"));
        assert_eq!(normalize("./crates/x/"), "crates/x");
    }

    #[test]
    fn aliases() {
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert!(runs_xtask(&words("run --package xtask --")));
        assert!(runs_xtask(&words("run -p xtask")));
        assert!(!runs_xtask(&words("run --package tasks --")));
        assert!(matches!(
            alias_edit("[alias]\nxtask = \"run -p xtask --\"\n"),
            Ok(AliasEdit::Present)
        ));
        assert!(alias_edit("[alias]\nxtask = \"run -p tasks --\"\n").is_err());
        let Ok(AliasEdit::Add(text)) = alias_edit("# mine\n[build]\njobs = 2\n") else {
            panic!("the alias is added");
        };
        assert_eq!(
            text,
            "# mine\n[build]\njobs = 2\n\n[alias]\nxtask = \"run --package xtask --\"\n"
        );
    }

    #[test]
    fn members_keep_their_layout() {
        let mut doc: DocumentMut = "[workspace]\nmembers = [\n    \"app\",\n]\n"
            .parse()
            .unwrap();
        add_members(&mut doc, &["migrations", "xtask"]).unwrap();
        assert_eq!(
            doc.to_string(),
            "[workspace]\nmembers = [\n    \"app\",\n    \"migrations\",\n    \"xtask\",\n]\n"
        );
        let mut doc: DocumentMut = "[workspace]\nmembers = [\"app\"]\n".parse().unwrap();
        add_members(&mut doc, &["migrations", "xtask"]).unwrap();
        assert_eq!(
            doc.to_string(),
            "[workspace]\nmembers = [\"app\", \"migrations\", \"xtask\"]\n"
        );
        let mut doc: DocumentMut = "[package]\nname = \"app\"\n".parse().unwrap();
        add_members(&mut doc, &["migrations", "xtask"]).unwrap();
        assert_eq!(
            doc.to_string(),
            "[package]\nname = \"app\"\n\n[workspace]\nmembers = [\"migrations\", \"xtask\"]\n"
        );
    }

    #[test]
    fn names() {
        assert!(check_name("migrations").is_ok());
        assert!(check_name("db-migrations").is_ok());
        for bad in ["", "1db", "my db", "xtask", "test", "crates/db", "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    /// The migrations crate's manifest `plan` writes for `options` in a fresh workspace.
    fn manifest_for(registry: bool, backends: Vec<Backend>) -> String {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nresolver = \"3\"\nmembers = []\n",
        )
        .unwrap();
        let plan = plan(&Options {
            dir: dir.path().to_path_buf(),
            name: DEFAULT_NAME.to_string(),
            godwit_path: None,
            registry,
            backends,
        })
        .unwrap();
        let manifest = plan
            .changes
            .iter()
            .find(|c| c.path == Path::new("migrations").join("Cargo.toml"))
            .unwrap();
        manifest.content.clone()
    }

    #[test]
    fn dependencies_from_crates_io_or_a_checkout_for_the_backends_asked() {
        let version = env!("CARGO_PKG_VERSION");
        let manifest = manifest_for(true, vec![]);
        assert!(
            manifest.contains(&format!("godwit = {{ version = \"{version}\" }}")),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("godwit-build = {{ version = \"{version}\" }}")),
            "{manifest}"
        );
        let manifest = manifest_for(true, vec![Backend::Sqlite, Backend::Postgres]);
        assert!(
            manifest.contains(&format!(
                "godwit = {{ version = \"{version}\", default-features = false, features = \
                 [\"postgres\", \"sqlite\", \"mimalloc\"] }}"
            )),
            "{manifest}"
        );
        // All three is godwit's default: no feature list.
        let manifest = manifest_for(
            false,
            vec![Backend::Mysql, Backend::Sqlite, Backend::Postgres],
        );
        assert!(manifest.contains("godwit = { path = \""), "{manifest}");
        assert!(!manifest.contains("features"), "{manifest}");
        assert!(manifest.parse::<DocumentMut>().is_ok());
    }
}
