//! Server functions for datasets: the export form's preview, exporting, and the list of datasets.
//! Each calls the core's export functions and maps the result.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DatasetView, ExportParams, PreviewView, TrainParams};

/// How many examples the preview shows.
pub const PREVIEW_SAMPLES: usize = 3;

/// What an export with these settings would write: counts at each step and the first examples.
#[server(endpoint = "datasets/preview")]
pub async fn preview_dataset(params: ExportParams) -> Result<PreviewView, AppError> {
    use garden_core::export;
    let (format, filter, curation, _) = export::request_from_params(&params)?;
    let preview = crate::state::studio()?
        .db()
        .call(move |conn| export::preview(conn, format, &filter, &curation, PREVIEW_SAMPLES))
        .await?;
    Ok(export::preview_view(format, preview))
}

/// Exports the dataset into the data dir and records it.
#[server(endpoint = "datasets/export")]
pub async fn export_dataset(params: ExportParams) -> Result<DatasetView, AppError> {
    use garden_core::export::{self, ExportRequest};
    let (format, filter, curation, name) = export::request_from_params(&params)?;
    let studio = crate::state::studio()?;
    let data_dir = studio.settings().data_dir.clone();
    let request = ExportRequest { name, format, filter, curation, output: None };
    let dataset = studio.db().call(move |conn| export::export(conn, &data_dir, &request, &mut |_, _| {})).await?;
    leptos_axum::redirect(&format!("/datasets?created={}", dataset.id));
    Ok(export::dataset_view(&dataset))
}

/// Every exported dataset, newest first.
#[server(endpoint = "datasets/list")]
pub async fn list_datasets() -> Result<Vec<DatasetView>, AppError> {
    use garden_core::export;
    let datasets = crate::state::studio()?.db().call(|conn| export::list(conn)).await?;
    Ok(datasets.iter().map(export::dataset_view).collect())
}

/// The wizard's data step: exports what a preference stage learns from (`kto`: the thumbs;
/// `dpo`: the side-by-side votes and thumbs as pairs) from the whole history, with the default
/// curation, and returns to the wizard with the new dataset chosen (the wizard's other choices,
/// `params`, kept).
#[server(endpoint = "datasets/export-for-stage")]
pub async fn export_for_stage(stage: String, params: TrainParams) -> Result<DatasetView, AppError> {
    use garden_core::export;
    use garden_core::train::config::Stage;
    let stage: Stage = stage.parse().map_err(garden_core::Error::from)?;
    let studio = crate::state::studio()?;
    let data_dir = studio.settings().data_dir.clone();
    let dataset = studio.db().call(move |c| garden_core::train::plan::export_stage_data(c, &data_dir, stage, None, None)).await?;
    let mut back = params;
    back.stage = Some(stage.as_str().to_owned());
    back.dataset_id = Some(dataset.id.clone());
    let mut fields = back.pairs();
    fields.push(("step", "2".to_owned()));
    leptos_axum::redirect(&format!("/train?{}", crate::format::query_string(fields)));
    Ok(export::dataset_view(&dataset))
}
