//! Training runs, their metric points, and the plan reviewed before a run starts.
//!
//! The core defines its rows with these types (`garden_core::train` re-exports them at their old
//! paths); the web app shows them as they are. The serde names are the stored ones: states are
//! written to SQLite as their `as_str` strings (a run's base-model progress as JSON).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::UnknownValue;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// The trainer stopped while garden-eden was not watching (crash, reboot): resume it.
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
    ];

    /// The stored string (and the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// A stored status; anything unknown reads as failed.
    pub fn parse(s: &str) -> RunStatus {
        s.parse().unwrap_or(RunStatus::Failed)
    }

    /// Ended one way or another (nothing runs or waits to).
    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    /// Stopped before the end: it can continue from its last checkpoint.
    pub fn is_resumable(self) -> bool {
        matches!(self, RunStatus::Cancelled | RunStatus::Failed | RunStatus::Interrupted)
    }
}

one_string_each!(RunStatus, "status", "a run status");

/// The two phases of a running run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The base model is being found, checked or downloaded; no trainer runs yet.
    Model,
    Training,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::Model, Phase::Training];

    /// The stored string (and the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Model => "model",
            Phase::Training => "training",
        }
    }

    /// A stored phase, if it is one.
    pub fn parse(s: &str) -> Option<Phase> {
        s.parse().ok()
    }
}

one_string_each!(Phase, "phase", "model or training");

/// Where the base model stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    /// A local folder.
    Local,
    /// Already in the Hugging Face cache.
    Cached,
    /// Being downloaded (the progress says how far).
    #[default]
    Downloading,
    Downloaded,
    Failed,
    /// The run was cancelled during the download.
    Stopped,
}

impl ModelState {
    pub const ALL: [ModelState; 6] = [
        ModelState::Local,
        ModelState::Cached,
        ModelState::Downloading,
        ModelState::Downloaded,
        ModelState::Failed,
        ModelState::Stopped,
    ];

    /// The stored string (and the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelState::Local => "local",
            ModelState::Cached => "cached",
            ModelState::Downloading => "downloading",
            ModelState::Downloaded => "downloaded",
            ModelState::Failed => "failed",
            ModelState::Stopped => "stopped",
        }
    }
}

one_string_each!(ModelState, "state", "local, cached, downloading, downloaded, failed or stopped");

/// How the base model was resolved, or how far its download is (also sent live as the event
/// stream's `model` events).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelProgress {
    /// The Hugging Face id (or the local folder).
    pub repo: String,
    pub state: ModelState,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub files_done: u64,
    pub files_total: u64,
    /// Bytes a second over the last few seconds.
    pub bytes_per_s: Option<f64>,
    pub eta_s: Option<f64>,
    /// The folder the trainer loads.
    pub path: Option<String>,
    /// One sentence for people (what was found, or why it failed and what to do).
    pub message: Option<String>,
}

/// One point of a run's charts (as the server sends it in the event stream too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
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
    /// Preference stages (DPO, ORPO, SimPO, KTO): the mean implicit reward of the chosen and of the
    /// rejected answers, their margin (chosen − rejected), and the share of pairs whose chosen
    /// answer is rewarded more (DPO). `None` on SFT runs and on steps that did not log them.
    #[serde(default)]
    pub rewards_chosen: Option<f64>,
    #[serde(default)]
    pub rewards_rejected: Option<f64>,
    #[serde(default)]
    pub rewards_margins: Option<f64>,
    #[serde(default)]
    pub rewards_accuracies: Option<f64>,
    /// The same on the validation data, at evaluation steps.
    #[serde(default)]
    pub eval_rewards_chosen: Option<f64>,
    #[serde(default)]
    pub eval_rewards_rejected: Option<f64>,
    #[serde(default)]
    pub eval_rewards_margins: Option<f64>,
    #[serde(default)]
    pub eval_rewards_accuracies: Option<f64>,
    /// KTO: the KL estimate between the model and its reference.
    #[serde(default)]
    pub kl: Option<f64>,
}

impl MetricPoint {
    /// A point with only its step (the values are filled in by whoever read them).
    pub fn at_step(step: i64) -> MetricPoint {
        MetricPoint {
            step,
            total_steps: None,
            epoch: None,
            loss: None,
            eval_loss: None,
            lr: None,
            percentage: None,
            elapsed_s: None,
            remaining_s: None,
            throughput: None,
            rewards_chosen: None,
            rewards_rejected: None,
            rewards_margins: None,
            rewards_accuracies: None,
            eval_rewards_chosen: None,
            eval_rewards_rejected: None,
            eval_rewards_margins: None,
            eval_rewards_accuracies: None,
            kl: None,
        }
    }

