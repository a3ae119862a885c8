//! Training: the typed configuration, runs and their metrics, and the supervisor that runs the
//! real LLaMA-Factory as a subprocess.

pub mod backends;
pub mod base_model;
pub mod config;
pub mod estimate;
pub mod extras;
pub mod mlx;
pub mod plan;
pub mod prefs;
pub mod ray;
pub mod runs;
pub mod supervisor;
pub mod yaml;

pub use backends::Backend;
pub use config::{Adjustment, TrainConfig};
pub use plan::{TrainParams, TrainPlan};
pub use runs::{MetricPoint, ModelProgress, ModelState, Phase, Run, RunStatus};
pub use supervisor::{RunEvent, Supervisor};

/// A form field's, a flag's or a stored value that is not one of its set: the error names the
/// field.
impl From<garden_types::runs::UnknownValue> for crate::error::Error {
    fn from(e: garden_types::runs::UnknownValue) -> Self {
        crate::error::Error::invalid(e.field, e.message)
    }
}

/// Whether tests must fail, not skip, when the trainer's Python (or another tool they need) is
/// missing: under `./scripts/test` (GARDEN_EDEN_REQUIRE_TRAINER=1) and in any CI (CI=true), so a
/// suite cannot pass by skipping.
pub fn trainer_required() -> bool {
    std::env::var("GARDEN_EDEN_REQUIRE_TRAINER").as_deref() == Ok("1") || std::env::var("CI").as_deref() == Ok("true")
}

/// The tiny demo model's generator, shipped inside the binary.
const TINY_SCRIPT: &str = include_str!("../../../python/make_tiny_model.py");

/// Where the tiny demo model lives: `<data dir>/models/tiny-demo`, made on first use (a few
/// seconds, no download) with the trainer's Python.
pub async fn ensure_tiny_model(settings: &crate::Settings) -> crate::Result<std::path::PathBuf> {
    use crate::error::Error;
    let models = settings.data_dir.join("models");
    let model = models.join("tiny-demo");
    if model.join("garden-eden-tiny.json").exists() {
        return Ok(model);
    }
    std::fs::create_dir_all(&models).map_err(|e| Error::io("creating", &models, e))?;
    let script = models.join("make_tiny_model.py");
    crate::fsutil::write_atomically(&script, TINY_SCRIPT.as_bytes())?;
    let python = settings.python_path();
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&model)
        .env("HF_HUB_OFFLINE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::io("running", &python, e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(Error::Task(format!(
            "making the tiny demo model failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    Ok(model)
}
