use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ExtraInstall, RunRow, RunView, TrainParams, TrainPlan};

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
    let (config, dataset, precision) = ssr::config(&params).await?;
    let model = config.model_name_or_path.clone();
    let per_step = crate::state::studio()?
        .db()
        .call(move |c| garden_core::train::runs::seconds_per_step(c, &model))
        .await?;
    let mut plan = ssr::plan(&params, &config, &dataset, precision).await?;
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
    let (config, dataset, _) = ssr::config(&params).await?;
    let name = params.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("{} on {}", dataset.name, short_model(&config.model_name_or_path)));
    let run = crate::state::supervisor()?
        .submit(garden_core::train::supervisor::NewRun { name, dataset_id: Some(dataset.id), config })
        .await?;
    leptos_axum::redirect(&format!("/runs/{}", run.id));
    Ok(run.into())
}

/// Starts installing a trainer extra (bitsandbytes, deepspeed) into the trainer's Python; the
/// review follows it with `extra_installs`.
#[server(endpoint = "extras/install")]
pub async fn install_extra(package: String) -> Result<ExtraInstall, AppError> {
    let extra = garden_core::train::extras::Extra::parse(&package)?;
    let python = crate::state::studio()?.settings().python_path();
    Ok(ssr::install_view(garden_core::train::extras::start_install(python, extra)))
}

/// Installs started from the review, with pip's latest line.
#[server(endpoint = "extras/installs")]
pub async fn extra_installs() -> Result<Vec<ExtraInstall>, AppError> {
    Ok(garden_core::train::extras::installs().into_iter().map(ssr::install_view).collect())
}

