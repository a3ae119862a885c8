//! SQLite storage: connection set-up, a small connection pool, and running blocking work off the
//! async executor.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::migrate;

/// How long a writer waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;

/// A handle on the database file. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.inner.path).finish()
    }
}

/// Opens a connection with the pragmas every garden-eden connection uses.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets the web pages read while a trainer's metrics are being written.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        tracing::warn!(path = %path.display(), mode, "SQLite did not switch to WAL mode");
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;",
    )?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: impl Into<PathBuf>) -> Result<Db> {
        let path = path.into();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let mut conn = connect(&path)?;
        migrate::apply(&mut conn, &path)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path,
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a pooled connection on the current thread. For the CLI and for code that
    /// already runs on a blocking thread.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = match self.inner.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(conn) => conn,
            None => connect(&self.inner.path)?,
        };
        let result = f(&mut conn);
        // A connection left inside a transaction (a panic is not possible here, but an early
        // return inside user code could be) is dropped instead of reused.
        if conn.is_autocommit() {
            if let Ok(mut idle) = self.inner.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
        }
        result
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool, so SQLite never blocks the
    /// async executor.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with_conn(f))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }
}
