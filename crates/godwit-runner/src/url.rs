//! The database URL: where it comes from, which backend it names, and how it is shown.
//!
//! **Invariant:** the password in a URL never leaves this type. `Display` and `Debug` show the
//! URL with the password replaced by `***`, and error messages about connecting are passed
//! through [`DatabaseUrl::scrub`]. Only `connect.rs` reads the URL as written.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use godwit_core::Backend;
#[cfg(feature = "mysql")]
use sqlx::mysql::MySqlConnectOptions;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgConnectOptions;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteConnectOptions;

use crate::error::Error;

/// Where a [`DatabaseUrl`] came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlSource {
    /// `--database-url`.
    Flag,
    /// The `DATABASE_URL` environment variable.
    Env,
    /// `DATABASE_URL` in this `.env` file.
    DotEnv(PathBuf),
    /// The migrations crate's default (an SQLite file).
    Default,
    /// Given to the library directly.
    Given,
}

impl fmt::Display for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlSource::Flag => f.write_str("--database-url"),
            UrlSource::Env => f.write_str("DATABASE_URL"),
            UrlSource::DotEnv(path) => write!(f, "DATABASE_URL in {}", path.display()),
            UrlSource::Default => f.write_str("the default database"),
            UrlSource::Given => f.write_str("the database URL"),
        }
    }
}

/// A parsed, checked database URL: `postgres://`, `mysql://` (or `mariadb://`), `sqlite:`.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
    /// The password as written and percent-decoded, for [`scrub`](Self::scrub).
    secrets: Vec<String>,
    redacted: String,
    source: UrlSource,
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.redacted)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl FromStr for DatabaseUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DatabaseUrl::parse(s, UrlSource::Given)
    }
}

