//! Exported datasets: their rows, and the form and views the web app shows.

#[allow(unused_imports)]
use super::*;

/// A stored dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub format: Format,
    pub filter: DataFilter,
    pub curation: Curation,
    pub counts: Counts,
    pub examples: u64,
    pub validation: u64,
    pub avg_satisfaction: Option<f64>,
    pub path: String,
    pub validation_path: Option<String>,
    pub dataset_info: String,
    pub sha256: String,
    pub parent_ids: Vec<String>,
    pub created_at: i64,
}


/// Records a dataset (its files already written).
pub fn insert(conn: &Connection, dataset: &Dataset) -> Result<()> {
    conn.execute(
        "INSERT INTO datasets (id, name, format, filter, counts, examples, validation, avg_satisfaction,
                               path, validation_path, dataset_info, sha256, parent_ids, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            dataset.id,
            dataset.name,
            dataset.format.as_str(),
            serde_json::to_string(&json!({"filter": dataset.filter, "curation": dataset.curation})).unwrap_or_default(),
            serde_json::to_string(&dataset.counts).unwrap_or_default(),
            dataset.examples as i64,
            dataset.validation as i64,
            dataset.avg_satisfaction,
            dataset.path,
            dataset.validation_path,
            dataset.dataset_info,
            dataset.sha256,
            serde_json::to_string(&dataset.parent_ids).unwrap_or_else(|_| "[]".into()),
            dataset.created_at
        ],
    )?;
    Ok(())
}


/// Every dataset, newest first.
pub fn list(conn: &Connection) -> Result<Vec<Dataset>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, format, filter, counts, examples, validation, avg_satisfaction, path,
                validation_path, dataset_info, sha256, parent_ids, created_at
           FROM datasets ORDER BY created_at DESC, id",
    )?;
    let rows = stmt.query_map([], dataset_from_row)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(Into::into)
}

/// One dataset by id.
pub fn get(conn: &Connection, id: &str) -> Result<Dataset> {
    conn.query_row(
        "SELECT id, name, format, filter, counts, examples, validation, avg_satisfaction, path,
                validation_path, dataset_info, sha256, parent_ids, created_at
           FROM datasets WHERE id = ?1",
        [id],
        dataset_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound { what: "dataset", id: id.to_owned() })
}

pub(super) fn dataset_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Dataset> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Options {
        filter: DataFilter,
        curation: Curation,
    }
    let format: String = r.get(2)?;
    let options: Options = serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
    Ok(Dataset {
        id: r.get(0)?,
        name: r.get(1)?,
        format: format.parse().unwrap_or(Format::Alpaca),
        filter: options.filter,
        curation: options.curation,
        counts: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        examples: r.get::<_, i64>(5)? as u64,
        validation: r.get::<_, i64>(6)? as u64,
        avg_satisfaction: r.get(7)?,
        path: r.get(8)?,
        validation_path: r.get(9)?,
        dataset_info: r.get(10)?,
        sha256: r.get(11)?,
        parent_ids: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
        created_at: r.get(13)?,
    })
}


// ---------------------------------------------------------------------------------------------
// The dataset step's form and views
// ---------------------------------------------------------------------------------------------

pub use garden_types::data::{DatasetView, ExportParams, PreviewView};

use crate::form::{number as form_number, text as form_text};

/// A form field's date (`YYYY-MM-DD` or RFC 3339), if given, as Unix ms.
pub(super) fn form_date(field: &str, v: &Option<String>) -> Result<Option<i64>> {
    form_text(v).map(|s| crate::time::parse_date_arg(field, s)).transpose()
}

/// The form's strings → the typed settings: the format (Alpaca when none), the filter, the
/// curation (checked, with the defaults before the first submit) and the name. The error names
/// the field.
pub fn request_from_params(p: &ExportParams) -> Result<(Format, DataFilter, Curation, Option<String>)> {
    let format = match form_text(&p.format) {
        Some(f) => f.parse::<Format>()?,
        None => Format::Alpaca,
    };
    let filter = DataFilter {
        min_satisfaction: form_number("min_satisfaction", &p.min_satisfaction)?,
        min_message_length: form_number("min_message_length", &p.min_message_length)?,
        max_message_length: form_number("max_message_length", &p.max_message_length)?,
        positive_only: p.checked(&p.positive_only, false),
        exclude_negative: p.checked(&p.exclude_negative, false),
        min_turns: form_number("min_turns", &p.min_turns)?,
        since: form_date("since", &p.since)?,
        until: form_date("until", &p.until)?,
        limit: form_number("limit", &p.limit)?,
    };
    filter.validate()?;
    let defaults = Curation::default();
    let curation = Curation {
        dedupe: p.checked(&p.dedupe, defaults.dedupe),
        scrub_pii: p.checked(&p.scrub_pii, defaults.scrub_pii),
        validation_ratio: form_number("validation_ratio", &p.validation_ratio)?.unwrap_or(defaults.validation_ratio),
        seed: form_number("seed", &p.seed)?.unwrap_or(defaults.seed),
    };
    curation.validate()?;
    Ok((format, filter, curation, form_text(&p.name).map(str::to_owned)))
}

/// A preview as the dataset step shows it: the counts, PII replacements by kind, the samples.
pub fn preview_view(format: Format, p: Preview) -> PreviewView {
    let c = p.counts;
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
        pii: c.pii.by_kind().into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
        avg_satisfaction: c.avg_satisfaction,
        chars_min: c.chars_min,
        chars_mean: c.chars_mean,
        chars_max: c.chars_max,
        samples: p.samples,
    }
}

/// The filter in words (`satisfaction ≥ 0.5`, `positive only`, `since 2025-01-01T00:00:00Z`, …).
pub(super) fn filter_words(f: &DataFilter) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(v) = f.min_satisfaction {
        words.push(format!("satisfaction ≥ {v}"));
    }
    if f.positive_only {
        words.push("positive only".to_owned());
    }
    if f.exclude_negative {
        words.push("no negative".to_owned());
    }
    if let Some(v) = f.min_turns {
        words.push(format!("≥ {v} turns"));
    }
    if let Some(v) = f.min_message_length {
        words.push(format!("messages ≥ {v} chars"));
    }
    if let Some(v) = f.max_message_length {
        words.push(format!("messages ≤ {v} chars"));
    }
    if let Some(v) = f.since {
        words.push(format!("since {}", crate::time::format_iso(v)));
    }
    if let Some(v) = f.until {
        words.push(format!("until {}", crate::time::format_iso(v)));
    }
    if let Some(v) = f.limit {
        words.push(format!("limit {v}"));
    }
    words
}

/// A stored dataset as the Datasets page shows it: its steps and its filter, in words.
pub fn dataset_view(d: &Dataset) -> DatasetView {
    let c = &d.counts;
    let steps = [
        ("conversations considered", c.conversations),
        ("passed the filter", c.passed_filter),
        ("examples built", c.examples),
        ("exact duplicates removed", c.exact_duplicates),
        ("near duplicates removed", c.near_duplicates),
        ("PII replacements", c.pii.total()),
        ("written", c.written),
    ];
    DatasetView {
        id: d.id.clone(),
        name: d.name.clone(),
        format: d.format.as_str().to_owned(),
        examples: d.examples,
        validation: d.validation,
        avg_satisfaction: d.avg_satisfaction,
        path: d.path.clone(),
        validation_path: d.validation_path.clone(),
        dataset_info: d.dataset_info.clone(),
        sha256: d.sha256.clone(),
        created_at: d.created_at,
        steps: steps.into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
        filter: filter_words(&d.filter),
    }
}
