//! Data shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// How an environment check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Missing,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Missing => "missing",
        }
    }
}

/// One environment check, as `garden-eden doctor` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub label: String,
    pub status: CheckStatus,
    pub detail: String,
    pub fix: Option<String>,
}

/// The Home page's live status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub checks: Vec<Check>,
    pub checked_at: i64,
    pub conversations: i64,
}

/// A row of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRow {
    pub id: String,
    pub title: String,
    pub source: String,
    pub created_at: i64,
    pub message_count: i64,
    pub satisfaction: Option<f64>,
}

/// One page of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationRow>,
    pub total: i64,
    pub offset: u32,
    pub limit: u32,
    /// Every source in the history, for the filter.
    pub sources: Vec<String>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use garden_core::doctor;

    impl From<doctor::Status> for CheckStatus {
        fn from(s: doctor::Status) -> Self {
            match s {
                doctor::Status::Ok => CheckStatus::Ok,
                doctor::Status::Warn => CheckStatus::Warn,
                doctor::Status::Missing => CheckStatus::Missing,
            }
        }
    }

    impl From<doctor::Check> for Check {
        fn from(c: doctor::Check) -> Self {
            Check {
                key: c.key,
                label: c.label,
                status: c.status.into(),
                detail: c.detail,
                fix: c.fix,
            }
        }
    }

    impl From<garden_core::conversations::ConversationDetail> for ConversationView {
        fn from(d: garden_core::conversations::ConversationDetail) -> Self {
            ConversationView {
                row: d.summary.into(),
                explicit_satisfaction: d.explicit_satisfaction,
                messages: d
                    .messages
                    .into_iter()
                    .map(|m| MessageRow {
                        id: m.id,
                        role: m.role.as_str().to_owned(),
                        content: m.content,
                        created_at: m.created_at,
                        model: m.model,
                        thumbs: m.thumbs,
                    })
                    .collect(),
            }
        }
    }

    impl From<garden_core::import::ImportReport> for ImportRow {
        fn from(r: garden_core::import::ImportReport) -> Self {
            ImportRow {
                id: r.id,
                kind: r.kind,
                path: r.path,
                conversations: r.stored.conversations as u64,
                messages: r.stored.messages as u64,
                ratings: r.stored.ratings as u64,
                already: r.stored.already as u64,
                skipped: r.skipped.into_iter().map(|s| (s.place, s.reason)).collect(),
                created_at: r.created_at,
            }
        }
    }

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

    impl From<garden_core::conversations::ConversationSummary> for ConversationRow {
        fn from(c: garden_core::conversations::ConversationSummary) -> Self {
            ConversationRow {
                id: c.id,
                title: c.title,
                source: c.source,
                created_at: c.created_at,
                message_count: c.message_count,
                satisfaction: c.satisfaction,
            }
        }
    }
}

/// A message of an opened conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub role: String,
    pub content: String,
    pub created_at: i64,
    pub model: Option<String>,
    pub thumbs: Option<i8>,
}

/// An opened conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub row: ConversationRow,
    pub explicit_satisfaction: Option<f64>,
    pub messages: Vec<MessageRow>,
}

/// One import run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    pub id: String,
    pub kind: String,
    pub path: String,
    pub conversations: u64,
    pub messages: u64,
    pub ratings: u64,
    pub already: u64,
    /// (where, why)
    pub skipped: Vec<(String, String)>,
    pub created_at: i64,
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

/// A training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub total_steps: Option<i64>,
    pub final_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    pub error: Option<String>,
    pub output_dir: String,
    pub yaml: String,
    /// `model` while the base model is found or downloaded, `training` after.
    pub phase: Option<String>,
    pub model: Option<ModelProgressView>,
}

/// The base model's phase: where it was found, or how far its download is (also sent live as
/// the event stream's `model` events).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelProgressView {
    pub repo: String,
    pub state: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_per_s: Option<f64>,
    pub eta_s: Option<f64>,
    pub path: Option<String>,
    pub message: Option<String>,
}

/// One point of a run's charts (as the server sends it in the event stream too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub step: i64,
    pub total_steps: Option<i64>,
    pub epoch: Option<f64>,
    pub loss: Option<f64>,
    pub eval_loss: Option<f64>,
    pub lr: Option<f64>,
    pub percentage: Option<f64>,
    pub elapsed_s: Option<f64>,
    pub remaining_s: Option<f64>,
    pub throughput: Option<f64>,
}

/// A run with its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub run: RunRow,
    pub points: Vec<Point>,
}

