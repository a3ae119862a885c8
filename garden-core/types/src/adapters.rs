//! Registered adapters, their deployments and checks.
//!
//! The core defines its rows with these types (`garden_core::adapters` re-exports them at their
//! old paths); the web app shows them as they are. The serde names are the stored ones: the
//! states below are written to SQLite as their `as_str` strings.

use serde::{Deserialize, Serialize};

/// How an adapter's weights are stored: the registry's `format` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsFormat {
    Safetensors,
    /// PyTorch pickle (older PEFT). Registered, but garden-eden never unpickles it: converting it
    /// needs `save_pretrained(safe_serialization=True)` first.
    Bin,
    /// mlx-lm's `adapters.safetensors`: `<module>.lora_a` `[in, r]` and `.lora_b` `[r, out]`, the
    /// transposes of PEFT's, with `lora_parameters.scale` as the scale.
    Mlx,
}

impl WeightsFormat {
    pub const ALL: [WeightsFormat; 3] = [WeightsFormat::Safetensors, WeightsFormat::Bin, WeightsFormat::Mlx];

    /// The registry's `format` value: `safetensors`, `bin` or `mlx`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightsFormat::Safetensors => "safetensors",
            WeightsFormat::Bin => "bin",
            WeightsFormat::Mlx => "mlx",
        }
    }

    /// The inverse of [`WeightsFormat::as_str`].
    pub fn parse(s: &str) -> Option<WeightsFormat> {
        WeightsFormat::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

one_string_each!(WeightsFormat, "format", "safetensors, bin or mlx");

/// A registered adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adapter {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub base_model: String,
    pub base_path: Option<String>,
    pub path: String,
    /// How the weights are stored: `safetensors` (PEFT), `bin` (old PEFT) or `mlx` (mlx-lm).
    pub format: WeightsFormat,
    pub rank: i64,
    pub alpha: f64,
    pub target_modules: Vec<String>,
    pub checksum: String,
    pub run_id: Option<String>,
    pub dataset_id: Option<String>,
    pub parent_id: Option<String>,
    pub is_active: bool,
    pub metrics: Metrics,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    /// What its run taught: `sft`, `kto` or `dpo` (`sft` for an adapter brought from elsewhere).
    #[serde(default)]
    pub stage: crate::prefs::Stage,
}

impl Adapter {
    /// `name version`, as people say it.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// An adapter's performance metrics. Training values come from the run; satisfaction and
/// conversation counts from use (or `update_metrics`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub avg_satisfaction: Option<f64>,
    pub total_conversations: Option<i64>,
    pub training_loss: Option<f64>,
    pub eval_loss: Option<f64>,
    pub perplexity: Option<f64>,
    pub updated_at: Option<i64>,
}

/// Two versions compared (`satisfaction_diff`, `conversation_count_diff`) plus loss differences;
/// each is `b − a` and `None` when either side lacks the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub a: Adapter,
    pub b: Adapter,
    pub satisfaction_diff: Option<f64>,
    pub conversation_count_diff: Option<i64>,
    pub training_loss_diff: Option<f64>,
    pub eval_loss_diff: Option<f64>,
    pub perplexity_diff: Option<f64>,
}

impl Comparison {
    /// Compares two adapters' metrics (each difference is `b − a`).
    pub fn of(a: Adapter, b: Adapter) -> Comparison {
        let d = |x: Option<f64>, y: Option<f64>| Some(y? - x?);
        Comparison {
            satisfaction_diff: d(a.metrics.avg_satisfaction, b.metrics.avg_satisfaction),
            conversation_count_diff: a.metrics.total_conversations.zip(b.metrics.total_conversations).map(|(x, y)| y - x),
            training_loss_diff: d(a.metrics.training_loss, b.metrics.training_loss),
            eval_loss_diff: d(a.metrics.eval_loss, b.metrics.eval_loss),
            perplexity_diff: d(a.metrics.perplexity, b.metrics.perplexity),
            a,
            b,
        }
    }
}

/// Where an adapter came from and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub adapter: Adapter,
    pub run: Option<LineageRun>,
    pub dataset: Option<LineageDataset>,
    pub parent: Option<Adapter>,
    pub deployments: Vec<Deployment>,
    pub activations: Vec<Activation>,
}

/// The run that trained an adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRun {
    pub id: String,
    pub name: String,
    /// The run's status as stored (`succeeded`, `failed`, …).
    pub status: String,
    pub finished_at: Option<i64>,
    /// The run loaded its base model in this many bits (QLoRA).
    pub quantization_bit: Option<u8>,
    /// The Ray cluster it trained on (its name and URL); none: this machine.
    #[serde(default)]
    pub cluster: Option<String>,
}

