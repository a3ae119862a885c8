//! The core's one error type. Every variant says what went wrong and where.

use std::path::PathBuf;

/// Errors from the garden-eden core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),

    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("migration {name}: {message}")]
    Migration { name: String, message: String },

    #[error("the database at {path} has schema version {found}, newer than this garden-eden knows ({known}); upgrade garden-eden")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    /// A file being imported is not what its kind promises; `place` says where (line,
    /// conversation, message).
    #[error("{path}, {place}: {message}")]
    Import {
        path: PathBuf,
        place: String,
        message: String,
    },

    #[error("{what} '{id}' was not found")]
    NotFound { what: &'static str, id: String },

    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },

    /// A server garden-eden talks to (Ollama, an OpenAI-compatible server) is down or said no.
    #[error("{service} at {url}: {message}")]
    Service {
        service: &'static str,
        url: String,
        message: String,
    },

    #[error("background task failed: {0}")]
    Task(String),

    /// The run needs an optional package that the trainer's Python lacks; nothing was launched.
    #[error(
        "this run needs {extra} ({purpose}), which the trainer's Python ({}) does not have: install it with \
         `garden-eden extras install {extra}`, or run: {command}",
        python.display()
    )]
    MissingExtra {
        /// The packages, separated by spaces.
        extra: String,
        purpose: String,
        python: PathBuf,
        /// The exact pip command.
        command: String,
    },
}

impl Error {
    /// An I/O error on a path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A validation error on a named field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