/// The training form, as strings (checked on the server, errors name the field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainParams {
    pub name: Option<String>,
    pub dataset_id: Option<String>,
    /// `tiny` (default): the tiny demo model; `path`: `model` below.
    pub model_kind: Option<String>,
    /// A local folder or Hugging Face id.
    pub model: Option<String>,
    pub lora_rank: Option<String>,
    pub lora_alpha: Option<String>,
    pub lora_dropout: Option<String>,
    pub lora_target: Option<String>,
    pub num_train_epochs: Option<String>,
    pub max_steps: Option<String>,
    pub learning_rate: Option<String>,
    pub per_device_train_batch_size: Option<String>,
    pub gradient_accumulation_steps: Option<String>,
    pub cutoff_len: Option<String>,
    /// One of the troubleshooting adjustments to apply.
    pub adjust: Option<String>,
    /// `z2` / `z3`: DeepSpeed ZeRO for several GPUs.
    pub deepspeed: Option<String>,
    /// The base model's precision: `auto` (default: chosen for the GPU), `none` (full), `8`, `4`.
    pub quantization_bit: Option<String>,
    /// Plan for a GPU of this many GB instead of this machine's.
    pub target_gpu: Option<String>,
    /// How many GPUs (with DeepSpeed ZeRO).
    pub gpus: Option<String>,
    /// `llamafactory` (default) or `mlx`.
    pub backend: Option<String>,
    /// `on`: run the model's own Python code (trust_remote_code).
    pub trust_remote_code: Option<String>,
}

/// What the review step shows before launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainPlan {
    pub yaml: String,
    pub examples: u64,
    pub steps_per_epoch: u64,
    pub total_steps: u64,
    /// From the latest finished run of the same model here, if any.
    pub time_estimate: Option<String>,
    /// GPU memory estimate, when the model's shape is known.
    pub memory: Result<MemoryPlan, String>,
    /// The same settings for the trainers garden-eden does not run.
    pub other_backends: Vec<BackendPlan>,
    /// The GPU the plan is for, in words ("NVIDIA GeForce RTX 4090, 24.0 GiB…", "no GPU…").
    pub device: String,
    /// One sentence on the base model's precision: chosen for the GPU, or as the person set it.
    pub precision: String,
    /// Trainer packages the settings need that are not installed (the run would be refused).
    pub missing_extras: Vec<MissingExtra>,
    /// The trainer that will run it, and what it lacks (MLX).
    pub backend: String,
    pub backend_notes: Vec<String>,
    /// The model's own code will run (the person opted in).
    pub trust_remote_code: bool,
}

/// A trainer package the run needs and the environment lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingExtra {
    pub package: String,
    pub purpose: String,
    /// The exact pip command.
    pub command: String,
}

/// An install of an extra started from the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraInstall {
    pub package: String,
    /// running / done / failed
    pub state: String,
    pub line: String,
    pub done_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub error: Option<String>,
}

/// A change that lowers the memory estimate: its sentence and the form fields it sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionView {
    pub text: String,
    pub params: Vec<(String, String)>,
}

/// The memory estimate, with the formula's parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPlan {
    /// fits / tight / will_not_fit / no_gpu
    pub fit: String,
    pub total: String,
    pub gpu: Option<String>,
    pub parts: Vec<(String, String)>,
    pub formula: String,
    pub message: String,
    pub suggestions: Vec<SuggestionView>,
}

/// Config files and the command for another trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendPlan {
    pub label: String,
    /// (file name, content)
    pub files: Vec<(String, String)>,
    pub command: String,
    pub notes: Vec<String>,
    /// Why it could not be generated for these settings.
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
mod run_convert {
    use super::*;

    impl From<garden_core::train::runs::MetricPoint> for Point {
        fn from(p: garden_core::train::runs::MetricPoint) -> Self {
            Point {
                step: p.step,
                total_steps: p.total_steps,
                epoch: p.epoch,
                loss: p.loss,
                eval_loss: p.eval_loss,
                lr: p.lr,
                percentage: p.percentage,
                elapsed_s: p.elapsed_s,
                remaining_s: p.remaining_s,
                throughput: p.throughput,
            }
        }
    }

    impl From<garden_core::train::Run> for RunRow {
        fn from(r: garden_core::train::Run) -> Self {
            RunRow {
                id: r.id,
                name: r.name,
                status: r.status.as_str().to_owned(),
                created_at: r.created_at,
                started_at: r.started_at,
                finished_at: r.finished_at,
                total_steps: r.total_steps,
                final_loss: r.final_loss,
                final_eval_loss: r.final_eval_loss,
                error: r.error,
                output_dir: r.output_dir,
                yaml: r.yaml,
                phase: r.phase.map(|p| p.as_str().to_owned()),
                model: r.model_progress.map(|m| ModelProgressView {
                    repo: m.repo,
                    state: m.state,
                    done_bytes: m.done_bytes,
                    total_bytes: m.total_bytes,
                    files_done: m.files_done,
                    files_total: m.files_total,
                    bytes_per_s: m.bytes_per_s,
                    eta_s: m.eta_s,
                    path: m.path,
                    message: m.message,
                }),
            }
        }
    }
}

