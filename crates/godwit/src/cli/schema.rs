//! `schema`: the schema every migration builds, as SQL for one backend, from the code alone;
//! `--output FILE` writes it, `--check FILE` fails when FILE is not what it would write.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use clap::Args;

use super::sql::BackendArg;
use super::{Context, Failure};
use crate::{Backend, Catalog, MigrationId, Registration};

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// The backend to write SQL for [default: the scheme of DATABASE_URL, else sqlite]
    #[arg(long, short, value_enum, ignore_case = true)]
    backend: Option<BackendArg>,
    /// Compare the snapshot with FILE and fail (exit code 1) when they differ or FILE is missing
    #[arg(long, value_name = "FILE", conflicts_with = "output")]
    check: Option<String>,
    /// Write the snapshot to FILE instead of printing it
    #[arg(long, short, value_name = "FILE")]
    output: Option<String>,
    /// Compare the connected database with the schema its applied migrations build, and list
    /// every difference (exit code 1 when there is one)
    #[arg(long, conflicts_with_all = ["check", "output", "backend"])]
    pub(crate) live: bool,
    #[command(flatten)]
    pub(crate) db: super::db::DbArgs,
}

pub(crate) fn run(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    args: &SchemaArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if args.db.json {
        return Err(Failure::Exit {
            code: 2,
            errors: vec![anyhow!(
                "`schema --json` needs `--live`: the schema snapshot is SQL; `schema --live --json` \
                 lists the differences between the database and its migrations as JSON"
            )],
        });
    }
    let backend: Backend = match args.backend {
        Some(b) => b.into(),
        None => super::sql::default_backend(cx, args.db.database_url.as_deref())?,
    };
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    let snapshot = catalog
        .schema_snapshot(backend)
        .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))
        .with_context(|| format!("cannot write the {backend} schema"))?;
    let regenerate = |file: &str| format!("schema --backend {} --output {file}", backend.as_str());
    if let Some(file) = &args.check {
        let shown = cx.display(file);
        let committed = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(anyhow!(
                    "`{shown}` does not exist: write the schema snapshot with `{}`, review it and commit it",
                    regenerate(&shown)
                )
                .into());
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read `{shown}`"))
                    .into());
            }
        };
        // A checkout that turned line ends into CRLF is not a different schema.
        let committed = committed.replace("\r\n", "\n");
        if committed == snapshot {
            writeln!(
                out,
                "`{shown}` is the current {backend} schema ({} migrations)",
                resolved.len()
            )
            .map_err(anyhow::Error::new)?;
            return Ok(());
        }
        let (line, theirs, ours) = first_difference(&committed, &snapshot);
        return Err(anyhow!(
            "`{shown}` is stale: it is not the {backend} schema the migrations build; regenerate it with \
             `{}`, review the diff and commit it\n  first difference, line {line}:\n    {shown}: {theirs}\n    migrations: {ours}",
            regenerate(&shown)
        )
        .into());
    }
    if let Some(file) = &args.output {
        write_file(Path::new(file), &snapshot)
            .with_context(|| format!("cannot write `{}`", cx.display(file)))?;
        writeln!(
            out,
            "wrote the {backend} schema after {} migrations to `{}`",
            resolved.len(),
            cx.display(file)
        )
        .map_err(anyhow::Error::new)?;
        return Ok(());
    }
    out.write_all(snapshot.as_bytes())
        .map_err(anyhow::Error::new)?;
    Ok(())
}

/// Write `text` into `path` through a temporary file beside it, so that a failed write leaves
/// the old file whole.
pub(crate) fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.godwit-tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The first line (1-based) where `a` and `b` differ, and that line of each (`(end of file)`
/// past the last line).
pub(crate) fn first_difference(a: &str, b: &str) -> (usize, String, String) {
    let show = |l: Option<&str>| l.map_or("(end of file)".to_string(), str::to_string);
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 1;
    loop {
        let (x, y) = (la.next(), lb.next());
        if x.is_none() && y.is_none() {
            let end = "(a different line end after the last line)".to_string();
            return (n - 1, end.clone(), end);
        }
        if x != y {
            return (n, show(x), show(y));
        }
        n += 1;
    }
}
