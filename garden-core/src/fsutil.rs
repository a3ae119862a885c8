//! Files written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file written under a temporary name beside its target (`.<name>.tmp-<uuid>`, which the
/// start-up sweep removes after a crash), hashed as it is written, renamed into place only by
/// [`AtomicFile::commit`]; dropped uncommitted, it is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    hash: sha2::Sha256,
    committed: bool,
    /// Bytes handed to [`AtomicFile::put`], and how far the disk has been asked to catch up.
    written: u64,
    writeback_from: u64,
}

/// How much written data may wait in the page cache before the kernel is asked to start writing
/// it out. Without it a large export's final `fsync` wrote everything at the end (0.19 s of a
/// 1 s export of 62 MB); with it the disk works while the export does, and the sync only waits
/// for the tail.
const WRITEBACK_EVERY: u64 = 8 << 20;

/// Starts writing `len` bytes from `offset` to disk without waiting (Linux's
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`); a hint only: durability still comes from the final
/// sync. Elsewhere it does nothing.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY (audited exception to the workspace's unsafe_code lint): the descriptor is open for the duration of the call (borrowed from `file`), and
    // sync_file_range reads nothing from our memory.
    #[allow(unsafe_code)]
    let _ = unsafe { libc::sync_file_range(file.as_raw_fd(), offset as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) {}

impl AtomicFile {
    /// Creates the temporary file, with a write buffer of `buffer` bytes.
    pub fn create(target: &Path, buffer: usize) -> Result<AtomicFile> {
        use sha2::Digest;
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4()));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_owned(),
            out: Some(std::io::BufWriter::with_capacity(buffer, file)),
            hash: sha2::Sha256::new(),
            committed: false,
            written: 0,
            writeback_from: 0,
        })
    }

    pub fn put(&mut self, bytes: &[u8]) -> Result<()> {
        use sha2::Digest;
        self.hash.update(bytes);
        let out = self.out.as_mut().ok_or_else(|| Error::Task("file already closed".into()))?;
        out.write_all(bytes).map_err(|e| Error::io("writing", &self.tmp, e))?;
        self.written += bytes.len() as u64;
        if self.written - self.writeback_from >= WRITEBACK_EVERY {
            // What has left the buffer for the kernel.
            let in_kernel = self.written - out.buffer().len() as u64;
            if in_kernel > self.writeback_from {
                start_writeback(out.get_ref(), self.writeback_from, in_kernel - self.writeback_from);
                self.writeback_from = in_kernel;
            }
        }
        Ok(())
    }

    /// Flushes and syncs; returns the sha256 (lower-case hex). The file keeps its temporary name
    /// until [`AtomicFile::commit`].
    pub fn finish(&mut self) -> Result<String> {
        use sha2::Digest;
        let out = self.out.take().ok_or_else(|| Error::Task("file already closed".into()))?;
        let file = out.into_inner().map_err(|e| Error::io("writing", &self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &self.tmp, e))?;
        Ok(crate::hex(&std::mem::take(&mut self.hash).finalize()))
    }

    /// Renames the finished file into place.
    pub fn commit(&mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io("renaming into", &self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` through an [`AtomicFile`]: whole or not at all.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path, 64 << 10)?;
    file.put(bytes)?;
    file.finish()?;
    file.commit()
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

/// A file as of one state: path, size and modification time.
type DigestKey = (std::path::PathBuf, u64, std::time::SystemTime);

/// Digests computed or being computed, by file state: a file that has not changed is not read
/// again (an adapter page viewed twice, a base deployed twice), and callers asking for the same
/// file at the same time share one reading (20 first views of a 1 GB adapter hash it once).
static DIGESTS: std::sync::Mutex<Option<std::collections::HashMap<DigestKey, std::sync::Arc<tokio::sync::OnceCell<String>>>>> =
    std::sync::Mutex::new(None);

/// Paths actually read by [`sha256_file_cached`] (tests count them).
#[cfg(test)]
static HASHED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// [`sha256_file`] on a blocking thread (a multi-GB shard takes seconds), remembered while the
/// file's size and modification time stay the same, and computed once however many ask at once.
pub async fn sha256_file_cached(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    let key: DigestKey = tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path).map_err(|e| Error::io("reading", &path, e))?;
        Ok::<_, Error>((path, meta.len(), meta.modified().unwrap_or(std::time::UNIX_EPOCH)))
    })
    .await
    .map_err(|e| Error::Task(format!("hashing: {e}")))??;
    let cell = {
        let mut map = DIGESTS.lock().map_err(|_| Error::Task("the digest cache is poisoned".into()))?;
        map.get_or_insert_with(Default::default).entry(key.clone()).or_default().clone()
    };
    let path = key.0;
    let digest = cell
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || {
                #[cfg(test)]
                if let Ok(mut seen) = HASHED.lock() {
                    seen.push(path.clone());
                }
                sha256_file(&path)
            })
            .await
            .map_err(|e| Error::Task(format!("hashing: {e}")))?
        })
        .await?;
    Ok(digest.clone())
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_at_once_read_the_file_once_and_a_change_reads_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weights.safetensors");
        std::fs::write(&file, vec![7u8; 8 << 20]).unwrap();
        let asks: Vec<_> = (0..20).map(|_| tokio::spawn({ let f = file.clone(); async move { sha256_file_cached(&f).await } })).collect();
        let mut digests = Vec::new();
        for a in asks {
            digests.push(a.await.unwrap().unwrap());
        }
        assert!(digests.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(digests[0], sha256_file(&file).unwrap());
        let reads = || HASHED.lock().unwrap().iter().filter(|p| **p == file).count();
        assert_eq!(reads(), 1, "twenty callers shared one reading");
        sha256_file_cached(&file).await.unwrap();
        assert_eq!(reads(), 1, "an unchanged file is not read again");
        std::fs::write(&file, vec![8u8; 4 << 20]).unwrap();
        let changed = sha256_file_cached(&file).await.unwrap();
        assert_ne!(changed, digests[0]);
        assert_eq!(reads(), 2, "a changed file is read again");
        assert!(sha256_file_cached(&dir.path().join("missing")).await.is_err());
    }
}