/// A registered adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub base_model: String,
    pub path: String,
    pub format: String,
    pub rank: i64,
    pub alpha: f64,
    pub target_modules: Vec<String>,
    pub checksum: String,
    pub run_id: Option<String>,
    pub dataset_id: Option<String>,
    pub parent_id: Option<String>,
    pub is_active: bool,
    pub avg_satisfaction: Option<f64>,
    pub total_conversations: Option<i64>,
    pub training_loss: Option<f64>,
    pub eval_loss: Option<f64>,
    pub perplexity: Option<f64>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
}

/// One deployment to Ollama, with every step seen so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub id: String,
    pub adapter_id: String,
    pub target: String,
    pub model_name: String,
    pub strategy: String,
    pub ollama_version: Option<String>,
    pub status: String,
    pub progress: Vec<String>,
    pub error: Option<String>,
    pub hint: Option<String>,
    pub test_prompt: Option<String>,
    pub test_answer: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// The registry page: every version, runs waiting to be registered, whether rollback can go back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptersOverview {
    pub adapters: Vec<AdapterRow>,
    /// Succeeded runs whose adapter is not registered (automatic registration failed or predates it).
    pub unregistered_runs: Vec<(String, String)>,
    pub rollback_to: Option<String>,
}

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageDataset {
    pub id: String,
    pub name: String,
    pub examples: i64,
    pub conversations: i64,
    pub avg_satisfaction: Option<f64>,
}

/// One adapter with its lineage, deployments, activations and Modelfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterView {
    pub adapter: AdapterRow,
    pub run: Option<(String, String, String)>,
    pub dataset: Option<LineageDataset>,
    pub parent: Option<AdapterRow>,
    pub deployments: Vec<DeploymentRow>,
    /// (when, what happened)
    pub activations: Vec<(i64, String)>,
    pub modelfile: String,
    pub modelfile_note: String,
    /// For QLoRA adapters: why merge and GGUF use the full-precision base.
    pub base_precision_note: Option<String>,
    pub default_model_name: String,
    pub default_system: String,
    pub ollama_url: String,
}

/// One troubleshooting check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployCheck {
    pub label: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

#[cfg(feature = "ssr")]
mod adapter_convert {
    use super::*;

    impl From<garden_core::adapters::Adapter> for AdapterRow {
        fn from(a: garden_core::adapters::Adapter) -> Self {
            AdapterRow {
                id: a.id,
                name: a.name,
                version: a.version,
                description: a.description,
                base_model: a.base_model,
                path: a.path,
                format: a.format,
                rank: a.rank,
                alpha: a.alpha,
                target_modules: a.target_modules,
                checksum: a.checksum,
                run_id: a.run_id,
                dataset_id: a.dataset_id,
                parent_id: a.parent_id,
                is_active: a.is_active,
                avg_satisfaction: a.metrics.avg_satisfaction,
                total_conversations: a.metrics.total_conversations,
                training_loss: a.metrics.training_loss,
                eval_loss: a.metrics.eval_loss,
                perplexity: a.metrics.perplexity,
                created_at: a.created_at,
                activated_at: a.activated_at,
            }
        }
    }

    impl From<garden_core::adapters::Deployment> for DeploymentRow {
        fn from(d: garden_core::adapters::Deployment) -> Self {
            DeploymentRow {
                id: d.id,
                adapter_id: d.adapter_id,
                target: d.target,
                model_name: d.model_name,
                strategy: d.strategy,
                ollama_version: d.ollama_version,
                status: d.status,
                progress: d.progress,
                error: d.error,
                hint: d.hint,
                test_prompt: d.test_prompt,
                test_answer: d.test_answer,
                created_at: d.created_at,
                finished_at: d.finished_at,
            }
        }
    }

    impl From<garden_core::adapters::deploy::Check> for DeployCheck {
        fn from(c: garden_core::adapters::deploy::Check) -> Self {
            DeployCheck { label: c.label, ok: c.ok, detail: c.detail, fix: c.fix }
        }
    }
}

/// A model garden-eden can chat with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub model: String,
    pub adapter_id: Option<String>,
}

/// An answer being generated (or failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRow {
    pub id: String,
    pub text: String,
    pub done: bool,
    pub error: Option<String>,
}