impl DatabaseUrl {
    /// Parse and check `url`; `source` says where it came from, for messages.
    ///
    /// ```
    /// use godwit_runner::{DatabaseUrl, UrlSource};
    /// let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/blog", UrlSource::Env).unwrap();
    /// assert_eq!(url.to_string(), "postgres://app:***@db:5432/blog");
    /// assert!(DatabaseUrl::parse("postgres://app:s3cret@db:port/blog", UrlSource::Env)
    ///     .unwrap_err().to_string().contains("postgres://app:***@db:port/blog"));
    /// ```
    pub fn parse(url: &str, source: UrlSource) -> Result<DatabaseUrl, Error> {
        let url = url.trim();
        let redacted = redact(url);
        let secrets = secrets(url);
        let scrub = |text: String| scrub_all(&secrets, &text);
        let shown = if url.contains("://") || url.starts_with("sqlite:") {
            format!(" (`{redacted}`)")
        } else {
            String::new()
        };
        let invalid = |reason: String| Error::InvalidUrl {
            url: shown.clone(),
            source_name: source.to_string(),
            reason: scrub(reason),
        };
        if url.is_empty() {
            return Err(invalid(
                "it is empty: give the database's URL (an unset variable in a deploy script \
                 gives an empty one), or leave it out to use the default"
                    .to_string(),
            ));
        }
        let Some(backend) = Backend::from_url(url) else {
            let scheme = match url.split_once("://") {
                Some((scheme, _)) => format!("the scheme `{scheme}`"),
                None => "no scheme".to_string(),
            };
            return Err(invalid(format!(
                "it has {scheme}: write postgres://user:password@host/database, \
                 mysql://user:password@host/database (also for MariaDB) or sqlite:path/to/file.db"
            )));
        };
        let check = match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => PgConnectOptions::from_str(url).map(drop),
            #[cfg(feature = "mysql")]
            Backend::MySql => MySqlConnectOptions::from_str(&mysql_scheme(url)).map(drop),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => SqliteConnectOptions::from_str(url).map(drop),
            // No URL was given, and the default (an SQLite file) is not built in: say what to
            // give rather than what is wrong with a URL nobody wrote.
            #[allow(unreachable_patterns)]
            other if source == UrlSource::Default => {
                return Err(Error::NoDatabase {
                    default: redacted.clone(),
                    feature: feature_of(other),
                    built: built_in(),
                });
            }
            #[allow(unreachable_patterns)]
            other => return Err(invalid(not_built_in(other))),
        };
        if let Err(e) = check {
            return Err(invalid(format!("{e}")));
        }
        if backend == Backend::Sqlite {
            // `sqlite:` and `sqlite://` name no file: SQLite then makes a private temporary
            // database that vanishes with the connection, and migrations "applied" to it are lost.
            let path = url
                .split_once(':')
                .map_or("", |(_, rest)| rest)
                .trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or("");
            if path.is_empty() {
                return Err(invalid(
                    "it names no file: write sqlite:path/to/file.db (add ?mode=rwc to create it)"
                        .to_string(),
                ));
            }
        }
        if backend != Backend::Sqlite {
            let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
            let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
            let db = rest[host_end..]
                .strip_prefix('/')
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("");
            let named_in_query = rest.contains("dbname=");
            if db.is_empty() && !named_in_query {
                return Err(invalid(
                    "it names no database: add it after the host, as in \
                     postgres://user@localhost/app_db"
                        .to_string(),
                ));
            }
        }
        Ok(DatabaseUrl {
            url: url.to_string(),
            backend,
            secrets,
            redacted,
            source,
        })
    }

    /// The backend the scheme names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the URL came from.
    pub fn source(&self) -> &UrlSource {
        &self.source
    }

    /// The URL with its password replaced by `***`: what every message shows.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// `text` with every occurrence of the URL's password replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        scrub_all(&self.secrets, text)
    }

    /// The SQLite database file, or `None` for a server or an in-memory database.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        self.sqlite_filename()
    }

    #[cfg(not(feature = "sqlite"))]
    fn sqlite_filename(&self) -> Option<PathBuf> {
        None
    }

    #[cfg(feature = "sqlite")]
    fn sqlite_filename(&self) -> Option<PathBuf> {
        let options = SqliteConnectOptions::from_str(&self.url).ok()?;
        let file = options.get_filename();
        let name = file.to_string_lossy();
        if name == ":memory:"
            || name.starts_with("file:sqlx-in-memory")
            || self.url.contains("mode=memory")
        {
            return None;
        }
        Some(file.to_path_buf())
    }

    /// The same server and credentials with database `name` (PostgreSQL, MySQL), or the SQLite
    /// file `name` in the system's temporary directory: a scratch database.
    pub(crate) fn scratch(&self, name: &str) -> Result<DatabaseUrl, Error> {
        let url = match self.backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                format!("sqlite://{}?mode=rwc", path.display())
            }
            _ => {
                let scheme_end = self.url.find("://").map_or(0, |i| i + 3);
                let rest = &self.url[scheme_end..];
                let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
                let after = &rest[host_end..];
                let query = after.find('?').map_or("", |i| &after[i..]);
                if query.contains("dbname=") {
                    return Err(Error::InvalidUrl {
                        url: format!(" (`{}`)", self.redacted),
                        source_name: self.source.to_string(),
                        reason:
                            "a scratch database next to it needs the database name in the URL's \
                                 path (postgres://user@host/app_db), not in `dbname=`"
                                .to_string(),
                    });
                }
                format!(
                    "{}{}/{name}{query}",
                    &self.url[..scheme_end],
                    &rest[..host_end]
                )
            }
        };
        DatabaseUrl::parse(&url, self.source.clone())
    }

    /// The URL as written, for connecting. Crate-private: nothing else may see the password.
    pub(crate) fn expose(&self) -> String {
        match self.backend {
            Backend::MySql => mysql_scheme(&self.url),
            _ => self.url.clone(),
        }
    }
}

/// `mariadb://...` as `mysql://...` (sqlx reads both the same way; this keeps messages plain).
fn mysql_scheme(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => format!("mysql://{rest}"),
        _ => url.to_string(),
    }
}

/// Pick the database URL: `--database-url`, else `DATABASE_URL`, else `DATABASE_URL` in a `.env`
/// file (the first found from `dir` upwards), else `default`.
///
/// Returns `Ok(None)` when none of them gives one.
pub fn resolve(
    flag: Option<&str>,
    env: Option<&str>,
    dir: Option<&Path>,
    default: Option<&str>,
) -> Result<Option<DatabaseUrl>, Error> {
    // Given but empty (an unset variable in a deploy script) is an error, never the default.
    if let Some(url) = flag {
        return DatabaseUrl::parse(url, UrlSource::Flag).map(Some);
    }
    if let Some(url) = env {
        return DatabaseUrl::parse(url, UrlSource::Env).map(Some);
    }
    if let Some((path, url)) = dir.and_then(dotenv_database_url).transpose()? {
        return DatabaseUrl::parse(&url, UrlSource::DotEnv(path)).map(Some);
    }
    match default {
        Some(url) => DatabaseUrl::parse(url, UrlSource::Default).map(Some),
        None => Ok(None),
    }
}

