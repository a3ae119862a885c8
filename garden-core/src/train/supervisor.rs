//! The supervisor: runs the real LLaMA-Factory (`llamafactory-cli train run.yaml`) one job at a
//! time, in its own process group and never through a shell; stores every logged point as it is
//! written; cancels gracefully; and, after a crash or restart of garden-eden, re-attaches to a
//! trainer that still runs or marks the run interrupted so it can be resumed.
//!
//! Each run has a folder `<data dir>/runs/<id>/` with `run.yaml` (exactly what the trainer was
//! given), `train.log` (its stdout and stderr) and `output/` (LLaMA-Factory's output_dir, with
//! `trainer_log.jsonl`, checkpoints and the adapter). The trainer writes its log to a file, not to
//! a pipe of ours, so it keeps running if garden-eden stops.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, Notify};

use super::config::TrainConfig;
use super::backends::Backend;
use super::base_model::{self, Outcome};
use super::runs::{self, MetricPoint, ModelProgress, Phase, Run, RunStatus};
use crate::conversations::new_id;
use crate::error::{Error, Result};
use crate::Studio;

/// How often the trainer's log is read while it runs (a logged point reaches the page within
/// about this long).
const POLL: Duration = Duration::from_millis(100);
/// How long a cancelled trainer gets to save its adapter before it is stopped by force.
pub const CANCEL_GRACE: Duration = Duration::from_secs(30);

/// What the supervisor tells listeners (the live charts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEvent {
    Points { run_id: String, points: Vec<MetricPoint> },
    Status { run_id: String, status: RunStatus },
    /// The base model's phase: found, or how far its download is.
    Model { run_id: String, progress: ModelProgress },
}

/// A run to start.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub name: String,
    pub dataset_id: Option<String>,
    pub config: TrainConfig,
}

#[derive(Clone)]
/// Runs training jobs one at a time (see the module docs).
pub struct Supervisor {
    studio: Studio,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").finish_non_exhaustive()
    }
}

struct Inner {
    wake: Notify,
    events: broadcast::Sender<RunEvent>,
    /// Extra environment for the trainer (tests set HF_HUB_OFFLINE).
    env: Vec<(String, String)>,
    grace: Duration,
    /// How long a Ray cluster may stay silent before its run is marked interrupted (ms).
    remote_patience_ms: std::sync::atomic::AtomicU64,
}

/// How long a Ray cluster may stay unreachable before its run is marked interrupted.
pub const REMOTE_PATIENCE: Duration = Duration::from_secs(120);

impl Supervisor {
    /// Reconciles runs left from before, then starts the worker that runs queued jobs.
    pub async fn start(studio: Studio) -> Result<Supervisor> {
        Self::start_with(studio, Vec::new(), CANCEL_GRACE).await
    }

    pub async fn start_with(studio: Studio, env: Vec<(String, String)>, grace: Duration) -> Result<Supervisor> {
        let (events, _) = broadcast::channel(1024);
        let supervisor = Supervisor { studio, inner: Arc::new(Inner {
                wake: Notify::new(),
                events,
                env,
                grace,
                remote_patience_ms: std::sync::atomic::AtomicU64::new(REMOTE_PATIENCE.as_millis() as u64),
            }) };
        supervisor.reconcile().await?;
        let worker = supervisor.clone();
        tokio::spawn(async move { worker.work().await });
        Ok(supervisor)
    }

    pub fn studio(&self) -> &Studio {
        &self.studio
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.inner.events.subscribe()
    }

