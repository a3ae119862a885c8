use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Health;

/// The same checks as `garden-eden doctor`, plus what the database holds. The checks run at most
/// once at a time and are reused for a few seconds (`fresh` asks for a new run: "Check again");
/// a page opened from another site gets the last report and starts nothing.
#[server(endpoint = "health")]
pub async fn get_health(#[server(default)] fresh: bool) -> Result<Health, AppError> {
    let studio = crate::state::studio()?;
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("none");
    let report = if matches!(site, "cross-site" | "same-site") {
        garden_core::doctor::last_or_unchecked(&studio, "this page was opened from another site").await
    } else {
        garden_core::doctor::run_cached(&studio, fresh).await
    };
    let conversations = studio
        .db()
        .call(|conn| garden_core::conversations::count(conn))
        .await?;
    Ok(Health {
        checks: report.checks.into_iter().map(Into::into).collect(),
        checked_at: report.checked_at,
        conversations,
    })
}
