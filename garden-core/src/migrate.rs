//! Schema migrations: the SQL files in the workspace's `migrations/` folder, embedded at build
//! time, applied in order, each in its own transaction, and recorded with a checksum so that an
//! edited migration is noticed instead of silently skipped.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. The file name is `NNNN_name.sql`; a test checks that this list and
/// the folder agree.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "datasets",
        sql: include_str!("../../migrations/0002_datasets.sql"),
    },
    Migration {
        version: 3,
        name: "feedback_indexes",
        sql: include_str!("../../migrations/0003_feedback_indexes.sql"),
    },
    Migration {
        version: 4,
        name: "runs",
        sql: include_str!("../../migrations/0004_runs.sql"),
    },
    Migration {
        version: 5,
        name: "adapters",
        sql: include_str!("../../migrations/0005_adapters.sql"),
    },
    Migration {
        version: 6,
        name: "experiments",
        sql: include_str!("../../migrations/0006_experiments.sql"),
    },
    Migration {
        version: 7,
        name: "model_phase",
        sql: include_str!("../../migrations/0007_model_phase.sql"),
    },
    Migration {
        version: 8,
        name: "adapter_layout",
        sql: include_str!("../../migrations/0008_adapter_layout.sql"),
    },
    Migration {
        version: 9,
        name: "preference_stages",
        sql: include_str!("../../migrations/0009_preference_stages.sql"),
    },
    Migration {
        version: 10,
        name: "ray_clusters",
        sql: include_str!("../../migrations/0010_ray_clusters.sql"),
    },
];

impl Migration {
    /// `NNNN_name.sql`
    pub fn file_name(&self) -> String {
        format!("{:04}_{}.sql", self.version, self.name)
    }

    fn checksum(&self) -> String {
        crate::hex(&Sha256::digest(self.sql.as_bytes()))
    }
}

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// File names of the migrations applied by this run.
    pub applied: Vec<String>,
    /// The schema version after the run.
    pub version: i64,
}

/// The latest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies every pending migration. Idempotent.
pub fn apply(conn: &mut Connection, db_path: &Path) -> Result<Report> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY NOT NULL,
             name       TEXT NOT NULL,
             checksum   TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )?;
    let found: i64 =
        conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| {
            r.get(0)
        })?;
    if found > latest_version() {
        return Err(Error::SchemaTooNew {
            path: db_path.to_owned(),
            found,
            known: latest_version(),
        });
    }

    let mut report = Report::default();
    for migration in MIGRATIONS {
        // IMMEDIATE: two processes starting at once cannot both apply the same migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let recorded: Option<String> = tx
            .query_row(
                "SELECT checksum FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |r| r.get(0),
            )
            .optional()?;
        match recorded {
            Some(sum) if sum == migration.checksum() => continue,
            Some(_) => {
                return Err(Error::Migration {
                    name: migration.file_name(),
                    message: format!(
                        "it was changed after it was applied to {}; migrations are append-only: \
                         restore the file and add a new migration instead",
                        db_path.display()
                    ),
                })
            }
            None => {}
        }
        tx.execute_batch(migration.sql).map_err(|e| Error::Migration {
            name: migration.file_name(),
            message: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                migration.version,
                migration.name,
                migration.checksum(),
                crate::now_ms()
            ],
        )?;
        tx.commit()?;
        tracing::info!(migration = %migration.file_name(), "applied migration");
        report.applied.push(migration.file_name());
    }
    report.version = current_version(conn)?;
    Ok(report)
}

/// The schema version recorded in the database.
pub fn current_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let conn = crate::db::connect(&path).unwrap();
        (dir, path, conn)
    }

    #[test]
    fn list_matches_the_migrations_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(Migration::file_name).collect();
        assert_eq!(files, listed, "migrations/ and MIGRATIONS disagree");
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "versions must be 1, 2, 3, … without gaps");
        }
    }

    #[test]
    fn applies_to_an_empty_database_and_is_idempotent() {
        let (_dir, path, mut conn) = fresh();
        let first = apply(&mut conn, &path).unwrap();
        assert_eq!(first.applied.len(), MIGRATIONS.len());
        assert_eq!(first.version, latest_version());
        let second = apply(&mut conn, &path).unwrap();
        assert!(second.applied.is_empty(), "second run applied {:?}", second.applied);
        assert_eq!(second.version, latest_version());
        // The tables the first issue asks for exist.
        for table in ["conversations", "messages", "feedback", "imports", "datasets"] {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "table {table} missing");
        }
    }

    #[test]
    fn pragmas_are_set() {
        let (_dir, _path, conn) = fresh();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0)).unwrap();
        assert!(busy >= 5000, "busy_timeout {busy}");
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let (_dir, path, mut conn) = fresh();
        apply(&mut conn, &path).unwrap();
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1", [])
            .unwrap();
        let err = apply(&mut conn, &path).unwrap_err();
        assert!(err.to_string().contains("0001_init.sql"), "{err}");
        assert!(err.to_string().contains("changed after it was applied"), "{err}");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let (_dir, path, mut conn) = fresh();
        apply(&mut conn, &path).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (9999, 'future', 'x', 0)",
            [],
        )
        .unwrap();
        let err = apply(&mut conn, &path).unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { found: 9999, .. }), "{err}");
    }

    #[test]
    fn foreign_keys_are_enforced() {
        let (_dir, path, mut conn) = fresh();
        apply(&mut conn, &path).unwrap();
        let err = conn
            .execute(
                "INSERT INTO messages (id, conversation_id, position, role, content, created_at)
                 VALUES ('m', 'no-such-conversation', 0, 'user', 'hi', 0)",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    }
}
