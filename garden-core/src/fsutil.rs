//! Files written whole or not at all.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        file.write_all(bytes).map_err(|e| Error::io("writing", &tmp, e))?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// sha256 of a file, streamed; lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut hash = Sha256::new();
    std::io::copy(&mut file, &mut hash).map_err(|e| Error::io("reading", path, e))?;
    Ok(crate::hex(&hash.finalize()))
}

/// Is this one of garden-eden's temporary names (`.<name>.tmp-<uuid>`)?
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name.rsplit_once(".tmp-").is_some_and(|(head, id)| head.len() > 1 && uuid::Uuid::parse_str(id).is_ok())
}

/// Removes what interrupted writes left in the data dir: garden-eden's temporary files and folders
/// (an export, a merge, a conversion or an upload killed mid-write) that were last touched before
/// `before` and more than `quiet` ago (a write in progress keeps touching its file), and dataset
/// folders left empty by them. The trainers' environments and model folders are not walked.
/// Returns what was removed; each is also logged.
pub fn sweep_temporaries(data_dir: &Path, before: std::time::SystemTime, quiet: std::time::Duration) -> Vec<std::path::PathBuf> {
    const SKIP: [&str; 4] = ["venv", "mlx-venv", "models", "hub"];
    let mut removed = Vec::new();
    let cutoff = std::time::SystemTime::now().checked_sub(quiet).unwrap_or(std::time::UNIX_EPOCH).min(before);
    let mut stack = vec![(data_dir.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if is_temporary(&name) {
                if meta.modified().is_ok_and(|m| m < cutoff) {
                    let gone = if meta.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                    if gone.is_ok() {
                        tracing::info!(path = %path.display(), bytes = meta.len(), "removed a temporary file an interrupted write left");
                        removed.push(path);
                    }
                }
            } else if meta.is_dir() && !meta.file_type().is_symlink() && depth < 6 && !(depth == 0 && SKIP.contains(&name.as_str())) {
                stack.push((path, depth + 1));
            }
        }
    }
    // Dataset folders that held only an interrupted export.
    if let Ok(entries) = std::fs::read_dir(data_dir.join("datasets")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
            if empty && removed.iter().any(|r| r.parent() == Some(path.as_path())) && std::fs::remove_dir(&path).is_ok() {
                tracing::info!(path = %path.display(), "removed a dataset folder an interrupted export left empty");
                removed.push(path);
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn leftovers_of_interrupted_writes_are_swept_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let tmp = |p: &str| format!(".{p}.tmp-{}", uuid::Uuid::new_v4());
        std::fs::create_dir_all(d.join("datasets/orphan")).unwrap();
        std::fs::write(d.join("datasets/orphan").join(tmp("ge.json")), vec![0u8; 1000]).unwrap();
        std::fs::create_dir_all(d.join("adapters/a1")).unwrap();
        std::fs::create_dir_all(d.join("adapters/a1").join(tmp("merged"))).unwrap();
        std::fs::write(d.join("adapters/a1/Modelfile"), "FROM x").unwrap();
        std::fs::create_dir_all(d.join("uploads")).unwrap();
        std::fs::write(d.join("uploads").join(tmp("history.json")), "partial").unwrap();
        std::fs::write(d.join("keep.json"), "{}").unwrap();
        std::fs::write(d.join(".hidden.tmp-notauuid"), "not ours").unwrap();
        std::fs::create_dir_all(d.join("venv")).unwrap();
        std::fs::write(d.join("venv").join(tmp("pip")), "the environment's own").unwrap();

        // Files written after the process started are someone's write in progress.
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        assert!(sweep_temporaries(d, long_ago, Duration::ZERO).is_empty());
        let removed = sweep_temporaries(d, SystemTime::now() + Duration::from_secs(5), Duration::ZERO);
        assert_eq!(removed.len(), 4, "{removed:?}");
        assert!(!d.join("datasets/orphan").exists(), "the orphan dataset folder went too");
        assert!(d.join("adapters/a1/Modelfile").exists() && d.join("keep.json").exists());
        assert!(d.join(".hidden.tmp-notauuid").exists());
        assert_eq!(std::fs::read_dir(d.join("venv")).unwrap().count(), 1, "environments are not walked");
        assert!(is_temporary(&tmp("x")) && !is_temporary("x.tmp-1") && !is_temporary(".x.json"));
    }
}

/// Digests already computed, by (path, size, modification time): a file that has not changed is
/// not read again (an adapter page viewed twice, a base deployed twice).
static DIGESTS: std::sync::Mutex<Option<std::collections::HashMap<(std::path::PathBuf, u64, std::time::SystemTime), String>>> =
    std::sync::Mutex::new(None);

/// [`sha256_file`] on a blocking thread (a multi-GB shard takes seconds), remembered while the
/// file's size and modification time stay the same.
pub async fn sha256_file_cached(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path).map_err(|e| Error::io("reading", &path, e))?;
        let key = (path.clone(), meta.len(), meta.modified().unwrap_or(std::time::UNIX_EPOCH));
        if let Some(hit) = DIGESTS.lock().ok().and_then(|m| m.as_ref().and_then(|m| m.get(&key).cloned())) {
            return Ok(hit);
        }
        let digest = sha256_file(&path)?;
        if let Ok(mut m) = DIGESTS.lock() {
            m.get_or_insert_with(Default::default).insert(key, digest.clone());
        }
        Ok(digest)
    })
    .await
    .map_err(|e| Error::Task(format!("hashing: {e}")))?
}
