//! Server functions for training: the plan reviewed before a run, starting, cancelling and resuming
//! runs, and the GPU extras. Each is one call into `garden_core::train`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ExtraInstall, Run, RunView, TrainParams, TrainPlan};
use garden_types::prefs::StageData;

/// Every run, newest first.
#[server(endpoint = "runs/list")]
pub async fn list_runs() -> Result<Vec<Run>, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::train::runs::list(c)).await?)
}

/// One run with every point recorded so far.
#[server(endpoint = "runs/get")]
pub async fn get_run(id: String) -> Result<RunView, AppError> {
    Ok(crate::state::studio()?.db().call(move |c| garden_core::train::runs::view(c, &id)).await?)
}

/// The exact YAML and the step count the settings give, before launch.
#[server(endpoint = "runs/plan")]
pub async fn plan_run(params: TrainParams) -> Result<TrainPlan, AppError> {
    Ok(garden_core::train::plan::review(&crate::state::studio()?, &params).await?)
}

/// What the wizard's data step offers, a stage each (SFT, KTO, DPO): what the history holds for
/// it, or an earlier export that can train it; a stage with a refusal is not offered.
#[server(endpoint = "runs/stage-options")]
pub async fn stage_options() -> Result<Vec<StageData>, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::train::plan::stage_options(c)).await?)
}

/// Queues the run and goes to its live page.
#[server(endpoint = "runs/start")]
pub async fn start_run(params: TrainParams) -> Result<Run, AppError> {
    let run = garden_core::train::plan::start(&crate::state::supervisor()?, &params).await?;
    leptos_axum::redirect(&format!("/runs/{}", run.id));
    Ok(run)
}

/// Starts installing a trainer extra (bitsandbytes, deepspeed) into the trainer's Python; the
/// review follows it with `extra_installs`.
#[server(endpoint = "extras/install")]
pub async fn install_extra(package: String) -> Result<ExtraInstall, AppError> {
    let extra = garden_core::train::extras::parse(&package)?;
    let python = crate::state::studio()?.settings().python_path();
    Ok(garden_core::train::extras::start_install(python, extra))
}

/// Installs started from the review, with pip's latest line.
#[server(endpoint = "extras/installs")]
pub async fn extra_installs() -> Result<Vec<ExtraInstall>, AppError> {
    Ok(garden_core::train::extras::installs())
}

/// Whether MLX trains here (`import mlx.core, mlx_lm` works with the trainer's Python), so the
/// wizard offers it.
#[server(endpoint = "runs/mlx-available")]
pub async fn mlx_available() -> Result<bool, AppError> {
    let python = crate::state::studio()?.settings().mlx_python_path();
    Ok(garden_core::train::mlx::available(&python).await)
}

/// The registered Ray clusters, with what each has now (asked in parallel).
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<garden_types::clusters::ClusterView>, AppError> {
    Ok(garden_core::train::ray::views(&crate::state::studio()?).await?)
}

/// Registers a Ray cluster by its dashboard URL (as `garden-eden clusters add`).
#[server(endpoint = "clusters/add")]
pub async fn add_cluster(name: String, url: String) -> Result<garden_types::clusters::ClusterView, AppError> {
    Ok(garden_core::train::ray::register(&crate::state::studio()?, &name, &url).await?)
}

/// Stops a run gracefully (the adapter is saved).
#[server(endpoint = "runs/cancel")]
pub async fn cancel_run(id: String) -> Result<Run, AppError> {
    Ok(crate::state::supervisor()?.cancel(&id).await?)
}

/// Continues a cancelled, failed or interrupted run from its last checkpoint.
#[server(endpoint = "runs/resume")]
pub async fn resume_run(id: String) -> Result<Run, AppError> {
    Ok(crate::state::supervisor()?.resume(&id).await?)
}
