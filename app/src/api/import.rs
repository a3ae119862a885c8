use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ImportRow;

/// Adds the clearly labelled sample history, so the whole loop can be tried at once.
#[server(endpoint = "import/sample")]
pub async fn import_sample() -> Result<ImportRow, AppError> {
    let studio = crate::state::studio()?;
    let db = studio.db().clone();
    let report = tokio::task::spawn_blocking(move || garden_core::import::import_sample(&db))
        .await
        .map_err(|e| AppError::Internal { message: e.to_string() })??;
    leptos_axum::redirect(&format!("/import?done={}", report.id));
    Ok(report.into())
}

/// Every import, newest first.
#[server(endpoint = "import/list")]
pub async fn list_imports() -> Result<Vec<ImportRow>, AppError> {
    let imports = crate::state::studio()?
        .db()
        .call(|conn| garden_core::import::list_imports(conn))
        .await?;
    Ok(imports.into_iter().map(Into::into).collect())
}