    /// How long a Ray cluster may stay unreachable before its run is marked interrupted
    /// (default [`REMOTE_PATIENCE`]; tests shorten it).
    pub fn set_remote_patience(&self, patience: Duration) {
        self.inner.remote_patience_ms.store(patience.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn remote_patience(&self) -> Duration {
        Duration::from_millis(self.inner.remote_patience_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Extra environment given to every trainer (local or on a cluster).
    pub(super) fn trainer_env(&self) -> &[(String, String)] {
        &self.inner.env
    }

    pub(super) async fn ingest_run(&self, run: &Run) -> Result<()> {
        self.ingest(run).await
    }

    pub(super) async fn finish_run(&self, id: &str, status: RunStatus, code: Option<i64>, error: Option<String>) -> Result<()> {
        self.finish(id, status, code, error).await
    }

    fn run_dir(&self, id: &str) -> PathBuf {
        self.studio.settings().data_dir.join("runs").join(id)
    }

    /// Validates, writes `run.yaml`, and queues the run.
    pub async fn submit(&self, new: NewRun) -> Result<Run> {
        let id = new_id();
        // Absolute paths: the trainer runs in the run's folder.
        let dir = self.run_dir(&id);
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let mut config = new.config;
        config.output_dir = dir.join("output");
        let model = Path::new(&config.model_name_or_path);
        if model.is_relative() && model.exists() {
            if let Ok(absolute) = std::path::absolute(model) {
                config.model_name_or_path = absolute.to_string_lossy().into_owned();
            }
        }
        config.validate()?;
        // A preference stage whose data cannot train (one KTO class, too few pairs, another
        // export's format) is refused here, with the counts and what to do.
        if let Some(dataset_id) = new.dataset_id.clone() {
            let dataset = self.studio.db().call(move |c| crate::export::get(c, &dataset_id)).await?;
            super::prefs::check(&config, &dataset)?;
        }
        // A run for a Ray cluster is checked against the cluster (it answers, has the GPUs, its
        // Python has LLaMA-Factory); its trainer's packages are the cluster's business.
        let cluster = match config.cluster.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(name) => {
                if config.backend == Backend::Mlx {
                    return Err(Error::invalid("backend", "MLX trains on this Mac; a Ray cluster runs LLaMA-Factory: choose one or the other"));
                }
                let name = name.to_owned();
                let cluster = self.studio.db().call(move |c| super::ray::get(c, &name)).await?;
                let (cluster, gpus) = super::ray::check_submission(cluster, &config).await?;
                // Decided once, here: the YAML and the job's GPU request follow it.
                config.gpus = Some(gpus);
                Some(cluster)
            }
            None => {
                // A run whose trainer packages are missing is refused here, before anything is queued.
                super::extras::check(&self.studio.settings().python_path(), &config.needed_extras()).await?;
                None
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let yaml = match config.backend {
            _ if cluster.is_some() => {
                let yaml = super::ray::remote_yaml(&config, config.gpus.unwrap_or(0));
                crate::fsutil::write_atomically(&dir.join("run.yaml"), yaml.as_bytes())?;
                yaml
            }
            Backend::Mlx => {
                let mlx_python = self.studio.settings().mlx_python_path();
                if !super::mlx::available(&mlx_python).await {
                    return Err(Error::invalid("backend", super::mlx::not_available(&mlx_python)));
                }
                // mlx-lm reads chat JSONL: the dataset is rewritten into the run's folder.
                let dataset_id = new.dataset_id.clone().ok_or_else(|| {
                    Error::invalid("dataset", "an MLX run trains on a garden-eden dataset: give --dataset (see `garden-eden datasets list`)")
                })?;
                let dataset = self.studio.db().call(move |c| crate::export::get(c, &dataset_id)).await?;
                let (data, cfg, dir2) = (dir.join("mlx-data"), config.clone(), dir.clone());
                let text = tokio::task::spawn_blocking(move || -> Result<String> {
                    let valid = dataset.validation_path.as_deref().map(Path::new);
                    let (train, _) = super::mlx::prepare_data(Path::new(&dataset.path), valid, dataset.format, &data)?;
                    let text = serde_json::to_string_pretty(&super::mlx::config_for(&cfg, &data, train, None))
                        .map_err(|e| Error::Task(e.to_string()))?;
                    crate::fsutil::write_atomically(&dir2.join(super::mlx::CONFIG_FILE), text.as_bytes())?;
                    Ok(text)
                })
                .await
                .map_err(|e| Error::Task(e.to_string()))??;
                text
            }
            _ => {
                let yaml = config.to_yaml(crate::hardware::detect().await.device());
                crate::fsutil::write_atomically(&dir.join("run.yaml"), yaml.as_bytes())?;
                if let Some(z) = config.deepspeed {
                    crate::fsutil::write_atomically(&dir.join(z.file_name()), z.config_json().as_bytes())?;
                }
                yaml
            }
        };
        let backend = config.backend.as_str();
        let config_json = serde_json::to_string(&config).map_err(|e| Error::Task(e.to_string()))?;
        let log_path = dir.join("train.log");
        let id2 = id.clone();
        let cluster_id = cluster.map(|c| c.id);
        let run = self
            .studio
            .db()
            .call(move |conn| {
                conn.execute(
                    "INSERT INTO runs (id, name, dataset_id, backend, config, yaml, status, output_dir, log_path, created_at, stage, cluster_id)
                     VALUES (?1, ?2, ?3, ?9, ?4, ?5, 'queued', ?6, ?7, ?8, ?10, ?11)",
                    params![
                        id2,
                        new.name,
                        new.dataset_id,
                        config_json,
                        yaml,
                        config.output_dir.to_string_lossy(),
                        log_path.to_string_lossy(),
                        crate::now_ms(),
                        backend,
                        config.stage.as_str(),
                        cluster_id
                    ],
                )?;
                runs::get(conn, &id2)
            })
            .await?;
        self.emit(RunEvent::Status { run_id: id, status: RunStatus::Queued });
        self.inner.wake.notify_one();
        Ok(run)
    }

    /// Asks a run to stop: a queued run is cancelled at once; a running trainer gets SIGABRT
    /// (LLaMA-Factory then saves its adapter and exits), and is stopped by force after the grace
    /// period.
    pub async fn cancel(&self, id: &str) -> Result<Run> {
        let run = cancel(self.studio.db(), id).await?;
        if run.status == RunStatus::Cancelled {
            self.emit(RunEvent::Status { run_id: run.id.clone(), status: run.status });
        }
        Ok(run)
    }

    /// Queues a cancelled, failed or interrupted run again; LLaMA-Factory continues from its last
    /// checkpoint in the same output folder.
    pub async fn resume(&self, id: &str) -> Result<Run> {
        let id2 = id.to_owned();
        let run = self
            .studio
            .db()
            .call(move |conn| {
                let run = runs::get(conn, &id2)?;
                if !matches!(run.status, RunStatus::Cancelled | RunStatus::Failed | RunStatus::Interrupted) {
                    return Err(Error::invalid("run", format!("a {} run cannot be resumed", run.status.as_str())));
                }
                conn.execute(
                    "UPDATE runs SET status = 'queued', error = NULL, exit_code = NULL, pid = NULL,
                            cancel_requested = 0, finished_at = NULL WHERE id = ?1",
                    [&id2],
                )?;
                runs::get(conn, &id2)
            })
            .await?;
        self.emit(RunEvent::Status { run_id: run.id.clone(), status: RunStatus::Queued });
        self.inner.wake.notify_one();
        Ok(run)
    }

    fn emit(&self, event: RunEvent) {
        let _ = self.inner.events.send(event);
    }

    /// Runs left `running` by an earlier garden-eden: re-attach if the trainer lives, else mark
    /// them interrupted (keeping every point already logged).
    async fn reconcile(&self) -> Result<()> {
        let running = self.studio.db().call(|c| runs::with_status(c, RunStatus::Running)).await?;
        for run in running {
            if run.job_id.is_some() {
                // On a Ray cluster: follow its job again (it may have finished meanwhile).
                tokio::spawn(super::ray::reattach(self.clone(), run));
                continue;
            }
            match run.pid.filter(|pid| is_our_trainer(*pid, &run)) {
                Some(pid) => {
                    tracing::info!(run = %run.id, pid, "re-attaching to a trainer that is still running");
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.follow_orphan(run, pid).await {
                            tracing::error!("following a re-attached run: {e}");
                        }
                    });
                }
                None => {
                    self.ingest(&run).await?;
                    // Decided exactly as a re-attached run is when its trainer ends.
                    let finished = Path::new(&run.output_dir).join("train_results.json").exists();
                    let (status, error) = match (run.cancel_requested, finished, run.phase) {
                        (true, _, _) => (RunStatus::Cancelled, None),
                        (false, true, _) => (RunStatus::Succeeded, None),
                        (false, false, Some(Phase::Model)) => (RunStatus::Interrupted, Some("garden-eden stopped while the base model was being fetched: resume the run to continue the download".to_owned())),
                        (false, false, _) => (RunStatus::Interrupted, Some("garden-eden stopped while this run was training, and the trainer is gone: resume it to continue from its last checkpoint".to_owned())),
                    };
                    self.finish(&run.id, status, None, error).await?;
                }
            }
        }
        Ok(())
    }

    async fn work(self) {
        loop {
            match self.next_queued().await {
                Ok(Some(run)) => {
                    if let Err(e) = self.execute(run).await {
                        tracing::error!("running a training job: {e}");
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!("looking for queued runs: {e}"),
            }
            // Woken by a new job, or look again in a while (another process may queue runs).
            let _ = tokio::time::timeout(Duration::from_secs(2), self.inner.wake.notified()).await;
        }
    }

    /// Claims the oldest queued run, unless one is running (the database allows one at a time).
    async fn next_queued(&self) -> Result<Option<Run>> {
        self.studio
            .db()
            .call(|conn| {
                let tx = conn.transaction()?;
                let busy: i64 = tx.query_row("SELECT COUNT(*) FROM runs WHERE status = 'running'", [], |r| r.get(0))?;
                if busy > 0 {
                    return Ok(None);
                }
                let Some(run) = runs::with_status(&tx, RunStatus::Queued)?.into_iter().next() else {
                    return Ok(None);
                };
                tx.execute(
                    "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?2) WHERE id = ?1",
                    params![run.id, crate::now_ms()],
                )?;
                let run = runs::get(&tx, &run.id)?;
                tx.commit()?;
                Ok(Some(run))
            })
            .await
    }

    async fn execute(&self, run: Run) -> Result<()> {
        self.emit(RunEvent::Status { run_id: run.id.clone(), status: RunStatus::Running });
        if run.cluster.is_some() {
            return super::ray::execute(self, run).await;
        }
        let dir = PathBuf::from(&run.log_path).parent().map(Path::to_path_buf).unwrap_or_default();
        // Absolute: the trainer runs in that folder, and is given paths inside it.
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let yaml = dir.join("run.yaml");
        let python = self.studio.settings().python_path();

        // Phase 1: the base model (a checked folder, the Hugging Face cache, or a download).
        let model = run.config.get("model_name_or_path").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let mut report = Progress { supervisor: self.clone(), run_id: run.id.clone() };
        let id = run.id.clone();
        self.studio.db().call(move |c| runs::set_model_progress(c, &id, Phase::Model, None)).await?;
        let from_hub = match base_model::resolve(&model, &python, &dir, Path::new(&run.log_path), &self.inner.env, &mut report).await? {
            Outcome::Ready { from_hub, .. } => from_hub,
            Outcome::Failed { message, .. } => return self.finish(&run.id, RunStatus::Failed, None, Some(message)).await,
            Outcome::Stopped { .. } => return self.finish(&run.id, RunStatus::Cancelled, None, None).await,
        };
        let id = run.id.clone();
        self.studio.db().call(move |c| runs::set_model_progress(c, &id, Phase::Training, None)).await?;

        // Phase 2: the trainer: LLaMA-Factory, or the MLX runner.
        let mlx = run.backend == Backend::Mlx;
        let cli = if mlx { self.studio.settings().mlx_python_path() } else { llamafactory_cli(&python) };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&run.log_path)
            .map_err(|e| Error::io("opening", &run.log_path, e))?;
        let log_err = log.try_clone().map_err(|e| Error::io("opening", &run.log_path, e))?;
        // A preference stage on one process runs through garden-eden's launcher, which logs the
        // rewards and margins as they come (LLaMA-Factory's own log has only the loss); with
        // DeepSpeed, several GPUs or FORCE_TORCHRUN it goes through llamafactory-cli's launcher,
        // and the rewards are read from trainer_state.json at the end.
        let prefs_launcher = !mlx && run.stage.is_preference() && self.single_process(&run).await;
        let mut command = tokio::process::Command::new(if prefs_launcher { python.clone() } else { cli.clone() });
        if mlx {
            let config = self.mlx_config(&run, &dir).await?;
            command.arg(dir.join("mlx_train.py")).arg(config);
        } else if prefs_launcher {
            let launcher = dir.join(super::prefs::LAUNCHER_FILE);
            crate::fsutil::write_atomically(&launcher, super::prefs::LAUNCHER.as_bytes())?;
            command.arg(launcher).arg(&yaml);
        } else {
            command.arg("train").arg(&yaml);
        }
        command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            // Its own process group: stopping it reaches its workers too, and a Ctrl+C meant
            // for garden-eden does not reach it.
            .process_group(0)
            // SIGABRT then makes LLaMA-Factory save the adapter and exit cleanly.
            .env("LLAMABOARD_ENABLED", "1")
            // …which also makes it keep a running_log.txt there.
            .env("LLAMABOARD_WORKDIR", &run.output_dir)
            .env("DISABLE_VERSION_CHECK", "1");
        // The environment's bin first on PATH: with FORCE_TORCHRUN=1 LLaMA-Factory runs
        // `torchrun` (and DeepSpeed its tools) by name.
        if let Some(bin) = python.parent() {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path)));
            if let Ok(joined) = joined {
                command.env("PATH", joined);
            }
        }
        for (k, v) in &self.inner.env {
            command.env(k, v);
        }
        if from_hub {
            // The model is in the cache now: the trainer loads it from there, never the network.
            command.env("HF_HUB_OFFLINE", "1");
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let message = format!("could not start {}: {e} (is LLaMA-Factory installed? see `garden-eden doctor`)", cli.display());
                return self.finish(&run.id, RunStatus::Failed, None, Some(message)).await;
            }
        };
        let pid = child.id().map(i64::from);
        let id = run.id.clone();
        self.studio
            .db()
            .call(move |c| Ok(c.execute("UPDATE runs SET pid = ?2 WHERE id = ?1", params![id, pid])?))
            .await?;
        tracing::info!(run = %run.id, pid, "trainer started");

        let mut cancel_sent_at: Option<tokio::time::Instant> = None;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                () = tokio::time::sleep(POLL) => {}
            }
            self.ingest(&run).await?;
            self.escalate_cancel(&run.id, pid, &mut cancel_sent_at).await?;
        };
        self.ingest(&run).await?;
        let id = run.id.clone();
        let cancelled = self.studio.db().call(move |c| Ok(runs::get(c, &id)?.cancel_requested)).await?;
        let (status, code, error) = match status {
            Ok(s) if cancelled => (RunStatus::Cancelled, s.code(), None),
            Ok(s) if s.success() => (RunStatus::Succeeded, s.code(), None),
            Ok(s) => (RunStatus::Failed, s.code(), Some(failure_reason(&run.log_path, s.code()))),
            Err(e) => (RunStatus::Failed, None, Some(format!("waiting for the trainer: {e}"))),
        };
        self.finish(&run.id, status, code.map(i64::from), error).await
    }

    /// Whether the run trains in one process (no DeepSpeed, at most one GPU, no FORCE_TORCHRUN):
    /// then garden-eden's preference launcher can run it in place of llamafactory-cli's.
    async fn single_process(&self, run: &Run) -> bool {
        let deepspeed = run.config.get("deepspeed").is_some_and(|d| !d.is_null());
        let forced = |v: Option<&str>| v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "y" | "yes"));
        let torchrun = forced(std::env::var("FORCE_TORCHRUN").ok().as_deref())
            || forced(self.inner.env.iter().find(|(k, _)| k == "FORCE_TORCHRUN").map(|(_, v)| v.as_str()));
        !deepspeed && !torchrun && crate::hardware::detect().await.count() <= 1
    }

    /// Writes the MLX runner and its config; a resumed run continues from the saved adapter.
    async fn mlx_config(&self, run: &Run, dir: &Path) -> Result<PathBuf> {
        let (dir, output) = (dir.to_owned(), PathBuf::from(&run.output_dir));
        tokio::task::spawn_blocking(move || -> Result<PathBuf> {
            crate::fsutil::write_atomically(&dir.join("mlx_train.py"), super::mlx::RUNNER.as_bytes())?;
            let path = dir.join(super::mlx::CONFIG_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
            let mut config: super::mlx::MlxConfig =
                serde_json::from_str(&text).map_err(|e| Error::invalid("mlx.json", e.to_string()))?;
            let saved = output.join("adapters.safetensors");
            config.resume_adapter_file = saved.exists().then_some(saved);
            let text = serde_json::to_string_pretty(&config).map_err(|e| Error::Task(e.to_string()))?;
            crate::fsutil::write_atomically(&path, text.as_bytes())?;
            Ok(path)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    /// After a cancel request: SIGABRT once (sent by `cancel`), then after the grace period
    /// SIGTERM and finally SIGKILL to the whole group.
    async fn escalate_cancel(&self, id: &str, pid: Option<i64>, sent: &mut Option<tokio::time::Instant>) -> Result<()> {
        let Some(pid) = pid else { return Ok(()) };
        if sent.is_none() {
            let id = id.to_owned();
            if self.studio.db().call(move |c| Ok(runs::get(c, &id)?.cancel_requested)).await? {
                *sent = Some(tokio::time::Instant::now());
            }
            return Ok(());
        }
        if let Some(at) = *sent {
            let waited = at.elapsed();
            let group = Pid::from_raw(pid as i32);
            if waited > self.inner.grace + Duration::from_secs(5) {
                let _ = killpg(group, Signal::SIGKILL);
            } else if waited > self.inner.grace {
                let _ = killpg(group, Signal::SIGTERM);
            }
        }
        Ok(())
    }

    /// Follows a trainer that garden-eden did not start in this life (no `wait()` possible):
    /// polls until it is gone, then decides from its output whether it finished.
    async fn follow_orphan(&self, run: Run, pid: i64) -> Result<()> {
        let mut cancel_sent_at = None;
        while process_alive(pid) {
            self.ingest(&run).await?;
            self.escalate_cancel(&run.id, Some(pid), &mut cancel_sent_at).await?;
            tokio::time::sleep(POLL).await;
        }
        self.ingest(&run).await?;
        let id = run.id.clone();
        let cancelled = self.studio.db().call(move |c| Ok(runs::get(c, &id)?.cancel_requested)).await?;
        let finished = Path::new(&run.output_dir).join("train_results.json").exists();
        let (status, error) = match (cancelled, finished) {
            (true, _) => (RunStatus::Cancelled, None),
            (false, true) => (RunStatus::Succeeded, None),
            (false, false) => (RunStatus::Interrupted, Some("the trainer stopped before finishing: resume it to continue from its last checkpoint".to_owned())),
        };
        self.finish(&run.id, status, None, error).await
    }

    /// Reads what the trainer appended to trainer_log.jsonl (and, for a preference stage, to the
    /// launcher's prefs_log.jsonl) and stores it.
    async fn ingest(&self, run: &Run) -> Result<()> {
        let run_id = run.id.clone();
        let path = Path::new(&run.output_dir).join("trainer_log.jsonl");
        let prefs_path = run.stage.is_preference().then(|| Path::new(&run.output_dir).join(super::prefs::PREFS_LOG));
        let points = self
            .studio
            .db()
            .call(move |conn| {
                let (offset, prefs_offset): (i64, i64) =
                    conn.query_row("SELECT metrics_offset, prefs_offset FROM runs WHERE id = ?1", [&run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let (mut points, new_offset) = read_new_lines(&path, offset as u64, runs::parse_log_line)?;
                let (prefs, new_prefs_offset) = match &prefs_path {
                    Some(p) => read_new_lines(p, prefs_offset as u64, super::prefs::parse_prefs_line)?,
                    None => (Vec::new(), prefs_offset as u64),
                };
                if points.is_empty() && prefs.is_empty() && new_offset == offset as u64 && new_prefs_offset == prefs_offset as u64 {
                    return Ok(points);
                }
                let tx = conn.transaction()?;
                runs::upsert_points(&tx, &run_id, &points)?;
                runs::upsert_points(&tx, &run_id, &prefs)?;
                let total = points.iter().rev().find_map(|p| p.total_steps);
                tx.execute(
                    "UPDATE runs SET metrics_offset = ?2, prefs_offset = ?4, total_steps = COALESCE(?3, total_steps) WHERE id = ?1",
                    params![run_id, new_offset as i64, total, new_prefs_offset as i64],
                )?;
                tx.commit()?;
                points.extend(prefs);
                Ok(points)
            })
            .await?;
        if !points.is_empty() {
            self.emit(RunEvent::Points { run_id: run.id.clone(), points });
        }
        Ok(())
    }

    async fn finish(&self, id: &str, status: RunStatus, code: Option<i64>, error: Option<String>) -> Result<()> {
        self.ingest_trainer_state(id).await?;
        if status == RunStatus::Succeeded {
            // Every succeeded run's adapter goes into the registry, before the run reads as
            // succeeded: whoever sees it succeeded finds its adapter (a crash in between is
            // finished again at the next start, and registering is idempotent). A failure here
            // (files the trainer did not write, say) does not change the run: the Adapters page
            // offers to register it by hand and says why it could not.
            let id2 = id.to_owned();
            let registered = self
                .studio
                .db()
                .call(move |c| {
                    let mut run = runs::get(c, &id2)?;
                    run.status = RunStatus::Succeeded;
                    crate::adapters::register_run(c, run.new_adapter()?)
                })
                .await;
            match registered {
                Ok(a) => tracing::info!(run = %id, adapter = %a.id, version = %a.version, "adapter registered"),
                Err(e) => tracing::warn!(run = %id, error = %e, "the run's adapter could not be registered"),
            }
        }
        let id2 = id.to_owned();
        self.studio
            .db()
            .call(move |c| {
                c.execute(
                    "UPDATE runs SET status = ?2, exit_code = ?3, error = ?4, pid = NULL, finished_at = ?5 WHERE id = ?1",
                    params![id2, status.as_str(), code, error, crate::now_ms()],
                )?;
                Ok(())
            })
            .await?;
        tracing::info!(run = %id, status = status.as_str(), "run finished");
        self.emit(RunEvent::Status { run_id: id.to_owned(), status });
        Ok(())
    }
}

impl Supervisor {
    /// A preference run's rewards, margins and accuracies as trainer_state.json recorded them
    /// (every logged step, whichever launcher ran it): stored, and announced when they add
    /// anything.
    async fn ingest_trainer_state(&self, id: &str) -> Result<()> {
        let id2 = id.to_owned();
        let added = self
            .studio
            .db()
            .call(move |conn| {
                let run = runs::get(conn, &id2)?;
                if !run.stage.is_preference() {
                    return Ok(Vec::new());
                }
                let points = super::prefs::points_from_trainer_state(&Path::new(&run.output_dir).join("trainer_state.json"))?;
                let known = runs::metrics(conn, &id2)?;
                let added: Vec<MetricPoint> = points
                    .into_iter()
                    .filter(|p| match known.iter().find(|k| k.step == p.step) {
                        Some(k) => {
                            let mut merged = k.clone();
                            merged.merge(p);
                            merged != *k
                        }
                        None => true,
                    })
                    .collect();
                runs::upsert_points(conn, &id2, &added)?;
                Ok(added)
            })
            .await?;
        if !added.is_empty() {
            self.emit(RunEvent::Points { run_id: id.to_owned(), points: added });
        }
        Ok(())
    }
}

/// Stores and announces the base model's progress; tells the downloader when to stop.
struct Progress {
    supervisor: Supervisor,
    run_id: String,
}

impl base_model::Report for Progress {
    async fn progress(&mut self, progress: &ModelProgress) -> Result<()> {
        let (id, p) = (self.run_id.clone(), progress.clone());
        self.supervisor.studio.db().call(move |c| runs::set_model_progress(c, &id, Phase::Model, Some(&p))).await?;
        self.supervisor.emit(RunEvent::Model { run_id: self.run_id.clone(), progress: progress.clone() });
        Ok(())
    }

    async fn stop_requested(&mut self) -> Result<bool> {
        let id = self.run_id.clone();
        self.supervisor.studio.db().call(move |c| Ok(runs::get(c, &id)?.cancel_requested)).await
    }
}

/// Marks a run to stop (usable from the CLI while the web app supervises it).
pub async fn cancel(db: &crate::db::Db, id: &str) -> Result<Run> {
    let id = id.to_owned();
    db.call(move |conn| {
        let run = runs::get(conn, &id)?;
        match run.status {
            RunStatus::Queued => {
                conn.execute(
                    "UPDATE runs SET status = 'cancelled', cancel_requested = 1, finished_at = ?2 WHERE id = ?1",
                    params![id, crate::now_ms()],
                )?;
            }
            RunStatus::Running => {
                conn.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?1", [&id])?;
                if let Some(pid) = run.pid {
                    // The trainer's handler saves the adapter and results, then exits.
                    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGABRT);
                }
            }
            other => return Err(Error::invalid("run", format!("a {} run cannot be cancelled", other.as_str()))),
        }
        runs::get(conn, &id)
    })
    .await
}

/// Complete lines appended since `offset` (a file that shrank is read again from the start),
/// parsed with `parse`.
fn read_new_lines(path: &Path, offset: u64, parse: fn(&str) -> Option<MetricPoint>) -> Result<(Vec<MetricPoint>, u64)> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(e) => return Err(Error::io("reading", path, e)),
    };
    let len = file.metadata().map_err(|e| Error::io("reading", path, e))?.len();
    let start = if len < offset { 0 } else { offset };
    file.seek(SeekFrom::Start(start)).map_err(|e| Error::io("reading", path, e))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).map_err(|e| Error::io("reading", path, e))?;
    // Only whole lines: the trainer may be in the middle of writing one.
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let points = String::from_utf8_lossy(&buf[..complete]).lines().filter_map(parse).collect();
    Ok((points, start + complete as u64))
}

fn failure_reason(log_path: &str, code: Option<i32>) -> String {
    let text = log_tail(Path::new(log_path), 64 * 1024);
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty() && !l.contains("it/s]")).collect();
    let tail = tail[tail.len().saturating_sub(12)..].join("\n");
    format!("the trainer exited with {}:\n{tail}", code.map_or("a signal".to_owned(), |c| format!("code {c}")))
}

