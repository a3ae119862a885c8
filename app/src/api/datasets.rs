//! Server functions for datasets: the export form's preview, exporting, and the list of datasets.
//! Each calls the core's export functions and maps the result.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DatasetRow, ExportParams, PreviewView};

/// How many examples the preview shows.
pub const PREVIEW_SAMPLES: usize = 3;

/// What an export with these settings would write: counts at each step and the first examples.
#[server(endpoint = "datasets/preview")]
pub async fn preview_dataset(params: ExportParams) -> Result<PreviewView, AppError> {
    let (format, filter, curation, _) = ssr::parse(&params)?;
    let preview = crate::state::studio()?
        .db()
        .call(move |conn| {
            garden_core::export::preview(conn, format, &filter, &curation, PREVIEW_SAMPLES)
        })
        .await?;
    Ok(ssr::preview_view(format, preview))
}

/// Exports the dataset into the data dir and records it.
#[server(endpoint = "datasets/export")]
pub async fn export_dataset(params: ExportParams) -> Result<DatasetRow, AppError> {
    use garden_core::export::{export, ExportRequest};
    let (format, filter, curation, name) = ssr::parse(&params)?;
    let studio = crate::state::studio()?;
    let data_dir = studio.settings().data_dir.clone();
    let request = ExportRequest { name, format, filter, curation, output: None };
    let dataset = studio
        .db()
        .call(move |conn| export(conn, &data_dir, &request, &mut |_, _| {}))
        .await?;
    leptos_axum::redirect(&format!("/datasets?created={}", dataset.id));
    Ok(dataset.into())
}

/// Every exported dataset, newest first.
#[server(endpoint = "datasets/list")]
pub async fn list_datasets() -> Result<Vec<DatasetRow>, AppError> {
    let datasets = crate::state::studio()?
        .db()
        .call(|conn| garden_core::export::list(conn))
        .await?;
    Ok(datasets.into_iter().map(Into::into).collect())
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use garden_core::export::{Curation, DataFilter, Format, Preview};

    use crate::error::AppError;
    use crate::model::{ExportParams, PreviewView};

    use crate::api::form::{number, text};

    fn date(field: &str, v: &Option<String>) -> Result<Option<i64>, AppError> {
        text(v).map(|s| garden_core::time::parse_date_arg(field, s).map_err(Into::into)).transpose()
    }

    /// The form's strings → the core's typed settings.
    pub fn parse(
        p: &ExportParams,
    ) -> Result<(Format, DataFilter, Curation, Option<String>), AppError> {
        let format = match text(&p.format) {
            Some(f) => f.parse::<Format>()?,
            None => Format::Alpaca,
        };
        let filter = DataFilter {
            min_satisfaction: number("min_satisfaction", &p.min_satisfaction)?,
            min_message_length: number("min_message_length", &p.min_message_length)?,
            max_message_length: number("max_message_length", &p.max_message_length)?,
            positive_only: p.checked(&p.positive_only, false),
            exclude_negative: p.checked(&p.exclude_negative, false),
            min_turns: number("min_turns", &p.min_turns)?,
            since: date("since", &p.since)?,
            until: date("until", &p.until)?,
            limit: number("limit", &p.limit)?,
        };
        filter.validate()?;
        let defaults = Curation::default();
        let curation = Curation {
            dedupe: p.checked(&p.dedupe, defaults.dedupe),
            scrub_pii: p.checked(&p.scrub_pii, defaults.scrub_pii),
            validation_ratio: number("validation_ratio", &p.validation_ratio)?
                .unwrap_or(defaults.validation_ratio),
            seed: number("seed", &p.seed)?.unwrap_or(defaults.seed),
        };
        curation.validate()?;
        Ok((format, filter, curation, text(&p.name).map(str::to_owned)))
    }

    pub fn preview_view(format: Format, p: Preview) -> PreviewView {
        let c = p.counts;
        let pii = c
            .pii
            .by_kind()
            .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        PreviewView {
            format: format.as_str().to_owned(),
            conversations: c.conversations,
            passed_filter: c.passed_filter,
            examples: c.examples,
            exact_duplicates: c.exact_duplicates,
            near_duplicates: c.near_duplicates,
            written: c.written,
            train: c.train,
            validation: c.validation,
            limited: c.limited,
            pii,
            avg_satisfaction: c.avg_satisfaction,
            chars_min: c.chars_min,
            chars_mean: c.chars_mean,
            chars_max: c.chars_max,
            samples: p.samples,
        }
    }
}
