//! The supervisor with the real LLaMA-Factory on the tiny demo model (CPU, seconds): a run from
//! an exported dataset, cancel and resume, and a garden-eden restart while a trainer runs.
//!
//! Needs the trainer's Python environment (`./scripts/test` creates it and sets
//! GARDEN_EDEN_REQUIRE_TRAINER=1, which turns a missing environment into a failure).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use garden_core::export::Format;
use garden_core::train::runs::{self, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{Supervisor, TrainConfig};
use garden_core::Studio;

mod common;
use common::{python, tiny_model};

/// One training at a time on two cores.
static SERIAL: Mutex<()> = Mutex::new(());
/// A studio with the sample history exported as an Alpaca dataset with a validation split.
fn studio_with_dataset(python: &Path) -> (tempfile::TempDir, Studio, TrainConfig, String) {
    let dir = tempfile::tempdir().unwrap();
    let (studio, ds) = common::studio_with_sample(dir.path(), python, Format::Alpaca, |_| {});
    let mut config = TrainConfig::tiny_demo(tiny_model(python).to_string_lossy());
    config.dataset = ds.name.clone();
    config.eval_dataset = Some(format!("{}_val", ds.name));
    config.dataset_dir = Path::new(&ds.path).parent().unwrap().to_owned();
    (dir, studio, config, ds.id)
}

fn env() -> Vec<(String, String)> {
    vec![("HF_HUB_OFFLINE".into(), "1".into())]
}

async fn wait_for(studio: &Studio, id: &str, what: impl Fn(&runs::Run, usize) -> bool, limit: Duration) -> runs::Run {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let id2 = id.to_owned();
        let (run, points) = studio.db().call(move |c| Ok((runs::get(c, &id2)?, runs::metrics(c, &id2)?.len()))).await.unwrap();
        if what(&run, points) {
            return run;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out; run is {:?}:\n{}", run.status,
            std::fs::read_to_string(&run.log_path).unwrap_or_default().chars().rev().take(3000).collect::<String>().chars().rev().collect::<String>());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trains_the_tiny_model_and_records_loss_and_eval_loss() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, studio, mut config, dataset_id) = studio_with_dataset(&python);
    config.max_steps = Some(12);
    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
    let mut events = supervisor.subscribe();
    let run = supervisor.submit(NewRun { name: "tiny".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
    assert_eq!(run.status, RunStatus::Queued);
    assert!(run.yaml.contains("lora_rank: 8"));
    let run = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(240)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let out = Path::new(&run.output_dir);
    assert!(out.join("adapter_model.safetensors").exists());
    assert!(out.join("adapter_config.json").exists());
    let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    assert_eq!(points.iter().filter(|p| p.loss.is_some()).count(), 12, "one training point per step");
    assert!(points.iter().any(|p| p.eval_loss.is_some()), "eval loss recorded");
    assert_eq!(run.total_steps, Some(12));
    assert!(run.final_loss.is_some() && run.final_eval_loss.is_some());
    // Listeners saw the points as they came.
    let mut streamed = 0;
    while let Ok(event) = events.try_recv() {
        if let garden_core::train::RunEvent::Points { points, .. } = event {
            streamed += points.len();
        }
    }
    assert!(streamed >= 12, "{streamed} points streamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_saves_its_adapter_and_resumes_from_its_checkpoint() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, studio, mut config, dataset_id) = studio_with_dataset(&python);
    config.max_steps = Some(400);
    config.save_steps = 5;
    config.eval_steps = 1000;
    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
    let run = supervisor.submit(NewRun { name: "long".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
    wait_for(&studio, &run.id, |_, n| n >= 8, Duration::from_secs(240)).await;
    supervisor.cancel(&run.id).await.unwrap();
    let cancelled = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(120)).await;
    assert_eq!(cancelled.status, RunStatus::Cancelled, "{:?}", cancelled.error);
    let out = Path::new(&cancelled.output_dir);
    assert!(out.join("adapter_model.safetensors").exists(), "a graceful stop saves the adapter");
    let before = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    let last = before.last().unwrap().step;
    assert!(last < 400);
    assert!(std::fs::read_dir(out).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("checkpoint-")));

    supervisor.resume(&run.id).await.unwrap();
    let done = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(300)).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
    let after = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
    let steps: Vec<i64> = after.iter().map(|p| p.step).collect();
    let mut unique = steps.clone();
    unique.dedup();
    assert_eq!(steps, unique, "one point per step although the resumed trainer logged some steps again");
    assert_eq!(*steps.last().unwrap(), 400);
    let log = std::fs::read_to_string(&done.log_path).unwrap();
    assert!(log.contains("checkpoint"), "resumed from a checkpoint");
}

#[test]
fn a_restart_reattaches_to_a_live_trainer_and_marks_a_dead_one_interrupted() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, studio, mut config, dataset_id) = studio_with_dataset(&python);
    config.max_steps = Some(150);
    config.eval_steps = 1000;

    // garden-eden #1 starts the run, then goes away (its runtime is dropped, as in a crash).
    let first = tokio::runtime::Runtime::new().unwrap();
    let run = first.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let run = supervisor.submit(NewRun { name: "restart".into(), dataset_id: Some(dataset_id.clone()), config: config.clone() }).await.unwrap();
        wait_for(&studio, &run.id, |_, n| n >= 3, Duration::from_secs(240)).await
    });
    drop(first);
    let pid = run.pid.expect("a running trainer has a pid");

    // garden-eden #2 finds it alive, follows it to the end.
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let _supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let done = wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(300)).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
        let points = studio.db().call({ let id = run.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
        assert_eq!(points.iter().filter(|p| p.loss.is_some()).count(), 150, "nothing lost across the restart");
    });
    drop(second);
    // The trainer was this test process's child: reap it (for a crashed garden-eden, init does),
    // unless the runtime already did.
    match nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None) {
        Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) | Err(nix::errno::Errno::ECHILD) => {}
        other => panic!("the trainer did not finish cleanly: {other:?}"),
    }

    // A run whose trainer died while garden-eden was down is marked interrupted.
    let third = tokio::runtime::Runtime::new().unwrap();
    third.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let run = supervisor.submit(NewRun { name: "dies".into(), dataset_id: Some(dataset_id.clone()), config: config.clone() }).await.unwrap();
        let running = wait_for(&studio, &run.id, |_, n| n >= 2, Duration::from_secs(240)).await;
        (running, supervisor)
    });
    drop(third);
    let dying = studio.db().with_conn(|c| Ok(runs::with_status(c, RunStatus::Running)?)).unwrap().pop().unwrap();
    let pid = dying.pid.unwrap();
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
    let fourth = tokio::runtime::Runtime::new().unwrap();
    fourth.block_on(async {
        let _supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let id = dying.id.clone();
        let run = studio.db().call(move |c| runs::get(c, &id)).await.unwrap();
        assert_eq!(run.status, RunStatus::Interrupted);
        assert!(run.error.unwrap().contains("resume"));
        let points = studio.db().call({ let id = dying.id.clone(); move |c| runs::metrics(c, &id) }).await.unwrap();
        assert!(points.len() >= 2, "the points logged before the crash are kept");
    });
}

