use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{RunRow, RunView, TrainParams, TrainPlan};

/// Every run, newest first.
#[server(endpoint = "runs/list")]
pub async fn list_runs() -> Result<Vec<RunRow>, AppError> {
    let runs = crate::state::studio()?.db().call(|c| garden_core::train::runs::list(c)).await?;
    Ok(runs.into_iter().map(Into::into).collect())
}

/// One run with every point recorded so far.
#[server(endpoint = "runs/get")]
pub async fn get_run(id: String) -> Result<RunView, AppError> {
    let (run, points) = crate::state::studio()?
        .db()
        .call(move |c| Ok((garden_core::train::runs::get(c, &id)?, garden_core::train::runs::metrics(c, &id)?)))
        .await?;
    Ok(RunView { run: run.into(), points: points.into_iter().map(Into::into).collect() })
}

/// The exact YAML and the step count the settings give, before launch.
#[server(endpoint = "runs/plan")]
pub async fn plan_run(params: TrainParams) -> Result<TrainPlan, AppError> {
    let (config, dataset) = ssr::config(&params).await?;
    let model = config.model_name_or_path.clone();
    let per_step = crate::state::studio()?
        .db()
        .call(move |c| garden_core::train::runs::seconds_per_step(c, &model))
        .await?;
    let mut plan = ssr::plan(&config, &dataset);
    plan.time_estimate = Some(match per_step {
        Some(s) => {
            let total = (s * plan.total_steps as f64).round() as u64;
            format!("about {}m{:02}s (from your last run of this model here: {s:.2} s a step)", total / 60, total % 60)
        }
        None => "unknown until a first run of this model has finished here".to_owned(),
    });
    Ok(plan)
}

/// Queues the run and goes to its live page.
#[server(endpoint = "runs/start")]
pub async fn start_run(params: TrainParams) -> Result<RunRow, AppError> {
    let (config, dataset) = ssr::config(&params).await?;
    let name = params.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("{} on {}", dataset.name, short_model(&config.model_name_or_path)));
    let run = crate::state::supervisor()?
        .submit(garden_core::train::supervisor::NewRun { name, dataset_id: Some(dataset.id), config })
        .await?;
    leptos_axum::redirect(&format!("/runs/{}", run.id));
    Ok(run.into())
}

/// Stops a run gracefully (the adapter is saved).
#[server(endpoint = "runs/cancel")]
pub async fn cancel_run(id: String) -> Result<RunRow, AppError> {
    Ok(crate::state::supervisor()?.cancel(&id).await?.into())
}

/// Continues a cancelled, failed or interrupted run from its last checkpoint.
#[server(endpoint = "runs/resume")]
pub async fn resume_run(id: String) -> Result<RunRow, AppError> {
    Ok(crate::state::supervisor()?.resume(&id).await?.into())
}

#[cfg(feature = "ssr")]
fn short_model(m: &str) -> String {
    std::path::Path::new(m).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| m.to_owned())
}

#[cfg(feature = "ssr")]
mod ssr {
    use garden_core::export::Dataset;
    use garden_core::train::{Adjustment, TrainConfig};

    use crate::error::AppError;
    use crate::model::{BackendPlan, MemoryPlan, TrainParams, TrainPlan};

    use crate::api::form::{number, text};