/// The chat page: models, the conversation open, its answer in flight, recent chats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatView {
    pub endpoints: Vec<EndpointRow>,
    /// What a new conversation will talk to, in words.
    pub default_target: String,
    pub experiment: Option<String>,
    pub conversation: Option<ConversationView>,
    /// The model that answers this conversation, and (hidden in the UI) its experiment arm.
    pub conversation_endpoint: Option<String>,
    pub arm: Option<String>,
    pub pending: Option<TurnRow>,
    pub recent: Vec<(String, String, Option<f64>)>,
    pub adapters: Vec<(String, String)>,
}

/// One side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    pub id: String,
    pub prompt: String,
    pub name_a: String,
    pub name_b: String,
    pub answer_a: Option<String>,
    pub answer_b: Option<String>,
    pub turn_a: Option<TurnRow>,
    pub turn_b: Option<TurnRow>,
    pub left_arm: String,
    pub blind: bool,
    pub winner: Option<String>,
}

/// The compare page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareView {
    pub endpoints: Vec<EndpointRow>,
    pub datasets: Vec<(String, String)>,
    pub prompts: Vec<String>,
    pub comparison: Option<ComparisonRow>,
    pub tally: Vec<(String, String, u64, u64, u64, u64)>,
}

/// An interval, for display.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmView {
    pub arm: String,
    pub endpoint: String,
    pub conversations: u64,
    pub rated: u64,
    pub mean_satisfaction: Option<f64>,
    pub satisfaction_ci: Option<Ci>,
    /// The interval was clipped to [0, 1] (too few ratings for the t-interval to stay inside).
    pub satisfaction_clipped: bool,
    pub thumbs_up: u64,
    pub thumbs_total: u64,
    pub thumbs_rate: Option<f64>,
    pub thumbs_ci: Option<Ci>,
}

/// An experiment with its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub split_b: f64,
    pub winner: Option<String>,
    pub created_at: i64,
    pub a: ArmView,
    pub b: ArmView,
    /// (difference b − a, interval, test statistic, p) for thumbs and for satisfaction.
    pub thumbs_test: Option<(f64, Ci, f64, f64)>,
    pub satisfaction_test: Option<(f64, Ci, f64, f64, f64)>,
    pub prob_b_better_thumbs: f64,
    pub prob_b_better_satisfaction: Option<f64>,
    pub needed_per_arm: Option<u64>,
    /// (A wins, B wins, ties, both bad, Elo A, Elo B, P(A preferred) by Bradley–Terry)
    pub votes: (u64, u64, u64, u64, f64, f64, f64),
    pub better: Option<String>,
    pub verdict: String,
    pub chart_svg: String,
}

/// The experiments page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentsView {
    pub endpoints: Vec<EndpointRow>,
    pub experiments: Vec<ExperimentView>,
}

#[cfg(feature = "ssr")]
mod chat_convert {
    use super::*;

    impl From<garden_core::infer::Endpoint> for EndpointRow {
        fn from(e: garden_core::infer::Endpoint) -> Self {
            EndpointRow { id: e.id, name: e.name, kind: e.kind.as_str().into(), url: e.url, model: e.model, adapter_id: e.adapter_id }
        }
    }

    impl From<garden_core::chat::TurnSnapshot> for TurnRow {
        fn from(t: garden_core::chat::TurnSnapshot) -> Self {
            TurnRow { id: t.id, text: t.text, done: t.done, error: t.error }
        }
    }

    impl From<garden_core::stats::Interval> for Ci {
        fn from(i: garden_core::stats::Interval) -> Self {
            Ci { low: i.low, high: i.high }
        }
    }

    impl From<garden_core::experiments::ArmReport> for ArmView {
        fn from(a: garden_core::experiments::ArmReport) -> Self {
            ArmView {
                arm: a.arm,
                endpoint: a.endpoint,
                conversations: a.conversations,
                rated: a.rated,
                mean_satisfaction: a.mean_satisfaction,
                satisfaction_ci: a.satisfaction_interval.map(Into::into),
                satisfaction_clipped: a.satisfaction_interval_clipped,
                thumbs_up: a.thumbs_up,
                thumbs_total: a.thumbs_total,
                thumbs_rate: a.thumbs_up_rate,
                thumbs_ci: a.thumbs_interval.map(Into::into),
            }
        }
    }
}

/// The continual-learning flow's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnView {
    pub active: Option<String>,
    pub active_deployed: bool,
    pub previous_dataset: Option<String>,
    pub since: Option<i64>,
    pub new_conversations: u64,
    pub next_version: Option<String>,
    /// The cycle's run: (id, name, status), and whether its adapter is registered and deployed.
    pub run: Option<(String, String, String)>,
    pub new_adapter: Option<(String, String, bool)>,
    pub experiment: Option<String>,
}

/// Garden of Eden V3's database on this machine: where it was found, and where garden-eden looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoeHere {
    pub found: Option<String>,
    pub looked: Vec<String>,
}
