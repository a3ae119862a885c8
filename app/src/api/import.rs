use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{GoeHere, ImportRow};

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

/// Where Garden of Eden V3's database would be on this machine, and whether it is there.
#[server(endpoint = "import/goe-here")]
pub async fn goe_on_this_machine() -> Result<GoeHere, AppError> {
    let (found, looked) = tokio::task::spawn_blocking(|| {
        let looked = garden_core::import::goe::default_locations();
        (garden_core::import::goe::find_default(), looked)
    })
    .await
    .map_err(|e| AppError::Internal { message: e.to_string() })?;
    Ok(GoeHere {
        found: found.map(|p| p.display().to_string()),
        looked: looked.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// Imports Garden of Eden V3's database from where the app keeps it (read-only), like
/// `garden-eden import --from goe-v3` with no path.
#[server(endpoint = "import/goe-here/import")]
pub async fn import_goe_here() -> Result<ImportRow, AppError> {
    use garden_core::import::{self, ImportKind};
    let db = crate::state::studio()?.db().clone();
    let report = tokio::task::spawn_blocking(move || {
        let path = import::goe::find_default().ok_or_else(|| garden_core::Error::invalid("path", "Garden of Eden V3's database is not on this machine"))?;
        import::import_path(&db, ImportKind::GoeV3, &path)
    })
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
