//! Training on a Ray cluster, through Ray's own Jobs API (the dashboard's REST API, port 8265):
//! the GPU box runs `ray start --head`, garden-eden registers it once (`clusters add`), and a run
//! handed to it goes there and comes back as if it had trained here.
//!
//! - **Submission.** The run's YAML (its paths made relative), the dataset (and a starting
//!   adapter, for a preference stage on top of one) and `python/ray_runner.py` are zipped and
//!   uploaded as the job's `working_dir` package (`PUT /api/packages/gcs/…`); the job
//!   (`POST /api/jobs/`) runs the runner, which runs `llamafactory-cli train`. Before that, a
//!   quick probe job checks that the cluster's Python has LLaMA-Factory, and the cluster's
//!   resources are checked against the GPUs the run asks for: a refusal comes at submission, with
//!   the cluster's numbers.
//! - **Live progress.** The runner prints each trainer_log.jsonl line as it appears
//!   (`GE-POINT …`); garden-eden reads the job's log from where it stopped, appends those lines to
//!   the run's own `output/trainer_log.jsonl` and the rest to `train.log`, and the supervisor's
//!   usual ingestion stores and streams the points: the charts work unchanged.
//! - **The adapter comes home** through the same API: a `send` job on the node that trained
//!   prints the output folder's manifest (names, sizes, SHA-256) and a bounded byte range of its
//!   top-level files in base64; garden-eden writes them to `<data dir>/runs/<id>/output` under
//!   temporary names, checks every SHA-256 and renames them into place, then registers the
//!   adapter like a local run's. This needs no shared filesystem, no other open port and nothing
//!   installed on this machine but garden-eden; checkpoints stay on the cluster and are named in
//!   the run's log.
//! - **Control and faults.** Stop is the Jobs API's stop (the runner turns it into the trainer's
//!   save-and-exit); a garden-eden restart re-attaches to the job by its submission id; a cluster
//!   that stops answering marks the run interrupted with a sentence after a patience period.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use garden_types::clusters::{Cluster, ClusterTarget, ClusterView, Resources};

use super::config::{Device, TrainConfig};
use super::runs::{self, Run, RunStatus};
use super::supervisor::Supervisor;
use crate::error::{Error, Result};

/// The runner the jobs run (uploaded with every package).
pub const RUNNER: &str = include_str!("../../../python/ray_runner.py");
const RUNNER_FILE: &str = "ray_runner.py";
/// What the cluster's Python needs (checked by the probe job).
pub const REQUIREMENT: &str = "llamafactory==0.9.5";
/// How often a running job's status and log are read.
const POLL: Duration = Duration::from_millis(250);
/// Bytes of output files one `send` job prints (about 11 MB of log).
const SEND_BYTES: u64 = 8 * 1024 * 1024;
/// How long a probe or a `send` job may take.
const SMALL_JOB: Duration = Duration::from_secs(180);
/// A probe that passed is trusted this long (submitting several runs costs one probe).
const PROBE_TTL: Duration = Duration::from_secs(600);
const SERVICE: &str = "Ray cluster";

// ---------------------------------------------------------------------------------------------
// The registry

fn cluster_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cluster> {
    Ok(Cluster { id: r.get(0)?, name: r.get(1)?, url: r.get(2)?, created_at: r.get(3)? })
}

/// The dashboard URL as given, checked: http(s), a host, no path beyond `/`.
pub fn check_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    match u.strip_prefix("http://").or_else(|| u.strip_prefix("https://")) {
        Some(rest) if !rest.is_empty() && !rest.contains(['/', '?', '#']) && !rest.contains(char::is_whitespace) => Ok(u.to_owned()),
        _ => Err(Error::invalid("url", format!("'{url}' is not a Ray dashboard URL such as http://gpu-box:8265"))),
    }
}

/// Registers a cluster by name. Its reachability is the caller's to show (see [`view`]).
pub fn add(conn: &Connection, name: &str, url: &str) -> Result<Cluster> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(Error::invalid("name", "give a name of 1 to 64 letters, digits, '-', '_' or '.'"));
    }
    let url = check_url(url)?;
    if conn.query_row("SELECT 1 FROM clusters WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some() {
        return Err(Error::invalid("name", format!("a cluster named '{name}' is registered already (`garden-eden clusters remove {name}` first)")));
    }
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute("INSERT INTO clusters (id, name, url, created_at) VALUES (?1, ?2, ?3, ?4)", params![id, name, url, crate::now_ms()])?;
    get(conn, &id)
}