    /// Whether it carries any preference value (a reward, a margin, an accuracy, KTO's KL).
    pub fn has_rewards(&self) -> bool {
        [
            self.rewards_chosen,
            self.rewards_rejected,
            self.rewards_margins,
            self.rewards_accuracies,
            self.eval_rewards_chosen,
            self.eval_rewards_rejected,
            self.eval_rewards_margins,
            self.eval_rewards_accuracies,
            self.kl,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// Takes every value `newer` has (one point per step: later values fill in or replace
    /// earlier ones).
    pub fn merge(&mut self, newer: &MetricPoint) {
        self.total_steps = newer.total_steps.or(self.total_steps);
        self.epoch = newer.epoch.or(self.epoch);
        self.loss = newer.loss.or(self.loss);
        self.eval_loss = newer.eval_loss.or(self.eval_loss);
        self.lr = newer.lr.or(self.lr);
        self.percentage = newer.percentage.or(self.percentage);
        self.elapsed_s = newer.elapsed_s.or(self.elapsed_s);
        self.remaining_s = newer.remaining_s.or(self.remaining_s);
        self.throughput = newer.throughput.or(self.throughput);
        self.rewards_chosen = newer.rewards_chosen.or(self.rewards_chosen);
        self.rewards_rejected = newer.rewards_rejected.or(self.rewards_rejected);
        self.rewards_margins = newer.rewards_margins.or(self.rewards_margins);
        self.rewards_accuracies = newer.rewards_accuracies.or(self.rewards_accuracies);
        self.eval_rewards_chosen = newer.eval_rewards_chosen.or(self.eval_rewards_chosen);
        self.eval_rewards_rejected = newer.eval_rewards_rejected.or(self.eval_rewards_rejected);
        self.eval_rewards_margins = newer.eval_rewards_margins.or(self.eval_rewards_margins);
        self.eval_rewards_accuracies = newer.eval_rewards_accuracies.or(self.eval_rewards_accuracies);
        self.kl = newer.kl.or(self.kl);
    }
}

/// A trainer garden-eden can write files for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    LlamaFactory,
    Axolotl,
    Unsloth,
    Mlx,
}

impl Backend {
    pub const ALL: [Backend; 4] = [Backend::LlamaFactory, Backend::Axolotl, Backend::Unsloth, Backend::Mlx];

    pub fn label(self) -> &'static str {
        match self {
            Backend::LlamaFactory => "LLaMA-Factory",
            Backend::Axolotl => "Axolotl",
            Backend::Unsloth => "Unsloth",
            Backend::Mlx => "MLX (mlx-lm, Apple silicon)",
        }
    }

    /// LLaMA-Factory and MLX: garden-eden runs and charts them (MLX where it imports); the
    /// others get files and a command to run elsewhere.
    pub fn runs_here(self) -> bool {
        matches!(self, Backend::LlamaFactory | Backend::Mlx)
    }

    /// The stored string (and the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::LlamaFactory => "llamafactory",
            Backend::Axolotl => "axolotl",
            Backend::Unsloth => "unsloth",
            Backend::Mlx => "mlx",
        }
    }
}

one_string_each!(Backend, "backend", "llamafactory, axolotl, unsloth or mlx");

/// A training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub name: String,
    pub dataset_id: Option<String>,
    pub backend: Backend,
    /// The training configuration, as the core's `TrainConfig` serialises it.
    pub config: serde_json::Value,
    pub yaml: String,
    pub status: RunStatus,
    pub pid: Option<i64>,
    pub output_dir: String,
    pub log_path: String,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
    pub total_steps: Option<i64>,
    pub cancel_requested: bool,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Last training and eval loss recorded.
    pub final_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    /// Where a running run is: finding or downloading its base model, or training.
    pub phase: Option<Phase>,
    /// The base model's phase: where it was found, or how far its download is.
    pub model_progress: Option<ModelProgress>,
    /// What it teaches: `sft`, `kto` or `dpo` (the Runs page shows it).
    #[serde(default)]
    pub stage: crate::prefs::Stage,
    /// The Ray cluster it trains on (its registered name); none: this machine.
    #[serde(default)]
    pub cluster: Option<String>,
    /// The cluster's job (its submission id) while or after it ran there.
    #[serde(default)]
    pub job_id: Option<String>,
}