impl LineageRun {
    /// Why a QLoRA adapter is merged into (and converted against) the full-precision base.
    pub fn base_precision_note(&self) -> Option<String> {
        self.quantization_bit.map(|bits| {
            format!(
                "Trained on a {bits}-bit base (QLoRA). Merging and GGUF conversion use the full-precision base: the adapter's \
                 own weights are full precision, Ollama and llama.cpp load plain bf16/fp16 (or their own GGUF quantisations) \
                 rather than bitsandbytes' {bits}-bit format, and folding the adapter into {bits}-bit weights would round away \
                 most of what it learned. garden-eden's merge matches PEFT's merge_and_unload on the unquantised base."
            )
        })
    }
}

/// The dataset an adapter was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageDataset {
    pub id: String,
    pub name: String,
    pub format: String,
    pub examples: i64,
    /// Conversations that went into it (after filtering and curation).
    pub conversations: i64,
    pub avg_satisfaction: Option<f64>,
    pub filter: serde_json::Value,
    /// A pairs dataset: the side-by-side votes and the rated answers its pairs came from.
    #[serde(default)]
    pub votes: i64,
    #[serde(default)]
    pub rated_answers: i64,
}

/// One activation: `adapter_id` became active, replacing `previous_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activation {
    pub adapter_id: String,
    pub previous_id: Option<String>,
    pub reason: String,
    pub at: i64,
}

/// An activation with the names of both sides (`name version`; `None` for a removed adapter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedActivation {
    pub activation: Activation,
    pub adapter_name: Option<String>,
    pub previous_name: Option<String>,
}

impl NamedActivation {
    /// What happened, from the point of view of the adapter `seen_from`.
    pub fn describe(&self, seen_from: &str) -> String {
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "a removed adapter".into());
        let x = &self.activation;
        if x.adapter_id == seen_from {
            match &x.previous_id {
                Some(_) => format!("activated, replacing {} ({})", name(&self.previous_name), x.reason),
                None => format!("activated ({})", x.reason),
            }
        } else {
            format!("replaced by {} ({})", name(&self.adapter_name), x.reason)
        }
    }
}

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    Running,
    Succeeded,
    Failed,
}

impl DeployStatus {
    pub const ALL: [DeployStatus; 3] = [DeployStatus::Running, DeployStatus::Succeeded, DeployStatus::Failed];

    /// The stored value: `running`, `succeeded` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployStatus::Running => "running",
            DeployStatus::Succeeded => "succeeded",
            DeployStatus::Failed => "failed",
        }
    }

    /// The inverse of [`DeployStatus::as_str`].
    pub fn parse(s: &str) -> Option<DeployStatus> {
        DeployStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

one_string_each!(DeployStatus, "status", "running, succeeded or failed");

/// How a deployment builds the Ollama model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployStrategy {
    /// Base + GGUF LoRA layer (Ollama before 0.34.1).
    Adapter,
    /// The LoRA merged into its base, imported as one model.
    Merged,
}

impl DeployStrategy {
    pub const ALL: [DeployStrategy; 2] = [DeployStrategy::Adapter, DeployStrategy::Merged];

    /// The stored value: `adapter` or `merged`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployStrategy::Adapter => "adapter",
            DeployStrategy::Merged => "merged",
        }
    }

    /// The inverse of [`DeployStrategy::as_str`].
    pub fn parse(s: &str) -> Option<DeployStrategy> {
        DeployStrategy::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

one_string_each!(DeployStrategy, "strategy", "adapter or merged");

/// One deployment to Ollama, with every step seen so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub adapter_id: String,
    /// The Ollama URL.
    pub target: String,
    pub model_name: String,
    pub strategy: DeployStrategy,
    pub ollama_version: Option<String>,
    pub status: DeployStatus,
    pub progress: Vec<String>,
    pub error: Option<String>,
    /// What to do about the error.
    pub hint: Option<String>,
    pub test_prompt: Option<String>,
    pub test_answer: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// One troubleshooting check: the guide's "adapter not loading" list, done by the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub label: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// The registry page: every version, runs waiting to be registered, where rollback would go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptersOverview {
    /// Newest first.
    pub adapters: Vec<Adapter>,
    /// Succeeded runs whose adapter is not registered (automatic registration failed or
    /// predates it): (run id, run name), newest first.
    pub unregistered_runs: Vec<(String, String)>,
    /// The version rollback would activate.
    pub rollback_to: Option<Adapter>,
}

/// One adapter's page: its lineage, deployments, activations, Modelfile and deploy defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterView {
    pub adapter: Adapter,
    pub run: Option<LineageRun>,
    pub dataset: Option<LineageDataset>,
    pub parent: Option<Adapter>,
    /// Newest first.
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub activations: Vec<NamedActivation>,
    /// The Modelfile its last deployment wrote, else the default one.
    pub modelfile: String,
    pub modelfile_note: String,
    pub default_model_name: String,
    pub default_system: String,
    pub ollama_url: String,
}

impl AdapterView {
    /// Whether a deployment is still going.
    pub fn deploying(&self) -> bool {
        self.deployments.iter().any(|d| d.status == DeployStatus::Running)
    }
}