pub fn list(conn: &Connection) -> Result<Vec<Cluster>> {
    let mut stmt = conn.prepare("SELECT id, name, url, created_at FROM clusters ORDER BY name")?;
    let rows = stmt.query_map([], cluster_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// By id or name.
pub fn get(conn: &Connection, key: &str) -> Result<Cluster> {
    conn.query_row("SELECT id, name, url, created_at FROM clusters WHERE id = ?1 OR name = ?1", [key.trim()], cluster_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "cluster", id: key.trim().to_owned() })
}

/// Forgets a cluster; refused while a run is queued or running on it. Finished runs keep its
/// name in their lineage (the row stays, only unlisted runs lose the link).
pub fn remove(conn: &mut Connection, key: &str) -> Result<()> {
    let tx = conn.transaction()?;
    let cluster = get(&tx, key)?;
    let busy: i64 = tx.query_row(
        "SELECT COUNT(*) FROM runs WHERE cluster_id = ?1 AND status IN ('queued', 'running')",
        [&cluster.id],
        |r| r.get(0),
    )?;
    if busy > 0 {
        return Err(Error::invalid("cluster", format!("{} has {busy} queued or running run(s): stop them first", cluster.name)));
    }
    tx.execute("UPDATE runs SET cluster_id = NULL WHERE cluster_id = ?1", [&cluster.id])?;
    tx.execute("DELETE FROM clusters WHERE id = ?1", [&cluster.id])?;
    tx.commit()?;
    Ok(())
}

/// Each registered cluster with what it answers now (asked in parallel, a few seconds at most).
pub async fn view(clusters: Vec<Cluster>) -> Vec<ClusterView> {
    let asks = clusters.into_iter().map(|cluster| async move {
        let resources = Jobs::new(&cluster.url).resources().await.map_err(|e| e.to_string());
        ClusterView { cluster, resources }
    });
    futures_util::future::join_all(asks).await
}

/// Registers a cluster and asks it what it has (an unreachable one is registered all the same,
/// and its view says why it did not answer): what `clusters add` and the web form call.
pub async fn register(studio: &crate::Studio, name: &str, url: &str) -> Result<ClusterView> {
    let (name, url) = (name.to_owned(), url.to_owned());
    let cluster = studio.db().call(move |c| add(c, &name, &url)).await?;
    Ok(view(vec![cluster]).await.remove(0))
}

/// A run's cluster as the review shows it: what it has, the GPUs the run asks, and why it would
/// be refused (the same check as at submission, the probe job aside).
pub async fn target(studio: &crate::Studio, name: &str, config: &TrainConfig) -> Result<ClusterTarget> {
    let name = name.to_owned();
    let cluster = studio.db().call(move |c| get(c, &name)).await?;
    let resources = Jobs::new(&cluster.url).resources().await.map_err(|e| e.to_string());
    let (gpus, problem) = match &resources {
        Ok(r) => {
            let asked = gpus_for(config, r.gpus);
            (Some(asked), too_few_gpus(&cluster.name, r, asked))
        }
        Err(e) => (None, Some(format!("the cluster {} does not answer: {e}", cluster.name))),
    };
    Ok(ClusterTarget { name: cluster.name, url: cluster.url, resources, gpus, problem })
}

/// Every registered cluster with what it answers now.
pub async fn views(studio: &crate::Studio) -> Result<Vec<ClusterView>> {
    let clusters = studio.db().call(|c| list(c)).await?;
    Ok(view(clusters).await)
}

// ---------------------------------------------------------------------------------------------
// The Jobs API

/// A job's state as the Jobs API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Pending,
    Running,
    Stopped,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Stopped | JobStatus::Succeeded | JobStatus::Failed)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobInfo {
    pub status: JobStatus,
    #[serde(default)]
    pub message: Option<String>,
}

/// A job to submit.
#[derive(Debug, Clone, Default)]
pub struct JobRequest {
    pub submission_id: String,
    /// The runner's arguments (after `python ray_runner.py`); each checked by the caller to be a
    /// plain token.
    pub args: Vec<String>,
    pub package: String,
    pub num_gpus: f64,
    /// `node:<ip>` pins the job to the node that holds a run's outputs.
    pub node: Option<String>,
    pub env: Vec<(String, String)>,
}

/// The Jobs API of one cluster.
#[derive(Debug, Clone)]
pub struct Jobs {
    url: String,
    client: reqwest::Client,
}

/// Arguments spliced into a job's entrypoint (Ray runs it through a shell on the cluster): only
/// letters, digits and `-_.:=/` pass.
fn plain(token: &str) -> Result<&str> {
    if !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:=/".contains(c)) {
        Ok(token)
    } else {
        Err(Error::invalid("job", format!("'{token}' cannot be passed to a Ray job")))
    }
}

impl Jobs {
    pub fn new(url: &str) -> Jobs {
        Jobs { url: url.trim_end_matches('/').to_owned(), client: crate::http::client().clone() }
    }

    fn service(&self, message: impl Into<String>) -> Error {
        Error::Service { service: SERVICE, url: self.url.clone(), message: message.into() }
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response> {
        let response = request
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| self.service(format!("{what}: not reachable ({e}); is `ray start --head` running there, and its dashboard port open to this machine?")))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(self.service(format!("{what}: {status}: {}", body.trim().chars().take(400).collect::<String>())))
    }

