//! Training runs, their points and the training plan.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::*;

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
