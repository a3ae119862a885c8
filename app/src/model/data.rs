//! Health checks, conversations and imports (the core's own `garden_types::data` types, as the
//! server functions return them) and exported datasets.

use serde::{Deserialize, Serialize};

pub use garden_types::data::{CheckStatus, ConversationDetail, ConversationPage, ConversationSummary, Health, ImportReport, MessageView, Role};

#[allow(unused_imports)]
use super::*;

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    impl From<garden_core::export::Dataset> for DatasetRow {
        fn from(d: garden_core::export::Dataset) -> Self {
            let c = &d.counts;
            let steps = vec![
                ("conversations considered".to_owned(), c.conversations),
                ("passed the filter".to_owned(), c.passed_filter),
                ("examples built".to_owned(), c.examples),
                ("exact duplicates removed".to_owned(), c.exact_duplicates),
                ("near duplicates removed".to_owned(), c.near_duplicates),
                ("PII replacements".to_owned(), c.pii.total()),
                ("written".to_owned(), c.written),
            ];
            let f = &d.filter;
            let mut filter = Vec::new();
            if let Some(v) = f.min_satisfaction {
                filter.push(format!("satisfaction ≥ {v}"));
            }
            if f.positive_only {
                filter.push("positive only".to_owned());
            }
            if f.exclude_negative {
                filter.push("no negative".to_owned());
            }
            if let Some(v) = f.min_turns {
                filter.push(format!("≥ {v} turns"));
            }
            if let Some(v) = f.min_message_length {
                filter.push(format!("messages ≥ {v} chars"));
            }
            if let Some(v) = f.max_message_length {
                filter.push(format!("messages ≤ {v} chars"));
            }
            if let Some(v) = f.since {
                filter.push(format!("since {}", garden_core::time::format_iso(v)));
            }
            if let Some(v) = f.until {
                filter.push(format!("until {}", garden_core::time::format_iso(v)));
            }
            if let Some(v) = f.limit {
                filter.push(format!("limit {v}"));
            }
            DatasetRow {
                id: d.id,
                name: d.name,
                format: d.format.as_str().to_owned(),
                examples: d.examples,
                validation: d.validation,
                avg_satisfaction: d.avg_satisfaction,
                path: d.path,
                validation_path: d.validation_path,
                dataset_info: d.dataset_info,
                sha256: d.sha256,
                created_at: d.created_at,
                steps,
                filter,
            }
        }
    }
}

/// The dataset step's settings, as the form and the URL carry them (strings, parsed and checked
/// on the server so that a bad value gets an error naming its field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportParams {
    pub format: Option<String>,
    pub min_satisfaction: Option<String>,
    pub min_message_length: Option<String>,
    pub max_message_length: Option<String>,
    pub positive_only: Option<String>,
    pub exclude_negative: Option<String>,
    pub min_turns: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub dedupe: Option<String>,
    pub scrub_pii: Option<String>,
    pub validation_ratio: Option<String>,
    pub seed: Option<String>,
    pub name: Option<String>,
    /// Present once the form was submitted: from then on an absent checkbox means "off".
    pub submitted: Option<String>,
}

impl ExportParams {
    /// Every field as (name, value), for links and hidden inputs.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let fields: [(&'static str, &Option<String>); 16] = [
            ("format", &self.format),
            ("min_satisfaction", &self.min_satisfaction),
            ("min_message_length", &self.min_message_length),
            ("max_message_length", &self.max_message_length),
            ("positive_only", &self.positive_only),
            ("exclude_negative", &self.exclude_negative),
            ("min_turns", &self.min_turns),
            ("since", &self.since),
            ("until", &self.until),
            ("limit", &self.limit),
            ("dedupe", &self.dedupe),
            ("scrub_pii", &self.scrub_pii),
            ("validation_ratio", &self.validation_ratio),
            ("seed", &self.seed),
            ("name", &self.name),
            ("submitted", &self.submitted),
        ];
        fields
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
            .collect()
    }

    /// Is a checkbox on? Before the first submit, the defaults apply.
    pub fn checked(&self, value: &Option<String>, default: bool) -> bool {
        if self.submitted.is_none() {
            value.is_some() || default
        } else {
            value.is_some()
        }
    }
}

/// Counts and the first examples of a prospective export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewView {
    pub format: String,
    pub conversations: u64,
    pub passed_filter: u64,
    pub examples: u64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    pub written: u64,
    pub train: u64,
    pub validation: u64,
    pub limited: bool,
    /// (kind, replacements)
    pub pii: Vec<(String, u64)>,
    pub avg_satisfaction: Option<f64>,
    pub chars_min: u64,
    pub chars_mean: f64,
    pub chars_max: u64,
    pub samples: Vec<String>,
}

/// An exported dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRow {
    pub id: String,
    pub name: String,
    pub format: String,
    pub examples: u64,
    pub validation: u64,
    pub avg_satisfaction: Option<f64>,
    pub path: String,
    pub validation_path: Option<String>,
    pub dataset_info: String,
    pub sha256: String,
    pub created_at: i64,
    /// "considered → passed filter → examples → written", in words.
    pub steps: Vec<(String, u64)>,
    /// The filter, in words.
    pub filter: Vec<String>,
}

/// The export formats, for the format picker.
pub const FORMATS: [(&str, &str); 5] = [
    ("alpaca", "Alpaca (instruction/input/output, with system and history)"),
    ("sharegpt", "ShareGPT (conversations of from/value)"),
    ("jsonl", "JSONL (system, user, assistant, satisfaction, timestamp)"),
    ("openai", "OpenAI messages (role/content)"),
    ("kto", "KTO (thumbs as kto_tag)"),
];

/// The importers, for the kind picker.
pub const IMPORT_KINDS: [(&str, &str); 6] = [
    ("goe-v3", "Garden of Eden V3 database (.db)"),
    ("openwebui", "Open WebUI chat export (.json)"),
    ("chatgpt", "ChatGPT conversations.json"),
    ("sharegpt", "ShareGPT (.json / .jsonl)"),
    ("alpaca", "Alpaca (.json / .jsonl)"),
    ("jsonl", "JSONL: system, user, assistant, satisfaction"),
];