/// `DATABASE_URL` from the first `.env` file found in `dir` or its parents, without touching
/// the process environment.
pub fn dotenv_database_url(dir: &Path) -> Option<Result<(PathBuf, String), Error>> {
    let path = dir
        .ancestors()
        .map(|d| d.join(".env"))
        .find(|p| p.is_file())?;
    let iter = match dotenvy::from_path_iter(&path) {
        Ok(iter) => iter,
        Err(e) => {
            return Some(Err(Error::DotEnv {
                path: path.display().to_string(),
                reason: e.to_string(),
            }));
        }
    };
    for item in iter {
        match item {
            Ok((key, value)) if key == "DATABASE_URL" && !value.trim().is_empty() => {
                return Some(Ok((path, value)));
            }
            Ok(_) => {}
            Err(e) => {
                // The parser's message quotes no values, only the line: keep it short.
                let reason = match e {
                    dotenvy::Error::LineParse(_, index) => {
                        format!("a line cannot be parsed (at character {index})")
                    }
                    other => other.to_string(),
                };
                return Some(Err(Error::DotEnv {
                    path: path.display().to_string(),
                    reason,
                }));
            }
        }
    }
    None
}

/// The password of `url` (as written, and percent-decoded), and `password=` query values.
fn secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((start, end)) = password_span(url) {
        out.push(url[start..end].to_string());
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && key.eq_ignore_ascii_case("password")
            {
                out.push(value.to_string());
            }
        }
    }
    let decoded: Vec<String> = out.iter().map(|s| percent_decode(s)).collect();
    out.extend(decoded);
    out.retain(|s| !s.is_empty());
    out.sort();
    out.dedup();
    // Longest first, so that a password containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// The byte range of the password: between the first `:` after `scheme://` and the last `@`
/// (generous on purpose: a malformed URL is still redacted).
fn password_span(url: &str) -> Option<(usize, usize)> {
    let authority = url.find("://")? + 3;
    let at = url.rfind('@').filter(|at| *at > authority)?;
    let colon = url[authority..at].find(':')? + authority + 1;
    Some((colon, at))
}

/// `url` with its password shown as `***`.
fn redact(url: &str) -> String {
    let mut out = match password_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_string(),
    };
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

