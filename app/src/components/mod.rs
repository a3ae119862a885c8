//! Reusable pieces of UI.

pub mod charts;
pub mod empty;
pub mod live;

use leptos::prelude::*;

use crate::error::AppError;

/// An error, said plainly, where the content would have been.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let heading = match &error {
        AppError::NotFound { .. } => "Not found",
        AppError::Invalid { .. } => "That did not work",
        AppError::Unavailable { .. } => "A service is not available",
        AppError::Storage { .. } => "The database reported a problem",
        AppError::Internal { .. } => "Something went wrong on the server",
        AppError::Transport { .. } => "The server could not be reached",
        AppError::MissingExtra { .. } => "A trainer package is missing",
    };
    view! {
        <div class="error-box" role="alert">
            <strong>{heading}</strong>
            <p>{error.to_string()}</p>
        </div>
    }
}