#[test]
fn a_run_that_finished_while_garden_eden_was_down_is_finished_at_start_up() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, studio, mut config, dataset_id) = studio_with_dataset(&python);
    config.max_steps = Some(4);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = rt.block_on(async {
        let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let run = supervisor.submit(NewRun { name: "finished while down".into(), dataset_id: Some(dataset_id), config }).await.unwrap();
        wait_for(&studio, &run.id, |r, _| r.status.is_finished(), Duration::from_secs(240)).await
    });
    drop(rt);
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    // As garden-eden saw it when it was killed: still running, its trainer's pid recorded, the
    // adapter not registered yet. The trainer has since finished (train_results.json is there).
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = i64::from(gone.id());
    gone.wait().unwrap();
    let id = run.id.clone();
    studio
        .db()
        .with_conn(move |c| {
            c.execute("DELETE FROM adapters WHERE run_id = ?1", [&id])?;
            c.execute("UPDATE runs SET status = 'running', pid = ?2, finished_at = NULL, exit_code = NULL WHERE id = ?1", rusqlite::params![id, dead_pid])?;
            Ok(())
        })
        .unwrap();
    assert!(Path::new(&run.output_dir).join("train_results.json").exists());

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let _supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
        let id = run.id.clone();
        let after = studio.db().call(move |c| runs::get(c, &id)).await.unwrap();
        assert_eq!(after.status, RunStatus::Succeeded, "finished like a re-attached run: {:?}", after.error);
        let id = run.id.clone();
        let adapter = studio.db().call(move |c| garden_core::adapters::of_run(c, &id)).await.unwrap();
        assert!(adapter.is_some(), "its adapter is registered, so resume does not retrain");
    });
}