    /// What the cluster has, all nodes together (`GET /nodes?view=summary`). A head that has
    /// just started reports no node for a few seconds: it is asked again for up to 15 s.
    pub async fn resources(&self) -> Result<Resources> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let response = self.send(self.client.get(format!("{}/nodes?view=summary", self.url)), "asking for its nodes").await?;
            let v: Value = response.json().await.map_err(|e| self.service(format!("its node summary is not JSON: {e}")))?;
            match parse_resources(&v) {
                Some(r) => return Ok(r),
                None if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(500)).await,
                None => return Err(self.service("it reports no live node (is the head still starting?)")),
            }
        }
    }

    /// Uploads a `working_dir` package once (it is named by its content); returns its URI.
    pub async fn upload(&self, zip: Vec<u8>) -> Result<String> {
        let name = format!("_ray_pkg_{}.zip", &crate::hex(&Sha256::digest(&zip))[..16]);
        let url = format!("{}/api/packages/gcs/{name}", self.url);
        let there = self.client.get(&url).timeout(Duration::from_secs(30)).send().await.is_ok_and(|r| r.status().is_success());
        if !there {
            self.send(self.client.put(&url).body(zip), "uploading the run's files").await?;
        }
        Ok(format!("gcs://{name}"))
    }

    pub async fn submit(&self, job: &JobRequest) -> Result<()> {
        let mut entrypoint = format!("python {RUNNER_FILE}");
        for a in &job.args {
            entrypoint.push(' ');
            entrypoint.push_str(plain(a)?);
        }
        let env: serde_json::Map<String, Value> = job.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let mut body = json!({
            "entrypoint": entrypoint,
            "submission_id": plain(&job.submission_id)?,
            "runtime_env": { "working_dir": job.package, "env_vars": env },
            "entrypoint_num_cpus": 1,
            "metadata": { "garden-eden": env!("CARGO_PKG_VERSION") },
        });
        if job.num_gpus > 0.0 {
            body["entrypoint_num_gpus"] = json!(job.num_gpus);
        }
        if let Some(node) = &job.node {
            body["entrypoint_resources"] = json!({ format!("node:{node}"): 0.001 });
        }
        // A head that has just started answers "No available agent to submit job, please try
        // again later" for a few seconds: it is tried again for up to a minute.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.send(self.client.post(format!("{}/api/jobs/", self.url)).json(&body), "submitting the job").await {
                Err(Error::Service { message, .. }) if message.contains("try again later") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e),
                Ok(_) => return Ok(()),
            }
        }
    }

    /// None when the cluster does not know the job.
    pub async fn info(&self, id: &str) -> Result<Option<JobInfo>> {
        let url = format!("{}/api/jobs/{}", self.url, plain(id)?);
        let response = self
            .client
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| self.service(format!("asking for job {id}: not reachable ({e})")))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.service(format!("asking for job {id}: {}", response.status())));
        }
        let info = response.json().await.map_err(|e| self.service(format!("job {id}'s status is not what Ray sends: {e}")))?;
        Ok(Some(info))
    }

    /// The job's whole log so far.
    pub async fn logs(&self, id: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Logs {
            logs: String,
        }
        let url = format!("{}/api/jobs/{}/logs", self.url, plain(id)?);
        let response = self.send(self.client.get(url), &format!("reading job {id}'s log")).await?;
        let logs: Logs = response.json().await.map_err(|e| self.service(format!("job {id}'s log is not what Ray sends: {e}")))?;
        Ok(logs.logs)
    }

    pub async fn stop(&self, id: &str) -> Result<()> {
        self.send(self.client.post(format!("{}/api/jobs/{}/stop", self.url, plain(id)?)), &format!("stopping job {id}")).await?;
        Ok(())
    }

    /// Submits a short job and waits for it: its log, and whether it succeeded.
    async fn run_small(&self, job: &JobRequest) -> Result<(JobStatus, String)> {
        self.submit(job).await?;
        let deadline = Instant::now() + SMALL_JOB;
        loop {
            if let Some(info) = self.info(&job.submission_id).await? {
                if info.status.is_terminal() {
                    let logs = self.logs(&job.submission_id).await?;
                    return Ok((info.status, logs));
                }
            }
            if Instant::now() > deadline {
                let _ = self.stop(&job.submission_id).await;
                return Err(self.service(format!(
                    "job {} did not finish within {} s (is every CPU of the cluster busy?)",
                    job.submission_id,
                    SMALL_JOB.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Totals from the dashboard's node summary (`data.summary[].raylet.resourcesTotal`).
fn parse_resources(v: &Value) -> Option<Resources> {
    let nodes = v.pointer("/data/summary")?.as_array()?;
    let mut r = Resources::default();
    for node in nodes {
        let raylet = node.get("raylet")?;
        if raylet.get("state").and_then(Value::as_str).is_some_and(|s| s != "ALIVE") {
            continue;
        }
        r.nodes += 1;
        let total = raylet.get("resourcesTotal").and_then(Value::as_object)?;
        let get = |k: &str| total.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        r.cpus += get("CPU");
        r.gpus += get("GPU");
        r.memory_bytes += get("memory") as u64;
        for k in total.keys() {
            if let Some(kind) = k.strip_prefix("accelerator_type:") {
                if !r.gpu_kinds.iter().any(|g| g == kind) {
                    r.gpu_kinds.push(kind.to_owned());
                }
            }
        }
    }
    (r.nodes > 0).then_some(r)
}

// ---------------------------------------------------------------------------------------------
// Submission

/// Probes that passed, by cluster URL.
static PROBED: Mutex<Option<HashMap<String, Instant>>> = Mutex::new(None);

/// GPUs a run will ask of a cluster that has `available`.
pub fn gpus_for(config: &TrainConfig, available: f64) -> u32 {
    config.gpus.unwrap_or(if available >= 1.0 { 1 } else { 0 })
}

/// Why a cluster with `resources` cannot take a run asking for `asked` GPUs, with its numbers.
fn too_few_gpus(cluster: &str, resources: &Resources, asked: u32) -> Option<String> {
    (f64::from(asked) > resources.gpus).then(|| {
        format!(
            "the cluster {cluster} has {} GPU(s) ({}); this run asks for {asked}: add a GPU node to it, or ask for fewer GPUs",
            resources.gpus,
            resources.summary()
        )
    })
}

/// The checks at submission: the cluster answers, has the GPUs the run asks for, and its Python
/// has LLaMA-Factory (a quick probe job). Returns the cluster and the GPUs the run will take.
pub async fn check_submission(cluster: Cluster, config: &TrainConfig) -> Result<(Cluster, u32)> {
    let jobs = Jobs::new(&cluster.url);
    let resources = jobs.resources().await?;
    let asked = gpus_for(config, resources.gpus);
    if let Some(message) = too_few_gpus(&cluster.name, &resources, asked) {
        return Err(Error::invalid("gpus", message));
    }
    let fresh = PROBED
        .lock()
        .ok()
        .and_then(|m| m.as_ref().and_then(|m| m.get(&cluster.url).copied()))
        .is_some_and(|at| at.elapsed() < PROBE_TTL);
    if !fresh {
        let package = jobs.upload(runner_package()?).await?;
        let id = format!("garden-eden-probe-{}", uuid::Uuid::new_v4().simple());
        let job = JobRequest { submission_id: id, args: vec!["probe".into()], package, ..JobRequest::default() };
        let (status, logs) = jobs.run_small(&job).await?;
        let probe = tagged(&logs, "GE-PROBE").last().and_then(|l| serde_json::from_str::<Value>(l).ok());
        if status != JobStatus::Succeeded {
            let why = probe
                .as_ref()
                .and_then(|p| p.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| last_lines(&logs, 5));
            return Err(Error::invalid(
                "cluster",
                format!(
                    "the cluster {}'s Python cannot run LLaMA-Factory ({why}): install it there, in the environment that runs `ray start`: pip install \"ray[default]\" {REQUIREMENT}",
                    cluster.name
                ),
            ));
        }
        if let Ok(mut m) = PROBED.lock() {
            m.get_or_insert_with(HashMap::new).insert(cluster.url.clone(), Instant::now());
        }
    }
    Ok((cluster, asked))
}

/// The run's configuration as the cluster's trainer gets it: the shipped files named relative to
/// the job's working dir (`data/`, `start_adapter/`, `ref_adapter/`), the output folder set by
/// the runner, and the Ray workers when several GPUs are asked for.
pub fn remote_config(config: &TrainConfig) -> TrainConfig {
    let mut c = config.clone();
    c.dataset_dir = PathBuf::from("data");
    c.output_dir = PathBuf::from("output");
    if c.adapter_name_or_path.is_some() {
        c.adapter_name_or_path = Some(PathBuf::from("start_adapter"));
    }
    if c.ref_adapter.is_some() {
        c.ref_adapter = Some(PathBuf::from("ref_adapter"));
    }
    c
}

/// The YAML the cluster's trainer runs (see [`remote_config`]); several GPUs train across that
/// many Ray workers, one GPU each (LLaMA-Factory's Ray mode).
pub fn remote_yaml(config: &TrainConfig, gpus: u32) -> String {
    let device = if gpus > 0 { Device::Gpu { bf16: true } } else { Device::Cpu };
    let mut yaml = remote_config(config).to_yaml(device);
    if gpus > 1 {
        yaml.push_str(&format!("\n### ray\nray_num_workers: {gpus}\nresources_per_worker:\n  GPU: 1\n"));
    }
    yaml
}

enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// A `working_dir` package: the given files at the top (names may have one folder level).
/// Stored, not deflated: it is built on the machine that chats, often a laptop, and a run's
/// package is its dataset, small next to what the cluster downloads for the model.
fn package(files: &[(String, Source)]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let fail = |e: zip::result::ZipError| Error::Task(format!("packing the run's files: {e}"));
    for (name, source) in files {
        zip.start_file(name.as_str(), options).map_err(fail)?;
        match source {
            Source::Bytes(b) => zip.write_all(b).map_err(|e| Error::Task(format!("packing {name}: {e}")))?,
            Source::File(p) => {
                let mut f = std::fs::File::open(p).map_err(|e| Error::io("reading", p, e))?;
                std::io::copy(&mut f, &mut zip).map_err(|e| Error::io("packing", p, e))?;
            }
        }
    }
    let cursor = zip.finish().map_err(fail)?;
    Ok(cursor.into_inner())
}

/// A package of the runner alone (the probe and `send` jobs).
fn runner_package() -> Result<Vec<u8>> {
    package(&[(RUNNER_FILE.to_owned(), Source::Bytes(RUNNER.as_bytes().to_vec()))])
}

/// The files a run's job needs: the runner, `run.yaml`, the dataset's files (by the names
/// dataset_info.json gives) and any starting adapter.
fn run_package(run_dir: &Path, config: &TrainConfig) -> Result<Vec<u8>> {
    let mut files = vec![
        (RUNNER_FILE.to_owned(), Source::Bytes(RUNNER.as_bytes().to_vec())),
        ("run.yaml".to_owned(), Source::File(run_dir.join("run.yaml"))),
    ];
    let info_path = config.dataset_dir.join("dataset_info.json");
    let info: Value = serde_json::from_slice(&std::fs::read(&info_path).map_err(|e| Error::io("reading", &info_path, e))?)
        .map_err(|e| Error::invalid("dataset_info.json", format!("{}: {e}", info_path.display())))?;
    let mut info_out = serde_json::Map::new();
    for name in std::iter::once(&config.dataset).chain(config.eval_dataset.as_ref()) {
        let entry = info.get(name).ok_or_else(|| Error::invalid("dataset", format!("{name} is not in {}", info_path.display())))?;
        if let Some(file) = entry.get("file_name").and_then(Value::as_str) {
            let file_name = Path::new(file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((format!("data/{file_name}"), Source::File(config.dataset_dir.join(file))));
            let mut entry = entry.clone();
            entry["file_name"] = json!(file_name);
            info_out.insert(name.clone(), entry);
        }
    }
    files.push(("data/dataset_info.json".to_owned(), Source::Bytes(serde_json::to_vec_pretty(&info_out).unwrap_or_default())));
    for (folder, adapter) in [("start_adapter", &config.adapter_name_or_path), ("ref_adapter", &config.ref_adapter)] {
        if let Some(dir) = adapter {
            let entries = std::fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file() {
                    files.push((format!("{folder}/{}", entry.file_name().to_string_lossy()), Source::File(path)));
                }
            }
        }
    }
    package(&files)
}

// ---------------------------------------------------------------------------------------------
// Running and following

/// The lines of a log that carry `tag` (`GE-POINT …`), without it.
fn tagged<'a>(logs: &'a str, tag: &str) -> Vec<&'a str> {
    logs.lines().filter_map(|l| l.strip_prefix(tag).and_then(|r| r.strip_prefix(' '))).collect()
}

fn last_lines(logs: &str, n: usize) -> String {
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

/// The run's job on `cluster` (the submission id has the run's id and its attempt).
fn submission_id(run: &Run) -> String {
    let attempt = run
        .job_id
        .as_deref()
        .and_then(|j| j.rsplit_once("-a").and_then(|(_, n)| n.parse::<u32>().ok()))
        .map_or(1, |n| n + 1);
    format!("garden-eden-{}-a{attempt}", run.id)
}

struct Remote<'a> {
    sup: &'a Supervisor,
    jobs: Jobs,
    cluster: Cluster,
}

/// The cluster a run was handed to.
async fn cluster_of(sup: &Supervisor, run_id: &str) -> Result<Cluster> {
    let id = run_id.to_owned();
    sup.studio()
        .db()
        .call(move |c| {
            let cluster_id: Option<String> = c.query_row("SELECT cluster_id FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
            get(c, cluster_id.as_deref().unwrap_or_default())
        })
        .await
}

/// Runs a queued run on its cluster: re-attaches to its job when the cluster still has it
/// running, else submits a new one, then follows it to the end.
pub(super) async fn execute(sup: &Supervisor, run: Run) -> Result<()> {
    let cluster = match cluster_of(sup, &run.id).await {
        Ok(c) => c,
        Err(e) => return sup.finish_run(&run.id, RunStatus::Failed, None, Some(format!("its cluster is gone: {e}"))).await,
    };
    let remote = Remote { sup, jobs: Jobs::new(&cluster.url), cluster };
    if let Some(job) = run.job_id.clone() {
        if let Ok(Some(info)) = remote.jobs.info(&job).await {
            if !info.status.is_terminal() {
                return remote.follow(run, job).await;
            }
        }
    }
    match remote.submit(&run).await {
        Ok(job) => {
            let run = sup.studio().db().call({ let id = run.id.clone(); move |c| runs::get(c, &id) }).await?;
            remote.follow(run, job).await
        }
        Err(e) => sup.finish_run(&run.id, RunStatus::Failed, None, Some(format!("could not hand the run to the cluster {}: {e}", remote.cluster.name))).await,
    }
}

/// A run left running by an earlier garden-eden: follow its job again.
pub(super) async fn reattach(sup: Supervisor, run: Run) {
    let Some(job) = run.job_id.clone() else { return };
    match cluster_of(&sup, &run.id).await {
        Ok(cluster) => {
            tracing::info!(run = %run.id, job = %job, cluster = %cluster.name, "re-attaching to a job on a Ray cluster");
            let remote = Remote { sup: &sup, jobs: Jobs::new(&cluster.url), cluster };
            if let Err(e) = remote.follow(run, job).await {
                tracing::error!("following a re-attached Ray job: {e}");
            }
        }
        Err(e) => {
            let _ = sup.finish_run(&run.id, RunStatus::Interrupted, None, Some(format!("its cluster is gone: {e}"))).await;
        }
    }
}

impl Remote<'_> {
    async fn submit(&self, run: &Run) -> Result<String> {
        let config: TrainConfig = serde_json::from_value(run.config.clone()).map_err(|e| Error::Task(format!("the run's configuration: {e}")))?;
        // Decided at submission (see `check_submission`), with the YAML.
        let gpus = config.gpus.unwrap_or(0);
        let dir = PathBuf::from(&run.log_path).parent().map(Path::to_path_buf).unwrap_or_default();
        let zip = tokio::task::spawn_blocking(move || run_package(&dir, &config))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        let package = self.jobs.upload(zip).await?;
        let job = submission_id(run);
        let mut env = vec![
            // The runner's stop (save the adapter) gets this long before Ray kills the job.
            ("RAY_JOB_STOP_WAIT_TIME_S".to_owned(), super::supervisor::CANCEL_GRACE.as_secs().to_string()),
            ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
        ];
        if gpus > 1 {
            env.push(("USE_RAY".to_owned(), "1".to_owned()));
        }
        env.extend(self.sup.trainer_env().iter().cloned());
        // Recorded first: a garden-eden that dies right after the submission finds its job again.
        let (id, job2) = (run.id.clone(), job.clone());
        self.sup
            .studio()
            .db()
            .call(move |c| Ok(c.execute("UPDATE runs SET job_id = ?2, job_log_offset = 0, phase = 'training' WHERE id = ?1", params![id, job2])?))
            .await?;
        let request = JobRequest {
            submission_id: job.clone(),
            args: vec!["train".into(), "--run-id".into(), run.id.clone()],
            package,
            num_gpus: if gpus == 1 { 1.0 } else { 0.0 },
            node: None,
            env,
        };
        self.jobs.submit(&request).await?;
        tracing::info!(run = %run.id, job = %job, cluster = %self.cluster.name, gpus, "job submitted to the Ray cluster");
        Ok(job)
    }

    /// Polls the job: its log into the run's files (points stored and streamed as they come), a
    /// stop asked here passed on once, the end decided from the job's status.
    async fn follow(&self, run: Run, job: String) -> Result<()> {
        let sup = self.sup;
        let mut unreachable_since: Option<(Instant, String)> = None;
        let mut stop_sent = false;
        let status = loop {
            match self.poll(&run, &job).await {
                Ok(Some(status)) if status.is_terminal() => break status,
                Ok(Some(_)) => unreachable_since = None,
                Ok(None) => {
                    return sup
                        .finish_run(&run.id, RunStatus::Interrupted, None, Some(format!("the cluster {} no longer knows job {job} (was it restarted?): resume the run to submit it again", self.cluster.name)))
                        .await;
                }
                Err(e) => {
                    let (since, _) = unreachable_since.get_or_insert_with(|| (Instant::now(), e.to_string()));
                    if since.elapsed() > sup.remote_patience() {
                        let message = format!(
                            "the cluster {} at {} stopped answering ({e}); the job may still be running there: resume the run to re-attach to it, or to submit it again if it is gone",
                            self.cluster.name, self.cluster.url
                        );
                        return sup.finish_run(&run.id, RunStatus::Interrupted, None, Some(message)).await;
                    }
                }
            }
            if !stop_sent {
                let id = run.id.clone();
                if sup.studio().db().call(move |c| Ok(runs::get(c, &id)?.cancel_requested)).await? {
                    match self.jobs.stop(&job).await {
                        Ok(()) => stop_sent = true,
                        Err(e) => tracing::warn!(run = %run.id, "asking the cluster to stop the job: {e}"),
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        };
        let id = run.id.clone();
        let run = sup.studio().db().call(move |c| runs::get(c, &id)).await?;
        let logs = self.jobs.logs(&job).await.unwrap_or_default();
        let exit = tagged(&logs, "GE-EXIT").last().and_then(|l| serde_json::from_str::<Value>(l).ok());
        let code = exit.as_ref().and_then(|e| e.get("exit_code")).and_then(Value::as_i64);
        let trained = status == JobStatus::Succeeded || (run.cancel_requested && !tagged(&logs, "GE-STOPPED").is_empty());
        let fetched = if trained || run.cancel_requested { self.fetch(&run, &job).await } else { Ok(None) };
        let (status, error) = match (status, run.cancel_requested, fetched) {
            (_, true, Ok(_)) => (RunStatus::Cancelled, None),
            (_, true, Err(e)) => (RunStatus::Cancelled, Some(format!("stopped; the adapter saved on the cluster could not be brought back: {e}"))),
            (JobStatus::Succeeded, false, Ok(_)) => (RunStatus::Succeeded, None),
            (JobStatus::Succeeded, false, Err(e)) => (RunStatus::Failed, Some(format!("trained on the cluster {}, but the adapter could not be brought back: {e}", self.cluster.name))),
            (JobStatus::Stopped, false, _) => (RunStatus::Interrupted, Some(format!("the job was stopped on the cluster {} (not from garden-eden): resume the run to continue", self.cluster.name))),
            (_, false, _) => {
                let message = self.jobs.info(&job).await.ok().flatten().and_then(|i| i.message).unwrap_or_default();
                (RunStatus::Failed, Some(format!("the job failed on the cluster {}: {} {}", self.cluster.name, message.trim(), last_lines(&logs, 3)).trim().to_owned()))
            }
        };
        sup.finish_run(&run.id, status, code, error).await
    }

    /// One look at the job: its status (None: unknown to the cluster), and its new log lines
    /// stored.
    async fn poll(&self, run: &Run, job: &str) -> Result<Option<JobStatus>> {
        let Some(info) = self.jobs.info(job).await? else { return Ok(None) };
        let logs = self.jobs.logs(job).await?;
        let (id, log_path, output) = (run.id.clone(), PathBuf::from(&run.log_path), PathBuf::from(&run.output_dir));
        let stored = self
            .sup
            .studio()
            .db()
            .call(move |c| {
                let offset: i64 = c.query_row("SELECT job_log_offset FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
                let offset = usize::try_from(offset).unwrap_or(0);
                let Some(new) = logs.get(offset..) else { return Ok(false) };
                let end = new.rfind('\n').map_or(0, |i| i + 1);
                if end == 0 {
                    return Ok(false);
                }
                let new = &new[..end];
                let mut points = String::new();
                for line in new.lines() {
                    if let Some(p) = line.strip_prefix("GE-POINT ") {
                        points.push_str(p);
                        points.push('\n');
                    }
                    if let Some(start) = line.strip_prefix("GE-START ") {
                        let node = serde_json::from_str::<Value>(start).ok();
                        let get = |k: &str| node.as_ref().and_then(|n| n.get(k)).and_then(Value::as_str).map(str::to_owned);
                        c.execute("UPDATE runs SET remote_node = ?2, remote_output = ?3 WHERE id = ?1", params![id, get("node"), get("output_dir")])?;
                    }
                }
                // The files first, then the offset: a crash in between repeats lines, which
                // the points' upsert by step absorbs.
                std::fs::create_dir_all(&output).map_err(|e| Error::io("creating", &output, e))?;
                append(&log_path, new.as_bytes())?;
                if !points.is_empty() {
                    append(&output.join("trainer_log.jsonl"), points.as_bytes())?;
                }
                c.execute("UPDATE runs SET job_log_offset = ?2 WHERE id = ?1", params![id, (offset + end) as i64])?;
                Ok(true)
            })
            .await?;
        if stored {
            self.sup.ingest_run(run).await?;
        }
        Ok(Some(info.status))
    }

    /// Brings the run's top-level output files home (see the module docs); None when the job
    /// never started training (no node recorded).
    async fn fetch(&self, run: &Run, job: &str) -> Result<Option<usize>> {
        let id = run.id.clone();
        let node: Option<String> = self.sup.studio().db().call(move |c| Ok(c.query_row("SELECT remote_node FROM runs WHERE id = ?1", [&id], |r| r.get(0))?)).await?;
        let Some(node) = node else { return Ok(None) };
        let node: std::net::IpAddr = node.parse().map_err(|_| self.jobs.service(format!("the job named its node '{node}', not an address")))?;
        let package = self.jobs.upload(runner_package()?).await?;
        let output = PathBuf::from(&run.output_dir);
        let mut received: Vec<u8> = Vec::new();
        let mut offset = 0_u64;
        let mut part = 0;
        let manifest = loop {
            part += 1;
            let request = JobRequest {
                submission_id: format!("{job}-send{part}"),
                args: vec!["send".into(), "--run-id".into(), run.id.clone(), "--offset".into(), offset.to_string(), "--length".into(), SEND_BYTES.to_string()],
                package: package.clone(),
                node: Some(node.to_string()),
                ..JobRequest::default()
            };
            let (status, logs) = self.jobs.run_small(&request).await?;
            if status != JobStatus::Succeeded {
                return Err(self.jobs.service(format!("bringing the outputs back failed: {}", last_lines(&logs, 3))));
            }
            let m: Manifest = tagged(&logs, "GE-MANIFEST")
                .last()
                .and_then(|l| serde_json::from_str(l).ok())
                .ok_or_else(|| self.jobs.service("the send job printed no manifest"))?;
            let mut got = 0_u64;
            for chunk in tagged(&logs, "GE-CHUNK") {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(chunk.trim())
                    .map_err(|e| self.jobs.service(format!("a chunk of the outputs is not base64: {e}")))?;
                got += bytes.len() as u64;
                received.extend_from_slice(&bytes);
            }
            offset += got;
            if offset >= m.total() || got == 0 {
                break m;
            }
        };
        let kept = manifest.kept.clone();
        let count = tokio::task::spawn_blocking(move || manifest.write(&output, &received))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        let note = if kept.is_empty() {
            String::new()
        } else {
            format!("garden-eden: checkpoints kept on the cluster, in {}: {}\n", run.output_dir, kept.join(", "))
        };
        append(Path::new(&run.log_path), format!("garden-eden: {count} output file(s) brought back from the cluster {} and checked (SHA-256)\n{note}", self.cluster.name).as_bytes())?;
        Ok(Some(count))
    }
}

fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io("opening", path, e))?;
    f.write_all(bytes).map_err(|e| Error::io("writing", path, e))
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Manifest {
    files: Vec<ManifestFile>,
    #[serde(default)]
    kept: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ManifestFile {
    name: String,
    size: u64,
    sha256: String,
}

impl Manifest {
    fn total(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Splits the received bytes into the listed files, checks each SHA-256, and renames them
    /// into `output`. Names are plain file names (nothing outside `output` is written); the
    /// trainer log garden-eden built while following is kept.
    fn write(&self, output: &Path, received: &[u8]) -> Result<usize> {
        if received.len() as u64 != self.total() {
            return Err(Error::Task(format!("{} bytes of outputs arrived, the manifest lists {}", received.len(), self.total())));
        }
        std::fs::create_dir_all(output).map_err(|e| Error::io("creating", output, e))?;
        let mut at = 0_usize;
        let mut placed = 0;
        for f in &self.files {
            let ok = !f.name.is_empty() && f.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) && !f.name.starts_with('.');
            if !ok {
                return Err(Error::Task(format!("the cluster listed an output named '{}', which garden-eden does not write", f.name)));
            }
            let bytes = &received[at..at + f.size as usize];
            at += f.size as usize;
            if crate::hex(&Sha256::digest(bytes)) != f.sha256 {
                return Err(Error::Task(format!("{} arrived damaged (SHA-256 differs): try again", f.name)));
            }
            if f.name == "trainer_log.jsonl" && output.join(&f.name).exists() {
                continue;
            }
            crate::fsutil::write_atomically(&output.join(&f.name), bytes)?;
            placed += 1;
        }
        Ok(placed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_summary_gives_the_totals_of_the_live_nodes() {
        let v = json!({"result": true, "data": {"summary": [
            {"raylet": {"state": "ALIVE", "resourcesTotal": {"CPU": 8.0, "GPU": 2.0, "memory": 3.2e10, "accelerator_type:A10G": 1.0, "node:10.0.0.2": 1.0}}},
            {"raylet": {"state": "ALIVE", "resourcesTotal": {"CPU": 4.0, "memory": 1.6e10}}},
            {"raylet": {"state": "DEAD", "resourcesTotal": {"CPU": 64.0, "GPU": 8.0}}},
        ]}});
        let r = parse_resources(&v).unwrap();
        assert_eq!((r.nodes, r.cpus, r.gpus, r.memory_bytes), (2, 12.0, 2.0, 48_000_000_000));
        assert_eq!(r.gpu_kinds, vec!["A10G"]);
        assert!(parse_resources(&json!({"data": {"summary": []}})).is_none());
    }

    #[test]
    fn urls_names_and_job_arguments_are_checked() {
        assert_eq!(check_url(" http://gpu-box:8265/ ").unwrap(), "http://gpu-box:8265");
        for bad in ["gpu-box:8265", "http://", "http://a b", "http://box:8265/api"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(plain("garden-eden-3f2a-a1").is_ok());
        for bad in ["a b", "$(rm -rf ~)", "a;b", "", "`x`", "a'b"] {
            assert!(plain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_attempt_has_its_own_submission_id() {
        let mut run: Run = serde_json::from_value(json!({
            "id": "r1", "name": "n", "dataset_id": null, "backend": "llamafactory", "config": {}, "yaml": "", "status": "queued",
            "pid": null, "output_dir": "", "log_path": "", "error": null, "exit_code": null, "total_steps": null,
            "cancel_requested": false, "created_at": 0, "started_at": null, "finished_at": null, "final_loss": null,
            "final_eval_loss": null, "phase": null, "model_progress": null
        }))
        .unwrap();
        assert_eq!(submission_id(&run), "garden-eden-r1-a1");
        run.job_id = Some("garden-eden-r1-a1".into());
        assert_eq!(submission_id(&run), "garden-eden-r1-a2");
    }

    #[test]
    fn the_remote_yaml_names_shipped_files_relatively_and_asks_ray_workers_for_several_gpus() {
        let mut c = TrainConfig::tiny_demo("/models/tiny");
        c.dataset = "sample".into();
        c.dataset_dir = "/home/me/.local/share/garden-eden/datasets/x".into();
        c.adapter_name_or_path = Some("/home/me/adapters/v1".into());
        let one = remote_yaml(&c, 1);
        assert!(one.contains("dataset_dir: data\n") || one.contains("dataset_dir: \"data\"\n"), "{one}");
        assert!(one.contains("start_adapter"), "{one}");
        assert!(!one.contains("/home/me"), "no path of this machine goes to the cluster: {one}");
        assert!(!one.contains("ray_num_workers"));
        let four = remote_yaml(&c, 4);
        assert!(four.contains("ray_num_workers: 4\nresources_per_worker:\n  GPU: 1\n"), "{four}");
    }

    #[test]
    fn outputs_are_checked_and_only_plain_names_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = b"adapter bytes".to_vec();
        let b = b"{\"r\": 8}".to_vec();
        let file = |name: &str, bytes: &[u8]| ManifestFile { name: name.into(), size: bytes.len() as u64, sha256: crate::hex(&Sha256::digest(bytes)) };
        let m = Manifest { files: vec![file("adapter_model.safetensors", &a), file("adapter_config.json", &b)], kept: vec!["checkpoint-5".into()] };
        let all = [a.clone(), b.clone()].concat();
        assert_eq!(m.write(dir.path(), &all).unwrap(), 2);
        assert_eq!(std::fs::read(dir.path().join("adapter_config.json")).unwrap(), b);
        let mut damaged = all.clone();
        damaged[0] ^= 1;
        assert!(m.write(dir.path(), &damaged).unwrap_err().to_string().contains("damaged"));
        assert!(m.write(dir.path(), &all[1..]).is_err(), "a short transfer is refused");
        let evil = Manifest { files: vec![file("../evil", &a)], kept: vec![] };
        assert!(evil.write(dir.path(), &a).unwrap_err().to_string().contains("does not write"));
        assert!(!dir.path().parent().unwrap().join("evil").exists());
    }
}
