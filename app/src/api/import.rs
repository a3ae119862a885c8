//! Server functions for importing: the sample history, Garden of Eden V3's database where it is
//! on this machine, and the list of imports. Uploads go through `/import/upload` (server crate).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{GoeHere, ImportReport};

/// Adds the clearly labelled sample history, so the whole loop can be tried at once.
#[server(endpoint = "import/sample")]
pub async fn import_sample() -> Result<ImportReport, AppError> {
    let report = garden_core::import::sample_in_background(crate::state::studio()?.db()).await?;
    leptos_axum::redirect(&format!("/import?done={}", report.id));
    Ok(report)
}

/// Where Garden of Eden V3's database would be on this machine, and whether it is there.
#[server(endpoint = "import/goe-here")]
pub async fn goe_on_this_machine() -> Result<GoeHere, AppError> {
    Ok(garden_core::import::goe_here().await?)
}

/// Imports Garden of Eden V3's database from where the app keeps it (read-only), like
/// `garden-eden import --from goe-v3` with no path.
#[server(endpoint = "import/goe-here/import")]
pub async fn import_goe_here() -> Result<ImportReport, AppError> {
    let report = garden_core::import::goe_here_in_background(crate::state::studio()?.db()).await?;
    leptos_axum::redirect(&format!("/import?done={}", report.id));
    Ok(report)
}

/// Every import, newest first.
#[server(endpoint = "import/list")]
pub async fn list_imports() -> Result<Vec<ImportReport>, AppError> {
    Ok(crate::state::studio()?.db().call(|conn| garden_core::import::list_imports(conn)).await?)
}