/// The last `max` bytes of a log (a long run's log can be large), from a whole line on.
fn log_tail(path: &Path, max: u64) -> String {
    let Ok(mut file) = std::fs::File::open(path) else { return String::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    if start > 0 { text.split_once('\n').map_or(text.clone(), |(_, rest)| rest.to_owned()) } else { text }
}

/// `llamafactory-cli` beside the environment's Python.
pub fn llamafactory_cli(python: &Path) -> PathBuf {
    python.with_file_name("llamafactory-cli")
}

fn process_alive(pid: i64) -> bool {
    if kill(Pid::from_raw(pid as i32), None).is_err() {
        return false;
    }
    // A finished child nobody has reaped yet (a zombie) still answers signals: it is not alive.
    #[cfg(target_os = "linux")]
    {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !matches!(stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()), Some('Z' | 'X')),
            Err(_) => true,
        }
    }
    // No /proc (macOS): ps says the state; when ps does not answer, the signal's word stands.
    #[cfg(not(target_os = "linux"))]
    {
        match ps_process(pid) {
            PsAnswer::Listed { state, .. } => !state.starts_with('Z'),
            PsAnswer::NotListed => false,
            PsAnswer::NoAnswer => true,
        }
    }
}

/// Is `pid` alive and a trainer of this run (and not a recycled pid)?
fn is_our_trainer(pid: i64, run: &Run) -> bool {
    if !process_alive(pid) {
        return false;
    }
    #[cfg(target_os = "linux")]
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok().map(|c| String::from_utf8_lossy(&c).into_owned());
    // No /proc (macOS): ps gives the command line.
    #[cfg(not(target_os = "linux"))]
    let cmdline = match ps_process(pid) {
        PsAnswer::Listed { command, .. } => Some(command),
        PsAnswer::NotListed => return false,
        PsAnswer::NoAnswer => None,
    };
    match cmdline {
        Some(cmdline) => {
            let dir = Path::new(&run.log_path).parent().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
            cmdline.contains("llamafactory") || cmdline.contains(&dir)
        }
        // The command line cannot be read: trust the pid.
        None => true,
    }
}

