//! The `Migration` trait and the identity a migration takes from its file name.

use std::fmt;

use crate::error::RegistryError;
use crate::schema::Schema;

/// A schema change, written as a Rust type.
///
/// `up` and `down` record operations into the [`Schema`]; they never touch a database. Without a
/// `down`, it is derived by reversing `up` through the schema model.
pub trait Migration: Sync + 'static {
    /// Record the change.
    fn up(&self, s: &mut Schema);

    /// Record how to undo it. The default derives it by reversing `up`.
    fn down(&self, s: &mut Schema) {
        s.reverse_up();
    }
}

/// A migration's version and name, from its file name `mYYYYMMDD_HHMMSS_snake_name.rs`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MigrationId {
    /// `YYYYMMDDHHMMSS` as a number: `20261120090000`.
    pub version: u64,
    /// The snake_case name: `create_tags`.
    pub name: String,
}

impl fmt::Display for MigrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.name)
    }
}

impl MigrationId {
    /// Parse a migration file's path (only its last component counts).
    ///
    /// ```
    /// let id = godwit_core::MigrationId::from_file("src/migrations/m20261120_090000_create_tags.rs").unwrap();
    /// assert_eq!((id.version, id.name.as_str()), (20261120090000, "create_tags"));
    /// ```
    pub fn from_file(path: &str) -> Result<MigrationId, String> {
        let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let expected =
            "expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`";
        let stem = file
            .strip_suffix(".rs")
            .ok_or_else(|| format!("`{file}` is not a .rs file: {expected}"))?;
        let rest = stem
            .strip_prefix('m')
            .ok_or_else(|| format!("`{file}` does not start with `m`: {expected}"))?;
        let bytes = rest.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            bytes
                .get(r)
                .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
        };
        if !(digits(0..8)
            && bytes.get(8) == Some(&b'_')
            && digits(9..15)
            && bytes.get(15) == Some(&b'_'))
        {
            return Err(format!(
                "`{file}` has no `YYYYMMDD_HHMMSS_` timestamp after the `m`: {expected}"
            ));
        }
        let name = &rest[16..];
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || !name.as_bytes()[0].is_ascii_lowercase()
        {
            return Err(format!(
                "`{file}` has a name that is not snake_case (lowercase letters, digits, `_`): {expected}"
            ));
        }
        let (date, time) = (&rest[0..8], &rest[9..15]);
        let num = |s: &str| s.parse::<u32>().unwrap_or(0);
        let (month, day) = (num(&date[4..6]), num(&date[6..8]));
        let (hour, minute, second) = (num(&time[0..2]), num(&time[2..4]), num(&time[4..6]));
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(format!(
                "`{file}` has an impossible date or time `{date}_{time}`: {expected}"
            ));
        }
        let version = format!("{date}{time}")
            .parse::<u64>()
            .map_err(|e| format!("`{file}`: {e}"))?;
        Ok(MigrationId {
            version,
            name: name.to_string(),
        })
    }
}

/// A migration as registered: the file it lives in and the value implementing [`Migration`].
#[derive(Clone, Copy)]
pub struct Registration {
    /// `file!()` where `register!` was written.
    pub file: &'static str,
    /// The registered type, as written in `register!`.
    pub type_name: &'static str,
    /// The registered value, whose `up` and `down` record the migration.
    pub migration: &'static dyn Migration,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// Check registrations and order them by version.
///
/// Malformed file names, two registrations in one file and two files with one version are errors
/// that name the files involved.
pub fn resolve(
    registrations: &[Registration],
) -> Result<Vec<(MigrationId, Registration)>, Vec<RegistryError>> {
    let mut errors = Vec::new();
    let mut out: Vec<(MigrationId, Registration)> = Vec::new();
    let mut sorted: Vec<&Registration> = registrations.iter().collect();
    sorted.sort_by_key(|r| r.file);
    for (i, r) in sorted.iter().enumerate() {
        if i > 0 && sorted[i - 1].file == r.file {
            errors.push(RegistryError::TwoInOneFile {
                file: r.file.to_string(),
                first: sorted[i - 1].type_name.to_string(),
                second: r.type_name.to_string(),
            });
            continue;
        }
        match MigrationId::from_file(r.file) {
            Ok(id) => out.push((id, **r)),
            Err(message) => errors.push(RegistryError::BadFileName {
                file: r.file.to_string(),
                message,
            }),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in out.windows(2) {
        if pair[0].0.version == pair[1].0.version {
            errors.push(RegistryError::DuplicateVersion {
                version: pair[0].0.version,
                first: pair[0].1.file.to_string(),
                second: pair[1].1.file.to_string(),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
