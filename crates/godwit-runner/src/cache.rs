//! [`Cache`]: what depends on the migrations' code alone, kept beside the migrations binary so
//! that `status` and a no-op `up` do not fold and render every migration on every call.
//!
//! The checksum of an applied migration's code (what `status` compares with history) and the
//! lint findings its migrations allow are a function of the binary: the same binary renders the
//! same SQL. They are written to `.<binary>.godwit-cache` beside the binary, under the identity
//! of the file the process runs (device, inode, size and modification time, read
//! through `/proc/self/exe`, which names the running file even after a rebuild replaced it).
//! Another build, or the same path holding another file, has another identity and ignores the
//! file; it is then computed again and rewritten.
//!
//! **Invariant:** the cache only ever holds what this binary computed; nothing else is trusted.
//! Reading and writing it are best effort: a missing, unreadable, corrupt or foreign file means
//! computing again, a directory that cannot be written means not keeping it. A library user's
//! [`Runner`](crate::Runner) has no cache unless given one: one process may hold several
//! catalogs, which the binary's identity does not tell apart.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

/// What depends on the binary alone, kept in a file beside it.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    key: String,
    /// The sections read from the file (once), and those computed since.
    data: Mutex<Option<Map<String, Value>>>,
}

impl Cache {
    /// The cache of the running migrations binary for the migrations `scope` names (the
    /// binary's own, or a subset a custom `main` picks), or `None` where the identity of the
    /// running file cannot be read (outside Linux).
    pub fn of_this_binary(scope: &str) -> Option<Cache> {
        let key = format!("{} {scope}", running_file_identity()?);
        let exe = std::env::current_exe().ok()?;
        let name = exe.file_name()?.to_string_lossy().into_owned();
        let path = exe.parent()?.join(format!(".{name}.godwit-cache"));
        Some(Cache::at(path, key))
    }

    /// A cache in the file `path`, valid for what `key` names (the binary's identity): a file
    /// written under another key is ignored.
    pub fn at(path: impl Into<PathBuf>, key: impl Into<String>) -> Cache {
        Cache {
            path: path.into(),
            key: format!("{} {}", env!("CARGO_PKG_VERSION"), key.into()),
            data: Mutex::new(None),
        }
    }

    /// Where the cache is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The section `name`, when this binary wrote it.
    pub fn get(&self, name: &str) -> Option<Value> {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        data.get_or_insert_with(|| self.read()).get(name).cloned()
    }

    /// Keep `value` as the section `name`, and write the file again (best effort).
    pub fn put(&self, name: &str, value: Value) {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let sections = data.get_or_insert_with(|| self.read());
        sections.insert(name.to_string(), value);
        let mut file = Map::new();
        file.insert("key".to_string(), Value::String(self.key.clone()));
        file.insert("sections".to_string(), Value::Object(sections.clone()));
        let _ = write_atomically(&self.path, Value::Object(file).to_string().as_bytes());
    }

    /// The sections of the file, when it was written under this key.
    fn read(&self) -> Map<String, Value> {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return Map::new();
        };
        let Ok(Value::Object(mut file)) = serde_json::from_str::<Value>(&text) else {
            return Map::new();
        };
        match (file.remove("key"), file.remove("sections")) {
            (Some(Value::String(key)), Some(Value::Object(sections))) if key == self.key => {
                sections
            }
            _ => Map::new(),
        }
    }
}

/// Write `bytes` to a file beside `path`, then rename it over `path`: a reader sees the old
/// file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The identity of the file this process runs: a rebuilt or replaced binary has another one.
#[cfg(target_os = "linux")]
fn running_file_identity() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/self/exe").ok()?;
    // Not the change time: cargo links the same file into `target/` again on every run with a
    // separate build directory, which changes it.
    Some(format!(
        "{}:{} {} {}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec()
    ))
}

#[cfg(not(target_os = "linux"))]
fn running_file_identity() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_section_written_is_read_back_under_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".bin.godwit-cache");
        let cache = Cache::at(&path, "one");
        assert_eq!(cache.get("checksums sqlite"), None);
        cache.put("checksums sqlite", json!({"1": "abc"}));
        assert_eq!(
            Cache::at(&path, "one").get("checksums sqlite"),
            Some(json!({"1": "abc"}))
        );
        // Another binary (another key) ignores it, and its own write replaces it.
        let other = Cache::at(&path, "two");
        assert_eq!(other.get("checksums sqlite"), None);
        other.put("checksums mysql", json!({}));
        assert_eq!(Cache::at(&path, "one").get("checksums sqlite"), None);
        assert_eq!(
            Cache::at(&path, "two").get("checksums mysql"),
            Some(json!({}))
        );
    }

    #[test]
    fn a_corrupt_or_unwritable_cache_is_computed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".bin.godwit-cache");
        std::fs::write(&path, "{\"key\": truncat").unwrap();
        let cache = Cache::at(&path, "one");
        assert_eq!(cache.get("checksums sqlite"), None);
        // A directory that does not exist: nothing is kept, and nothing fails.
        let nowhere = Cache::at(dir.path().join("missing").join("cache"), "one");
        nowhere.put("checksums sqlite", json!({"1": "abc"}));
        assert_eq!(nowhere.get("checksums sqlite"), Some(json!({"1": "abc"})));
        assert!(!dir.path().join("missing").exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_running_binary_has_an_identity_and_a_place_beside_it() {
        let cache = Cache::of_this_binary("all").expect("Linux has /proc/self/exe");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(cache.path().parent(), exe.parent());
        assert!(
            cache
                .key
                .contains(&std::fs::metadata(&exe).unwrap().len().to_string())
        );
    }
}