/// What a run's adapter is registered as. The core implements it for its `NewAdapter` (it
/// looks at the run's folders), so `run.new_adapter()` reads the same everywhere.
pub trait FromRun: Sized {
    type Error;
    fn from_run(run: &Run) -> Result<Self, Self::Error>;
}

impl Run {
    /// What registering this run's adapter needs (see [`FromRun`]): only a succeeded run has an
    /// adapter to register.
    pub fn new_adapter<T: FromRun>(&self) -> Result<T, T::Error> {
        T::from_run(self)
    }
}

/// A run with every point recorded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub run: Run,
    pub points: Vec<MetricPoint>,
}

/// The first event of a run's live stream (`snapshot`): the whole state, so a reload or a
/// reconnect loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSnapshot {
    pub status: RunStatus,
    pub points: Vec<MetricPoint>,
    pub total_steps: Option<i64>,
    pub error: Option<String>,
    #[serde(default)]
    pub phase: Option<Phase>,
    /// The base model's progress.
    #[serde(default)]
    pub model: Option<ModelProgress>,
}

impl RunSnapshot {
    pub fn of(run: Run, points: Vec<MetricPoint>) -> RunSnapshot {
        RunSnapshot {
            status: run.status,
            points,
            total_steps: run.total_steps,
            error: run.error,
            phase: run.phase,
            model: run.model_progress,
        }
    }
}

/// An optional package of the trainer's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Extra {
    /// Loads the base model in 4 or 8 bits (`quantization_bit`).
    Bitsandbytes,
    /// ZeRO-2/3 across several GPUs (`deepspeed`).
    Deepspeed,
}

impl Extra {
    pub const ALL: [Extra; 2] = [Extra::Bitsandbytes, Extra::Deepspeed];

    /// The distribution name on PyPI.
    pub fn package(self) -> &'static str {
        match self {
            Extra::Bitsandbytes => "bitsandbytes",
            Extra::Deepspeed => "deepspeed",
        }
    }

    /// What pip is given.
    pub fn requirements(self) -> Vec<&'static str> {
        vec![self.pin()]
    }

    /// The version garden-eden installs: checked with torch 2.11 and LLaMA-Factory 0.9.5 (see
    /// the README's "GPU extras").
    pub fn pin(self) -> &'static str {
        match self {
            Extra::Bitsandbytes => "bitsandbytes==0.50.2",
            Extra::Deepspeed => "deepspeed==0.19.8",
        }
    }

    /// What it is for, in a few words.
    pub fn purpose(self) -> &'static str {
        match self {
            Extra::Bitsandbytes => "loads the base model in 4-bit (QLoRA) or 8-bit",
            Extra::Deepspeed => "shards training across several GPUs (DeepSpeed ZeRO-2/3)",
        }
    }
}

impl FromStr for Extra {
    type Err = UnknownValue;

    /// The package name, in any case.
    fn from_str(name: &str) -> Result<Extra, UnknownValue> {
        Extra::ALL.into_iter().find(|e| e.package().eq_ignore_ascii_case(name.trim())).ok_or_else(|| UnknownValue {
            field: "extra",
            message: format!(
                "'{name}' is not an extra garden-eden installs (one of: {})",
                Extra::ALL.map(Extra::package).join(", ")
            ),
        })
    }
}

/// One extra in the trainer's environment (the review lists those the settings need and the
/// environment lacks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraStatus {
    pub extra: Extra,
    pub package: String,
    /// What garden-eden installs.
    pub pin: String,
    pub purpose: String,
    /// The installed version, if any.
    pub installed: Option<String>,
    /// The exact command that installs it (for people who prefer to run it themselves).
    pub command: String,
}

/// How an install started from the web app goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallState {
    Running,
    Done,
    Failed,
}

impl InstallState {
    pub const ALL: [InstallState; 3] = [InstallState::Running, InstallState::Done, InstallState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            InstallState::Running => "running",
            InstallState::Done => "done",
            InstallState::Failed => "failed",
        }
    }
}

one_string_each!(InstallState, "state", "running, done or failed");

/// An install of an extra started from the review, followed by the page that started it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraInstall {
    pub extra: Extra,
    pub state: InstallState,
    /// pip's latest line.
    pub line: String,
    pub done_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub error: Option<String>,
}

/// How a memory estimate compares with the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// At most 80% of the GPU's memory.
    Fits,
    /// Above 80%, at most 100%: may run out of memory.
    Tight,
    WillNotFit,
    /// No GPU: training runs on the CPU.
    NoGpu,
}

impl Fit {
    pub const ALL: [Fit; 4] = [Fit::Fits, Fit::Tight, Fit::WillNotFit, Fit::NoGpu];