/// `text` with each secret replaced by `***`. A secret of 6 characters or more is replaced
/// wherever it stands; a shorter one only where it stands alone, between characters that are
/// not letters or digits, so that a password `p` does not turn "port" into "***ort".
fn scrub_all(secrets: &[String], text: &str) -> String {
    let mut text = text.to_string();
    for s in secrets {
        if s.chars().count() >= 6 {
            text = text.replace(s.as_str(), "***");
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(s.as_str()) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + s.len()..].chars().next();
            let alone = !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric);
            out.push_str(&rest[..at]);
            out.push_str(if alone { "***" } else { s.as_str() });
            rest = &rest[at + s.len()..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cargo feature that builds `backend`'s driver in.
fn feature_of(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "postgres",
        Backend::MySql => "mysql",
        Backend::Sqlite => "sqlite",
    }
}

/// The backends this build has, in words: `PostgreSQL and SQLite`.
fn built_in() -> String {
    [
        (cfg!(feature = "postgres"), "PostgreSQL"),
        (cfg!(feature = "mysql"), "MySQL/MariaDB"),
        (cfg!(feature = "sqlite"), "SQLite"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect::<Vec<_>>()
    .join(" and ")
}

/// Why a URL for `backend` cannot be used by this build, and the fix: the cargo feature that
/// compiles its driver in, or a URL for a backend that is built in.
pub(crate) fn not_built_in(backend: Backend) -> String {
    let name = match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::MySql => "MySQL/MariaDB",
        Backend::Sqlite => "SQLite",
    };
    let feature = feature_of(backend);
    format!(
        "it is a {name} URL, and this migrations binary was built for {} only: give a URL for \
         that (--database-url or DATABASE_URL), or add the `{feature}` feature to the \
         migrations crate's godwit dependency (`godwit = {{ version = \"..\", features = \
         [\"{feature}\"] }}`) and build again",
        built_in()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_redacted_in_every_shape_of_url() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/blog",
                "postgres://app:***@db:5432/blog",
            ),
            ("postgres://app@db/blog", "postgres://app@db/blog"),
            ("mysql://u:p%40ss@h/d", "mysql://u:***@h/d"),
            ("mysql://u:p@ss@h/d", "mysql://u:***@h/d"),
            (
                "postgres://u@h/d?password=s3cret&sslmode=disable",
                "postgres://u@h/d?password=***&sslmode=disable",
            ),
            ("sqlite://dev.db?mode=rwc", "sqlite://dev.db?mode=rwc"),
            ("postgres://u:pa/ss@h/d", "postgres://u:***@h/d"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact(url), expected, "{url}");
        }
    }

    #[test]
    fn scrub_hides_the_password_as_written_and_decoded() {
        let url = DatabaseUrl::parse("mysql://u:p%40ss@h/d", UrlSource::Given).unwrap();
        assert_eq!(url.scrub("pw p%40ss or p@ss"), "pw *** or ***");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl { url: \"mysql://u:***@h/d\", source: Given, .. }"
        );
    }

    #[test]
    fn malformed_urls_are_errors_that_do_not_show_the_password() {
        for url in [
            "postgres://app:hunter22@db:notaport/blog",
            "oracle://app:hunter22@db/blog",
            "hunter22",
            "mysql://app:hunter22@db",
        ] {
            let e = DatabaseUrl::parse(url, UrlSource::Env)
                .unwrap_err()
                .to_string();
            assert!(!e.contains("hunter22"), "{e}");
            assert!(
                e.starts_with("DATABASE_URL is not a usable database URL"),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn resolve_prefers_the_flag_then_the_environment_then_dotenv_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "OTHER=1\nDATABASE_URL=sqlite:from-dotenv.db\n",
        )
        .unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let pick = |flag, env, default| {
            resolve(flag, env, Some(&nested), default)
                .unwrap()
                .map(|u| (u.redacted().to_string(), u.source().clone()))
        };
        assert_eq!(
            pick(Some("sqlite:flag.db"), Some("sqlite:env.db"), None),
            Some(("sqlite:flag.db".into(), UrlSource::Flag))
        );
        assert_eq!(
            pick(None, Some("sqlite:env.db"), None),
            Some(("sqlite:env.db".into(), UrlSource::Env))
        );
        assert_eq!(
            pick(None, None, Some("sqlite:default.db")),
            Some((
                "sqlite:from-dotenv.db".into(),
                UrlSource::DotEnv(dir.path().join(".env"))
            ))
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(None, None, Some(empty.path()), Some("sqlite:default.db"))
                .unwrap()
                .map(|u| u.source().clone()),
            Some(UrlSource::Default)
        );
    }

    #[test]
    fn sqlite_file_is_the_path_and_none_in_memory() {
        let url = DatabaseUrl::parse("sqlite:///tmp/x/dev.db?mode=rwc", UrlSource::Given).unwrap();
        assert_eq!(url.sqlite_file(), Some(PathBuf::from("/tmp/x/dev.db")));
        let url = DatabaseUrl::parse("sqlite::memory:", UrlSource::Given).unwrap();
        assert_eq!(url.sqlite_file(), None);
    }

    #[test]
    fn empty_url_is_an_error_never_the_default() {
        let err = resolve(Some(""), None, None, Some("sqlite:dev.db"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("it is empty"), "{err}");
        assert!(err.contains("--database-url"), "{err}");
        let err = resolve(None, Some("  "), None, Some("sqlite:dev.db"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("it is empty") && err.contains("DATABASE_URL"),
            "{err}"
        );
    }

    #[test]
    fn sqlite_url_without_a_file_is_an_error() {
        for url in ["sqlite:", "sqlite://", "sqlite://?mode=rwc"] {
            let err = DatabaseUrl::parse(url, UrlSource::Flag)
                .unwrap_err()
                .to_string();
            assert!(err.contains("it names no file"), "{url}: {err}");
        }
        assert!(DatabaseUrl::parse("sqlite:dev.db", UrlSource::Flag).is_ok());
    }

    #[test]
    fn a_short_password_is_hidden_only_where_it_stands_alone() {
        let err = DatabaseUrl::parse("mysql://u:p@host:notaport/db", UrlSource::Flag)
            .unwrap_err()
            .to_string();
        assert!(err.contains("port"), "{err}");
        assert!(!err.contains("***ort"), "{err}");
        assert!(err.contains("mysql://u:***@host:notaport/db"), "{err}");
        let url = DatabaseUrl::parse("mysql://u:p@host/db", UrlSource::Flag).unwrap();
        assert_eq!(
            url.scrub("password p is wrong for port"),
            "password *** is wrong for port"
        );
    }
}
