//! [`Cache`]: what depends on the migrations' code alone, kept beside the migrations binary so
//! that `status` and a no-op `up` do not fold and render every migration on every call.
//!
//! The checksum of an applied migration's code (what `status` compares with history) and the
//! lint findings its migrations allow are a function of the binary: the same binary renders the
//! same SQL. They are written to `.<binary>.godwit-cache` beside the binary, under the identity
//! of the running file, read through `/proc/self/exe` (which names the running file even after a
//! rebuild replaced it): the GNU build ID the linker writes into it, a hash of its contents; or,
//! for a binary linked without one, its device, inode, size, modification and change times.
//! Another build has another identity and ignores the file; it is then computed again and
//! rewritten.
//!
//! This holds because a migration records the same operations whenever the same binary records
//! it: its code is what the checksum stands for. A migration whose `up` reads its environment
//! while recording (a variable, a file) already has a checksum that depends on where it runs;
//! with the cache, the first computation stands for the build, unless `GODWIT_NO_CACHE` is set.
//!
//! **Invariant:** the cache only ever holds what this binary computed. Reading and writing it
//! are best effort: a missing, unreadable, corrupt or foreign file means computing again, a
//! directory that cannot be written means not keeping it, and a file that another user owns, or
//! that others may write, is not read. A library user's [`Runner`](crate::Runner) has no cache
//! unless given one: one process may hold several catalogs, which the binary's identity does not
//! tell apart.

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
    /// running file cannot be read (outside Linux, a binary started through the dynamic loader,
    /// one deleted while it runs) or `GODWIT_NO_CACHE` is set.
    pub fn of_this_binary(scope: &str) -> Option<Cache> {
        if std::env::var_os("GODWIT_NO_CACHE").is_some() {
            return None;
        }
        let exe = std::env::current_exe().ok()?;
        let name = exe.file_name()?.to_string_lossy().into_owned();
        // `ld.so ./binary`: the running file is the loader, the same for every build.
        if name.starts_with("ld-") || name.starts_with("ld.so") || name.ends_with(" (deleted)") {
            return None;
        }
        let key = format!("{} {scope}", running_file_identity()?);
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

    /// The sections of the file, when it was written under this key by this user and no one
    /// else may write it.
    fn read(&self) -> Map<String, Value> {
        if !trusted(&self.path) {
            return Map::new();
        }
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

/// Write `bytes` to a new file beside `path` (never one that exists, nor through a link), then
/// rename it over `path`: a reader sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    let written = options
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Whether the file at `path` may be read: on Unix, owned by the user this process runs as
/// (the owner of what it creates) and writable by no one else.
#[cfg(unix)]
fn trusted(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(file), Ok(me)) = (
        std::fs::symlink_metadata(path),
        std::fs::metadata("/proc/self"),
    ) else {
        return false;
    };
    file.is_file() && file.uid() == me.uid() && file.mode() & 0o022 == 0
}

#[cfg(not(unix))]
fn trusted(_: &Path) -> bool {
    false
}

/// The identity of the file this process runs: a rebuilt or replaced binary has another one.
#[cfg(target_os = "linux")]
fn running_file_identity() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mut file = std::fs::File::open("/proc/self/exe").ok()?;
    if let Some(id) = gnu_build_id(&mut file) {
        return Some(format!(
            "build-id {}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
    }
    let m = file.metadata().ok()?;
    Some(format!(
        "file {}:{} {} {}.{} {}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    ))
}

#[cfg(not(target_os = "linux"))]
fn running_file_identity() -> Option<String> {
    None
}

/// The GNU build ID of a 64-bit little-endian ELF file (the note `NT_GNU_BUILD_ID` the linker
/// writes, a hash of the file's contents), read from its program headers' note segments.
#[cfg(target_os = "linux")]
fn gnu_build_id(file: &mut (impl std::io::Read + std::io::Seek)) -> Option<Vec<u8>> {
    use std::io::SeekFrom;
    fn at<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
        bytes.get(offset..offset + N)?.try_into().ok()
    }
    let u16_at = |b: &[u8], o: usize| at::<2>(b, o).map(u16::from_le_bytes);
    let u32_at = |b: &[u8], o: usize| at::<4>(b, o).map(u32::from_le_bytes);
    let u64_at = |b: &[u8], o: usize| at::<8>(b, o).map(u64::from_le_bytes);
    let mut read = |offset: u64, len: usize| -> Option<Vec<u8>> {
        // Notes are small: anything larger is not a file to trust.
        if len > 1 << 20 {
            return None;
        }
        file.seek(SeekFrom::Start(offset)).ok()?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes).ok()?;
        Some(bytes)
    };
    let header = read(0, 64)?;
    // `\x7fELF`, 64-bit, little-endian.
    if header.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let (phoff, phentsize, phnum) = (
        u64_at(&header, 0x20)?,
        usize::from(u16_at(&header, 0x36)?),
        usize::from(u16_at(&header, 0x38)?),
    );
    if phentsize < 56 {
        return None;
    }
    let headers = read(phoff, phentsize.checked_mul(phnum)?)?;
    for i in 0..phnum {
        let h = &headers[i * phentsize..];
        // PT_NOTE
        if u32_at(h, 0)? != 4 {
            continue;
        }
        let notes = read(u64_at(h, 8)?, usize::try_from(u64_at(h, 32)?).ok()?)?;
        let mut o = 0;
        while o + 12 <= notes.len() {
            let name_len = usize::try_from(u32_at(&notes, o)?).ok()?;
            let desc_len = usize::try_from(u32_at(&notes, o + 4)?).ok()?;
            let kind = u32_at(&notes, o + 8)?;
            let name = o + 12;
            let desc = name.checked_add(name_len.checked_add(3)? & !3)?;
            let next = desc.checked_add(desc_len.checked_add(3)? & !3)?;
            // NT_GNU_BUILD_ID, owner "GNU".
            if kind == 3 && notes.get(name..name + name_len)? == b"GNU\0" {
                return Some(notes.get(desc..desc + desc_len)?.to_vec());
            }
            o = next;
        }
    }
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
        // The build ID `readelf -n` shows.
        let readelf = std::process::Command::new("readelf")
            .arg("-n")
            .arg(&exe)
            .output();
        assert!(
            cache.key.contains(" build-id ") || cache.key.contains(" file "),
            "{}",
            cache.key
        );
        if let Some(out) = readelf.ok().filter(|o| o.status.success()) {
            let shown = String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.trim().strip_prefix("Build ID: ").map(str::to_owned));
            match shown {
                Some(id) => assert!(
                    cache.key.contains(&format!("build-id {id}")),
                    "{}",
                    cache.key
                ),
                None => assert!(cache.key.contains(" file "), "{}", cache.key),
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_is_not_elf_or_is_cut_short_has_no_build_id() {
        use std::io::Cursor;
        let exe = std::fs::read("/proc/self/exe").unwrap();
        for bytes in [
            Vec::new(),
            b"#!/bin/sh\n".to_vec(),
            exe[..64].to_vec(),
            exe[..200].to_vec(),
        ] {
            assert_eq!(gnu_build_id(&mut Cursor::new(bytes)), None);
        }
        // Every cut of the real header, and garbage after it, ends without a panic.
        for len in (0..4096.min(exe.len())).step_by(61) {
            let _ = gnu_build_id(&mut Cursor::new(exe[..len].to_vec()));
        }
        let mut corrupt = exe[..4096.min(exe.len())].to_vec();
        for b in corrupt.iter_mut().skip(64).step_by(7) {
            *b = 0xff;
        }
        let _ = gnu_build_id(&mut Cursor::new(corrupt));
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_may_write_is_not_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".bin.godwit-cache");
        Cache::at(&path, "one").put("checksums sqlite", json!({"1": "abc"}));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(Cache::at(&path, "one").get("checksums sqlite"), None);
    }
}
