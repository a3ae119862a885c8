//! The set-up checks as a server function: the doctor's report (cached, and never started by a
//! page opened from another site).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Health;

/// The same checks as `garden-eden doctor`, plus what the database holds. The checks run at most
/// once at a time and are reused for a few seconds (`fresh` asks for a new run: "Check again");
/// a page opened from another site gets the last report and starts nothing.
#[server(endpoint = "health")]
pub async fn get_health(#[server(default)] fresh: bool) -> Result<Health, AppError> {
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("none");
    let from_another_site = matches!(site, "cross-site" | "same-site");
    Ok(garden_core::doctor::health(&crate::state::studio()?, fresh, from_another_site).await?)
}

/// The guided first run: the loop's steps, each marked done from what the database holds.
#[server(endpoint = "journey")]
pub async fn get_journey() -> Result<crate::model::Journey, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::journey::journey(c)).await?)
}
