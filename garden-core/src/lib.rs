//! garden-eden's core: everything the web app and the CLI share, with no UI in it.
//!
//! The web app's server functions and the CLI commands are thin shells over the functions here.

pub mod adapters;
pub mod bench;
pub mod chat;
pub mod compare;
pub mod conversations;
pub mod curate;
pub mod db;
pub mod doctor;
pub mod draw;
pub mod error;
pub mod experiments;
pub mod export;
pub mod form;
pub mod fsutil;
pub mod hardware;
pub mod http;
pub mod import;
pub mod infer;
pub mod journey;
pub mod learn;
pub mod migrate;
pub mod settings;
pub mod stats;
pub mod time;
pub mod train;
pub mod turns;

pub use error::{Error, Result};
pub use settings::Settings;

use db::Db;

/// The opened studio: settings plus the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Studio {
    settings: std::sync::Arc<Settings>,
    db: Db,
}

impl Studio {
    /// Creates the data dir if needed, opens the database and applies pending migrations.
    pub fn open(settings: Settings) -> Result<Studio> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| Error::io("creating the data dir", &settings.data_dir, e))?;
        // The history is private: only its owner may read the data dir.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&settings.data_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io("making private", &settings.data_dir, e))?;
        }
        let db = Db::open(settings.db_path())?;
        Ok(Studio {
            settings: std::sync::Arc::new(settings),
            db,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Files and folders this process (and the trainers it starts) creates are its owner's alone:
/// 0600 and 0700. Called once at start-up by the binary.
pub fn private_files() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Lower-case hex of `bytes` (digests in metadata and checksums).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
