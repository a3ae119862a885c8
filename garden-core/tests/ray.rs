//! Training on a Ray cluster, against a real local Ray head (`ray start --head`, CPU only) whose
//! jobs run the real LLaMA-Factory on the tiny model: points streamed live through the job's log,
//! garden-eden restarted mid-run re-attaching by the job's submission id, the adapter brought
//! home (checked, registered, the cluster in its lineage); a stop mid-run saving the adapter; a
//! run asking for a GPU the cluster lacks refused at submission; and a cluster stopped mid-run
//! marking its run with a sentence.
//!
//! Needs the trainer's environment with `ray[default]` (`./scripts/test` installs it); a missing
//! one fails under CI / GARDEN_EDEN_REQUIRE_TRAINER=1.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use garden_core::export::Format;
use garden_core::train::runs::{self, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{ray, RunEvent, Supervisor, TrainConfig};
use garden_core::Studio;

mod common;
use common::ray_head::RayHead;
use common::tiny_model;

/// One Ray head at a time (`ray stop` ends them all), and one training at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn python() -> Option<PathBuf> {
    common::python_with(&["ray", "llamafactory"], " (./scripts/test installs ray[default] into it)")
}

fn env() -> Vec<(String, String)> {
    vec![("HF_HUB_OFFLINE".into(), "1".into())]
}

/// A studio with the sample history exported (Alpaca, a validation split) and the head
/// registered as `local-ray`; the tiny model's config for it.
fn studio(python: &Path, head: &RayHead) -> (tempfile::TempDir, Studio, TrainConfig, String) {
    let dir = tempfile::tempdir().unwrap();
    let (studio, ds) = common::studio_with_sample(dir.path(), python, Format::Alpaca, |_| {});
    let url = head.url.clone();
    studio.db().with_conn(move |c| ray::add(c, "local-ray", &url)).unwrap();
    let mut config = TrainConfig::tiny_demo(tiny_model(python).to_string_lossy());
    config.use_dataset(&ds);
    config.cluster = Some("local-ray".into());
    (dir, studio, config, ds.id)
}