    /// The serde name (the review's `data-fit` and class).
    pub fn as_str(self) -> &'static str {
        match self {
            Fit::Fits => "fits",
            Fit::Tight => "tight",
            Fit::WillNotFit => "will_not_fit",
            Fit::NoGpu => "no_gpu",
        }
    }
}

one_string_each!(Fit, "fit", "fits, tight, will_not_fit or no_gpu");

/// A change that lowers the memory estimate, in words and as a change of settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub text: String,
    pub change: Change,
}

/// The settings a suggestion changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Smaller batch, more accumulation (the same effective batch).
    Batch { batch: u32, accumulation: u32 },
    /// Load the base model in 4 or 8 bits.
    Quantize { bits: u8 },
    Cutoff { tokens: u32 },
    /// Another base model (a Hugging Face id).
    Model { id: String },
    /// DeepSpeed ZeRO-3 across this many GPUs.
    Zero3 { gpus: u32 },
}

impl Change {
    /// The change as the training wizard's form fields (name, value).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Change::Batch { batch, accumulation } => vec![
                ("per_device_train_batch_size", batch.to_string()),
                ("gradient_accumulation_steps", accumulation.to_string()),
            ],
            Change::Quantize { bits } => vec![("quantization_bit", bits.to_string())],
            Change::Cutoff { tokens } => vec![("cutoff_len", tokens.to_string())],
            Change::Model { id } => vec![("model_kind", "path".to_owned()), ("model", id.clone())],
            Change::Zero3 { gpus } => vec![("deepspeed", "z3".to_owned()), ("gpus", gpus.to_string())],
        }
    }
}

/// The training form, as strings (checked by the core, errors name the field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainParams {
    pub name: Option<String>,
    pub dataset_id: Option<String>,
    /// `tiny`: the tiny demo model; `path` (the default): `model` below.
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
    /// `sft`, `kto` or `dpo` (default: the dataset's own: kto exports train kto, pairs dpo).
    pub stage: Option<String>,
    /// DPO's loss: `sigmoid` (default), `orpo` or `simpo` (the last two need no reference model).
    pub pref_loss: Option<String>,
    /// β of the preference loss (default 0.1).
    pub pref_beta: Option<String>,
    /// A registered Ray cluster's name: train there (`gpus`: how many it is asked for).
    pub cluster: Option<String>,
}

impl TrainParams {
    /// The form's field names, in its order.
    pub const FIELDS: [&'static str; 25] = [
        "name",
        "dataset_id",
        "model",
        "model_kind",
        "lora_rank",
        "lora_alpha",
        "lora_dropout",
        "lora_target",
        "num_train_epochs",
        "max_steps",
        "learning_rate",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "cutoff_len",
        "adjust",
        "deepspeed",
        "quantization_bit",
        "target_gpu",
        "gpus",
        "backend",
        "trust_remote_code",
        "stage",
        "pref_loss",
        "pref_beta",
        "cluster",
    ];

    /// Every field that is set, as (form name, value), in the form's order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("name", &self.name),
            ("dataset_id", &self.dataset_id),
            ("model", &self.model),
            ("model_kind", &self.model_kind),
            ("lora_rank", &self.lora_rank),
            ("lora_alpha", &self.lora_alpha),
            ("lora_dropout", &self.lora_dropout),
            ("lora_target", &self.lora_target),
            ("num_train_epochs", &self.num_train_epochs),
            ("max_steps", &self.max_steps),
            ("learning_rate", &self.learning_rate),
            ("per_device_train_batch_size", &self.per_device_train_batch_size),
            ("gradient_accumulation_steps", &self.gradient_accumulation_steps),
            ("cutoff_len", &self.cutoff_len),
            ("adjust", &self.adjust),
            ("deepspeed", &self.deepspeed),
            ("quantization_bit", &self.quantization_bit),
            ("target_gpu", &self.target_gpu),
            ("gpus", &self.gpus),
            ("backend", &self.backend),
            ("trust_remote_code", &self.trust_remote_code),
            ("stage", &self.stage),
            ("pref_loss", &self.pref_loss),
            ("pref_beta", &self.pref_beta),
            ("cluster", &self.cluster),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }

    /// The form from (name, value) pairs (an address's query); unknown names are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> TrainParams {
        let mut p = TrainParams::default();
        for (k, v) in pairs {
            let field = match k {
                "name" => &mut p.name,
                "dataset_id" => &mut p.dataset_id,
                "model" => &mut p.model,
                "model_kind" => &mut p.model_kind,
                "lora_rank" => &mut p.lora_rank,
                "lora_alpha" => &mut p.lora_alpha,
                "lora_dropout" => &mut p.lora_dropout,
                "lora_target" => &mut p.lora_target,
                "num_train_epochs" => &mut p.num_train_epochs,
                "max_steps" => &mut p.max_steps,
                "learning_rate" => &mut p.learning_rate,
                "per_device_train_batch_size" => &mut p.per_device_train_batch_size,
                "gradient_accumulation_steps" => &mut p.gradient_accumulation_steps,
                "cutoff_len" => &mut p.cutoff_len,
                "adjust" => &mut p.adjust,
                "deepspeed" => &mut p.deepspeed,
                "quantization_bit" => &mut p.quantization_bit,
                "target_gpu" => &mut p.target_gpu,
                "gpus" => &mut p.gpus,
                "backend" => &mut p.backend,
                "trust_remote_code" => &mut p.trust_remote_code,
                "stage" => &mut p.stage,
                "pref_loss" => &mut p.pref_loss,
                "pref_beta" => &mut p.pref_beta,
                "cluster" => &mut p.cluster,
                _ => continue,
            };
            *field = Some(v);
        }
        p
    }
}