/// Whether MLX trains here (`import mlx.core, mlx_lm` works with the trainer's Python), so the
/// wizard offers it.
#[server(endpoint = "runs/mlx-available")]
pub async fn mlx_available() -> Result<bool, AppError> {
    let python = crate::state::studio()?.settings().mlx_python_path();
    Ok(garden_core::train::mlx::available(&python).await)
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
    use crate::model::{BackendPlan, ExtraInstall, MemoryPlan, MissingExtra, SuggestionView, TrainParams, TrainPlan};

    /// The guide's base model (Ollama's qwen2.5:14b).
    pub const DEFAULT_MODEL: &str = "Qwen/Qwen2.5-14B-Instruct";

    use crate::api::form::{number, text};

    /// The form → a checked config for a dataset, and the sentence on its precision.
    pub async fn config(p: &TrainParams) -> Result<(TrainConfig, Dataset, String), AppError> {
        let studio = crate::state::studio()?;
        let dataset_id = text(&p.dataset_id).ok_or_else(|| AppError::Invalid { field: "dataset".into(), message: "choose a dataset".into() })?.to_owned();
        let dataset = studio.db().call(move |c| garden_core::export::get(c, &dataset_id)).await?;
        let mut config = if text(&p.model_kind) == Some("tiny") {
            // Made on first use (seconds): the review needs its shape for the memory estimate.
            let path = garden_core::train::ensure_tiny_model(studio.settings()).await?;
            TrainConfig::tiny_demo(path.to_string_lossy())
        } else {
            // The guide's model unless another is named.
            let model = text(&p.model).unwrap_or(DEFAULT_MODEL);
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
        config.backend = match text(&p.backend) {
            None | Some("llamafactory") => garden_core::train::backends::Backend::LlamaFactory,
            Some("mlx") => garden_core::train::backends::Backend::Mlx,
            Some(other) => return Err(AppError::Invalid { field: "backend".into(), message: format!("'{other}' is not llamafactory or mlx") }),
        };
        config.trust_remote_code = text(&p.trust_remote_code).is_some_and(|v| v == "on" || v == "true");
        let target = target(p).await?;
        let mlx = config.backend == garden_core::train::backends::Backend::Mlx;
        let precision = match text(&p.quantization_bit).unwrap_or("auto") {
            _ if mlx => {
                config.quantization_bit = None;
                "MLX loads the base model as it is: for 4-bit, choose an MLX 4-bit model (mlx-community …-4bit, or mlx_lm.convert -q).".to_owned()
            }
            "auto" => garden_core::train::plan::choose_precision(&mut config, &target)
                .unwrap_or_else(|| "Full precision: garden-eden does not know this model's shape, so it cannot estimate whether 4-bit is needed.".to_owned()),
            "none" => {
                config.quantization_bit = None;
                "Full precision (bf16 or fp16 on a GPU, fp32 on the CPU), as chosen.".to_owned()
            }
            "4" => {
                config.quantization_bit = Some(4);
                "4-bit (QLoRA), as chosen: the base model is loaded quantised; the adapter trains in full precision.".to_owned()
            }
            "8" => {
                config.quantization_bit = Some(8);
                "8-bit, as chosen: half the memory of full precision, slower than 4-bit.".to_owned()
            }
            other => return Err(AppError::Invalid { field: "quantization_bit".into(), message: format!("'{other}' is not auto, none, 8 or 4") }),
        };
        // The supervisor sets the real output folder; this one only lets the settings be checked.
        config.output_dir = studio.settings().data_dir.join("runs").join("(new)").join("output");
        config.validate()?;
        Ok((config, dataset, precision))
    }

    /// This machine's GPU, or the one the person plans for.
    async fn target(p: &TrainParams) -> Result<garden_core::train::plan::PlannedTarget, AppError> {
        let hardware = garden_core::hardware::detect().await;
        let planned = number::<u64>("target_gpu", &p.target_gpu)?;
        let gpus = number::<u32>("gpus", &p.gpus)?;
        Ok(garden_core::train::plan::target(&hardware, planned, gpus))
    }

    pub async fn plan(p: &TrainParams, config: &TrainConfig, dataset: &Dataset, precision: String) -> Result<TrainPlan, AppError> {
        use garden_core::train::backends::{launch, Backend};
        use garden_core::train::estimate::human_bytes;
        let train = dataset.examples.saturating_sub(dataset.validation).max(1);
        let per_step = u64::from(config.per_device_train_batch_size * config.gradient_accumulation_steps).max(1);
        let steps_per_epoch = train.div_ceil(per_step);
        let total = config.max_steps.unwrap_or((steps_per_epoch as f64 * config.num_train_epochs).ceil() as u64);
        let hardware = garden_core::hardware::detect().await;
        let target = target(p).await?;
        let memory = garden_core::train::plan::memory(config, &target).map(|v| MemoryPlan {
            fit: serde_json::to_value(v.fit).ok().and_then(|f| f.as_str().map(str::to_owned)).unwrap_or_default(),
            total: human_bytes(v.estimate.total_bytes),
            gpu: target.target.map(|t| format!("{}, {}", target.name, human_bytes(t.memory_bytes))),
            parts: v.estimate.parts.iter().map(|(k, b)| (k.clone(), human_bytes(*b))).collect(),
            formula: v.estimate.formula.clone(),
            message: v.message,
            suggestions: v
                .suggestions
                .into_iter()
                .map(|s| SuggestionView { params: s.change.params().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), text: s.text })
                .collect(),
        });
        let python = crate::state::studio()?.settings().python_path();
        let missing_extras = garden_core::train::plan::missing_extras(&python, config)
            .await
            .into_iter()
            .map(|e| MissingExtra { package: e.package, purpose: e.purpose, command: e.command })
            .collect();
        let other_backends = Backend::ALL
            .into_iter()
            .filter(|b| !b.runs_here() && *b != config.backend)
            .map(|b| match launch(b, config, std::path::Path::new(&dataset.path), dataset.format.as_str()) {
                Ok(l) => BackendPlan { label: b.label().to_owned(), files: l.files, command: l.command.join(" "), notes: l.notes, error: None },
                Err(e) => BackendPlan { label: b.label().to_owned(), files: vec![], command: String::new(), notes: vec![], error: Some(e.to_string()) },
            })
            .collect();
        let mlx = config.backend == garden_core::train::backends::Backend::Mlx;
        let yaml = if mlx {
            // What the MLX runner will be given (its data folder is made in the run's folder).
            let data = std::path::Path::new("<run folder>/mlx-data");
            serde_json::to_string_pretty(&garden_core::train::mlx::config_for(config, data, train, None)).unwrap_or_default()
        } else {
            config.to_yaml(hardware.device())
        };
        Ok(TrainPlan {
            yaml,
            backend: config.backend.label().to_owned(),
            backend_notes: if mlx { garden_core::train::mlx::limitations(config) } else { Vec::new() },
            trust_remote_code: config.trust_remote_code,
            examples: train,
            steps_per_epoch,
            total_steps: total,
            time_estimate: None,
            memory,
            other_backends,
            device: if target.detected { hardware.summary() } else { format!("planned for a {}", target.name) },
            precision,
            missing_extras,
        })
    }

    pub fn install_view(i: garden_core::train::extras::Install) -> ExtraInstall {
        ExtraInstall { package: i.extra.package().to_owned(), state: i.state, line: i.line, done_bytes: i.done_bytes, total_bytes: i.total_bytes, error: i.error }
    }
}
