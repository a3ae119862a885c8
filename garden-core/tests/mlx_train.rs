//! MLX as a running backend: the supervisor runs `python/mlx_train.py` (mlx-lm through its Python
//! API; `mlx[cpu]` here, Metal on a Mac) on the tiny demo model, stores and streams its points
//! like LLaMA-Factory's, stops it gracefully (adapter saved), resumes it from the saved adapter,
//! and registers the adapter as an MLX one.
//!
//! Needs the MLX environment (`./scripts/test` makes `mlx-venv` beside the trainer's venv) and
//! the trainer's Python (for the tiny model); without them the tests print SKIPPED, unless CI=true
//! or GARDEN_EDEN_REQUIRE_TRAINER=1 makes that a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use garden_core::export::Format;
use garden_core::train::backends::Backend;
use garden_core::train::runs::{self, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{Supervisor, TrainConfig};
use garden_core::{Settings, Studio};

mod common;

/// (the trainer's Python, the MLX Python), or None (skipped) when either is missing.
fn pythons() -> Option<(PathBuf, PathBuf)> {
    let defaults = Settings::new(Settings::default_data_dir());
    let python = std::env::var_os("GARDEN_EDEN_PYTHON").map(PathBuf::from).unwrap_or_else(|| defaults.python_path());
    let mlx = std::env::var_os("GARDEN_EDEN_MLX_PYTHON").map(PathBuf::from).unwrap_or_else(|| defaults.mlx_python_path());
    let mlx_works = std::process::Command::new(&mlx).args(["-c", "import mlx.core, mlx_lm"]).output().is_ok_and(|o| o.status.success());
    if python.exists() && mlx_works {
        return Some((python, mlx));
    }
    assert!(!garden_core::train::trainer_required(), "the trainer's Python ({}) or MLX ({}) is missing", python.display(), mlx.display());
    eprintln!("SKIPPED: no trainer Python at {} or no MLX at {}", python.display(), mlx.display());
    None
}

fn studio(python: &Path, mlx: &Path) -> (tempfile::TempDir, Studio, TrainConfig, String) {
    let dir = tempfile::tempdir().unwrap();
    let model = common::make_tiny_model(python, dir.path());
    let (studio, ds) = common::studio_with_sample(dir.path(), python, Format::Sharegpt, |s| s.mlx_python = Some(mlx.to_owned()));
    let mut config = TrainConfig::tiny_demo(model.to_string_lossy());
    config.backend = Backend::Mlx;
    config.dataset = ds.name.clone();
    config.dataset_dir = Path::new(&ds.path).parent().unwrap().to_owned();
    (dir, studio, config, ds.id)
}

async fn wait_for(studio: &Studio, id: &str, what: impl Fn(&runs::Run, usize) -> bool, limit: Duration) -> runs::Run {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let id2 = id.to_owned();
        let (run, points) = studio.db().call(move |c| Ok((runs::get(c, &id2)?, runs::metrics(c, &id2)?.len()))).await.unwrap();
        if what(&run, points) {
            return run;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out; run is {:?}:\n{}", run.status, std::fs::read_to_string(&run.log_path).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mlx_trains_stops_resumes_and_registers_its_adapter() {
    let Some((python, mlx)) = pythons() else { return };
    let (_dir, studio, mut config, dataset_id) = studio(&python, &mlx);
    config.max_steps = Some(20);
    config.eval_steps = 5;
    let supervisor = Supervisor::start_with(studio.clone(), Vec::new(), Duration::from_secs(30)).await.unwrap();
    let mut events = supervisor.subscribe();
    let run = supervisor.submit(NewRun { name: "mlx".into(), dataset_id: Some(dataset_id.clone()), config: config.clone() }).await.unwrap();
    assert_eq!(run.backend, Backend::Mlx);
    assert!(run.yaml.contains("\"iters\": 20"), "the runner's config is what the run shows: {}", run.yaml);
    let done = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(300)).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
    let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    assert_eq!(points.iter().filter(|p| p.loss.is_some()).count(), 20, "one training point per iteration");
    assert!(points.iter().filter(|p| p.eval_loss.is_some()).count() >= 4, "validation loss every 5 iterations");
    assert!(points.iter().any(|p| p.throughput.is_some_and(|t| t > 0.0)), "tokens/s recorded");
    let mut streamed = 0;
    while let Ok(event) = events.try_recv() {
        if let garden_core::train::RunEvent::Points { points, .. } = event {
            streamed += points.len();
        }
    }
    assert!(streamed >= 20, "{streamed} points streamed");
    let id = run.id.clone();
    let adapter = studio.db().call(move |c| garden_core::adapters::register_run(c, runs::get(c, &id)?.new_adapter()?).or_else(|_| {
        Ok(garden_core::adapters::of_run(c, &id)?.unwrap())
    })).await.unwrap();
    assert_eq!(adapter.format, "mlx", "registered with its backend's layout");
    assert_eq!(adapter.rank, 8);

    // A long run, stopped: the adapter is saved; resumed: it continues from the saved adapter.
    // Long enough that the stop lands well before the end, short enough to finish on a loaded
    // 2-core CI machine (about one step a second there).
    config.max_steps = Some(100);
    config.save_steps = 1000;
    config.eval_steps = 1000;
    let long = supervisor.submit(NewRun { name: "long".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
    wait_for(&studio, &long.id, |_, n| n >= 5, Duration::from_secs(240)).await;
    supervisor.cancel(&long.id).await.unwrap();
    let cancelled = wait_for(&studio, &long.id, |r, _| r.status.is_finished(), Duration::from_secs(120)).await;
    assert_eq!(cancelled.status, RunStatus::Cancelled, "{:?}", cancelled.error);
    assert!(Path::new(&cancelled.output_dir).join("adapters.safetensors").exists(), "a graceful stop saves the adapter");
    let before = studio.db().call({ let id = long.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    let stopped_at = before.last().unwrap().step;
    assert!(stopped_at < 100, "{stopped_at}");

    supervisor.resume(&long.id).await.unwrap();
    let resumed = wait_for(&studio, &long.id, |r, _| r.status.is_finished(), Duration::from_secs(480)).await;
    assert_eq!(resumed.status, RunStatus::Succeeded, "{:?}", resumed.error);
    let after = studio.db().call({ let id = long.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    let steps: Vec<i64> = after.iter().filter(|p| p.loss.is_some()).map(|p| p.step).collect();
    assert_eq!(steps.len(), 100, "every step once, across the stop");
    assert_eq!(*steps.last().unwrap(), 100);
    let log = std::fs::read_to_string(&resumed.log_path).unwrap();
    assert!(log.contains("resuming from step"), "resumed from the saved adapter, not from zero");
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(Path::new(&resumed.log_path).with_file_name("mlx.json")).unwrap()).unwrap();
    assert!(config["resume_adapter_file"].as_str().unwrap().ends_with("adapters.safetensors"));
}

/// QLoRA the Mac way: the base converted to 4-bit by mlx-lm itself (`mlx_lm convert -q`), then
/// LoRA trained on top of it by the MLX backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mlx_trains_lora_on_a_4_bit_base() {
    let Some((python, mlx)) = pythons() else { return };
    let (dir, studio, mut config, dataset_id) = studio(&python, &mlx);
    let q4 = dir.path().join("tiny-4bit");
    let out = std::process::Command::new(&mlx)
        .args(["-m", "mlx_lm", "convert", "--hf-path", &config.model_name_or_path, "--mlx-path"])
        .arg(&q4)
        .arg("-q")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let q: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(q4.join("config.json")).unwrap()).unwrap();
    assert_eq!(q["quantization"]["bits"], 4, "a 4-bit base: {q}");
    config.model_name_or_path = q4.to_string_lossy().into_owned();
    config.max_steps = Some(10);
    config.eval_steps = 5;
    let supervisor = Supervisor::start_with(studio.clone(), Vec::new(), Duration::from_secs(30)).await.unwrap();
    let run = supervisor.submit(NewRun { name: "mlx 4-bit".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
    let done = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(300)).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
    let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    assert_eq!(points.iter().filter(|p| p.loss.is_some()).count(), 10);
    let id = run.id.clone();
    let adapter = studio
        .db()
        .call(move |c| garden_core::adapters::of_run(c, &id))
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(adapter.format, "mlx");
    assert!(adapter.base_model.contains("tiny-4bit"), "the base it was trained on: {}", adapter.base_model);
}