    /// The form → a checked config for a dataset.
    pub async fn config(p: &TrainParams) -> Result<(TrainConfig, Dataset), AppError> {
        let studio = crate::state::studio()?;
        let dataset_id = text(&p.dataset_id).ok_or_else(|| AppError::Invalid { field: "dataset".into(), message: "choose a dataset".into() })?.to_owned();
        let dataset = studio.db().call(move |c| garden_core::export::get(c, &dataset_id)).await?;
        let mut config = if text(&p.model_kind) != Some("path") {
            // Made on first use (seconds): the review needs its shape for the memory estimate.
            let path = garden_core::train::ensure_tiny_model(studio.settings()).await?;
            TrainConfig::tiny_demo(path.to_string_lossy())
        } else {
            let model = text(&p.model).ok_or_else(|| AppError::Invalid { field: "model".into(), message: "give a local folder or a Hugging Face id".into() })?;
            TrainConfig { model_name_or_path: model.to_owned(), ..TrainConfig::default() }
        };
        config.dataset = dataset.name.clone();
        config.dataset_dir = std::path::Path::new(&dataset.path).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        config.eval_dataset = dataset.validation_path.as_ref().map(|_| format!("{}_val", dataset.name));
        if let Some(v) = number("lora_rank", &p.lora_rank)? { config.lora_rank = v; }
        if let Some(v) = number("lora_alpha", &p.lora_alpha)? { config.lora_alpha = v; }
        if let Some(v) = number("lora_dropout", &p.lora_dropout)? { config.lora_dropout = v; }
        if let Some(v) = text(&p.lora_target) { config.lora_target = v.to_owned(); }
        if let Some(v) = number("num_train_epochs", &p.num_train_epochs)? { config.num_train_epochs = v; }
        config.max_steps = number("max_steps", &p.max_steps)?.or(config.max_steps);
        if let Some(v) = number("learning_rate", &p.learning_rate)? { config.learning_rate = v; }
        if let Some(v) = number("per_device_train_batch_size", &p.per_device_train_batch_size)? { config.per_device_train_batch_size = v; }
        if let Some(v) = number("gradient_accumulation_steps", &p.gradient_accumulation_steps)? { config.gradient_accumulation_steps = v; }
        if let Some(v) = number("cutoff_len", &p.cutoff_len)? { config.cutoff_len = v; }
        config.deepspeed = match text(&p.deepspeed) {
            None => None,
            Some("z2") => Some(garden_core::train::config::ZeroStage::Zero2),
            Some("z3") => Some(garden_core::train::config::ZeroStage::Zero3),
            Some(other) => return Err(AppError::Invalid { field: "deepspeed".into(), message: format!("'{other}' is not z2 or z3") }),
        };
        if let Some(adjust) = text(&p.adjust) {
            let a = Adjustment::ALL
                .into_iter()
                .find(|a| serde_json::to_value(a).ok().and_then(|v| v.as_str().map(|s| s == adjust)).unwrap_or(false))
                .ok_or_else(|| AppError::Invalid { field: "adjust".into(), message: format!("'{adjust}' is not a known adjustment") })?;
            config.apply(a);
        }
        // The supervisor sets the real output folder; this one only lets the settings be checked.
        config.output_dir = studio.settings().data_dir.join("runs").join("(new)").join("output");
        config.validate()?;
        Ok((config, dataset))
    }

    pub fn plan(config: &TrainConfig, dataset: &Dataset) -> TrainPlan {
        use garden_core::train::backends::{launch, Backend};
        use garden_core::train::estimate::{human_bytes, verdict, ModelShape};
        let train = dataset.examples.saturating_sub(dataset.validation).max(1);
        let per_step = u64::from(config.per_device_train_batch_size * config.gradient_accumulation_steps).max(1);
        let steps_per_epoch = train.div_ceil(per_step);
        let total = config.max_steps.unwrap_or((steps_per_epoch as f64 * config.num_train_epochs).ceil() as u64);
        let gpu = garden_core::train::supervisor::detect_gpu();
        let memory = ModelShape::lookup(&config.model_name_or_path)
            .map(|shape| {
                let v = verdict(&shape, config, gpu.as_ref().map(|g| g.1));
                MemoryPlan {
                    fit: serde_json::to_value(v.fit).ok().and_then(|f| f.as_str().map(str::to_owned)).unwrap_or_default(),
                    total: human_bytes(v.estimate.total_bytes),
                    gpu: gpu.as_ref().map(|(name, bytes)| format!("{name}, {}", human_bytes(*bytes))),
                    parts: v.estimate.parts.iter().map(|(k, b)| (k.clone(), human_bytes(*b))).collect(),
                    formula: v.estimate.formula.clone(),
                    message: v.message,
                    suggestions: v.suggestions,
                }
            })
            .map_err(|e| e.to_string());
        let other_backends = Backend::ALL
            .into_iter()
            .filter(|b| !b.runs_here())
            .map(|b| match launch(b, config, std::path::Path::new(&dataset.path), dataset.format.as_str()) {
                Ok(l) => BackendPlan { label: b.label().to_owned(), files: l.files, command: l.command.join(" "), notes: l.notes, error: None },
                Err(e) => BackendPlan { label: b.label().to_owned(), files: vec![], command: String::new(), notes: vec![], error: Some(e.to_string()) },
            })
            .collect();
        TrainPlan {
            yaml: config.to_yaml(gpu.as_ref().map(|g| g.0.as_str())),
            examples: train,
            steps_per_epoch,
            total_steps: total,
            time_estimate: None,
            memory,
            other_backends,
        }
    }
}