async fn wait_for(studio: &Studio, id: &str, what: impl Fn(&runs::Run, usize) -> bool, limit: Duration) -> runs::Run {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let id2 = id.to_owned();
        let (run, points) = studio
            .db()
            .call(move |c| Ok((runs::get(c, &id2)?, runs::metrics(c, &id2)?.into_iter().filter(|p| p.loss.is_some()).count())))
            .await
            .unwrap();
        if what(&run, points) {
            return run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out; run is {:?} ({:?}), {points} points:\n{}",
            run.status,
            run.error,
            std::fs::read_to_string(&run.log_path).unwrap_or_default().chars().rev().take(3000).collect::<String>().chars().rev().collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[test]
fn a_run_on_a_ray_head_streams_live_survives_a_restart_and_its_adapter_comes_home() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let head = RayHead::start(&python, 2);
    let (_dir, studio, mut config, dataset_id) = studio(&python, &head);
    config.max_steps = Some(30);
    config.eval_steps = 10;

    // A GPU the cluster lacks: refused at submission with the cluster's numbers; nothing queued.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let mut gpu = config.clone();
        gpu.gpus = Some(1);
        let err = supervisor.submit(NewRun { name: "gpu".into(), dataset_id: Some(dataset_id.clone()), config: gpu }).await.unwrap_err().to_string();
        assert!(err.contains("local-ray has 0 GPU(s)") && err.contains("asks for 1") && err.contains("2 CPUs"), "{err}");
        assert!(studio.db().call(|c| runs::list(c)).await.unwrap().is_empty(), "nothing was queued");
    });
    drop(rt);

    // garden-eden #1 submits the run and sees its first points arrive live, then dies.
    let first = tokio::runtime::Runtime::new().unwrap();
    let run = first.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let mut events = supervisor.subscribe();
        let run = supervisor.submit(NewRun { name: "on ray".into(), dataset_id: Some(dataset_id.clone()), config: config.clone() }).await.unwrap();
        assert_eq!(run.cluster.as_deref(), Some("local-ray"));
        assert!(run.yaml.contains("dataset_dir: data") || run.yaml.contains("dataset_dir: \"data\""), "the cluster's YAML: {}", run.yaml);
        let running = wait_for(&studio, &run.id, |_, n| n >= 3, Duration::from_secs(300)).await;
        let mut streamed = 0;
        while let Ok(event) = events.try_recv() {
            if let RunEvent::Points { points, .. } = event {
                streamed += points.len();
            }
        }
        assert!(streamed >= 3, "points streamed as they came: {streamed}");
        assert!(running.job_id.as_deref().is_some_and(|j| j.starts_with(&format!("garden-eden-{}", run.id))), "{:?}", running.job_id);
        running
    });
    drop(first);
    assert_eq!(run.status, RunStatus::Running);

    // garden-eden #2 re-attaches by the submission id and follows the job to the end.
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let _supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let done = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(400)).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}\n{}", done.error, std::fs::read_to_string(&done.log_path).unwrap_or_default());
        let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
        let steps: Vec<i64> = points.iter().filter(|p| p.loss.is_some()).map(|p| p.step).collect();
        assert_eq!(steps, (1..=30).collect::<Vec<_>>(), "every step once, across the restart");
        assert!(points.iter().filter(|p| p.eval_loss.is_some()).count() >= 3, "eval points too");
        let output = Path::new(&done.output_dir);
        for file in ["adapter_model.safetensors", "adapter_config.json", "train_results.json"] {
            assert!(output.join(file).is_file(), "{file} came home");
        }
        let log = std::fs::read_to_string(&done.log_path).unwrap();
        assert!(log.contains("brought back from the cluster local-ray and checked"), "{log}");
        assert!(log.contains("checkpoints kept on the cluster"), "checkpoints stay there and are named: {log}");
        let id = run.id.clone();
        let adapter = studio
            .db()
            .call(move |c| garden_core::adapters::of_run(c, &id))
            .await
            .unwrap()
            .expect("the adapter is registered");
        assert_eq!(adapter.checksum, garden_core::fsutil::sha256_file(&output.join("adapter_model.safetensors")).unwrap());
        let id = adapter.id.clone();
        let lineage = studio.db().call(move |c| garden_core::adapters::lineage(c, &id)).await.unwrap();
        let cluster = lineage.run.unwrap().cluster.unwrap();
        assert!(cluster.starts_with("local-ray at http://127.0.0.1:"), "{cluster}");
    });
    drop(second);

    // A stop mid-run: the trainer saves its adapter, and it comes home.
    let third = tokio::runtime::Runtime::new().unwrap();
    third.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let mut long = config.clone();
        long.max_steps = Some(400);
        long.save_steps = 1000;
        long.eval_steps = 1000;
        let run = supervisor.submit(NewRun { name: "stopped".into(), dataset_id: Some(dataset_id.clone()), config: long }).await.unwrap();
        wait_for(&studio, &run.id, |_, n| n >= 3, Duration::from_secs(300)).await;
        supervisor.cancel(&run.id).await.unwrap();
        let stopped = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(240)).await;
        assert_eq!(stopped.status, RunStatus::Cancelled, "{:?}", stopped.error);
        assert_eq!(stopped.error, None);
        assert!(
            Path::new(&stopped.output_dir).join("adapter_model.safetensors").is_file(),
            "the adapter saved at the stop came home:\n{}",
            std::fs::read_to_string(&stopped.log_path).unwrap_or_default()
        );
        let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
        assert!(points.last().unwrap().step < 400);
    });
}

#[test]
fn a_cluster_that_stops_mid_run_marks_the_run_with_a_sentence() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut head = RayHead::start(&python, 2);
    let (_dir, studio, mut config, dataset_id) = studio(&python, &head);
    config.max_steps = Some(400);
    config.save_steps = 1000;
    config.eval_steps = 1000;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        supervisor.set_remote_patience(Duration::from_secs(3));
        let run = supervisor.submit(NewRun { name: "cluster goes".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
        wait_for(&studio, &run.id, |_, n| n >= 2, Duration::from_secs(300)).await;
        head.stop();
        let marked = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(60)).await;
        assert_eq!(marked.status, RunStatus::Interrupted);
        let error = marked.error.unwrap();
        assert!(error.contains("the cluster local-ray at http://127.0.0.1:") && error.contains("stopped answering") && error.contains("resume"), "{error}");
        let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
        assert!(points.len() >= 2, "the points that came before are kept");
    });
}