/// What the review step shows before launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainPlan {
    pub yaml: String,
    /// Training examples (the validation split left out).
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
    pub missing_extras: Vec<ExtraStatus>,
    /// The trainer that will run it, and what it lacks (MLX).
    pub backend: String,
    pub backend_notes: Vec<String>,
    /// The model's own code will run (the person opted in).
    pub trust_remote_code: bool,
    /// What the stage trains on: the counts (KTO's classes and weights, DPO's pairs by source).
    #[serde(default)]
    pub stage: Option<crate::prefs::StageData>,
    /// A preference stage: the adapter training starts from (`name version`, or its folder when
    /// it is not registered), `None` when it starts from the bare base.
    #[serde(default)]
    pub starting_adapter: Option<String>,
    /// A preference stage: its loss (DPO) and β.
    #[serde(default)]
    pub pref_loss: Option<crate::prefs::PrefLoss>,
    #[serde(default)]
    pub pref_beta: Option<f64>,
    /// Where it trains when not on this machine: the Ray cluster, what it has, what it is asked.
    #[serde(default)]
    pub cluster: Option<crate::clusters::ClusterTarget>,
}

/// The memory estimate, with the formula's parts, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPlan {
    pub fit: Fit,
    /// The total, in words (`12.3 GiB`).
    pub total: String,
    /// The GPU it is for, and its memory.
    pub gpu: Option<String>,
    /// (part, size in words).
    pub parts: Vec<(String, String)>,
    pub formula: String,
    pub message: String,
    pub suggestions: Vec<Suggestion>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(v: T) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn each_state_has_one_string_its_serde_name() {
        for v in RunStatus::ALL {
            assert_eq!(serde_name(v), v.as_str());
            assert_eq!(RunStatus::parse(v.as_str()), v);
        }
        assert_eq!(RunStatus::parse("wobbly"), RunStatus::Failed);
        for v in Phase::ALL {
            assert_eq!(serde_name(v), v.as_str());
            assert_eq!(Phase::parse(v.as_str()), Some(v));
        }
        for v in ModelState::ALL {
            assert_eq!(serde_name(v), v.as_str());
        }
        for v in Backend::ALL {
            assert_eq!(serde_name(v), v.as_str());
            assert_eq!(v.as_str().parse::<Backend>(), Ok(v));
        }
        for v in InstallState::ALL {
            assert_eq!(serde_name(v), v.as_str());
        }
        for v in Fit::ALL {
            assert_eq!(serde_name(v), v.as_str());
        }
        for v in Extra::ALL {
            assert_eq!(serde_name(v), v.package());
        }
        assert_eq!(" BitsAndBytes".parse::<Extra>(), Ok(Extra::Bitsandbytes));
        assert!("flash-attn".parse::<Extra>().unwrap_err().to_string().contains("bitsandbytes, deepspeed"));
    }

    #[test]
    fn form_pairs_round_trip() {
        let p = TrainParams { dataset_id: Some("d1".into()), deepspeed: Some("z3".into()), ..TrainParams::default() };
        assert_eq!(p.pairs(), vec![("dataset_id", "d1".to_owned()), ("deepspeed", "z3".to_owned())]);
        assert_eq!(TrainParams::from_pairs(p.pairs()), p);
    }
}