// --- Processes without /proc (macOS) ------------------------------------------------------------

/// How long `ps` may take before its answer is given up on.
#[cfg_attr(target_os = "linux", allow(dead_code))]
const PS_TIMEOUT: Duration = Duration::from_secs(2);

/// What `ps` said about one process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_os = "linux", allow(dead_code))]
enum PsAnswer {
    /// Its state letters (`S`, `R+`, `Z`, …) and its whole command line.
    Listed { state: String, command: String },
    /// ps ran and does not list it: it is gone.
    NotListed,
    /// ps is missing, failed to start or did not finish in time.
    NoAnswer,
}

/// `ps -ww -o stat=,command= -p PID` (BSD ps on macOS; procps reads it the same), never through a
/// shell, with stdin closed and a 2 s limit. Blocking, but ps answers in milliseconds.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn ps_process(pid: i64) -> PsAnswer {
    let child = std::process::Command::new("ps")
        .args(["-ww", "-o", "stat=,command=", "-p", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return PsAnswer::NoAnswer };
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < PS_TIMEOUT => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return PsAnswer::NoAnswer;
            }
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    parse_ps_line(&out).unwrap_or(if status.success() { PsAnswer::NoAnswer } else { PsAnswer::NotListed })
}

/// The first non-empty line of `ps -o stat=,command=`: the state, blanks, the command line.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn parse_ps_line(text: &str) -> Option<PsAnswer> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let (state, command) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    Some(PsAnswer::Listed { state: state.to_owned(), command: command.trim().to_owned() })
}

