use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Health;

/// The same checks as `garden-eden doctor`, plus what the database holds.
#[server(endpoint = "health")]
pub async fn get_health() -> Result<Health, AppError> {
    let studio = crate::state::studio()?;
    let report = garden_core::doctor::run(&studio).await;
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
