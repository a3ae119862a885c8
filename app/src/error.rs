//! The error every server function returns. It crosses the wire as JSON, keeps its kind, and is
//! shown to the person as a sentence that says what went wrong.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    #[error("{what} '{id}' was not found")]
    NotFound { what: String, id: String },
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{service} is not available: {message}")]
    Unavailable { service: String, message: String },
    #[error("storage error: {message}")]
    Storage { message: String },
    #[error("internal error: {message}")]
    Internal { message: String },
    /// The run needs an optional trainer package that is not installed (nothing was launched).
    #[error("{message}")]
    MissingExtra { extra: String, message: String, command: String },
    /// The call itself failed: the server was unreachable, or the request or answer could not be
    /// encoded.
    #[error("could not talk to the garden-eden server: {message}")]
    Transport { message: String },
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            message: value.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<garden_core::Error> for AppError {
    fn from(e: garden_core::Error) -> Self {
        use garden_core::Error as E;
        match e {
            E::NotFound { what, id } => AppError::NotFound {
                what: what.to_owned(),
                id,
            },
            E::Invalid { field, message } => AppError::Invalid { field, message },
            E::Import { path, place, message } => AppError::Invalid {
                field: format!("{}, {place}", path.display()),
                message,
            },
            e @ (E::Db(_) | E::Io { .. } | E::Migration { .. } | E::SchemaTooNew { .. }) => {
                tracing::error!(error = %e, "storage error");
                AppError::Storage {
                    message: e.to_string(),
                }
            }
            E::Service { service, url, message } => AppError::Unavailable {
                service: format!("{service} at {url}"),
                message,
            },
            e @ E::MissingExtra { .. } => {
                let message = e.to_string();
                let E::MissingExtra { extra, command, .. } = e else { unreachable!() };
                AppError::MissingExtra { extra, message, command }
            }
            e @ E::Task(_) => AppError::Internal {
                message: e.to_string(),
            },
        }
    }
}