#[cfg(test)]
mod ps_tests {
    use super::*;

    #[test]
    fn ps_lines_give_the_state_and_the_command() {
        // The shape BSD ps prints for `-o stat=,command=` (hand-written).
        assert_eq!(
            parse_ps_line("Ss   /Users/me/venv/bin/python3.11 /Users/me/venv/bin/llamafactory-cli train run.yaml\n"),
            Some(PsAnswer::Listed {
                state: "Ss".into(),
                command: "/Users/me/venv/bin/python3.11 /Users/me/venv/bin/llamafactory-cli train run.yaml".into()
            })
        );
        assert_eq!(parse_ps_line("Z    (python3.11)\n"), Some(PsAnswer::Listed { state: "Z".into(), command: "(python3.11)".into() }));
        assert_eq!(parse_ps_line("\n"), None);
    }

    #[test]
    fn ps_sees_a_live_process_a_zombie_and_a_gone_one() {
        // procps' ps takes the same flags as macOS's, so the real thing runs here too.
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = i64::from(child.id());
        match ps_process(pid) {
            PsAnswer::Listed { state, command } => {
                assert!(!state.starts_with('Z'), "{state}");
                assert_eq!(command, "sleep 30");
            }
            other => panic!("{other:?}"),
        }
        child.kill().unwrap();
        // Killed but not reaped yet: a zombie.
        let started = std::time::Instant::now();
        while !matches!(ps_process(pid), PsAnswer::Listed { ref state, .. } if state.starts_with('Z')) {
            assert!(started.elapsed() < Duration::from_secs(5), "never became a zombie");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait().unwrap();
        assert_eq!(ps_process(pid), PsAnswer::NotListed);
    }
}
