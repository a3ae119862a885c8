//! Server-side state, provided to every page render and server function by the host.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub studio: garden_core::Studio,
    pub supervisor: garden_core::train::Supervisor,
    pub hub: garden_core::chat::Hub,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The training supervisor, from the context the host provided.
pub fn supervisor() -> Result<garden_core::train::Supervisor, AppError> {
    leptos::prelude::use_context::<AppState>()
        .map(|s| s.supervisor)
        .ok_or_else(|| AppError::Internal {
            message: "the server did not provide its state to this request".to_owned(),
        })
}

/// The studio, from the context the host provided.
pub fn studio() -> Result<garden_core::Studio, AppError> {
    leptos::prelude::use_context::<AppState>()
        .map(|s| s.studio)
        .ok_or_else(|| AppError::Internal {
            message: "the server did not provide its state to this request".to_owned(),
        })
}

/// The answers being generated (chat, side-by-side).
pub fn hub() -> Result<garden_core::chat::Hub, AppError> {
    leptos::prelude::use_context::<AppState>().map(|s| s.hub).ok_or_else(|| AppError::Internal {
        message: "the server did not provide its state to this request".to_owned(),
    })
}
